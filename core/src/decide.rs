//! The decision: does this redirect get a `Link` preload, and if not, why not.

use std::borrow::Cow;

use url::Url;

use crate::exchange::{Exchange, Policy, Reason};
use crate::link::{link_value, link_value_len, write_link_value};
use crate::origin::path_and_query;
use crate::plain::PlainRedirect;
use crate::rules::{check_request, links_to, resolve_target, Rules};

/// The target of a pushed redirect: borrowed from the Location when the
/// plain path found it, else the URL parser's serialisation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Push<'a> {
    target: Cow<'a, str>,
}

impl Push<'_> {
    /// The pushed target's path+query.
    pub(crate) fn target(&self) -> &str {
        &self.target
    }

    /// The `Link` field value to append: `</path?query>; as=document; rel=preload`.
    pub fn link_value(&self) -> String {
        link_value(&self.target)
    }

    /// The length of [`Push::link_value`], for [`Push::write_link_value`].
    pub fn link_value_len(&self) -> usize {
        link_value_len(&self.target)
    }

    /// Writes [`Push::link_value`] into `out`, which is
    /// [`Push::link_value_len`] bytes long: the shim's request pool, so the
    /// value is built where it will live.
    pub fn write_link_value(&self, out: &mut [u8]) {
        write_link_value(&self.target, out)
    }

    /// The pushed path+query (for `PUSH_REDIRECT`).
    pub fn path_and_query(&self) -> &str {
        &self.target
    }
}

/// The outcome for one response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision<'a> {
    /// The status is not in `PushRedirectStatus`: leave the response alone.
    NotRedirect,
    /// Append this preload.
    Push(Push<'a>),
    /// A redirect that gets no preload, and the first rule it failed.
    Skip(Reason),
}

impl Decision<'_> {
    /// The same decision, owning its target.
    pub fn into_owned(self) -> Decision<'static> {
        match self {
            Decision::NotRedirect => Decision::NotRedirect,
            Decision::Skip(reason) => Decision::Skip(reason),
            Decision::Push(push) => Decision::Push(Push {
                target: Cow::Owned(push.target.into_owned()),
            }),
        }
    }
}

/// Applies the contract's rules, in its order, to one response.
pub fn decide<'a>(policy: &Policy<'_>, exchange: &Exchange<'a>) -> Decision<'a> {
    if !policy.statuses.contains(exchange.status) {
        return Decision::NotRedirect;
    }
    match check_redirect(policy, exchange, Resolution::PlainFirst) {
        Ok(push) => Decision::Push(push),
        Err(reason) => Decision::Skip(reason),
    }
}

/// How rules 7 to 10 find the target.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resolution {
    /// [`PlainRedirect`] where it applies, else the URL parser.
    PlainFirst,
    /// Always the URL parser: for a Location the plain path has declined
    /// already, and as the reference the plain path is tested against.
    UrlParser,
}

fn check_redirect<'a>(
    policy: &Policy<'_>,
    ex: &Exchange<'a>,
    resolution: Resolution,
) -> Result<Push<'a>, Reason> {
    let location = check_request(policy, ex, Rules::Push)?;
    let mut resolved = None;
    push_target(policy, ex, location, resolution, &mut resolved)
}

/// Rules 7 to 11 for the push, from the one usable Location; the URL
/// parser's resolution, when it is needed, is left in `resolved` for the
/// 103 to use too.
pub(crate) fn push_target<'a>(
    policy: &Policy<'_>,
    ex: &Exchange<'a>,
    location: &'a str,
    resolution: Resolution,
    resolved: &mut Option<Resolved>,
) -> Result<Push<'a>, Reason> {
    if resolution == Resolution::PlainFirst {
        if let Some(push) = plain_push(policy, ex, PlainRedirect::of(ex, location.as_bytes())) {
            return push;
        }
    }
    let (requested, target) = resolved
        .get_or_insert_with(|| resolve_target(policy, ex, location))
        .as_ref()
        .map_err(|reason| *reason)?;
    if links_to(ex.links, requested, path_and_query(target)) {
        return Err(Reason::AlreadyLinked);
    }
    Ok(Push {
        target: Cow::Owned(path_and_query(target).to_owned()),
    })
}

/// Rules 7 to 10 by the plain path, for a redirect it takes (`None`: the
/// URL parser must decide, as it must when the response has `Link` fields
/// already, which rule 11 resolves).
pub(crate) fn plain_push<'a>(
    policy: &Policy<'_>,
    ex: &Exchange<'_>,
    plain: Option<PlainRedirect<'a, '_>>,
) -> Option<Result<Push<'a>, Reason>> {
    if !ex.links.is_empty() {
        return None;
    }
    Some(plain?.check(policy).map(|target| Push {
        target: Cow::Borrowed(target),
    }))
}

/// The URL parser's answer to rules 7 to 10: the requested URL and the
/// target, or the rule that failed.
pub(crate) type Resolved = Result<(Url, Url), Reason>;

#[cfg(test)]
mod tests;
