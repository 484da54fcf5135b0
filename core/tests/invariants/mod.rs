//! The properties every decision must have, whatever the input: checked by
//! the property tests (`core/tests/properties.rs`,
//! `core/tests/respond_properties.rs`) and by the fuzz targets
//! (`fuzz/fuzz_targets/decide.rs` and `respond.rs`, which include this file
//! by path), so all hold the core to the same contract. [`respond`] holds
//! the module's entry point to it, with [`store`]'s model of the shared
//! cache.
//!
//! The checks are written against the behaviour contract (docs/behaviour.md), not against the core's code:
//! the requested URL is rebuilt here from the exchange, and the Link target
//! is resolved against it with the `url` crate as a client would.

// Each test binary and fuzz target that includes this file uses its own part.
#![allow(dead_code)]

pub mod respond;
pub mod store;

use push_redirect_core::{decide, Decision, Exchange, Policy, Reason};
use url::Url;

/// The skip tokens of the contract's decision table (`internal-error` is only
/// for a caught panic at the FFI boundary, never from `decide`).
pub const SPEC_SKIP_TOKENS: [&str; 11] = [
    "opt-out",
    "method",
    "insecure",
    "push-disabled",
    "credentials",
    "no-location",
    "bad-location",
    "cross-origin",
    "self",
    "excluded",
    "already-linked",
];

/// Decides once and checks every property; panics (with the input shown by
/// the caller's harness) when one fails. Returns the decision.
pub fn decide_and_check<'a>(policy: &Policy<'_>, exchange: &Exchange<'a>) -> Decision<'a> {
    let decision = decide(policy, exchange);
    assert_eq!(
        decide(policy, exchange),
        decision,
        "decide is not deterministic"
    );
    check_decision(policy, exchange, &decision);
    decision
}

/// Checks every property of one push decision, whoever made it.
pub fn check_decision(policy: &Policy<'_>, exchange: &Exchange<'_>, decision: &Decision<'_>) {
    let is_redirect = policy.statuses.contains(exchange.status);
    match decision {
        Decision::NotRedirect => assert!(!is_redirect, "a configured status was not decided"),
        Decision::Skip(reason) => {
            assert!(is_redirect, "a non-redirect was skipped: {reason:?}");
            assert_ne!(*reason, Reason::InternalError);
            assert!(
                SPEC_SKIP_TOKENS.contains(&reason.as_str()),
                "{:?} is not a contract token",
                reason.as_str()
            );
        }
        Decision::Push(push) => {
            assert!(is_redirect, "a non-redirect was pushed");
            check_push(policy, exchange, &push.link_value(), push.path_and_query());
            check_relinking_is_already_linked(policy, exchange, &push.link_value());
        }
    }
}

pub fn check_push(policy: &Policy<'_>, ex: &Exchange<'_>, link_value: &str, target: &str) {
    // The Link value: visible ASCII only, and nothing that could end the
    // reference, open another one, or quote.
    assert_eq!(
        link_value,
        format!("<{target}>; as=document; rel=preload"),
        "Link value is not the contract's shape"
    );
    assert!(
        target
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b'"')),
        "unsafe byte in pushed target {target:?}"
    );
    assert!(
        target.starts_with('/') && !target.starts_with("//"),
        "target {target:?} is not a path-absolute reference"
    );
    assert!(!target.contains('#'), "fragment kept in {target:?}");

    // Rules 1-5 and 10 held.
    assert!(!ex.opt_out_env, "pushed despite no-push-redirect");
    assert_eq!(ex.method, b"GET", "pushed a non-GET");
    if policy.require_tls {
        assert!(ex.scheme.eq_ignore_ascii_case(b"https"), "pushed over http");
    }
    if ex.http2 {
        assert!(ex.h2_push && !ex.pushed_stream, "pushed where push is off");
    }
    if !policy.with_credentials {
        assert!(
            !ex.has_cookie && !ex.has_authorization,
            "pushed with credentials"
        );
    }
    assert_eq!(ex.locations.len(), 1, "pushed without exactly one Location");
    assert!(
        ex.locations[0].len() <= 8192,
        "pushed an over-long Location"
    );
    if let Some(excludes) = policy.excludes {
        assert!(!excludes.is_match(target), "pushed an excluded target");
    }

    // Same origin: the Link, read by a client against the URL it asked for,
    // points at that URL's scheme, host and port, with no userinfo.
    let requested = requested_url(ex).expect("pushed, but the requested URL does not parse");
    let linked = requested
        .join(target)
        .expect("the pushed target does not resolve");
    assert_eq!(linked.scheme(), requested.scheme(), "scheme changed");
    assert_eq!(linked.host(), requested.host(), "host changed");
    assert_eq!(
        linked.port_or_known_default(),
        requested.port_or_known_default(),
        "port changed"
    );
    assert!(linked.username().is_empty() && linked.password().is_none());
    let requested_path = &requested[url::Position::BeforePath..url::Position::AfterQuery];
    assert_ne!(target, requested_path, "pushed the requested URL itself");
}

/// A response that already carries our Link is `already-linked`: the module
/// never adds a second preload for the same target.
fn check_relinking_is_already_linked(policy: &Policy<'_>, ex: &Exchange<'_>, link_value: &str) {
    let mut links: Vec<&[u8]> = ex.links.to_vec();
    links.push(link_value.as_bytes());
    let again = Exchange {
        links: &links,
        ..*ex
    };
    assert_eq!(
        decide(policy, &again),
        Decision::Skip(Reason::AlreadyLinked),
        "our own Link was not recognised"
    );
}

/// The URL the client asked for, built from the contract's words: scheme,
/// `Host` (or server name and port), origin-form request target.
pub fn requested_url(ex: &Exchange<'_>) -> Option<Url> {
    let scheme = std::str::from_utf8(ex.scheme).ok()?.to_ascii_lowercase();
    let target = std::str::from_utf8(ex.request_target).ok()?;
    let authority = match ex.host.filter(|h| !h.is_empty()) {
        Some(host) => std::str::from_utf8(host).ok()?.to_owned(),
        None => format!(
            "{}:{}",
            std::str::from_utf8(ex.server_name).ok()?,
            ex.server_port
        ),
    };
    Url::parse(&format!("{scheme}://{authority}{target}")).ok()
}
