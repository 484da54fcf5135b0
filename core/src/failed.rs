//! What a call of the module answers where it fails: an argument it was
//! given is NULL, it caught a panic, or it could not get the memory to
//! write what was decided. The decision it could not make, or not apply,
//! is then the skip `internal-error`, on each side of the call that is on,
//! and is counted as one.

use crate::count::Call;
use crate::decide::Decision;
use crate::exchange::Reason;
use crate::hints::{EarlyHintsDecision, EarlyHintsSkip};
use crate::respond::{Response, Settings};
use crate::tally::{Counter, Tally};

/// The 103's `internal-error`.
const INTERNAL_ERROR: EarlyHintsSkip = EarlyHintsSkip::Rule(Reason::InternalError);

/// The answer of a call that failed: nothing to add or send, and
/// `internal-error` on each of its sides that is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failed {
    pub call: Call,
    /// The push's skip; `None` where the push is off.
    pub push: Option<Reason>,
    /// The 103's skip; `None` where Early Hints are off.
    pub early_hints: Option<EarlyHintsSkip>,
}

impl Failed {
    /// The answer of `call` when it fails, with the `settings` of its
    /// scope, `None` where they cannot be read: `internal-error` on each
    /// side they turn on, on both when they cannot be read. Ahead of the
    /// handler there is only the 103 (made only where it is on).
    pub fn new(call: Call, settings: Option<&Settings<'_>>) -> Failed {
        let (push, early_hints) = match (call, settings) {
            (Call::Ahead, _) => (false, true),
            (Call::Respond, Some(settings)) => (settings.push_on(), settings.early_hints_on()),
            (Call::Respond, None) => (true, true),
        };
        Failed {
            call,
            push: push.then_some(Reason::InternalError),
            early_hints: early_hints.then_some(INTERNAL_ERROR),
        }
    }

    /// Adds the answer to `tally` as the call's decisions are counted: the
    /// push's skip by its reason, the 103's as [`EarlyHintsDecision::count`]
    /// says for the call (ahead of the handler, not at all).
    pub fn count<T: Tally + ?Sized>(&self, tally: &T) {
        if let Some(reason) = self.push {
            tally.add(Counter::skipped(reason), 1);
        }
        if let Some(skip) = self.early_hints {
            EarlyHintsDecision::Skip(skip).count(self.call, tally);
        }
    }
}

impl Call {
    /// Whether the answer strips `X-Push-Redirect` from the response
    /// where the call read none of the response's fields (it failed, or
    /// the status needs nothing decided): at the response, which may carry
    /// one; ahead of the handler there is no response yet.
    pub const fn strips_unread_opt_out(self) -> bool {
        match self {
            Call::Respond => true,
            Call::Ahead => false,
        }
    }
}

impl Response<'_> {
    /// The module could not write the push's `Link` value (its allocator
    /// failed): the push is the skip `internal-error`, with no further hop.
    pub fn push_not_written(&mut self) {
        if let Some(Decision::Push(_)) = self.push {
            self.push = Some(Decision::Skip(Reason::InternalError));
            self.further_links.clear();
        }
    }

    /// Keeps the further links that `write` wrote, calling it on each in
    /// order: one it could not write is left out, and the push and the
    /// other hops stand. What is kept is what [`Response::count`] counts.
    pub fn keep_written_links(&mut self, mut write: impl FnMut(&str) -> bool) {
        self.further_links.retain(|link| write(link));
    }
}

impl EarlyHintsDecision {
    /// The module could not write the 103's `Link` value (its allocator
    /// failed): no 103, for `internal-error`.
    pub fn not_written(&mut self) {
        if let EarlyHintsDecision::Send(_) = self {
            *self = EarlyHintsDecision::Skip(INTERNAL_ERROR);
        }
    }
}

#[cfg(test)]
mod tests;
