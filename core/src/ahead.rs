//! The 103 ahead of the backend (`PushRedirectEarlyHintsAhead On`): decided
//! once the request's configuration is known and before its handler runs,
//! from what the server learned this URL led to last time
//! (docs/behaviour.md, "When a 103 goes out").

use std::cell::RefCell;

use crate::chain::{follow, learned, page_early_hints, resolve_learned, Lookup};
use crate::early_hints::check_client;
use crate::exchange::{Exchange, Reason};
use crate::hints::{EarlyHints, EarlyHintsDecision, EarlyHintsSkip};
use crate::learn::Store;
use crate::origin::Requested;
use crate::respond::Settings;
use crate::rules::check_shared;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ahead {
    /// `PushRedirectEarlyHintsAhead` or `PushRedirectEarlyHints` is not on
    /// here.
    Off,
    /// Send this 103 now; none goes out at the redirect.
    Send(EarlyHints),
    Skip(EarlyHintsSkip),
}

impl Ahead {
    /// The 103 decision this is, as the module answers and counts it
    /// ([`EarlyHintsDecision::count`] for [`Call::Ahead`](crate::Call));
    /// `None` where it is off: nothing is decided.
    pub fn decision(self) -> Option<EarlyHintsDecision> {
        match self {
            Ahead::Off => None,
            Ahead::Send(hints) => Some(EarlyHintsDecision::Send(hints)),
            Ahead::Skip(skip) => Some(EarlyHintsDecision::Skip(skip)),
        }
    }
}

/// The 103 to send before the handler runs, where
/// `PushRedirectEarlyHintsAhead` and `PushRedirectEarlyHints` are on. `ex`
/// is the request as the 103 at the redirect reads it, with no response
/// yet (no status, `Location`, `Link` or `X-Push-Redirect`).
///
/// The gates are those of the 103 at the redirect, in its order: HTTP/2
/// (or HTTP/1.1 where `PushRedirectEarlyHintsHTTP1` is on), not a pushed
/// stream, a navigation, then rules 1 to 3 (the opt-out
/// variable, GET, TLS unless `PushRedirectRequireTLS Off`). A response's
/// `X-Push-Redirect: off` cannot hold back what went out before it.
///
/// Then what was learned for the URL: a page sends its hints (the scope's
/// declared ones for its path first); a redirect is read as the backend's
/// `Location` would be (rules 7 to 10: `bad-location`, `cross-origin`,
/// `self`, `excluded`) and sends the hints of the page its learned chain
/// ends on; nothing learned sends nothing (`no-hints`), whatever is
/// declared.
pub fn ahead(settings: &Settings<'_>, ex: &Exchange<'_>, store: Option<&mut Store<'_>>) -> Ahead {
    // The lookups and the access check both go to the store, one after
    // the other.
    let store = RefCell::new(store);
    let mut lookup = |target: &[u8]| store.borrow_mut().as_deref_mut()?.looked_up(ex, target);
    let mut may_fetch = |target: &str| {
        store
            .borrow_mut()
            .as_deref_mut()
            .map_or(true, |store| store.may_fetch(ex, target))
    };
    ahead_with(settings, ex, &mut lookup, &mut may_fetch)
}

pub(crate) fn ahead_with(
    settings: &Settings<'_>,
    ex: &Exchange<'_>,
    lookup: &mut Lookup<'_>,
    may_fetch: &mut dyn FnMut(&str) -> bool,
) -> Ahead {
    if !settings.ahead_on() {
        return Ahead::Off;
    }
    match decide_ahead(settings, ex, lookup, may_fetch) {
        Ok(hints) => Ahead::Send(hints),
        Err(skip) => Ahead::Skip(skip),
    }
}

fn decide_ahead(
    settings: &Settings<'_>,
    ex: &Exchange<'_>,
    lookup: &mut Lookup<'_>,
    may_fetch: &mut dyn FnMut(&str) -> bool,
) -> Result<EarlyHints, EarlyHintsSkip> {
    let rule = EarlyHintsSkip::Rule;
    let policy = settings.policy();
    check_client(&policy, ex)?;
    check_shared(&policy, ex).map_err(rule)?;
    let mut requested = Requested::of(ex).ok_or(rule(Reason::BadLocation))?;
    let no_hints = EarlyHintsSkip::NoHints;
    let record = learned(requested.path_and_query(), lookup).ok_or(no_hints)?;
    let Some(location) = record.redirect_target() else {
        return page_early_hints(settings.declared, requested.path(), Some(&record));
    };
    let target = resolve_learned(&mut requested, location).map_err(rule)?;
    policy
        .check_target_path(&target, requested.path_and_query().as_bytes())
        .map_err(rule)?;
    // The URL asked for passed Apache's access control before this fixup;
    // the page its chain ends on is asked for.
    follow(&mut requested, &target, lookup).early_hints(settings.declared, &policy, may_fetch)
}

#[cfg(test)]
mod tests;
