//! One answer per response: the push, the 103 and what is learned, from one
//! evaluation of the rules they share (docs/behaviour.md, "The decision" and
//! "Early Hints").

use std::borrow::Cow;

use crate::chain::{follow, Chain};
use crate::config::{ExcludeSet, StatusSet};
use crate::decide::{plain_push, push_target, Decision, Resolution, Resolved};
use crate::declared::DeclaredHints;
use crate::early_hints::{check_client, decision};
use crate::exchange::{Exchange, Policy, Reason};
use crate::hints::{EarlyHintsDecision, EarlyHintsSkip};
use crate::learn::{Learn, Lesson, PageLearning, Store};
use crate::origin::{path_and_query, Requested};
use crate::plain::PlainRedirect;
use crate::rules::{
    check_push_only, check_shared, is_opted_out, one_location, resolve_target, validate_location,
};

/// An `On|Off` directive as a scope left it: `Unset` inherits, and at the
/// end means the directive's default, which is known here only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Switch {
    #[default]
    Unset,
    Off,
    On,
}

impl Switch {
    pub fn or(self, default: bool) -> bool {
        match self {
            Switch::Unset => default,
            Switch::Off => false,
            Switch::On => true,
        }
    }
}

/// The merged directives of one scope, as written: what is not set is
/// `Unset` or `None`, and the defaults of the behaviour contract are applied
/// here.
#[derive(Clone, Copy, Debug, Default)]
pub struct Settings<'a> {
    /// `PushRedirect` (default Off).
    pub push: Switch,
    /// `PushRedirectRequireTLS` (default On).
    pub require_tls: Switch,
    /// `PushRedirectWithCredentials` (default Off).
    pub with_credentials: Switch,
    /// `PushRedirectEarlyHints` (default Off).
    pub early_hints: Switch,
    /// `PushRedirectEarlyHintsAhead` (default Off; only with
    /// `PushRedirectEarlyHints`).
    pub ahead: Switch,
    /// `PushRedirectEarlyHintsFromHTML` (default On): a 200's HTML teaches
    /// its hints too.
    pub from_html: Switch,
    /// `PushRedirectEarlyHintsHTTP1` (default Off): a 103 goes out over
    /// HTTP/1.1 as well, for a proxy in front that relays it.
    pub early_hints_http1: Switch,
    /// `PushRedirectStatus` (default [`StatusSet::DEFAULT`]).
    pub statuses: Option<StatusSet>,
    pub excludes: Option<&'a ExcludeSet>,
    pub declared: Option<&'a DeclaredHints>,
    /// Some scope of this virtual host turns `PushRedirectEarlyHints` on
    /// (a 200 teaches the store only then, or where this scope does).
    pub server_sends_hints: bool,
}

/// What a response needs from the shim, known from the status alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Neither directive is on here: the filter is not wanted.
    Inactive,
    /// Not a response anything is decided for: strip the opt-out header.
    StripOnly,
    /// Take a snapshot and call [`respond`].
    Respond,
}

impl<'a> Settings<'a> {
    pub fn policy(&self) -> Policy<'a> {
        let default = Policy::default();
        Policy {
            statuses: self.statuses.unwrap_or(default.statuses),
            excludes: self.excludes,
            require_tls: self.require_tls.or(default.require_tls),
            with_credentials: self.with_credentials.or(default.with_credentials),
            early_hints_http1: self.early_hints_http1.or(default.early_hints_http1),
        }
    }

    pub fn push_on(&self) -> bool {
        self.push.or(false)
    }

    pub fn early_hints_on(&self) -> bool {
        self.early_hints.or(false)
    }

    /// Whether a 103 may go out before the handler ([`crate::ahead`]).
    pub fn ahead_on(&self) -> bool {
        self.early_hints_on() && self.ahead.or(false)
    }

    /// Whether a 200 teaches the store here: where a 103 can go out in its
    /// virtual host, since only a 103 carries what a page teaches (a push
    /// needs only what redirects teach).
    pub fn learns_pages(&self) -> bool {
        self.early_hints_on() || self.server_sends_hints
    }

    /// Whether a page that teaches here is read for the hints its HTML
    /// gives.
    pub fn learns_html(&self) -> bool {
        self.from_html.or(true)
    }

    /// The statuses [`Settings::step`] answers `Respond` for, as bits: bit
    /// `n` of word `n / 64` is status `200 + n`, for 200 to 455. Built from
    /// the status set's bits, as a scope's merge needs it for every request.
    pub fn respond_to(&self) -> [u64; 4] {
        let (push, early_hints) = (self.push_on(), self.early_hints_on());
        if !push && !early_hints {
            return [0; 4];
        }
        // Bit 0 of the set is 300: bit 100 here.
        let set = self.statuses.unwrap_or(StatusSet::DEFAULT).bits();
        [
            u64::from(self.learns_pages()),
            (set << 36) as u64,
            (set >> 28) as u64,
            (set >> 92) as u64,
        ]
    }

    /// For a response with `status`; `None` before the status is known.
    #[inline]
    pub fn step(&self, status: Option<i32>) -> Step {
        let (push, early_hints) = (self.push_on(), self.early_hints_on());
        if !push && !early_hints {
            return Step::Inactive;
        }
        let Some(status) = status else {
            return Step::Respond;
        };
        let redirect = self.statuses.unwrap_or(StatusSet::DEFAULT).contains(status);
        if redirect || (status == 200 && self.learns_pages()) {
            Step::Respond
        } else {
            Step::StripOnly
        }
    }
}

