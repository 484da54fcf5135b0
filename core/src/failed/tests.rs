//! What a call that failed answers, and how it counts.

use super::*;
use crate::respond::Switch;
use crate::tally::tests::Added;

fn on(push: bool, early_hints: bool) -> Settings<'static> {
    let switch = |on| if on { Switch::On } else { Switch::Off };
    Settings {
        push: switch(push),
        early_hints: switch(early_hints),
        ..Settings::default()
    }
}

const PUSH: Option<Reason> = Some(Reason::InternalError);
const HINTS: Option<EarlyHintsSkip> = Some(INTERNAL_ERROR);

#[test]
fn a_failed_response_is_an_internal_error_on_each_side_that_is_on() {
    for (push, early_hints) in [(true, true), (true, false), (false, true), (false, false)] {
        let failed = Failed::new(Call::Respond, Some(&on(push, early_hints)));
        assert_eq!(failed.call, Call::Respond);
        assert_eq!(failed.push, push.then_some(Reason::InternalError));
        assert_eq!(failed.early_hints, early_hints.then_some(INTERNAL_ERROR));
    }
    let unread = Failed::new(Call::Respond, None);
    assert_eq!((unread.push, unread.early_hints), (PUSH, HINTS));
    assert_eq!(INTERNAL_ERROR.as_str(), "internal-error");
}

#[test]
fn a_failed_call_ahead_of_the_handler_is_the_103s_alone() {
    for settings in [None, Some(on(true, true)), Some(on(false, false))] {
        let failed = Failed::new(Call::Ahead, settings.as_ref());
        assert_eq!((failed.push, failed.early_hints), (None, HINTS));
    }
}

#[test]
fn a_failure_counts_as_internal_error_where_the_calls_decisions_count() {
    let added = Added::default();
    Failed::new(Call::Respond, None).count(&added);
    assert_eq!(
        added.taken(),
        [
            (Counter::SkippedInternalError, 1),
            (Counter::EarlyHintsSkippedInternalError, 1)
        ]
    );
    Failed::new(Call::Respond, Some(&on(false, true))).count(&added);
    assert_eq!(
        added.taken(),
        [(Counter::EarlyHintsSkippedInternalError, 1)]
    );
    // Ahead of the handler a 103 not sent leaves it to the response's.
    Failed::new(Call::Ahead, None).count(&added);
    assert_eq!(added.taken(), []);
}

#[test]
fn only_the_response_strips_an_opt_out_it_did_not_read() {
    assert!(Call::Respond.strips_unread_opt_out());
    assert!(!Call::Ahead.strips_unread_opt_out());
}
