//! The records one process has validated lately, by their bytes: a record
//! read back from the store stays untrusted, but bytes that are exactly
//! those of a record this process parsed and checked already are not
//! parsed again (docs/behaviour.md, "Read back as untrusted"). In the
//! steady state the store hands every request of a page the same bytes;
//! parsing them ran each hint through the URL parser every time, most of
//! what a 103 sent ahead cost.
//!
//! An entry is found by its bytes alone, compared in full ([`Table`]).
//! Bytes that do not parse are kept too, as such, so that a record someone
//! wrote to the store to be refused is refused without being parsed again;
//! it is refused all the same.
//!
//! The table has [`SLOTS`] slots, one entry each, and keeps only records of
//! at most [`MAX_KEPT_LEN`] bytes (longer ones are parsed every time), so
//! it holds at most `SLOTS` entries of bounded size whatever the traffic.

use std::sync::Arc;

use super::Record;
use crate::table::Table;

/// Slots in the table.
const SLOTS: usize = 64;
/// The longest record kept: most are under 300 bytes (a page with a few
/// hints, a redirect); a page with the most hints of the longest paths is
/// parsed each time.
pub(crate) const MAX_KEPT_LEN: usize = 1024;

/// The validated records of one process, shared by its threads.
#[derive(Debug)]
pub struct Validated {
    table: Table<Option<Arc<Record>>>,
}

impl Default for Validated {
    fn default() -> Self {
        Validated {
            table: Table::new(SLOTS, MAX_KEPT_LEN),
        }
    }
}

impl Validated {
    /// The record `bytes` are, as [`Record::parse`] reads them: from the
    /// table when these very bytes were read before, else parsed (and kept,
    /// when short enough).
    pub fn record(&self, bytes: &[u8]) -> Option<Arc<Record>> {
        self.table
            .get_or_make(bytes, |bytes| Record::parse(bytes).map(Arc::new))
    }

    /// The entries held and the bytes they hold, records and their 103
    /// values included.
    #[cfg(test)]
    fn held(&self) -> (usize, usize) {
        let mut held = (0, 0);
        self.table.for_each(|bytes, record| {
            held.0 += 1;
            held.1 += bytes.len() + record.as_ref().map_or(0, |r| r.text_len());
        });
        held
    }
}

#[cfg(test)]
mod tests;
