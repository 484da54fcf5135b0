//! The rules of the behaviour contract (docs/behaviour.md, "The decision"),
//! in its order: the checks of the request, the Location, and the target.

use url::Url;

use crate::exchange::{Exchange, Policy, Reason, MAX_LOCATION_LEN};
use crate::link::uri_references;
use crate::origin::{is_linkable, path_and_query, requested_url, same_origin};

/// Which of the contract's rules [`check_target`] applies.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rules {
    /// All of them (up to rule 10): the client will take a pushed response.
    Push,
    /// All but `push-disabled` and `credentials`: the client fetches what
    /// it is told about itself, with its own cookies (Early Hints).
    ClientFetches,
}

/// Rules 1 to 10: returns the URL the client asked for and the redirect's
/// resolved target, or the first rule that failed.
pub(crate) fn check_target(
    policy: &Policy<'_>,
    ex: &Exchange<'_>,
    rules: Rules,
) -> Result<(Url, Url), Reason> {
    let location = check_request(policy, ex, rules)?;
    resolve_target(policy, ex, location)
}

/// Rules 1 to 6: returns the one usable Location.
pub(crate) fn check_request<'a>(
    policy: &Policy<'_>,
    ex: &Exchange<'a>,
    rules: Rules,
) -> Result<&'a str, Reason> {
    check_shared(policy, ex)?;
    if rules == Rules::Push {
        check_push_only(policy, ex)?;
    }
    single_location(ex.locations)
}

/// Rules 1 to 3, which hold for the push and the 103 alike.
pub(crate) fn check_shared(policy: &Policy<'_>, ex: &Exchange<'_>) -> Result<(), Reason> {
    if is_opted_out(ex) {
        return Err(Reason::OptOut);
    }
    if ex.method != b"GET" {
        return Err(Reason::Method);
    }
    // Apache says `https` in lower case: compared as it is first.
    if policy.require_tls && ex.scheme != b"https" && !ex.scheme.eq_ignore_ascii_case(b"https") {
        return Err(Reason::Insecure);
    }
    Ok(())
}

/// Rules 4 and 5: a pushed response is fetched by the server for the
/// client, without its cookies; a 103 is fetched by the client itself.
pub(crate) fn check_push_only(policy: &Policy<'_>, ex: &Exchange<'_>) -> Result<(), Reason> {
    if ex.http2 && (!ex.h2_push || ex.pushed_stream) {
        return Err(Reason::PushDisabled);
    }
    if !policy.with_credentials && (ex.has_cookie || ex.has_authorization) {
        return Err(Reason::Credentials);
    }
    Ok(())
}

/// Rules 7 to 10 with the URL parser: the Location resolved against the URL
/// the client asked for, as a client resolves it.
pub(crate) fn resolve_target(
    policy: &Policy<'_>,
    ex: &Exchange<'_>,
    location: &str,
) -> Result<(Url, Url), Reason> {
    let requested = requested_url(ex).ok_or(Reason::BadLocation)?;
    let target = resolve_against(&requested, location)?;
    policy.check_target_path(
        path_and_query(&target),
        path_and_query(&requested).as_bytes(),
    )?;
    Ok((requested, target))
}

/// Rules 7 and 8 for one Location (a backend's, or a learned redirect's
/// target) against the URL the client asked for.
pub(crate) fn resolve_against(requested: &Url, location: &str) -> Result<Url, Reason> {
    let target = requested.join(location).map_err(|_| Reason::BadLocation)?;
    if !same_origin(requested, &target) {
        return Err(Reason::CrossOrigin);
    }
    // Rule 7 as far as our own origin goes: the resolved target must be
    // something we can write as a path and Apache can serve.
    if !is_linkable(&target) {
        return Err(Reason::BadLocation);
    }
    Ok(target)
}

/// Rule 1: the opt-out variable or header.
pub(crate) fn is_opted_out(ex: &Exchange<'_>) -> bool {
    ex.opt_out_env || ex.opt_out_values.iter().any(|v| is_opt_out(v))
}

/// `off`, `0`, `false` or `no`, trimmed, in any case.
pub(crate) fn is_opt_out(value: &[u8]) -> bool {
    let value = value.trim_ascii();
    [&b"off"[..], b"0", b"false", b"no"]
        .iter()
        .any(|token| value.eq_ignore_ascii_case(token))
}

/// Rule 6: the one usable Location.
pub(crate) fn single_location<'a>(locations: &[&'a [u8]]) -> Result<&'a str, Reason> {
    validate_location(one_location(locations)?)
}

/// Rule 6 as far as counting goes: the bytes of the one Location field.
pub(crate) fn one_location<'a>(locations: &[&'a [u8]]) -> Result<&'a [u8], Reason> {
    match locations {
        [] => Err(Reason::NoLocation),
        [one] => Ok(one),
        _ => Err(Reason::BadLocation),
    }
}

/// Rule 6 for the one Location field's value.
pub(crate) fn validate_location(value: &[u8]) -> Result<&str, Reason> {
    // One pass for "empty" and "a valid HTTP field value": no control
    // character but HTAB (RFC 9110, section 5.5). Apache refuses to send a
    // response whose Location has one (AH02430: a 500 over HTTP/1.1, a reset
    // stream over HTTP/2); the URL parser would silently drop CR, LF and TAB
    // and link a target the client is never sent to (`/a\r\nX: 1` read as
    // `/aX:%201`).
    // Most Locations are visible ASCII only, which none of the checks below
    // can fail on: one pass without branches (so that the compiler can
    // vectorise it) says so.
    let visible = value
        .iter()
        .fold(true, |all, &b| all & (b.wrapping_sub(b'!') < 94));
    let mut blank = !visible;
    for &b in if visible { &[][..] } else { value } {
        if (b < 0x20 && b != b'\t') || b == 0x7f {
            // A control character: empty if all the rest is white space.
            return Err(if blank && value.trim_ascii().is_empty() {
                Reason::NoLocation
            } else {
                Reason::BadLocation
            });
        }
        blank &= b == b' ' || b == b'\t';
    }
    if blank || value.is_empty() {
        return Err(Reason::NoLocation);
    }
    if value.len() > MAX_LOCATION_LEN {
        return Err(Reason::BadLocation);
    }
    std::str::from_utf8(value).map_err(|_| Reason::BadLocation)
}

/// Whether any existing `Link` field already refers to the same-origin
/// `target_path` (a path+query), resolving each reference against the
/// requested URL as a client would.
pub(crate) fn links_to(links: &[&[u8]], requested: &Url, target_path: &str) -> bool {
    links.iter().any(|field| {
        uri_references(field).any(|reference| {
            let Ok(reference) = std::str::from_utf8(reference) else {
                return false;
            };
            requested.join(reference).is_ok_and(|linked| {
                same_origin(requested, &linked) && path_and_query(&linked) == target_path
            })
        })
    })
}