/// Everything the shim applies to one response.
#[derive(Debug)]
pub struct Response<'a> {
    /// The push decision; `None` where `PushRedirect` is not on.
    pub push: Option<Decision<'a>>,
    /// The `Link` values of the further hops of a pushed redirect's learned
    /// chain, to append after the push's own: at most `MAX_HOPS - 1`
    /// ([`MAX_HOPS`](crate::MAX_HOPS)), which the module has room for.
    pub further_links: Vec<String>,
    /// The 103 decision; `None` where `PushRedirectEarlyHints` is not on.
    pub early_hints: Option<EarlyHintsDecision>,
    /// What a 200 or a redirect taught, already written through the store
    /// ([`Provider::put`](crate::Provider::put)).
    pub learn: Option<Learn>,
    /// A 200 whose body is to be read before it teaches: fed its body, then
    /// finished ([`PageLearning`]).
    pub page: Option<Box<PageLearning>>,
}

/// The one decision for a response: rules 1-3 and the Location (6) once,
/// the target resolved once, the push-only rules (4, 5, 11) on the push
/// side only, and the 103 with its own tokens (`sent-ahead`, `not-http2`,
/// `http1.0`, `pushed-stream`, `not-navigation`, `no-hints`) first, as
/// [`crate::early_hints`] gives them. The learned chain from the target is
/// followed once, for the 103 (its final page's hints) and for a push (its
/// further hops); what the response teaches is written through the store
/// and reported in the answer.
pub fn respond<'a>(
    settings: &Settings<'_>,
    ex: &Exchange<'a>,
    mut store: Option<&mut Store<'_>>,
) -> Response<'a> {
    let policy = settings.policy();
    let (push_on, early_hints_on) = (settings.push_on(), settings.early_hints_on());
    if !policy.statuses.contains(ex.status) {
        let lesson = match ex.status {
            200 => store.and_then(|store| store.learn_page(ex, settings.learns_html())),
            _ => None,
        };
        let (learn, page) = match lesson {
            Some(Lesson::Learned(learn)) => (Some(learn), None),
            Some(Lesson::Reading(page)) => (None, Some(page)),
            None => (None, None),
        };
        return Response {
            push: push_on.then_some(Decision::NotRedirect),
            further_links: Vec::new(),
            early_hints: early_hints_on.then_some(EarlyHintsDecision::NotRedirect),
            learn,
            page,
        };
    }
    let shared = check_shared(&policy, ex);
    // Validated at most once, and only where the plain path does not take
    // it: what it takes is valid (visible ASCII). What is learned needs it
    // whatever rules 2 and 3 say.
    let one = one_location(ex.locations);
    let mut checked: Option<Result<&'a str, Reason>> = None;
    let mut resolved: Option<Resolved> = None;
    // Whether the plain path takes the request and its one Location,
    // checked once for the push, the 103's first hop and what is learned.
    let plain = one.ok().and_then(|bytes| PlainRedirect::of(ex, bytes));
    // Each part of the answer is its own variable until the end, where the
    // answer is built in the caller's place (a struct filled field by field
    // here would be copied there whole).
    let push = push_on.then(|| {
        let push = shared
            .and_then(|()| check_push_only(&policy, ex))
            .and(one)
            .and_then(|_| match plain_push(&policy, ex, plain) {
                Some(push) => push,
                // Declined by the plain path: not asked again.
                None => validated(one, &mut checked).and_then(|location| {
                    push_target(&policy, ex, location, Resolution::UrlParser, &mut resolved)
                }),
            });
        match push {
            Ok(push) => Decision::Push(push),
            Err(reason) => Decision::Skip(reason),
        }
    });
    let mut chain: Option<Chain> = None;
    let early_hints = early_hints_on.then(|| match check_client(&policy, ex) {
        Err(skip) => EarlyHintsDecision::Skip(skip),
        Ok(()) => {
            match shared
                .and_then(|()| first_hop(&policy, ex, plain, one, &mut checked, &mut resolved))
            {
                Ok((mut requested, target)) => {
                    let mut lookup = |t: &[u8]| store.as_deref_mut()?.looked_up(ex, t);
                    let followed = chain.insert(follow(&mut requested, &target, &mut lookup));
                    let mut may_fetch =
                        |t: &str| store.as_deref_mut().map_or(true, |s| s.may_fetch(ex, t));
                    decision(followed.early_hints(settings.declared, &policy, &mut may_fetch))
                }
                Err(reason) => EarlyHintsDecision::Skip(EarlyHintsSkip::Rule(reason)),
            }
        }
    });
    let mut further_links = Vec::new();
    if let Some(Decision::Push(push)) = &push {
        // Without a chain followed for the 103, a probe of the target's
        // record first (known without the store when this child saw it
        // lately): the URLs are parsed only for a learned redirect (a
        // tuple would resolve them whatever the probe says).
        let redirects = chain.is_some()
            || store
                .as_deref_mut()
                .is_some_and(|store| store.redirects(ex, push.path_and_query()));
        // A pushed Location is valid (rule 6 held for it).
        let first_hop = redirects.then(|| {
            resolved.get_or_insert_with(|| {
                validated(one, &mut checked)
                    .and_then(|location| resolve_target(&policy, ex, location))
            })
        });
        if let Some(Ok((requested, target))) = first_hop {
            let mut lookup = |t: &[u8]| store.as_deref_mut()?.looked_up(ex, t);
            let chain = chain.get_or_insert_with(|| {
                let mut requested = Requested::parsed(ex, requested.clone());
                follow(&mut requested, path_and_query(target), &mut lookup)
            });
            further_links = chain
                .further_links(&policy, requested, ex.links)
                .iter()
                .filter_map(|hop| hop.link_value())
                .collect();
        }
    }
    // A redirect teaches its same-origin target when rules 1 and 6 to 10
    // hold for it, whatever the push-only and the TLS rules say.
    let mut learn = None;
    if let Some(store) = store {
        if !is_opted_out(ex) {
            // A pushed redirect's Location is valid: its target is learned.
            let target = match &push {
                Some(Decision::Push(push)) => Some(Cow::Borrowed(push.target())),
                _ => match plain {
                    Some(plain) => plain.check(&policy).ok().map(Cow::Borrowed),
                    None => validated(one, &mut checked)
                        .ok()
                        .and_then(|location| learned_target(&policy, ex, location, &mut resolved)),
                },
            };
            learn = target.and_then(|target| store.learn_redirect(ex, &target));
        }
    }
    Response {
        push,
        further_links,
        early_hints,
        learn,
        page: None,
    }
}

