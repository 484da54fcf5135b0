//! Fuzzes `decide` with arbitrary status, method, scheme, Host, server name
//! and port, request target, Location bytes, existing Link values, opt-out
//! values and configuration (status set, exclude patterns, flags), and checks
//! the invariants of core/tests/invariants/mod.rs on every input (shared
//! with the property tests): no panic, a Link value of visible ASCII without
//! `<`, `>`, `"` that resolves to the request's origin, the skip tokens of
//! docs/behaviour.md.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use push_redirect_core::{Exchange, Policy};

mod common;
#[path = "../../core/tests/invariants/mod.rs"]
mod invariants;

use common::{exclude_set, status_set, Text};

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    status: u8,
    odd_status: Option<i32>,
    method: Text<'a>,
    scheme: Text<'a>,
    host: Option<Text<'a>>,
    server_name: Text<'a>,
    server_port: u16,
    request_target: Text<'a>,
    http2: bool,
    h2_push: bool,
    pushed_stream: bool,
    has_cookie: bool,
    has_authorization: bool,
    opt_out_env: bool,
    opt_out_values: Vec<&'a [u8]>,
    locations: Vec<&'a [u8]>,
    links: Vec<&'a [u8]>,
    statuses: Option<Vec<u8>>,
    exclude_mask: u8,
    require_tls: bool,
    with_credentials: bool,
    early_hints_http1: bool,
}

fuzz_target!(|input: Input<'_>| {
    let policy = Policy {
        statuses: status_set(input.statuses.as_deref()).unwrap_or_default(),
        excludes: exclude_set(input.exclude_mask),
        require_tls: input.require_tls,
        with_credentials: input.with_credentials,
        early_hints_http1: input.early_hints_http1,
    };
    let exchange = Exchange {
        status: input
            .odd_status
            .unwrap_or(300 + i32::from(input.status % 10)),
        method: input.method.pick(b"GET", b"HEAD"),
        scheme: input.scheme.pick(b"https", b"http"),
        host: input
            .host
            .as_ref()
            .map(|h| h.pick(b"example.com", b"example.com:8443")),
        server_name: input.server_name.pick(b"example.com", b"localhost"),
        server_port: input.server_port,
        request_target: input.request_target.pick(b"/old", b"/dir/old?x=1"),
        http2: input.http2,
        h2_push: input.h2_push,
        pushed_stream: input.pushed_stream,
        has_cookie: input.has_cookie,
        has_authorization: input.has_authorization,
        opt_out_env: input.opt_out_env,
        opt_out_values: &input.opt_out_values,
        locations: &input.locations,
        links: &input.links,
        ..Exchange::default()
    };
    invariants::decide_and_check(&policy, &exchange);
});
