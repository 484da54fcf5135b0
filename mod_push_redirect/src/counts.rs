//! The counters of the module's `server-status` section (docs/operating.md):
//! one slot of [`PUSH_REDIRECT_COUNTERS`] 64-bit counters per child, in
//! shared memory the shim makes; each child adds to its own with relaxed
//! atomic additions, and the status page sums the slots. Their names and
//! labels are here, so that the decisions and the page agree.

use std::ffi::{c_char, CStr};
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};

use push_redirect_core::{EarlyHintsSkip, Event, Reason, Tally};

use crate::ffi_panic_boundary;

/// One counter of a slot, by its index.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum push_redirect_counter {
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

/// The counters of one slot.
pub const PUSH_REDIRECT_COUNTERS: usize = 41;

use push_redirect_counter as C;

/// What the status page prints for a counter: its `server-status?auto`
/// key, its label, and the heading of its group (static strings).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct push_redirect_counter_text {
    pub name: *const c_char,
    pub label: *const c_char,
    pub group: *const c_char,
}

const PUSH: &CStr = c"Push (PushRedirect)";
const NOT_LINKED: &CStr = c"Redirects not linked, by reason";
const EARLY_HINTS: &CStr = c"103 Early Hints (PushRedirectEarlyHints)";
const NO_103: &CStr = c"Redirects without a 103, by reason";
const LEARNED: &CStr = c"Records learned";
const STORE: &CStr = c"The shared store";

