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
//! The slots are read and written without a lock, a word at a time: every
//! response of every thread of the process reads one or two, and a lock
//! would make them wait on each other. Two threads writing one slot at
//! once may leave it mixing their words; that is a slot whose key, value
//! and time no longer belong together, which reads as what a collision
//! does (a write skipped, one more lookup, or a further hop left unpushed,
//! each for at most a window) and is taken as no more than that: a
//! `Held::Redirect` sends the caller to the store, which says what it
//! holds, and any other kind only spares it a lookup.
//!
//! A slot also says what the store was last seen to hold for its URL (a
//! page, a redirect, or nothing that parses), as of a settled write or a
//! lookup: a pushed redirect probes its target only to learn whether it
//! redirects again, and within the window that is known without the
//! store ([`Settled::held`]).
//!
//! What the window costs: when the store loses a record (an expiry, an
//! eviction, a flush) or another process writes another record for the
//! URL, this process notices at most one window later. A lookup that finds
//! no record, or one that does not parse, forgets what it had settled for
//! that key at once.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use foldhash::fast::{FoldHasher, RandomState};

/// Slots in the table: 24 KiB, a few busy pages per slot at worst.
const SLOTS: usize = 1024;
/// The longest window: a record is checked again at least this often.
pub const MAX_WINDOW_MS: u64 = 10_000;

/// What the store was last seen to hold for a URL.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Held {
    /// No record, or one that does not parse.
    #[default]
    Nothing,
    /// A 200's record, with hints or without.
    Page,
    /// A redirect's record.
    Redirect,
}

impl Held {
    fn from_bits(bits: u64) -> Held {
        match bits & 3 {
            1 => Held::Page,
            2 => Held::Redirect,
            _ => Held::Nothing,
        }
    }

    fn bits(self) -> u64 {
        match self {
            Held::Nothing => 0,
            Held::Page => 1,
            Held::Redirect => 2,
        }
    }
}

/// `value` 0 is no fingerprint ([`Settled::fingerprint`] never makes it):
/// a slot that only says what the store holds settles no response. `until`
/// is the end of the window in milliseconds, shifted left by two, and what
/// the store held in the low two bits.
#[derive(Debug, Default)]
struct Slot {
    key: AtomicU64,
    value: AtomicU64,
    until: AtomicU64,
}

/// One slot's words as they were read.
struct Read {
    key: u64,
    until_ms: u64,
    held: Held,
}

impl Slot {
    fn read(&self) -> Read {
        let until = self.until.load(Relaxed);
        Read {
            key: self.key.load(Relaxed),
            until_ms: until >> 2,
            held: Held::from_bits(until),
        }
    }

    fn write(&self, key: u64, value: u64, until_ms: u64, held: Held) {
        self.key.store(key, Relaxed);
        self.value.store(value, Relaxed);
        // The time saturates below 2^62 ms, some hundred million years.
        self.until
            .store(until_ms.min(u64::MAX >> 2) << 2 | held.bits(), Relaxed);
    }
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
    slots: Box<[Slot]>,
}

impl Default for Settled {
    fn default() -> Self {
        Settled {
            keys: RandomState::default(),
            slots: (0..SLOTS).map(|_| Slot::default()).collect(),
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

    /// The fingerprint of the URL `target` on virtual host `vhost` and
    /// `port`, and of what the response would teach, which `teaches` hashes
    /// in any form that says it exactly.
    pub fn fingerprint(
        &self,
        vhost: &[u8],
        port: u16,
        target: &[u8],
        teaches: impl FnOnce(&mut FoldHasher<'_>),
    ) -> Fingerprint {
        let mut hasher = self.url_hasher(vhost, port, target);
        let key = hasher.finish();
        teaches(&mut hasher);
        Fingerprint {
            key,
            value: hasher.finish().max(1),
        }
    }

    /// The fingerprint of a URL alone, as [`Settled::saw`] and
    /// [`Settled::held`] take it.
    pub fn url_fingerprint(&self, vhost: &[u8], port: u16, target: &[u8]) -> u64 {
        self.url_hasher(vhost, port, target).finish()
    }

    #[inline]
    fn url_hasher(&self, vhost: &[u8], port: u16, target: &[u8]) -> FoldHasher<'_> {
        let mut hasher = self.keys.build_hasher();
        // The lengths first, so that no two URLs hash alike by their
        // concatenation, and that what `teaches` adds follows a known end.
        hasher.write_usize(vhost.len());
        hasher.write_usize(target.len());
        hasher.write_u16(port);
        hasher.write(vhost);
        hasher.write(target);
        hasher
    }

    /// Whether `fingerprint` was settled less than its window ago.
    pub fn is_settled(&self, fingerprint: Fingerprint, now_ms: u64) -> bool {
        let slot = self.slot(fingerprint.key);
        let read = slot.read();
        read.key == fingerprint.key
            && slot.value.load(Relaxed) == fingerprint.value
            && now_ms < read.until_ms
    }

    /// Records that the store holds what `fingerprint` teaches, a record
    /// of kind `held`, as of `now_ms`, for `window_ms`.
    pub fn settle(&self, fingerprint: Fingerprint, held: Held, now_ms: u64, window_ms: u64) {
        self.slot(fingerprint.key).write(
            fingerprint.key,
            fingerprint.value,
            now_ms.saturating_add(window_ms),
            held,
        );
    }

    /// Records that a lookup of the URL of `url_fingerprint` found `held`
    /// at `now_ms`. What was settled for the URL stays settled while the
    /// store is seen to hold the same kind of record; otherwise it is
    /// forgotten (after nothing, the next response that teaches the URL
    /// writes again) and the slot says what was seen, for `window_ms`.
    pub fn saw(&self, url_fingerprint: u64, held: Held, now_ms: u64, window_ms: u64) {
        let slot = self.slot(url_fingerprint);
        let read = slot.read();
        if read.key == url_fingerprint && read.held == held && now_ms < read.until_ms {
            return;
        }
        slot.write(url_fingerprint, 0, now_ms.saturating_add(window_ms), held);
    }

    /// What the store held for the URL of `url_fingerprint` when this
    /// process last settled or looked it up, if that was within the
    /// window; `None`: not known here.
    pub fn held(&self, url_fingerprint: u64, now_ms: u64) -> Option<Held> {
        let read = self.slot(url_fingerprint).read();
        (read.key == url_fingerprint && now_ms < read.until_ms).then_some(read.held)
    }

    fn slot(&self, key: u64) -> &Slot {
        &self.slots[slot_of(key)]
    }
}

fn slot_of(key: u64) -> usize {
    (key % SLOTS as u64) as usize
}

#[cfg(test)]
mod tests;
