//! Following what the server learned past a redirect: the chain of learned
//! same-origin redirects that starts at a redirect's target, the page it
//! ends on (whose hints go into the 103), and the further hops that a
//! pushed redirect links too (docs/behaviour.md, "When a 103 goes out" and
//! "Whole chains for push clients").
//!
//! A hop is one redirect: hop 1 goes from the URL the client asked for to
//! the first target (the backend's Location, or what the server learned for
//! that URL), hop 2 from there to the target learned for it, and so on, at
//! most [`MAX_HOPS`] in all. The chain ends on the first target whose
//! record is a page (a 200, with hints or without), on a target with no
//! record (one that does not parse counts as none: it is taken for the
//! page, with its declared hints only), or when it cannot go on:
//!
//! - a target seen before (the URL asked for, or an earlier hop's): a
//!   loop, no page;
//! - a 4th hop's target that is learned to redirect again: too long, no
//!   page;
//! - a learned target that does not resolve as a backend's Location would
//!   (rules 7 and 8): no page.
//!
//! Without a page, nothing is hinted from the chain. A pushed redirect
//! still links each further hop found before the chain stopped: each is a
//! URL the client will ask for next, whatever comes after it, and each is
//! checked against rules 9 to 11 on its own (rules 7 and 8 held when it
//! was resolved: a hop is kept as the path+query of a same-origin target).
//! A learned chain may have changed since; that costs at most a wasted
//! push or hint, since a client uses a pushed response only for the URL it
//! really asks for.
//!
//! Neither the URL the client asked for nor a learned target goes through
//! the URL parser where the plain path takes it ([`crate::plain`]): that
//! parser would keep both byte for byte.

use std::borrow::Cow;
use std::sync::Arc;

use url::Url;

use crate::declared::DeclaredHints;
use crate::exchange::{Policy, Reason};
use crate::hints::HintList;
use crate::hints::{EarlyHints, EarlyHintsSkip};
use crate::link::link_value;
use crate::origin::{page_path, path_and_query, Requested};
use crate::plain::is_plain_path;
use crate::record::{without_query, Record};
use crate::rules::{links_to, resolve_against};

/// The most hops of a chain, the first one included: as many `Link`
/// fields as a pushed redirect carries for it.
pub const MAX_HOPS: usize = 4;

/// Reads the shared store: the record of a path+query on the virtual host
/// that answers, already parsed ([`Record::parse`]); `None` for a miss, a
/// failing store or bytes that do not parse.
pub(crate) type Lookup<'l> = dyn FnMut(&[u8]) -> Option<Arc<Record>> + 'l;

/// What the server learned for `target` (a path+query): its own record,
/// else, for a URL with a query, its path's (the learning leaves out a
/// query URL's record when it would say what its path's says).
pub(crate) fn learned(target: &str, lookup: &mut Lookup<'_>) -> Option<Arc<Record>> {
    let target = target.as_bytes();
    lookup(target).or_else(|| lookup(without_query(target)?))
}

/// How a chain ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum End {
    /// The last hop's target is a page, with this learned record.
    Page(Arc<Record>),
    /// Nothing is learned for the last hop's target.
    Unknown,
    /// A target was seen before.
    Loop,
    /// The last hop's target redirects again, past [`MAX_HOPS`].
    TooLong,
    /// A learned target that does not resolve as a Location would.
    BadHop(Reason),
}

/// A chain of redirects as far as it is learned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Chain {
    /// The path+query of each hop's target, in order, each one once:
    /// `hops[0]` is the first, at most [`MAX_HOPS`]. Each resolved against
    /// the URL the client asked for to the same origin (rules 7 and 8), so
    /// a path stands for it.
    hops: Vec<String>,
    end: End,
}

/// Follows the chain whose first hop goes from `requested` to the
/// path+query `first` (a target that passed rules 1 to 10), through the
/// records `lookup` finds. At most 2 lookups per hop.
pub(crate) fn follow(requested: &mut Requested<'_>, first: &str, lookup: &mut Lookup<'_>) -> Chain {
    let mut hops: Vec<String> = Vec::with_capacity(MAX_HOPS);
    let mut next = first.to_owned();
    let end = loop {
        if next == requested.path_and_query() || hops.contains(&next) {
            break End::Loop;
        }
        if hops.len() == MAX_HOPS {
            break End::TooLong;
        }
        let record = learned(&next, lookup);
        hops.push(next);
        let Some(record) = record else {
            break End::Unknown;
        };
        let Some(location) = record.redirect_target() else {
            break End::Page(record);
        };
        match resolve_learned(requested, location) {
            Ok(target) => next = target.into_owned(),
            Err(reason) => break End::BadHop(reason),
        }
    };
    Chain { hops, end }
}

/// Rules 7 and 8 for a learned redirect's target, read again as the
/// backend's Location it stands for, against the URL the client asked
/// for: its path+query. The record parser checked it already
/// ([`Record::redirect`]); what the plain path takes resolves to itself
/// (a path-absolute reference keeps no part of the base's path), the rest
/// goes through the URL parser.
pub(crate) fn resolve_learned<'t>(
    requested: &mut Requested<'_>,
    location: &'t str,
) -> Result<Cow<'t, str>, Reason> {
    if is_plain_path(location.as_bytes()) {
        return Ok(Cow::Borrowed(location));
    }
    let url = requested.url().ok_or(Reason::BadLocation)?;
    let target = resolve_against(url, location)?;
    Ok(Cow::Owned(path_and_query(&target).to_owned()))
}

