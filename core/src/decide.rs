//! The decision: does this redirect get a `Link` preload, and if not, why not.

use crate::exchange::{Exchange, Policy, Reason};
use crate::link::link_value;
use crate::origin::path_and_query;
use crate::plain::plain_target;
use crate::rules::{check_request, check_target_path, links_to, resolve_target, Rules};

/// The target of a pushed redirect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Push {
    link: String,
    /// Where the target ends in `link` (it starts after the `<`).
    target_end: usize,
}

impl Push {
    /// The `Link` field value to append: `</path?query>; as=document; rel=preload`.
    pub fn link_value(&self) -> &str {
        &self.link
    }

    /// The pushed path+query (for `PUSH_REDIRECT`).
    pub fn path_and_query(&self) -> &str {
        &self.link[1..self.target_end]
    }
}

/// The outcome for one response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The status is not in `PushRedirectStatus`: leave the response alone.
    NotRedirect,
    /// Append this preload.
    Push(Push),
    /// A redirect that gets no preload, and the first rule it failed.
    Skip(Reason),
}

/// Applies the spec's rules, in the spec's order, to one response.
pub fn decide(policy: &Policy<'_>, exchange: &Exchange<'_>) -> Decision {
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
enum Resolution {
    /// [`plain_target`] where it applies, else the URL parser.
    PlainFirst,
    /// Always the URL parser (the reference the plain path is tested against).
    #[cfg(test)]
    UrlParser,
}

fn check_redirect(
    policy: &Policy<'_>,
    ex: &Exchange<'_>,
    resolution: Resolution,
) -> Result<Push, Reason> {
    let location = check_request(policy, ex, Rules::Push)?;
    if resolution == Resolution::PlainFirst && ex.links.is_empty() {
        if let Some((target_path, requested_path)) = plain_target(ex, location) {
            check_target_path(policy, target_path, requested_path)?;
            return Ok(push_to(target_path));
        }
    }
    let (requested, target) = resolve_target(policy, ex, location)?;
    if links_to(ex.links, &requested, &target) {
        return Err(Reason::AlreadyLinked);
    }
    Ok(push_to(path_and_query(&target)))
}

fn push_to(target_path: &str) -> Push {
    Push {
        link: link_value(target_path),
        target_end: 1 + target_path.len(),
    }
}

#[cfg(test)]
mod tests;
