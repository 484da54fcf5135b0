//! Whether a 103 goes out before a redirect, and with which hints.

use url::Url;

use crate::declared::DeclaredHints;
use crate::exchange::{Exchange, Policy, Reason};
use crate::hints::HintList;
use crate::learn::Store;
use crate::rules::{check_target, Rules};

/// Why a redirect gets no 103. [`EarlyHintsSkip::as_str`] is logged and put
/// in `PUSH_REDIRECT_EARLY_HINTS_SKIPPED`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EarlyHintsSkip {
    /// One of the contract's rules that apply to Early Hints failed.
    Rule(Reason),
    /// HTTP/1.x: never a 103 there.
    NotHttp2,
    /// A pushed stream: there is no browser waiting on it.
    PushedStream,
    /// Neither declared nor learned hints for the target.
    NoHints,
}

impl EarlyHintsSkip {
    pub const fn as_str(self) -> &'static str {
        match self {
            EarlyHintsSkip::Rule(reason) => reason.as_str(),
            EarlyHintsSkip::NotHttp2 => "not-http2",
            EarlyHintsSkip::PushedStream => "pushed-stream",
            EarlyHintsSkip::NoHints => "no-hints",
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

    /// The redirect target's path, which the hints are for.
    pub fn target_path(&self) -> &str {
        &self.target_path
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
/// HTTP/2 only, a GET whose target passes the contract's opt-out, TLS,
/// location, same-origin, self and exclude rules (not `push-disabled` nor
/// `credentials`: the browser fetches the hints itself, with its own
/// cookies). Declared hints come first, then learned ones.
pub fn early_hints(
    policy: &Policy<'_>,
    declared: Option<&DeclaredHints>,
    store: Option<&mut Store<'_>>,
    ex: &Exchange<'_>,
) -> EarlyHintsDecision {
    if !policy.statuses.contains(ex.status) {
        return EarlyHintsDecision::NotRedirect;
    }
    let skip = EarlyHintsDecision::Skip;
    if !ex.http2 {
        return skip(EarlyHintsSkip::NotHttp2);
    }
    if ex.pushed_stream {
        return skip(EarlyHintsSkip::PushedStream);
    }
    match check_target(policy, ex, Rules::ClientFetches) {
        Ok((_, target)) => hints_for(declared, store, ex, &target),
        Err(reason) => skip(EarlyHintsSkip::Rule(reason)),
    }
}

/// The 103 for a redirect to `target` that passed the rules: declared
/// hints first, then those `store` learned for this virtual host.
pub(crate) fn hints_for(
    declared: Option<&DeclaredHints>,
    store: Option<&mut Store<'_>>,
    ex: &Exchange<'_>,
    target: &Url,
) -> EarlyHintsDecision {
    let mut hints = HintList::default();
    for hint in declared.into_iter().flat_map(|d| d.for_path(target.path())) {
        hints.push(hint.clone());
    }
    for hint in store
        .map(|store| store.hints_for(ex, target))
        .unwrap_or_default()
    {
        hints.push(hint);
    }
    if hints.hints.is_empty() {
        return EarlyHintsDecision::Skip(EarlyHintsSkip::NoHints);
    }
    EarlyHintsDecision::Send(EarlyHints {
        link: hints.field_value(),
        count: hints.hints.len(),
        target_path: target.path().to_owned(),
    })
}

#[cfg(test)]
mod tests;
