//! What a call that failed answers, and how it counts.

use super::*;
use crate::respond::{respond, Switch};
use crate::tally::tests::{redirect, Added};

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

#[test]
fn a_push_not_written_is_an_internal_error_without_further_hops() {
    let added = Added::default();
    let mut response = respond(&on(true, false), &redirect(), None);
    response.further_links = vec!["</b>; as=document; rel=preload".into()];
    response.push_not_written();
    assert_eq!(response.push, Some(Decision::Skip(Reason::InternalError)));
    assert!(response.further_links.is_empty());
    response.count(&added);
    assert_eq!(added.taken(), [(Counter::SkippedInternalError, 1)]);
    // A skip stays what it is.
    response.push = Some(Decision::Skip(Reason::CrossOrigin));
    response.push_not_written();
    assert_eq!(response.push, Some(Decision::Skip(Reason::CrossOrigin)));
}

#[test]
fn a_further_link_not_written_is_left_out_and_the_push_stands() {
    let added = Added::default();
    let mut response = respond(&on(true, false), &redirect(), None);
    let links = [
        "</b>; as=document; rel=preload",
        "</c>; as=document; rel=preload",
    ];
    response.further_links = links.map(String::from).to_vec();
    let mut written = Vec::new();
    response.keep_written_links(|link| {
        written.push(link.to_owned());
        link != links[0]
    });
    assert_eq!(written, links, "each, in order");
    assert_eq!(response.further_links, [links[1]]);
    assert!(matches!(response.push, Some(Decision::Push(_))));
    response.count(&added);
    assert_eq!(
        added.taken(),
        [(Counter::Linked, 1), (Counter::FurtherHopsLinked, 1)]
    );
}

#[test]
fn a_103_not_written_is_an_internal_error() {
    let hints = crate::hints::EarlyHints::from_link("</a.css>; rel=preload; as=style", 1, "/new");
    let mut decision = EarlyHintsDecision::Send(hints.unwrap());
    decision.not_written();
    assert_eq!(decision, EarlyHintsDecision::Skip(INTERNAL_ERROR));
    let mut skipped = EarlyHintsDecision::Skip(EarlyHintsSkip::NoHints);
    skipped.not_written();
    assert_eq!(skipped, EarlyHintsDecision::Skip(EarlyHintsSkip::NoHints));
}
