//! ReDoS-style `PushRedirectExclude` patterns against huge targets: the
//! `regex` crate matches in time linear in the input, so a pattern that
//! makes a backtracking engine take exponential time costs microseconds.
//!
//! `cargo test --release -p push_redirect_core --test redos -- --ignored --nocapture`
//! (run by `make stress`) prints the timings and holds them under a
//! millisecond; the quick variant runs in `cargo test` (debug build) with a
//! bound that still catches any super-linear behaviour.

use std::time::{Duration, Instant};

use push_redirect_core::{decide, Decision, Exchange, ExcludeSet, Policy, Reason};

/// Classic catastrophic-backtracking shapes, each with a subject that makes a
/// backtracking engine fail slowly (a long run of `a` and no match at the end).
const PATTERNS: &[&str] = &[
    "^(a+)+$",
    "^(a|aa)+$",
    "^(a|a?)+$",
    "^(.*a){12}$",
    "(a*)*b",
    "^(\\w+\\s?)*$",
    "(?i)^([a-z0-9]+([-.][a-z0-9]+)*)+@",
];

fn subject(len: usize) -> String {
    let mut s = String::with_capacity(len);
    s.push('/');
    while s.len() < len - 1 {
        s.push('a');
    }
    s.push('!');
    s
}

/// The median and slowest of `runs` matches of each pattern (compiled alone)
/// against a subject of `len` bytes.
fn match_times(len: usize, runs: usize) -> Vec<(&'static str, Duration, Duration)> {
    let text = subject(len);
    PATTERNS
        .iter()
        .map(|pattern| {
            let mut set = ExcludeSet::new();
            set.add(pattern).unwrap();
            let mut times: Vec<Duration> = (0..runs)
                .map(|_| {
                    let start = Instant::now();
                    let matched = set.is_match(std::hint::black_box(&text));
                    let took = start.elapsed();
                    assert!(!matched, "{pattern} matched {len} bytes of 'a' and '!'");
                    took
                })
                .collect();
            times.sort();
            (*pattern, times[runs / 2], times[runs - 1])
        })
        .collect()
}

#[test]
#[ignore = "timing; run in release by make stress"]
fn redos_patterns_against_64_kb_stay_under_a_millisecond() {
    for (pattern, median, slowest) in match_times(64 * 1024, 1000) {
        println!(
            "{pattern:45} 64 KB subject, 1000 matches: median {median:?}, slowest {slowest:?}"
        );
        // The median: the slowest includes the lazy DFA filling its cache on
        // first use and whatever else the shared machine was doing.
        assert!(median < Duration::from_millis(1), "{pattern}: {median:?}");
    }
}

#[test]
fn redos_patterns_are_linear_even_in_a_debug_build() {
    // Debug builds are some 20x slower; exponential backtracking on 64 KB
    // would take longer than the age of the universe, so 100 ms is a bound
    // with room for a busy machine that still tells linear from not.
    for (pattern, median, _) in match_times(64 * 1024, 3) {
        assert!(median < Duration::from_millis(100), "{pattern}: {median:?}");
    }
}

#[test]
fn a_redos_exclude_set_decides_an_8_kb_location_quickly() {
    let mut excludes = ExcludeSet::new();
    for pattern in PATTERNS {
        excludes.add(pattern).unwrap();
    }
    let policy = Policy {
        excludes: Some(&excludes),
        ..Policy::default()
    };
    let location = subject(8192);
    let locations = [location.as_bytes()];
    let exchange = Exchange {
        status: 302,
        method: b"GET",
        scheme: b"https",
        host: Some(b"example.com"),
        request_target: b"/old",
        locations: &locations,
        ..Exchange::default()
    };
    let start = Instant::now();
    let decision = decide(&policy, &exchange);
    let took = start.elapsed();
    assert!(matches!(decision, Decision::Push(_)), "{decision:?}");
    assert!(took < Duration::from_millis(100), "{took:?}");
    // And a pattern that does match is found as quickly.
    excludes.add("a!$").unwrap();
    let policy = Policy {
        excludes: Some(&excludes),
        ..Policy::default()
    };
    assert_eq!(decide(&policy, &exchange), Decision::Skip(Reason::Excluded));
}
