//! The counters' texts, and what each decision and store event counts.

use std::sync::Mutex;

use super::*;
use crate::count::Call;
use crate::decide::Decision;
use crate::declared::DeclaredHints;
use crate::early_hints::early_hints;
use crate::exchange::{Exchange, Policy};
use crate::hints::EarlyHints;
use crate::hints::EarlyHintsDecision;
use crate::respond::Response;
use crate::respond::{respond, Settings, Switch};

/// The store's events counted, in order.
#[derive(Default)]
pub(crate) struct Recorded(Mutex<Vec<Event>>);

impl Tally for Recorded {
    fn add(&self, counter: Counter, _: u64) {
        panic!("only events are recorded, not {counter:?}");
    }

    fn count(&self, event: Event) {
        self.0.lock().unwrap().push(event);
    }
}

impl Recorded {
    pub(crate) fn events(&self) -> Vec<Event> {
        self.0.lock().unwrap().clone()
    }
}

/// What was added to which counter, in order.
#[derive(Default)]
pub(crate) struct Added(Mutex<Vec<(Counter, u64)>>);

impl Tally for Added {
    fn add(&self, counter: Counter, n: u64) {
        self.0.lock().unwrap().push((counter, n));
    }
}

impl Added {
    /// What was added since the last call.
    pub(crate) fn taken(&self) -> Vec<(Counter, u64)> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

#[test]
fn an_event_adds_one_to_its_counter() {
    let added = std::sync::Arc::new(Added::default());
    added.count(Event::LookupUnanswered);
    added.add(Counter::StoreFailures, 2);
    Added::count(&added, Event::LearnedRedirect);
    assert_eq!(
        added.taken(),
        [
            (Counter::LookupsUnanswered, 1),
            (Counter::StoreFailures, 2),
            (Counter::LearnedRedirects, 1)
        ]
    );
}

/// A GET over HTTP/2 to https://example.com/old, answered 302 to /new.
pub(crate) fn redirect() -> Exchange<'static> {
    Exchange {
        status: 302,
        method: b"GET",
        scheme: b"https",
        host: Some(b"example.com"),
        request_target: b"/old",
        http2: true,
        h2_push: true,
        locations: &[b"/new"],
        ..Exchange::default()
    }
}

/// A 103 for /new, with a declared hint or none.
fn sent(declared: bool) -> EarlyHintsDecision {
    if !declared {
        let hints = EarlyHints::from_link("</a.css>; rel=preload; as=style", 1, "/new");
        return EarlyHintsDecision::Send(hints.unwrap());
    }
    let mut set = DeclaredHints::new();
    set.add("/new", "</a.css>; rel=preload; as=style").unwrap();
    let decision = early_hints(&Policy::default(), Some(&set), None, &redirect());
    assert!(matches!(&decision, EarlyHintsDecision::Send(hints) if hints.declared() == 1));
    decision
}

#[test]
fn a_response_counts_its_push_with_each_further_hop_or_why_none() {
    let added = Added::default();
    let on = Settings {
        push: Switch::On,
        ..Settings::default()
    };
    let mut response = respond(&on, &redirect(), None);
    assert!(matches!(response.push, Some(Decision::Push(_))));
    response.count(&added);
    assert_eq!(added.taken(), [(Counter::Linked, 1)]);
    response.further_links = vec!["</b>; as=document; rel=preload".into(); 2];
    response.count(&added);
    assert_eq!(
        added.taken(),
        [(Counter::Linked, 1), (Counter::FurtherHopsLinked, 2)]
    );
    for reason in Reason::ALL {
        response.push = Some(Decision::Skip(reason));
        response.count(&added);
        assert_eq!(added.taken(), [(Counter::skipped(reason), 1)]);
    }
    for nothing in [Some(Decision::NotRedirect), None] {
        response.push = nothing;
        response.count(&added);
        assert_eq!(added.taken(), []);
    }
}