/// The 103 for the page at `path` (no query): the scope's declared hints
/// for it first, then those of its learned record, without duplicates and
/// within one 103's bounds; `no-hints` when there are none. Without
/// declared hints, the record's own `Link` value, joined when it was made.
pub(crate) fn page_early_hints(
    declared: Option<&DeclaredHints>,
    path: &str,
    learned: Option<&Record>,
) -> Result<EarlyHints, EarlyHintsSkip> {
    let mut declared = declared
        .into_iter()
        .flat_map(|d| d.for_path(path))
        .peekable();
    let learned_hints = learned.and_then(Record::hints).unwrap_or_default();
    if declared.peek().is_none() {
        let link = learned.and_then(Record::link_value).unwrap_or_default();
        return EarlyHints::from_link(link, learned_hints.len(), path)
            .ok_or(EarlyHintsSkip::NoHints);
    }
    let mut hints = HintList::default();
    for hint in declared {
        hints.push(hint.clone());
    }
    let declared = hints.hints.len();
    for hint in learned_hints {
        hints.push(hint.clone());
    }
    EarlyHints::from_hints(&hints, declared, path).ok_or(EarlyHintsSkip::NoHints)
}

/// One further hop of a pushed redirect: its target and whether it gets a
/// `Link`, or the first of rules 9 to 11 it fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HopLink {
    pub(crate) target: String,
    pub(crate) linked: Result<(), Reason>,
}

impl HopLink {
    /// The `Link` field value to append, as for the first hop.
    pub(crate) fn link_value(&self) -> Option<String> {
        self.linked.is_ok().then(|| link_value(&self.target))
    }
}

impl Chain {
    pub(crate) fn hops(&self) -> &[String] {
        &self.hops
    }

    pub(crate) fn end(&self) -> &End {
        &self.end
    }

    /// The path+query of the page the chain ends on and its learned record
    /// (`None`: a target without a record); `None` when it ends on no
    /// page.
    pub(crate) fn final_page(&self) -> Option<(&str, Option<&Record>)> {
        let last = self.hops.last()?;
        match &self.end {
            End::Page(record) => Some((last, Some(record))),
            End::Unknown => Some((last, None)),
            End::Loop | End::TooLong | End::BadHop(_) => None,
        }
    }

    /// The 103 before the chain's first redirect: the final page's hints,
    /// declared ones included; its learned hints only when `may_fetch`
    /// says this visitor could fetch that page (Apache's access control: a
    /// page behind `Require` never hints its scripts to an outsider; the
    /// declared ones are the administrator's, sent as configured). No
    /// page: `no-hints` (`bad-location` for a
    /// hop that did not resolve). A hop that `PushRedirectExclude`
    /// matches ends it too (`excluded`), as a redirect to it gets no 103:
    /// its pattern says nothing is hinted through it.
    pub(crate) fn early_hints(
        &self,
        declared: Option<&DeclaredHints>,
        policy: &Policy<'_>,
        may_fetch: &mut dyn FnMut(&str) -> bool,
    ) -> Result<EarlyHints, EarlyHintsSkip> {
        let excluded = |hop: &String| policy.excludes.is_some_and(|s| s.is_match(hop));
        if self.hops.iter().any(excluded) {
            return Err(EarlyHintsSkip::Rule(Reason::Excluded));
        }
        if let End::BadHop(reason) = self.end {
            return Err(EarlyHintsSkip::Rule(reason));
        }
        let (page, mut learned) = self.final_page().ok_or(EarlyHintsSkip::NoHints)?;
        if learned.is_some_and(|record| record.hints().is_some_and(|h| !h.is_empty()))
            && !may_fetch(page)
        {
            learned = None;
        }
        page_early_hints(declared, page_path(page), learned)
    }

    /// The further hops (after the first, whose `Link` the push decision
    /// makes) of a pushed redirect from `requested` whose response carries
    /// the `Link` fields `links`.
    pub(crate) fn further_links(
        &self,
        policy: &Policy<'_>,
        requested: &Url,
        links: &[&[u8]],
    ) -> Vec<HopLink> {
        further_links(policy, requested, links, &self.hops)
    }
}

/// Rules 9 to 11 for each hop after the first of `hops` (each the same
/// origin as `requested`, rules 7 and 8, as [`follow`] resolves it), on
/// its own: not `requested` nor an earlier hop (`self`), not excluded, not
/// linked already by the response.
pub(crate) fn further_links(
    policy: &Policy<'_>,
    requested: &Url,
    links: &[&[u8]],
    hops: &[String],
) -> Vec<HopLink> {
    hops.iter()
        .enumerate()
        .skip(1)
        .take(MAX_HOPS - 1)
        .map(|(i, hop)| {
            let linked = if hops[..i].contains(hop) {
                Err(Reason::SelfRedirect)
            } else if let Err(reason) =
                policy.check_target_path(hop, path_and_query(requested).as_bytes())
            {
                Err(reason)
            } else if links_to(links, requested, hop) {
                Err(Reason::AlreadyLinked)
            } else {
                Ok(())
            };
            HopLink {
                target: hop.clone(),
                linked,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
