//! What the server counts for its operator (the module's `server-status`
//! section, docs/operating.md): the events of the shared store that only
//! the core sees, every [`Counter`] of the page, with its name, label and
//! group (which counters a call's decisions add to is count.rs). The
//! module keeps the counters (one slot per child, in shared memory) and
//! hands them to the core to add to.

use std::ffi::CStr;

use crate::exchange::Reason;
use crate::hints::EarlyHintsSkip;

/// One event the store counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A lookup found a record that parses.
    LookupFound,
    /// A lookup found nothing, or bytes that do not parse.
    LookupMissed,
    /// A lookup got no answer: the store is failing, hung or too busy.
    LookupUnanswered,
    /// A response that would teach was refused by the write budget of the
    /// process: a record worth a write, or, while the budget's part for
    /// the URL is spent, a response not looked up for one.
    WriteRefused,
    /// A redirect's record was written.
    LearnedRedirect,
    /// A page's record was written with hints, all from its `Link` fields...
    LearnedPageFromLink,
    /// ...with hints at least one of which its HTML gave...
    LearnedPageFromHtml,
    /// ...or with none (a page whose hints are gone).
    LearnedPageWithoutHints,
    /// A call of the store failed or hung and started a back-off
    /// ([`StoreHealth::fail`](crate::StoreHealth::fail)): once per
    /// back-off, whatever the threads that saw failures.
    BackedOff,
}

/// Where the counters are added to: the store's events (a process's
/// [`WriteBudget`](crate::WriteBudget) and
/// [`StoreHealth`](crate::StoreHealth) hold one, which the threads of the
/// process share) and what a call decided
/// ([`Response::count`](crate::Response::count)). Adding
/// must be cheap and never fail: the module adds to a counter of shared
/// memory.
pub trait Tally: Send + Sync {
    /// Adds `n` to `counter`.
    fn add(&self, counter: Counter, n: u64);

    /// Counts one `event` of the store, on its counter.
    fn count(&self, event: Event) {
        self.add(event.into(), 1);
    }
}

/// Where a process's [`WriteBudget`](crate::WriteBudget) or
/// [`StoreHealth`](crate::StoreHealth) counts its events; `None`: nowhere.
#[derive(Default)]
pub(crate) struct Counted(pub(crate) Option<Box<dyn Tally>>);

impl Counted {
    /// Counts `event`, if this counts.
    pub(crate) fn count(&self, event: Event) {
        if let Some(tally) = &self.0 {
            tally.count(event);
        }
    }
}

impl std::fmt::Debug for Counted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Counted"
        } else {
            "Uncounted"
        })
    }
}

impl<T: Tally + ?Sized> Tally for std::sync::Arc<T> {
    fn add(&self, counter: Counter, n: u64) {
        (**self).add(counter, n);
    }

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

/// One counter of a slot, by its index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counter {
    Linked,
    FurtherHopsLinked,
    SkippedOptOut,
    SkippedMethod,
    SkippedInsecure,
    SkippedPushDisabled,
    SkippedCredentials,
    SkippedNoLocation,
    SkippedBadLocation,
    SkippedCrossOrigin,
    SkippedSelf,
    SkippedExcluded,
    SkippedAlreadyLinked,
    SkippedInternalError,
    EarlyHintsAhead,
    EarlyHintsAtRedirect,
    EarlyHintsDeclared,
    EarlyHintsSkippedSentAhead,
    EarlyHintsSkippedNotHttp2,
    EarlyHintsSkippedHttp10,
    EarlyHintsSkippedPushedStream,
    EarlyHintsSkippedNotNavigation,
    EarlyHintsSkippedOptOut,
    EarlyHintsSkippedMethod,
    EarlyHintsSkippedInsecure,
    EarlyHintsSkippedNoLocation,
    EarlyHintsSkippedBadLocation,
    EarlyHintsSkippedCrossOrigin,
    EarlyHintsSkippedSelf,
    EarlyHintsSkippedExcluded,
    EarlyHintsSkippedNoHints,
    EarlyHintsSkippedInternalError,
    LearnedRedirects,
    LearnedPagesFromLink,
    LearnedPagesFromHtml,
    LearnedPagesWithoutHints,
    LookupsFound,
    LookupsMissed,
    LookupsUnanswered,
    WritesRefused,
    StoreFailures,
}

/// What the status page prints for a counter: its `server-status?auto`
/// key, its label, and the heading of its group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CounterText {
    pub name: &'static CStr,
    pub label: &'static CStr,
    pub group: &'static CStr,
}