#[test]
fn a_103_counts_where_it_went_out_and_only_the_responses_skips_count() {
    let added = Added::default();
    for (call, at) in [
        (Call::Respond, Counter::EarlyHintsAtRedirect),
        (Call::Ahead, Counter::EarlyHintsAhead),
    ] {
        sent(false).count(call, &added);
        assert_eq!(added.taken(), [(at, 1)]);
        sent(true).count(call, &added);
        assert_eq!(added.taken(), [(at, 1), (Counter::EarlyHintsDeclared, 1)]);
    }
    let skips = [
        EarlyHintsSkip::SentAhead,
        EarlyHintsSkip::NoHints,
        EarlyHintsSkip::Rule(Reason::CrossOrigin),
        EarlyHintsSkip::Rule(Reason::InternalError),
    ];
    for skip in skips {
        let decision = EarlyHintsDecision::Skip(skip);
        decision.count(Call::Ahead, &added);
        assert_eq!(added.taken(), [], "{skip:?}");
        decision.count(Call::Respond, &added);
        let counter = Counter::early_hints_skipped(skip).unwrap();
        assert_eq!(added.taken(), [(counter, 1)], "{skip:?}");
    }
    let push_only = EarlyHintsDecision::Skip(EarlyHintsSkip::Rule(Reason::PushDisabled));
    push_only.count(Call::Respond, &added);
    EarlyHintsDecision::NotRedirect.count(Call::Respond, &added);
    assert_eq!(added.taken(), []);
    // A response's 103 counts as one at the redirect.
    let response = Response {
        push: None,
        further_links: Vec::new(),
        early_hints: Some(sent(true)),
        learn: None,
        page: None,
    };
    response.count(&added);
    assert_eq!(
        added.taken(),
        [
            (Counter::EarlyHintsAtRedirect, 1),
            (Counter::EarlyHintsDeclared, 1)
        ]
    );
}

#[test]
fn a_page_counts_by_where_its_hints_came_from() {
    assert_eq!(learned_page(3, 1), Event::LearnedPageFromHtml);
    assert_eq!(learned_page(3, 0), Event::LearnedPageFromLink);
    assert_eq!(learned_page(0, 0), Event::LearnedPageWithoutHints);
}

#[test]
fn every_counter_has_its_text_and_the_skips_are_named_by_their_tokens() {
    assert_eq!(Counter::StoreFailures as usize + 1, Counter::COUNT);
    assert!(Counter::text(Counter::COUNT).is_none());
    for i in 0..Counter::COUNT {
        let CounterText { name, label, group } = Counter::text(i).unwrap();
        let name = name.to_str().unwrap();
        assert!(name.starts_with("PushRedirect"), "{name}");
        assert!(name.bytes().all(|b| b.is_ascii_alphanumeric()), "{name}");
        assert!(!label.is_empty() && !group.is_empty());
        assert!(TEXTS[..i]
            .iter()
            .all(|other| other.name.to_str() != Ok(name)));
    }
    let text = |counter: Counter| Counter::text(counter as usize).unwrap();
    assert_eq!(text(Counter::Linked).name, c"PushRedirectLinked");
    for reason in Reason::ALL {
        assert_eq!(
            text(Counter::skipped(reason)).label.to_str(),
            Ok(reason.as_str())
        );
        if let Some(counter) = Counter::early_hints_skipped(EarlyHintsSkip::Rule(reason)) {
            let CounterText { label, group, .. } = text(counter);
            assert_eq!((label.to_str(), group), (Ok(reason.as_str()), NO_103));
        }
    }
    for skip in [
        EarlyHintsSkip::SentAhead,
        EarlyHintsSkip::NotHttp2,
        EarlyHintsSkip::Http1_0,
        EarlyHintsSkip::PushedStream,
        EarlyHintsSkip::NotNavigation,
        EarlyHintsSkip::NoHints,
    ] {
        let counter = Counter::early_hints_skipped(skip).unwrap();
        assert_eq!(text(counter).label.to_str(), Ok(skip.as_str()));
    }
}