/// A static C string from a literal that ends with a NUL.
const fn c_str(text: &'static str) -> &'static CStr {
    match CStr::from_bytes_with_nul(text.as_bytes()) {
        Ok(text) => text,
        Err(_) => panic!("a literal ending with NUL"),
    }
}

/// One counter's text: its name after `PushRedirect`, its label, its
/// group.
macro_rules! text {
    ($name:literal, $label:literal, $group:ident) => {
        (
            c_str(concat!("PushRedirect", $name, "\0")),
            c_str(concat!($label, "\0")),
            $group,
        )
    };
}

/// Every counter's text, in the order of [`push_redirect_counter`].
#[rustfmt::skip]
const TEXTS: [(&CStr, &CStr, &CStr); PUSH_REDIRECT_COUNTERS] = [
    text!("Linked", "redirects linked for push", PUSH),
    text!("FurtherHopsLinked", "further hops of learned chains linked", PUSH),
    text!("SkippedOptOut", "opt-out", NOT_LINKED),
    text!("SkippedMethod", "method", NOT_LINKED),
    text!("SkippedInsecure", "insecure", NOT_LINKED),
    text!("SkippedPushDisabled", "push-disabled", NOT_LINKED),
    text!("SkippedCredentials", "credentials", NOT_LINKED),
    text!("SkippedNoLocation", "no-location", NOT_LINKED),
    text!("SkippedBadLocation", "bad-location", NOT_LINKED),
    text!("SkippedCrossOrigin", "cross-origin", NOT_LINKED),
    text!("SkippedSelf", "self", NOT_LINKED),
    text!("SkippedExcluded", "excluded", NOT_LINKED),
    text!("SkippedAlreadyLinked", "already-linked", NOT_LINKED),
    text!("SkippedInternalError", "internal-error", NOT_LINKED),
    text!("EarlyHintsAhead", "103s sent ahead of the handler", EARLY_HINTS),
    text!("EarlyHintsAtRedirect", "103s sent at a redirect", EARLY_HINTS),
    text!("EarlyHintsDeclared", "of these, 103s with declared hints", EARLY_HINTS),
    text!("EarlyHintsSkippedSentAhead", "sent-ahead", NO_103),
    text!("EarlyHintsSkippedNotHttp2", "not-http2", NO_103),
    text!("EarlyHintsSkippedHttp10", "http1.0", NO_103),
    text!("EarlyHintsSkippedPushedStream", "pushed-stream", NO_103),
    text!("EarlyHintsSkippedNotNavigation", "not-navigation", NO_103),
    text!("EarlyHintsSkippedOptOut", "opt-out", NO_103),
    text!("EarlyHintsSkippedMethod", "method", NO_103),
    text!("EarlyHintsSkippedInsecure", "insecure", NO_103),
    text!("EarlyHintsSkippedNoLocation", "no-location", NO_103),
    text!("EarlyHintsSkippedBadLocation", "bad-location", NO_103),
    text!("EarlyHintsSkippedCrossOrigin", "cross-origin", NO_103),
    text!("EarlyHintsSkippedSelf", "self", NO_103),
    text!("EarlyHintsSkippedExcluded", "excluded", NO_103),
    text!("EarlyHintsSkippedNoHints", "no-hints", NO_103),
    text!("EarlyHintsSkippedInternalError", "internal-error", NO_103),
    text!("LearnedRedirects", "redirects", LEARNED),
    text!("LearnedPagesFromLink", "pages, hints from Link fields only", LEARNED),
    text!("LearnedPagesFromHTML", "pages, hints from their HTML too", LEARNED),
    text!("LearnedPagesWithoutHints", "pages without hints", LEARNED),
    text!("LookupsFound", "lookups that found a record", STORE),
    text!("LookupsMissed", "lookups that found none", STORE),
    text!("LookupsUnanswered", "lookups the store did not answer in time", STORE),
    text!("WritesRefused", "writes refused by the write budget", STORE),
    text!("StoreFailures", "failures that backed the store off", STORE),
];

/// The text of counter `counter`; all NULL past the last.
#[no_mangle]
pub extern "C" fn push_redirect_counter_describe(counter: usize) -> push_redirect_counter_text {
    const NONE: push_redirect_counter_text = push_redirect_counter_text {
        name: ptr::null(),
        label: ptr::null(),
        group: ptr::null(),
    };
    ffi_panic_boundary!(NONE, {
        TEXTS
            .get(counter)
            .map_or(NONE, |(name, label, group)| push_redirect_counter_text {
                name: name.as_ptr(),
                label: label.as_ptr(),
                group: group.as_ptr(),
            })
    })
}

/// One child's slot.
#[derive(Clone, Copy)]
pub(crate) struct Counts(&'static [AtomicU64; PUSH_REDIRECT_COUNTERS]);

impl Counts {
    /// The slot at `slot`; `None` for NULL.
    ///
    /// # Safety
    /// `slot` is NULL or points to [`PUSH_REDIRECT_COUNTERS`] counters,
    /// 8-byte aligned, that live as long as the process and are only
    /// ever changed atomically.
    pub(crate) unsafe fn of(slot: *mut u64) -> Option<Counts> {
        // SAFETY: AtomicU64 has the size of u64; the caller vouches for
        // the rest.
        slot.cast::<[AtomicU64; PUSH_REDIRECT_COUNTERS]>()
            .as_ref()
            .map(Counts)
    }

    #[inline]
    pub(crate) fn add(&self, counter: push_redirect_counter, n: u64) {
        self.0[counter as usize].fetch_add(n, Ordering::Relaxed);
    }

    #[cfg(test)]
    pub(crate) fn get(&self, counter: push_redirect_counter) -> u64 {
        self.0[counter as usize].load(Ordering::Relaxed)
    }
}

impl Tally for Counts {
    fn count(&self, event: Event) {
        self.add(
            match event {
                Event::LookupFound => C::LookupsFound,
                Event::LookupMissed => C::LookupsMissed,
                Event::LookupUnanswered => C::LookupsUnanswered,
                Event::WriteRefused => C::WritesRefused,
                Event::LearnedRedirect => C::LearnedRedirects,
                Event::LearnedPageFromLink => C::LearnedPagesFromLink,
                Event::LearnedPageFromHtml => C::LearnedPagesFromHtml,
                Event::LearnedPageWithoutHints => C::LearnedPagesWithoutHints,
            },
            1,
        );
    }
}

/// The counter of a redirect not linked for `reason`.
pub(crate) fn skipped(reason: Reason) -> push_redirect_counter {
    match reason {
        Reason::OptOut => C::SkippedOptOut,
        Reason::Method => C::SkippedMethod,
        Reason::Insecure => C::SkippedInsecure,
        Reason::PushDisabled => C::SkippedPushDisabled,
        Reason::Credentials => C::SkippedCredentials,
        Reason::NoLocation => C::SkippedNoLocation,
        Reason::BadLocation => C::SkippedBadLocation,
        Reason::CrossOrigin => C::SkippedCrossOrigin,
        Reason::SelfRedirect => C::SkippedSelf,
        Reason::Excluded => C::SkippedExcluded,
        Reason::AlreadyLinked => C::SkippedAlreadyLinked,
        Reason::InternalError => C::SkippedInternalError,
    }
}

/// The counter of a redirect that got no 103 for `skip`; `None` for a
/// token that a 103 never has (the push's own rules).
pub(crate) fn early_hints_skipped(skip: EarlyHintsSkip) -> Option<push_redirect_counter> {
    Some(match skip {
        EarlyHintsSkip::SentAhead => C::EarlyHintsSkippedSentAhead,
        EarlyHintsSkip::NotHttp2 => C::EarlyHintsSkippedNotHttp2,
        EarlyHintsSkip::Http1_0 => C::EarlyHintsSkippedHttp10,
        EarlyHintsSkip::PushedStream => C::EarlyHintsSkippedPushedStream,
        EarlyHintsSkip::NotNavigation => C::EarlyHintsSkippedNotNavigation,
        EarlyHintsSkip::NoHints => C::EarlyHintsSkippedNoHints,
        EarlyHintsSkip::Rule(reason) => match reason {
            Reason::OptOut => C::EarlyHintsSkippedOptOut,
            Reason::Method => C::EarlyHintsSkippedMethod,
            Reason::Insecure => C::EarlyHintsSkippedInsecure,
            Reason::NoLocation => C::EarlyHintsSkippedNoLocation,
            Reason::BadLocation => C::EarlyHintsSkippedBadLocation,
            Reason::CrossOrigin => C::EarlyHintsSkippedCrossOrigin,
            Reason::SelfRedirect => C::EarlyHintsSkippedSelf,
            Reason::Excluded => C::EarlyHintsSkippedExcluded,
            Reason::InternalError => C::EarlyHintsSkippedInternalError,
            Reason::PushDisabled | Reason::Credentials | Reason::AlreadyLinked => return None,
        },
    })
}

#[cfg(test)]
mod tests;
