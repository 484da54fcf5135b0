//! A fixed table of values found by their exact bytes, shared by the
//! threads of one process: what it has worked out once from some bytes
//! (a record parsed and validated, a key hashed, a pattern checked) and
//! need not work out again while the same bytes come back.
//!
//! A seeded hash of the bytes only picks the slot; the bytes there are
//! compared in full, so no two inputs are ever taken for one another,
//! whatever their hash. Each slot holds one entry, and only inputs of at
//! most `max_len` bytes are kept (a longer one is worked out every time),
//! so the table never holds more than its slots' worth of bounded entries
//! whatever the traffic: a newer entry takes the place of the one in its
//! slot. Each slot has its own lock, held only to compare the bytes and to
//! take or put an entry, never while a value is worked out: threads wait
//! on each other only when they want the same slot at the same instant.

use std::hash::BuildHasher;
use std::sync::{Mutex, MutexGuard};

use foldhash::fast::RandomState;

type Slot<V> = Mutex<Option<(Box<[u8]>, V)>>;

#[derive(Debug)]
pub(crate) struct Table<V> {
    seed: RandomState,
    max_len: usize,
    slots: Box<[Slot<V>]>,
}

impl<V: Clone> Table<V> {
    /// A table of `slots` entries of inputs of at most `max_len` bytes.
    pub(crate) fn new(slots: usize, max_len: usize) -> Table<V> {
        Table {
            seed: RandomState::default(),
            max_len,
            slots: (0..slots).map(|_| Mutex::new(None)).collect(),
        }
    }

    /// What `make` gives for `bytes`: kept from an earlier call with the
    /// same bytes, else made now (and kept, when they are short enough).
    pub(crate) fn get_or_make(&self, bytes: &[u8], make: impl FnOnce(&[u8]) -> V) -> V {
        let Some(slot) = self.slot(bytes) else {
            return make(bytes);
        };
        if let Some((_, value)) = lock(slot).as_ref().filter(|(kept, _)| **kept == *bytes) {
            return value.clone();
        }
        let value = make(bytes);
        *lock(slot) = Some((bytes.into(), value.clone()));
        value
    }

    /// The value kept for `bytes`, if any.
    pub(crate) fn get(&self, bytes: &[u8]) -> Option<V> {
        let slot = self.slot(bytes)?;
        let kept = lock(slot);
        kept.as_ref()
            .filter(|(kept, _)| **kept == *bytes)
            .map(|(_, value)| value.clone())
    }

    /// Keeps `value` for `bytes` (in place of what their slot held), when
    /// they are short enough.
    pub(crate) fn put(&self, bytes: &[u8], value: V) {
        if let Some(slot) = self.slot(bytes) {
            *lock(slot) = Some((bytes.into(), value));
        }
    }

    fn slot(&self, bytes: &[u8]) -> Option<&Slot<V>> {
        (bytes.len() <= self.max_len)
            .then(|| &self.slots[(self.seed.hash_one(bytes) % self.slots.len() as u64) as usize])
    }

    /// Each entry held: its input and value.
    #[cfg(test)]
    pub(crate) fn for_each(&self, mut f: impl FnMut(&[u8], &V)) {
        for slot in self.slots.iter() {
            if let Some((bytes, value)) = lock(slot).as_ref() {
                f(bytes, value);
            }
        }
    }
}

/// A slot's lock; one that a panicking thread left poisoned holds a whole
/// entry or none (it is only ever assigned whole), so it is used as it is.
fn lock<V>(slot: &Slot<V>) -> MutexGuard<'_, Option<(Box<[u8]>, V)>> {
    slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
