//! What the server counts for its operator (the module's `server-status`
//! section, docs/operating.md): the events of the shared store that only
//! the core sees. The shim keeps the counters (one slot per child, in
//! shared memory) and counts the decisions it applies itself.

/// One event the store counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A lookup found a record that parses.
    LookupFound,
    /// A lookup found nothing, or bytes that do not parse.
    LookupMissed,
    /// A lookup got no answer: the store is failing, hung or too busy.
    LookupUnanswered,
    /// A record that was worth a write was not written: the write budget
    /// of the process was spent.
    WriteRefused,
    /// A redirect's record was written.
    LearnedRedirect,
    /// A page's record was written with hints, all from its `Link` fields...
    LearnedPageFromLink,
    /// ...with hints at least one of which its HTML gave...
    LearnedPageFromHtml,
    /// ...or with none (a page whose hints are gone).
    LearnedPageWithoutHints,
}

/// Where the store's events are counted: a process's
/// [`WriteBudget`](crate::WriteBudget) holds one, which the threads of the
/// process share. Counting must be cheap and never fail: the module adds
/// one to a counter of shared memory.
pub trait Tally: Send + Sync {
    fn count(&self, event: Event);
}

impl<T: Tally + ?Sized> Tally for std::sync::Arc<T> {
    fn count(&self, event: Event) {
        (**self).count(event);
    }
}

/// What a page's record counts as, from how many hints it holds and how
/// many of them its HTML gave.
pub(crate) fn learned_page(hints: usize, from_html: usize) -> Event {
    if from_html > 0 {
        Event::LearnedPageFromHtml
    } else if hints > 0 {
        Event::LearnedPageFromLink
    } else {
        Event::LearnedPageWithoutHints
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Mutex;

    use super::*;

    /// The events counted, in order.
    #[derive(Default)]
    pub(crate) struct Recorded(Mutex<Vec<Event>>);

    impl Tally for Recorded {
        fn count(&self, event: Event) {
            self.0.lock().unwrap().push(event);
        }
    }

    impl Recorded {
        pub(crate) fn events(&self) -> Vec<Event> {
            self.0.lock().unwrap().clone()
        }
    }

    #[test]
    fn a_page_counts_by_where_its_hints_came_from() {
        assert_eq!(learned_page(3, 1), Event::LearnedPageFromHtml);
        assert_eq!(learned_page(3, 0), Event::LearnedPageFromLink);
        assert_eq!(learned_page(0, 0), Event::LearnedPageWithoutHints);
    }
}
