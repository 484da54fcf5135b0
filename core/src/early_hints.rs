//! Whether a 103 goes out before a redirect, and with which hints.

use crate::chain::follow;
use crate::declared::DeclaredHints;
use crate::exchange::{Exchange, Policy};
use crate::hints::{EarlyHints, EarlyHintsDecision, EarlyHintsSkip};
use crate::learn::Store;
use crate::navigation::FetchMetadata;
use crate::origin::{path_and_query, Requested};
use crate::rules::{check_target, Rules};

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