const PUSH: &CStr = c"Push (PushRedirect)";
const NOT_LINKED: &CStr = c"Redirects not linked, by reason";
const EARLY_HINTS: &CStr = c"103 Early Hints (PushRedirectEarlyHints)";
const NO_103: &CStr = c"Redirects without a 103, by reason";
const LEARNED: &CStr = c"Records learned";
const STORE: &CStr = c"The shared store";

/// One counter's text.
const fn text(name: &'static CStr, label: &'static CStr, group: &'static CStr) -> CounterText {
    CounterText { name, label, group }
}

/// A skip counter's text: its label is the skip's token.
const fn not_linked(name: &'static CStr, reason: Reason) -> CounterText {
    text(name, reason.as_c_str(), NOT_LINKED)
}

const fn no_103(name: &'static CStr, skip: EarlyHintsSkip) -> CounterText {
    text(name, skip.as_c_str(), NO_103)
}

const fn no_103_by_rule(name: &'static CStr, reason: Reason) -> CounterText {
    no_103(name, EarlyHintsSkip::Rule(reason))
}

/// Every counter's text, in the order of [`Counter`].
#[rustfmt::skip]
const TEXTS: [CounterText; Counter::COUNT] = [
    text(c"PushRedirectLinked", c"redirects linked for push", PUSH),
    text(c"PushRedirectFurtherHopsLinked", c"further hops of learned chains linked", PUSH),
    not_linked(c"PushRedirectSkippedOptOut", Reason::OptOut),
    not_linked(c"PushRedirectSkippedMethod", Reason::Method),
    not_linked(c"PushRedirectSkippedInsecure", Reason::Insecure),
    not_linked(c"PushRedirectSkippedPushDisabled", Reason::PushDisabled),
    not_linked(c"PushRedirectSkippedCredentials", Reason::Credentials),
    not_linked(c"PushRedirectSkippedNoLocation", Reason::NoLocation),
    not_linked(c"PushRedirectSkippedBadLocation", Reason::BadLocation),
    not_linked(c"PushRedirectSkippedCrossOrigin", Reason::CrossOrigin),
    not_linked(c"PushRedirectSkippedSelf", Reason::SelfRedirect),
    not_linked(c"PushRedirectSkippedExcluded", Reason::Excluded),
    not_linked(c"PushRedirectSkippedAlreadyLinked", Reason::AlreadyLinked),
    not_linked(c"PushRedirectSkippedInternalError", Reason::InternalError),
    text(c"PushRedirectEarlyHintsAhead", c"103s sent ahead of the handler", EARLY_HINTS),
    text(c"PushRedirectEarlyHintsAtRedirect", c"103s sent at a redirect", EARLY_HINTS),
    text(c"PushRedirectEarlyHintsDeclared", c"of these, 103s with declared hints", EARLY_HINTS),
    no_103(c"PushRedirectEarlyHintsSkippedSentAhead", EarlyHintsSkip::SentAhead),
    no_103(c"PushRedirectEarlyHintsSkippedNotHttp2", EarlyHintsSkip::NotHttp2),
    no_103(c"PushRedirectEarlyHintsSkippedHttp10", EarlyHintsSkip::Http1_0),
    no_103(c"PushRedirectEarlyHintsSkippedPushedStream", EarlyHintsSkip::PushedStream),
    no_103(c"PushRedirectEarlyHintsSkippedNotNavigation", EarlyHintsSkip::NotNavigation),
    no_103_by_rule(c"PushRedirectEarlyHintsSkippedOptOut", Reason::OptOut),
    no_103_by_rule(c"PushRedirectEarlyHintsSkippedMethod", Reason::Method),
    no_103_by_rule(c"PushRedirectEarlyHintsSkippedInsecure", Reason::Insecure),
    no_103_by_rule(c"PushRedirectEarlyHintsSkippedNoLocation", Reason::NoLocation),
    no_103_by_rule(c"PushRedirectEarlyHintsSkippedBadLocation", Reason::BadLocation),
    no_103_by_rule(c"PushRedirectEarlyHintsSkippedCrossOrigin", Reason::CrossOrigin),
    no_103_by_rule(c"PushRedirectEarlyHintsSkippedSelf", Reason::SelfRedirect),
    no_103_by_rule(c"PushRedirectEarlyHintsSkippedExcluded", Reason::Excluded),
    no_103(c"PushRedirectEarlyHintsSkippedNoHints", EarlyHintsSkip::NoHints),
    no_103_by_rule(c"PushRedirectEarlyHintsSkippedInternalError", Reason::InternalError),
    text(c"PushRedirectLearnedRedirects", c"redirects", LEARNED),
    text(c"PushRedirectLearnedPagesFromLink", c"pages, hints from Link fields only", LEARNED),
    text(c"PushRedirectLearnedPagesFromHTML", c"pages, hints from their HTML too", LEARNED),
    text(c"PushRedirectLearnedPagesWithoutHints", c"pages without hints", LEARNED),
    text(c"PushRedirectLookupsFound", c"lookups that found a record", STORE),
    text(c"PushRedirectLookupsMissed", c"lookups that found none", STORE),
    text(c"PushRedirectLookupsUnanswered", c"lookups the store did not answer in time", STORE),
    text(c"PushRedirectWritesRefused", c"writes refused by the write budget", STORE),
    text(c"PushRedirectStoreFailures", c"failures that backed the store off", STORE),
];

