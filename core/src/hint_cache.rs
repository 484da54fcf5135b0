//! Hints learned from `200` responses, per child process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use url::Url;

use crate::config::{quoted, ConfigError};
use crate::exchange::{Exchange, Policy};
use crate::hints::{hints_of, Hint, MAX_LEARNED_PATH_LEN};
use crate::origin::requested_url;

/// The size and lifetime of the learned cache
/// (`PushRedirectEarlyHintsCache <entries> <seconds>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheLimits {
    pub entries: usize,
    pub lifetime_secs: u64,
}

impl CacheLimits {
    /// 1024 pages for 10 minutes: at most 16 hints of 4 KB in all per page,
    /// so at most about 4 MB per child.
    pub const DEFAULT: CacheLimits = CacheLimits {
        entries: 1024,
        lifetime_secs: 600,
    };
    const MAX_ENTRIES: usize = 1_000_000;
    const MAX_LIFETIME_SECS: u64 = 7 * 24 * 3600;

    /// Parses the arguments `<entries> <seconds>`; `0` entries turns
    /// learning off.
    pub fn parse(args: &str) -> Result<CacheLimits, ConfigError> {
        let mut words = args.split_ascii_whitespace();
        let (Some(entries), Some(seconds), None) = (words.next(), words.next(), words.next())
        else {
            return Err(ConfigError::BadEarlyHints {
                value: quoted(args),
                reason: "is not two numbers (expected <entries> <seconds>, e.g. 1024 600)",
            });
        };
        let number = |text: &str, range: std::ops::RangeInclusive<u64>, reason| {
            text.parse::<u64>()
                .ok()
                .filter(|n| range.contains(n) && text.bytes().all(|b| b.is_ascii_digit()))
                .ok_or(ConfigError::BadEarlyHints {
                    value: quoted(text),
                    reason,
                })
        };
        let entries = number(
            entries,
            0..=Self::MAX_ENTRIES as u64,
            "is not a number of entries (0 to 1000000; 0 turns learning off)",
        )?;
        let lifetime_secs = number(
            seconds,
            1..=Self::MAX_LIFETIME_SECS,
            "is not a lifetime in seconds (1 to 604800)",
        )?;
        Ok(CacheLimits {
            entries: entries as usize,
            lifetime_secs,
        })
    }
}

impl Default for CacheLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Hints learned from `200` responses, by (origin, path): bounded in
/// entries, each entry good for the lifetime. Thread-safe; the lock is held
/// for map operations only (no I/O, no allocation of hints under it).
/// The caller passes the current time (seconds on any monotonic-enough
/// clock), so that the core reads no clock.
#[derive(Debug)]
pub struct HintCache {
    limits: CacheLimits,
    entries: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    map: HashMap<CacheKey, Entry>,
    /// Counts stores, so that the oldest entry is known within one second.
    stored: u64,
}

type CacheKey = (String, String);

#[derive(Debug)]
struct Entry {
    hints: Arc<[Hint]>,
    learned_at: u64,
    serial: u64,
}

impl HintCache {
    pub fn new(limits: CacheLimits) -> HintCache {
        HintCache {
            limits,
            entries: Mutex::new(Entries::default()),
        }
    }

    pub fn limits(&self) -> CacheLimits {
        self.limits
    }

    /// A panic elsewhere while the lock was held leaves a map that is still
    /// consistent (every operation is a single map call): keep using it.
    fn lock(&self) -> MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn is_fresh(&self, entry: &Entry, now: u64) -> bool {
        now.saturating_sub(entry.learned_at) < self.limits.lifetime_secs
    }

    /// Remembers `hints` for `key` (an empty list forgets the key: the page
    /// no longer has hints). When full, expired entries go first, then the
    /// oldest one.
    pub(crate) fn store(&self, key: CacheKey, hints: Vec<Hint>, now: u64) {
        if self.limits.entries == 0 {
            return;
        }
        if hints.is_empty() {
            self.lock().map.remove(&key);
            return;
        }
        let hints: Arc<[Hint]> = hints.into();
        let mut entries = self.lock();
        entries.stored += 1;
        let entry = Entry {
            hints,
            learned_at: now,
            serial: entries.stored,
        };
        let map = &mut entries.map;
        if map.len() >= self.limits.entries && !map.contains_key(&key) {
            map.retain(|_, e| now.saturating_sub(e.learned_at) < self.limits.lifetime_secs);
            if map.len() >= self.limits.entries {
                let oldest = map
                    .iter()
                    .min_by_key(|(_, e)| e.serial)
                    .map(|(k, _)| k.clone());
                if let Some(oldest) = oldest {
                    map.remove(&oldest);
                }
            }
        }
        map.insert(key, entry);
    }

    pub(crate) fn lookup(&self, key: &CacheKey, now: u64) -> Option<Arc<[Hint]>> {
        let mut entries = self.lock();
        let entry = entries.map.get(key)?;
        if self.is_fresh(entry, now) {
            return Some(Arc::clone(&entry.hints));
        }
        entries.map.remove(key);
        None
    }

    /// How many entries are stored (expired ones included until touched).
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Learns from one response: for a `200` to a GET, the hints in its
    /// `Link` fields become the hints of its origin and path (none: the
    /// entry is forgotten). Responses to requests with `Cookie` or
    /// `Authorization` teach nothing unless `policy.with_credentials`: their
    /// links may be personal, and the hints go to everyone. Returns how many
    /// hints were stored.
    pub fn learn(&self, policy: &Policy<'_>, ex: &Exchange<'_>, now: u64) -> usize {
        if self.limits.entries == 0
            || ex.status != 200
            || ex.method != b"GET"
            || (!policy.with_credentials && (ex.has_cookie || ex.has_authorization))
        {
            return 0;
        }
        let Some(page) = requested_url(ex) else {
            return 0;
        };
        if page.path().len() > MAX_LEARNED_PATH_LEN {
            return 0;
        }
        let hints = hints_of(ex.links, &page);
        let count = hints.len();
        self.store(cache_key(&page), hints, now);
        count
    }
}

pub(crate) fn cache_key(page: &Url) -> CacheKey {
    (page.origin().ascii_serialization(), page.path().to_owned())
}