/// The URL the client asked for and the path+query of the redirect's
/// target, for the 103: rules 6 to 10 by the plain path where it takes the
/// Location (its bytes need no validation as text, and no URL is parsed),
/// else by the URL parser, whose answer is kept in `resolved` for the push
/// side. `plain`: the plain path's reading of the redirect, if it takes it.
fn first_hop<'e, 'a: 'e>(
    policy: &Policy<'_>,
    ex: &'e Exchange<'a>,
    plain: Option<PlainRedirect<'a, 'a>>,
    one: Result<&'a [u8], Reason>,
    checked: &mut Option<Result<&'a str, Reason>>,
    resolved: &mut Option<Resolved>,
) -> Result<(Requested<'e>, Cow<'a, str>), Reason> {
    one?;
    if let Some(plain) = plain {
        let target = plain.check(policy)?;
        let requested = Requested::with(ex, Some(plain.request())).ok_or(Reason::BadLocation)?;
        return Ok((requested, Cow::Borrowed(target)));
    }
    let location = validated(one, checked)?;
    let (requested, target) = resolved
        .get_or_insert_with(|| resolve_target(policy, ex, location))
        .as_ref()
        .map_err(|reason| *reason)?;
    let requested = Requested::parsed(ex, requested.clone());
    Ok((requested, Cow::Owned(path_and_query(target).to_owned())))
}

/// The validated Location, checked at the first call.
fn validated<'a>(
    one: Result<&'a [u8], Reason>,
    checked: &mut Option<Result<&'a str, Reason>>,
) -> Result<&'a str, Reason> {
    *checked.get_or_insert_with(|| one.and_then(validate_location))
}

/// The same-origin path+query a redirect that is not pushed, and that the
/// plain path does not take, teaches when rules 7 to 10 hold for it, by
/// the URL parser.
fn learned_target<'t>(
    policy: &Policy<'_>,
    ex: &Exchange<'t>,
    location: &'t str,
    resolved: &mut Option<Resolved>,
) -> Option<Cow<'t, str>> {
    let (_, target) = resolved
        .get_or_insert_with(|| resolve_target(policy, ex, location))
        .as_ref()
        .ok()?;
    Some(Cow::Owned(path_and_query(target).to_owned()))
}

#[cfg(test)]
mod tests;