impl Counter {
    /// The counters of one slot.
    pub const COUNT: usize = 41;

    /// The text of the counter at `index`; `None` past the last.
    pub fn text(index: usize) -> Option<CounterText> {
        TEXTS.get(index).copied()
    }

    /// The counter of a redirect not linked for `reason`.
    pub const fn skipped(reason: Reason) -> Counter {
        match reason {
            Reason::OptOut => Counter::SkippedOptOut,
            Reason::Method => Counter::SkippedMethod,
            Reason::Insecure => Counter::SkippedInsecure,
            Reason::PushDisabled => Counter::SkippedPushDisabled,
            Reason::Credentials => Counter::SkippedCredentials,
            Reason::NoLocation => Counter::SkippedNoLocation,
            Reason::BadLocation => Counter::SkippedBadLocation,
            Reason::CrossOrigin => Counter::SkippedCrossOrigin,
            Reason::SelfRedirect => Counter::SkippedSelf,
            Reason::Excluded => Counter::SkippedExcluded,
            Reason::AlreadyLinked => Counter::SkippedAlreadyLinked,
            Reason::InternalError => Counter::SkippedInternalError,
        }
    }

    /// The counter of a redirect that got no 103 for `skip`; `None` for a
    /// token that a 103 never has (the push's own rules).
    pub const fn early_hints_skipped(skip: EarlyHintsSkip) -> Option<Counter> {
        Some(match skip {
            EarlyHintsSkip::SentAhead => Counter::EarlyHintsSkippedSentAhead,
            EarlyHintsSkip::NotHttp2 => Counter::EarlyHintsSkippedNotHttp2,
            EarlyHintsSkip::Http1_0 => Counter::EarlyHintsSkippedHttp10,
            EarlyHintsSkip::PushedStream => Counter::EarlyHintsSkippedPushedStream,
            EarlyHintsSkip::NotNavigation => Counter::EarlyHintsSkippedNotNavigation,
            EarlyHintsSkip::NoHints => Counter::EarlyHintsSkippedNoHints,
            EarlyHintsSkip::Rule(reason) => match reason {
                Reason::OptOut => Counter::EarlyHintsSkippedOptOut,
                Reason::Method => Counter::EarlyHintsSkippedMethod,
                Reason::Insecure => Counter::EarlyHintsSkippedInsecure,
                Reason::NoLocation => Counter::EarlyHintsSkippedNoLocation,
                Reason::BadLocation => Counter::EarlyHintsSkippedBadLocation,
                Reason::CrossOrigin => Counter::EarlyHintsSkippedCrossOrigin,
                Reason::SelfRedirect => Counter::EarlyHintsSkippedSelf,
                Reason::Excluded => Counter::EarlyHintsSkippedExcluded,
                Reason::InternalError => Counter::EarlyHintsSkippedInternalError,
                Reason::PushDisabled | Reason::Credentials | Reason::AlreadyLinked => return None,
            },
        })
    }
}

impl From<Event> for Counter {
    /// The counter of a store's event.
    fn from(event: Event) -> Counter {
        match event {
            Event::LookupFound => Counter::LookupsFound,
            Event::LookupMissed => Counter::LookupsMissed,
            Event::LookupUnanswered => Counter::LookupsUnanswered,
            Event::WriteRefused => Counter::WritesRefused,
            Event::LearnedRedirect => Counter::LearnedRedirects,
            Event::LearnedPageFromLink => Counter::LearnedPagesFromLink,
            Event::LearnedPageFromHtml => Counter::LearnedPagesFromHtml,
            Event::LearnedPageWithoutHints => Counter::LearnedPagesWithoutHints,
            Event::BackedOff => Counter::StoreFailures,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
