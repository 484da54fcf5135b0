//! Whether a 103 goes out before a redirect, and with which hints.

use crate::chain::follow;
use crate::declared::DeclaredHints;
use crate::exchange::{Exchange, Policy, Reason};
use crate::hints::HintList;
use crate::learn::Store;
use crate::navigation::FetchMetadata;
use crate::origin::{path_and_query, Requested};
use crate::rules::{check_target, Rules};

/// Why a redirect gets no 103. [`EarlyHintsSkip::as_str`] is logged and put
/// in `PUSH_REDIRECT_EARLY_HINTS_SKIPPED`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EarlyHintsSkip {
    /// One of the contract's rules that apply to Early Hints failed.
    Rule(Reason),
    /// HTTP/1.x where `PushRedirectEarlyHintsHTTP1` is off.
    NotHttp2,
    /// HTTP/1.0 (or older): never a 1xx there (RFC 9110, section 15.2).
    Http1_0,
    /// A pushed stream: there is no browser waiting on it.
    PushedStream,
    /// `Sec-Fetch-Mode` or `Sec-Fetch-Dest` say the request is not a
    /// navigation (a `fetch()`, an image, a frame).
    NotNavigation,
    /// Neither declared nor learned hints for the target.
    NoHints,
    /// This response's 103 went out before the handler ran.
    SentAhead,
}

impl EarlyHintsSkip {
    pub const fn as_str(self) -> &'static str {
        match self {
            EarlyHintsSkip::Rule(reason) => reason.as_str(),
            EarlyHintsSkip::NotHttp2 => "not-http2",
            EarlyHintsSkip::Http1_0 => "http1.0",
            EarlyHintsSkip::PushedStream => "pushed-stream",
            EarlyHintsSkip::NotNavigation => "not-navigation",
            EarlyHintsSkip::NoHints => "no-hints",
            EarlyHintsSkip::SentAhead => "sent-ahead",
        }
    }
}

/// The 103 to send before a redirect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EarlyHints {
    link: String,
    count: usize,
    target_path: String,
}

impl EarlyHints {
    /// The value of the 103's one `Link` field: the hints joined by `, `.
    pub fn link_value(&self) -> &str {
        &self.link
    }

    /// How many hints it carries.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The path of the page the hints are for.
    pub fn target_path(&self) -> &str {
        &self.target_path
    }

    /// The 103 carrying `hints` for the page at `page_path`; `None` when
    /// there are none.
    pub(crate) fn from_hints(hints: &HintList, page_path: &str) -> Option<EarlyHints> {
        EarlyHints::from_link(&hints.field_value(), hints.hints.len(), page_path)
    }

    /// The 103 whose `Link` value is `link`, `count` hints joined as
    /// [`HintList::field_value`] joins them; `None` when there are none.
    pub(crate) fn from_link(link: &str, count: usize, page_path: &str) -> Option<EarlyHints> {
        (count > 0).then(|| EarlyHints {
            link: link.to_owned(),
            count,
            target_path: page_path.to_owned(),
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EarlyHintsDecision {
    /// The status is not in `PushRedirectStatus`.
    NotRedirect,
    Send(EarlyHints),
    Skip(EarlyHintsSkip),
}

/// Whether to send a 103 before this redirect, and with which hints:
/// HTTP/2 (or HTTP/1.1 where `PushRedirectEarlyHintsHTTP1` is on), a
/// navigation, a GET whose target passes the contract's
/// opt-out, TLS, location, same-origin, self and exclude rules (not
/// `push-disabled` nor `credentials`: the browser fetches the hints itself,
/// with its own cookies). The hints are those of the page the learned
/// chain from the target ends on, declared ones first.
pub fn early_hints(
    policy: &Policy<'_>,
    declared: Option<&DeclaredHints>,
    mut store: Option<&mut Store<'_>>,
    ex: &Exchange<'_>,
) -> EarlyHintsDecision {
    if !policy.statuses.contains(ex.status) {
        return EarlyHintsDecision::NotRedirect;
    }
    let skip = EarlyHintsDecision::Skip;
    if let Err(reason) = check_client(policy, ex) {
        return skip(reason);
    }
    match check_target(policy, ex, Rules::ClientFetches) {
        Ok((requested, target)) => {
            let mut lookup = |target: &[u8]| store.as_deref_mut()?.looked_up(ex, target);
            let mut requested = Requested::parsed(ex, requested);
            let chain = follow(&mut requested, path_and_query(&target), &mut lookup);
            decision(chain.early_hints(declared, policy, &mut |_| true))
        }
        Err(reason) => skip(EarlyHintsSkip::Rule(reason)),
    }
}

/// The gates of a 103 before any rule, in their order: one has gone out
/// already, HTTP/1.x (unless `PushRedirectEarlyHintsHTTP1` is on), HTTP/1.0
/// (whatever it says), a pushed stream, not a navigation.
pub(crate) fn check_client(policy: &Policy<'_>, ex: &Exchange<'_>) -> Result<(), EarlyHintsSkip> {
    if ex.early_hints_sent {
        Err(EarlyHintsSkip::SentAhead)
    } else if !ex.http2 && !policy.early_hints_http1 {
        Err(EarlyHintsSkip::NotHttp2)
    } else if !ex.http2 && ex.http1_0 {
        Err(EarlyHintsSkip::Http1_0)
    } else if ex.pushed_stream {
        Err(EarlyHintsSkip::PushedStream)
    } else if !FetchMetadata::of(ex).is_navigation() {
        Err(EarlyHintsSkip::NotNavigation)
    } else {
        Ok(())
    }
}

pub(crate) fn decision(hints: Result<EarlyHints, EarlyHintsSkip>) -> EarlyHintsDecision {
    match hints {
        Ok(hints) => EarlyHintsDecision::Send(hints),
        Err(skip) => EarlyHintsDecision::Skip(skip),
    }
}

#[cfg(test)]
mod tests;
