//! The records one process has validated lately, by their bytes: a record
//! read back from the store stays untrusted, but bytes that are exactly
//! those of a record this process parsed and checked already are not
//! parsed again (docs/behaviour.md, "Read back as untrusted"). In the
//! steady state the store hands every request of a page the same bytes;
//! parsing them ran each hint through the URL parser every time, most of
//! what a 103 sent ahead cost.
//!
//! An entry is found by its bytes alone: a seeded hash of them only picks
//! the slot, and the bytes there are compared in full, so no two records
//! are taken for one another whatever their hash. Bytes that do not parse
//! are kept too, as such, so that a record someone wrote to the store to
//! be refused is refused without being parsed again; it is refused all the
//! same.
//!
//! The table has [`SLOTS`] slots, one entry each, and keeps only records of
//! at most [`MAX_KEPT_LEN`] bytes (longer ones are parsed every time), so
//! it holds at most `SLOTS` entries of bounded size whatever the traffic: a
//! newer record in a slot takes the place of the one that was there. Each
//! slot has its own lock, held only to compare the bytes and to take or
//! put an entry, never while parsing: the threads of a process wait on
//! each other only when they want the same slot at the same instant.

use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, MutexGuard};

use foldhash::fast::RandomState;

use super::Record;

/// Slots in the table.
const SLOTS: usize = 64;
/// The longest record kept: most are under 300 bytes (a page with a few
/// hints, a redirect); a page with the most hints of the longest paths is
/// parsed each time.
pub(crate) const MAX_KEPT_LEN: usize = 1024;

/// One record's bytes and what they parse to (`None`: nothing).
#[derive(Debug)]
struct Entry {
    bytes: Box<[u8]>,
    record: Option<Arc<Record>>,
}

/// The validated records of one process, shared by its threads.
#[derive(Debug)]
pub struct Validated {
    seed: RandomState,
    slots: Box<[Mutex<Option<Entry>>]>,
}

impl Default for Validated {
    fn default() -> Self {
        Validated {
            seed: RandomState::default(),
            slots: (0..SLOTS).map(|_| Mutex::new(None)).collect(),
        }
    }
}

impl Validated {
    /// The record `bytes` are, as [`Record::parse`] reads them: from the
    /// table when these very bytes were read before, else parsed (and kept,
    /// when short enough).
    pub fn record(&self, bytes: &[u8]) -> Option<Arc<Record>> {
        if bytes.len() > MAX_KEPT_LEN {
            return Record::parse(bytes).map(Arc::new);
        }
        let slot = &self.slots[self.slot_of(bytes)];
        if let Some(entry) = lock(slot).as_ref().filter(|entry| *entry.bytes == *bytes) {
            return entry.record.clone();
        }
        let record = Record::parse(bytes).map(Arc::new);
        *lock(slot) = Some(Entry {
            bytes: bytes.into(),
            record: record.clone(),
        });
        record
    }

    fn slot_of(&self, bytes: &[u8]) -> usize {
        (self.seed.hash_one(bytes) % SLOTS as u64) as usize
    }

    /// The entries held and the bytes they hold, records and their 103
    /// values included.
    #[cfg(test)]
    fn held(&self) -> (usize, usize) {
        let mut held = (0, 0);
        for slot in self.slots.iter() {
            if let Some(entry) = lock(slot).as_ref() {
                held.0 += 1;
                held.1 += entry.bytes.len() + entry.record.as_ref().map_or(0, |r| r.text_len());
            }
        }
        held
    }
}

/// A slot's lock; one that a panicking thread left poisoned holds a whole
/// entry or none (it is only ever assigned whole), so it is used as it is.
fn lock(slot: &Mutex<Option<Entry>>) -> MutexGuard<'_, Option<Entry>> {
    slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests;
