//! What one process has recently settled with the shared store: that the
//! record it would write for a URL is the one the store holds. A response
//! that would teach the same again within [`Settled::window_ms`] writes
//! nothing and reads nothing: no key is hashed, no lock is taken, no
//! record is fetched or parsed. On a busy page, that is nearly every
//! response.
//!
//! A slot holds fingerprints, never a URL or a record: 64-bit hashes, with
//! a seed drawn once per process, of the virtual host, port and request
//! target, and of what the response would teach. The hash is foldhash's
//! fast one rather than `std`'s SipHash, which cost more than the rest of a
//! 200's answer: a collision here is no leak and no wrong hint, only one
//! URL's write skipped until its window ends, and a client would have to
//! find one without knowing the seed. The table has a fixed number of
//! slots, so it does not grow with traffic.
//!
//! What the window costs: when the store loses a record (an expiry, an
//! eviction, a flush) or another process writes another record for the
//! URL, this process notices at most one window later. A lookup that finds
//! no record, or one that does not parse, forgets what it had settled for
//! that key at once.

use std::hash::{BuildHasher, Hash, Hasher};

use foldhash::fast::{FoldHasher, RandomState};
use std::sync::Mutex;

/// Slots in the table: 16 KiB, a few busy pages per slot at worst.
const SLOTS: usize = 1024;
/// The longest window: a record is checked again at least this often.
pub const MAX_WINDOW_MS: u64 = 10_000;

#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    key: u64,
    value: u64,
    until_ms: u64,
}

/// The fingerprints of one URL (`key`) and of what it would teach
/// (`value`), from [`Settled::fingerprint`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    key: u64,
    value: u64,
}

/// The recently settled records of one process, shared by its threads.
#[derive(Debug)]
pub struct Settled {
    keys: RandomState,
    slots: Mutex<Box<[Slot]>>,
}

impl Default for Settled {
    fn default() -> Self {
        Settled {
            keys: RandomState::default(),
            slots: Mutex::new(vec![Slot::default(); SLOTS].into_boxed_slice()),
        }
    }
}

impl Settled {
    /// How long a settled record is taken as settled, for records of
    /// `lifetime_secs`: half their lifetime, so that a record that is
    /// still taught is written again before it expires, and at most
    /// [`MAX_WINDOW_MS`].
    pub fn window_ms(lifetime_secs: u64) -> u64 {
        (lifetime_secs.saturating_mul(1000) / 2).min(MAX_WINDOW_MS)
    }

    /// The fingerprint of `url` (the parts of a key, in order) and of what
    /// the response would teach, which `teaches` hashes in any form that
    /// says it exactly. Slices hash with their length, so no two lists of
    /// parts hash alike by their concatenation.
    pub fn fingerprint(
        &self,
        url: &[&[u8]],
        teaches: impl FnOnce(&mut FoldHasher<'_>),
    ) -> Fingerprint {
        let mut hasher = self.keys.build_hasher();
        url.hash(&mut hasher);
        let key = hasher.finish();
        teaches(&mut hasher);
        Fingerprint {
            key,
            value: hasher.finish(),
        }
    }

    /// The fingerprint of `url` alone, as [`Settled::forget`] takes it.
    pub fn url_fingerprint(&self, url: &[&[u8]]) -> u64 {
        self.keys.hash_one(url)
    }

    /// Whether `fingerprint` was settled less than its window ago.
    pub fn is_settled(&self, fingerprint: Fingerprint, now_ms: u64) -> bool {
        let slots = self.lock();
        let slot = slots[slot_of(fingerprint.key)];
        slot.key == fingerprint.key && slot.value == fingerprint.value && now_ms < slot.until_ms
    }

    /// Records that the store holds what `fingerprint` teaches, as of
    /// `now_ms`, for `window_ms`.
    pub fn settle(&self, fingerprint: Fingerprint, now_ms: u64, window_ms: u64) {
        self.lock()[slot_of(fingerprint.key)] = Slot {
            key: fingerprint.key,
            value: fingerprint.value,
            until_ms: now_ms.saturating_add(window_ms),
        };
    }

    /// Forgets what was settled for the URL of `url_fingerprint`: the store
    /// was seen not to hold it.
    pub fn forget(&self, url_fingerprint: u64) {
        let mut slots = self.lock();
        let slot = &mut slots[slot_of(url_fingerprint)];
        if slot.key == url_fingerprint {
            *slot = Slot::default();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Box<[Slot]>> {
        // A slot is three words written whole under the lock: a panic
        // elsewhere cannot leave one half written.
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn slot_of(key: u64) -> usize {
    (key % SLOTS as u64) as usize
}
