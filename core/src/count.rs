//! Which of the operator's counters (tally.rs) a call's decisions add
//! to. Apart from tally.rs, which only names the counters, because this
//! reads the decisions of respond.rs, which itself counts the store's
//! events through tally.rs.

use crate::decide::Decision;
use crate::hints::EarlyHintsDecision;
use crate::respond::Response;
use crate::tally::{Counter, Tally};

/// Which call of the module decided: [`respond`](crate::respond), once
/// per response, or [`ahead`](crate::ahead), before the handler runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Call {
    Respond,
    Ahead,
}

impl Response<'_> {
    /// Adds the response's decisions to `tally`, as the module applied
    /// them (where it could not, it makes the side the skip
    /// `internal-error`, and `further_links` are the links it added): a
    /// push counts as linked, with each further hop of its chain; a
    /// redirect not linked, by its reason; the 103 as
    /// [`EarlyHintsDecision::count`] says for [`Call::Respond`].
    #[inline]
    pub fn count<T: Tally + ?Sized>(&self, tally: &T) {
        match &self.push {
            Some(Decision::Push(_)) => {
                tally.add(Counter::Linked, 1);
                if !self.further_links.is_empty() {
                    tally.add(Counter::FurtherHopsLinked, self.further_links.len() as u64);
                }
            }
            Some(Decision::Skip(reason)) => tally.add(Counter::skipped(*reason), 1),
            Some(Decision::NotRedirect) | None => {}
        }
        if let Some(early_hints) = &self.early_hints {
            early_hints.count(Call::Respond, tally);
        }
    }
}

impl EarlyHintsDecision {
    /// Adds the 103 decision of `call` to `tally`: a 103 sent, at the
    /// redirect or ahead of the handler, and whether it carries declared
    /// hints; a 103 not sent, by its token, for the response's decision
    /// only (one ahead of the handler that sends none leaves it to the
    /// response's, and one that sends makes it `sent-ahead`).
    #[inline]
    pub fn count<T: Tally + ?Sized>(&self, call: Call, tally: &T) {
        match self {
            EarlyHintsDecision::Send(hints) => {
                let sent = match call {
                    Call::Respond => Counter::EarlyHintsAtRedirect,
                    Call::Ahead => Counter::EarlyHintsAhead,
                };
                tally.add(sent, 1);
                if hints.declared() > 0 {
                    tally.add(Counter::EarlyHintsDeclared, 1);
                }
            }
            EarlyHintsDecision::Skip(skip) => {
                if let (Call::Respond, Some(counter)) = (call, Counter::early_hints_skipped(*skip))
                {
                    tally.add(counter, 1);
                }
            }
            EarlyHintsDecision::NotRedirect => {}
        }
    }
}
