//! Decision cost: ns per call of `decide` for four cases: a non-redirect, a
//! same-origin relative and absolute Location, a cross-origin one.
//!
//! std only: each case runs in batches of many calls, timed with `Instant`,
//! and the per-call time of each batch is recorded; the median batch is the
//! figure, min and max its spread. Inputs and results go through
//! `black_box` so the optimiser cannot hoist the call out of the loop.
//!
//! Output: one tab-separated line per case, for bench/run.py:
//!     decide <case> <median ns> <min ns> <max ns> <batches> <calls per batch>
//! BENCH_SMOKE=1 runs a few short batches (it checks that the bench works).

use std::hint::black_box;

use push_redirect_core::{decide, Decision, Exchange, Policy, Reason};

mod timing;

struct Case {
    name: &'static str,
    status: i32,
    location: &'static [u8],
    expected: fn(&Decision) -> bool,
    /// Calls per batch: enough for a batch to last a few milliseconds.
    calls: u32,
}

const CASES: [Case; 4] = [
    Case {
        name: "non-redirect (200)",
        status: 200,
        location: b"",
        expected: |d| *d == Decision::NotRedirect,
        calls: 2_000_000,
    },
    Case {
        name: "same-origin relative Location",
        status: 302,
        location: b"/accounts/login/?next=/dashboard/",
        expected: |d| matches!(d, Decision::Push(_)),
        calls: 20_000,
    },
    Case {
        name: "same-origin absolute Location",
        status: 302,
        location: b"https://www.example.com/accounts/login/?next=/dashboard/",
        expected: |d| matches!(d, Decision::Push(_)),
        calls: 20_000,
    },
    Case {
        name: "cross-origin Location (rejected)",
        status: 302,
        location: b"https://login.example.net/authorize?client=www",
        expected: |d| *d == Decision::Skip(Reason::CrossOrigin),
        calls: 20_000,
    },
];

fn main() {
    let smoke = std::env::var_os("BENCH_SMOKE").is_some_and(|v| v == "1");
    let (batches, scale) = if smoke { (3, 100) } else { (31, 1) };
    let policy = Policy::default();
    for case in &CASES {
        let locations: [&[u8]; 1] = [case.location];
        let exchange = Exchange {
            status: case.status,
            method: b"GET",
            scheme: b"https",
            host: Some(b"www.example.com"),
            request_target: b"/dashboard/",
            http2: true,
            h2_push: true,
            locations: if case.location.is_empty() {
                &[]
            } else {
                &locations
            },
            ..Exchange::default()
        };
        let decision = decide(&policy, &exchange);
        assert!(
            (case.expected)(&decision),
            "{}: unexpected {decision:?}",
            case.name
        );
        let calls = (case.calls / scale).max(1);
        let per_call = timing::per_call_ns(batches, calls, || {
            black_box(decide(black_box(&policy), black_box(&exchange)));
        });
        let median = per_call[per_call.len() / 2];
        println!(
            "decide\t{}\t{median:.2}\t{:.2}\t{:.2}\t{}\t{calls}",
            case.name,
            per_call[0],
            per_call[per_call.len() - 1],
            per_call.len(),
        );
    }
}
