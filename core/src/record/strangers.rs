//! What this process last heard from Apache about whether a stranger may
//! fetch a page: a request with nothing of any visitor's, no credentials,
//! no header field but `Host`, from an address no network's `Require ip`
//! names (the shim makes it: `push_redirect_store.stranger_may_fetch`).
//!
//! A 103 carries a page's learned hints only to a visitor who may fetch
//! that page, and asking Apache costs a lookup subrequest, about as much
//! as the rest of a hinted redirect together. What a stranger may fetch,
//! anyone may, so for such a page the answer is kept for
//! [`Strangers::MEMO_MS`] and no visitor is asked about it meanwhile. A page
//! a stranger may not fetch is asked about for each visitor, as before.
//!
//! An access rule added to a page reaches its hints within
//! [`Strangers::MEMO_MS`] in each process; a rule that refuses some
//! addresses only (`Require not ip`) is not seen, and those visitors get
//! the hints of a page the rest of the world may fetch.
//!
//! Keyed by the page's record key (its virtual host, port and path+query)
//! in a fixed table, so it holds at most [`SLOTS`] answers whatever the
//! traffic.

use super::RecordKey;
use crate::table::Table;

const SLOTS: usize = 64;

/// Pages and whether a stranger may fetch them, as of when Apache was
/// asked.
#[derive(Debug)]
pub struct Strangers {
    table: Table<(bool, u64)>,
}

impl Default for Strangers {
    fn default() -> Self {
        Strangers {
            table: Table::new(SLOTS, std::mem::size_of::<RecordKey>()),
        }
    }
}

impl Strangers {
    /// How long an answer is kept.
    pub const MEMO_MS: u64 = 10_000;

    /// Whether a stranger may fetch the page of `key`, as Apache answered
    /// within [`Strangers::MEMO_MS`] before `now_ms`; `None` when not asked
    /// since.
    pub fn may_fetch(&self, key: &RecordKey, now_ms: u64) -> Option<bool> {
        self.table
            .get(key.as_bytes())
            .filter(|&(_, asked_ms)| now_ms.saturating_sub(asked_ms) < Strangers::MEMO_MS)
            .map(|(may, _)| may)
    }

    /// Apache's answer for the page of `key`, at `now_ms`.
    pub fn answered(&self, key: &RecordKey, may_fetch: bool, now_ms: u64) {
        self.table.put(key.as_bytes(), (may_fetch, now_ms));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(path: &str) -> RecordKey {
        RecordKey::new(b"www.example", 443, path.as_bytes()).unwrap()
    }

    #[test]
    fn an_answer_is_kept_for_its_page_and_for_a_while() {
        // One page per table: two pages may share a slot.
        let strangers = Strangers::default();
        assert_eq!(strangers.may_fetch(&key("/a"), 0), None);
        strangers.answered(&key("/a"), true, 1_000);
        assert_eq!(
            strangers.may_fetch(&key("/a"), 1_000 + Strangers::MEMO_MS - 1),
            Some(true)
        );
        assert_eq!(strangers.may_fetch(&key("/a?q"), 1_000), None);
        assert_eq!(
            strangers.may_fetch(&key("/a"), 1_000 + Strangers::MEMO_MS),
            None
        );
        let strangers = Strangers::default();
        strangers.answered(&key("/b"), false, 1_000);
        assert_eq!(strangers.may_fetch(&key("/b"), 1_000), Some(false));
    }
}
