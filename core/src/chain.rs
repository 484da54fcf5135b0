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
//! checked against rules 8 to 11 on its own. A learned chain may have
//! changed since; that costs at most a wasted push or hint, since a client
//! uses a pushed response only for the URL it really asks for.

use std::sync::Arc;

use url::Url;

use crate::declared::DeclaredHints;
use crate::early_hints::{EarlyHints, EarlyHintsSkip};
use crate::exchange::{Policy, Reason};
use crate::hints::{Hint, HintList};
use crate::link::link_value;
use crate::origin::{path_and_query, same_origin};
use crate::record::{without_query, Record};
use crate::rules::{check_target_path, links_to, resolve_against};

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
    /// The last hop's target is a page with these learned hints.
    Page(Vec<Hint>),
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
    /// The target of each hop, in order, each one once: `hops[0]` is the
    /// first, at most [`MAX_HOPS`].
    hops: Vec<Url>,
    end: End,
}

/// Follows the chain whose first hop goes from `requested` to `first` (a
/// target that passed rules 1 to 10), through the records `lookup` finds.
/// At most 2 lookups per hop.
pub(crate) fn follow(requested: &Url, first: Url, lookup: &mut Lookup<'_>) -> Chain {
    let mut hops: Vec<Url> = Vec::with_capacity(MAX_HOPS);
    let mut next = first;
    let end = loop {
        let target = path_and_query(&next);
        if target == path_and_query(requested) || hops.iter().any(|h| path_and_query(h) == target) {
            break End::Loop;
        }
        if hops.len() == MAX_HOPS {
            break End::TooLong;
        }
        let record = learned(target, lookup);
        hops.push(next);
        let Some(record) = record else {
            break End::Unknown;
        };
        if let Some(hints) = record.hints() {
            break End::Page(hints.to_vec());
        }
        let location = record
            .redirect_target()
            .expect("a record is a page or a redirect");
        // The record parser checked the target; read it again as the
        // backend's Location it stands for.
        match resolve_against(requested, location) {
            Ok(url) => next = url,
            Err(reason) => break End::BadHop(reason),
        }
    };
    Chain { hops, end }
}

/// The hints of the page at `page`: the scope's declared ones for its path
/// (the query left out) first, then `learned`, without duplicates and
/// within one 103's bounds.
pub(crate) fn page_hints(
    declared: Option<&DeclaredHints>,
    page: &Url,
    learned: &[Hint],
) -> HintList {
    let mut hints = HintList::default();
    for hint in declared.into_iter().flat_map(|d| d.for_path(page.path())) {
        hints.push(hint.clone());
    }
    for hint in learned {
        hints.push(hint.clone());
    }
    hints
}

/// One further hop of a pushed redirect: its target and whether it gets a
/// `Link`, or the first of rules 8 to 11 it fails.
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
    #[cfg(test)]
    pub(crate) fn hops(&self) -> &[Url] {
        &self.hops
    }

    #[cfg(test)]
    pub(crate) fn end(&self) -> &End {
        &self.end
    }

    /// The page the chain ends on and its learned hints (none learned: a
    /// target without a record); `None` when it ends on no page.
    pub(crate) fn final_page(&self) -> Option<(&Url, &[Hint])> {
        let last = self.hops.last()?;
        match &self.end {
            End::Page(hints) => Some((last, hints)),
            End::Unknown => Some((last, &[])),
            End::Loop | End::TooLong | End::BadHop(_) => None,
        }
    }

    /// The 103 before the chain's first redirect: the final page's hints,
    /// declared ones included. No page: `no-hints` (`bad-location` for a
    /// hop that did not resolve). A hop that `PushRedirectExclude`
    /// matches ends it too (`excluded`), as a redirect to it gets no 103:
    /// its pattern says nothing is hinted through it.
    pub(crate) fn early_hints(
        &self,
        declared: Option<&DeclaredHints>,
        policy: &Policy<'_>,
    ) -> Result<EarlyHints, EarlyHintsSkip> {
        let excluded = |hop: &Url| {
            policy
                .excludes
                .is_some_and(|s| s.is_match(path_and_query(hop)))
        };
        if self.hops.iter().any(excluded) {
            return Err(EarlyHintsSkip::Rule(Reason::Excluded));
        }
        if let End::BadHop(reason) = self.end {
            return Err(EarlyHintsSkip::Rule(reason));
        }
        let (page, learned) = self.final_page().ok_or(EarlyHintsSkip::NoHints)?;
        EarlyHints::from_hints(&page_hints(declared, page, learned), page.path())
            .ok_or(EarlyHintsSkip::NoHints)
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

/// Rules 8 to 11 for each hop after the first of `hops`, on its own: the
/// same origin as `requested` (a learned target is a path, so this holds;
/// checked as for any Location), not `requested` nor an earlier hop
/// (`self`), not excluded, not linked already by the response.
pub(crate) fn further_links(
    policy: &Policy<'_>,
    requested: &Url,
    links: &[&[u8]],
    hops: &[Url],
) -> Vec<HopLink> {
    hops.iter()
        .enumerate()
        .skip(1)
        .take(MAX_HOPS - 1)
        .map(|(i, hop)| {
            let target = path_and_query(hop);
            let linked = if !same_origin(requested, hop) {
                Err(Reason::CrossOrigin)
            } else if hops[..i].iter().any(|h| path_and_query(h) == target) {
                Err(Reason::SelfRedirect)
            } else if let Err(reason) =
                check_target_path(policy, target, path_and_query(requested).as_bytes())
            {
                Err(reason)
            } else if links_to(links, requested, hop) {
                Err(Reason::AlreadyLinked)
            } else {
                Ok(())
            };
            HopLink {
                target: target.to_owned(),
                linked,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
