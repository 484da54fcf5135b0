//! Property tests: the invariants of `invariants/mod.rs` (no panic; a Link
//! value of visible ASCII without `<`, `>`, `"` that resolves to the
//! request's origin; skip reasons from the contract) over generated requests,
//! Locations built from hostile fragments, existing Link fields and
//! configurations. Also the directive parsers.

mod invariants;

use invariants::{decide_and_check, SPEC_SKIP_TOKENS};
use proptest::prelude::*;
use push_redirect_core::{parse_flag, Decision, Exchange, ExcludeSet, Policy, StatusSet};

/// Pieces a hostile Location is made of: separators URL parsers disagree
/// on, schemes, authorities, escapes, bytes that could break a Link field.
const LOCATION_PIECES: &[&str] = &[
    "/",
    "//",
    "///",
    "\\",
    "\\\\",
    ".",
    "..",
    "/./",
    "/../",
    "%2e",
    "%2E%2e",
    "%2f",
    "%5c",
    "%",
    "%0",
    "%00",
    "%0d%0a",
    "%zz",
    "?",
    "??",
    "#",
    "&",
    "=",
    "<",
    ">",
    "\"",
    "'",
    " ",
    "\t",
    "\r\n",
    "\0",
    ",",
    ";",
    "@",
    ":",
    "https:",
    "http:",
    "HTTPS://",
    "javascript:",
    "data:",
    "file:",
    "localhost",
    "LOCALHOST",
    "example.com",
    "EXAMPLE.COM.",
    "xn--nxasmq6b",
    "é",
    "\u{212A}",
    "\u{FF0F}",
    "[::1]",
    "127.0.0.1",
    "0x7f.1",
    ":443",
    ":8443",
    ":80",
    ":0",
    ":99999",
    "user:pw@",
    "a",
    "target",
    "x.html",
    "q=1",
];

fn hostile_location() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => prop::collection::vec(prop::sample::select(LOCATION_PIECES), 0..12)
            .prop_map(|pieces| pieces.concat().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..40),
        1 => (prop::sample::select(LOCATION_PIECES), 8180usize..8200)
            .prop_map(|(piece, len)| {
                let mut value = format!("/{piece}").into_bytes();
                value.resize(len, b'a');
                value
            }),
    ]
}

fn host() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        8 => prop::sample::select(&[
            "example.com", "example.com:8443", "EXAMPLE.com:443", "localhost",
            "127.0.0.1:8443", "[::1]:8443", "xn--nxasmq6b.com", "é.example",
            "user@host", "host/path", "", ":443",
        ][..])
        .prop_map(|h| Some(h.as_bytes().to_vec())),
        1 => Just(None),
        1 => prop::collection::vec(any::<u8>(), 0..12).prop_map(Some),
    ]
}

fn request_target() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::sample::select(&[
            "/", "/old", "/dir/old?x=1", "/a%20b/", "*", "https://example.com/old",
            "/new", "//x", "/é",
        ][..])
        .prop_map(|t| t.as_bytes().to_vec()),
        1 => prop::collection::vec(prop::sample::select(LOCATION_PIECES), 0..6)
            .prop_map(|pieces| format!("/{}", pieces.concat()).into_bytes()),
    ]
}

fn existing_links() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(
        prop_oneof![
            prop::sample::select(
                &[
                    "</new>; rel=preload",
                    "</new>; rel=preload; nopush",
                    "<https://example.com/new>",
                    "</other>, </new>",
                    "<x>; title=\"a, </new>\"",
                    "<",
                    ">",
                    ",,,",
                    "</new",
                ][..]
            )
            .prop_map(|l| l.as_bytes().to_vec()),
            prop::collection::vec(prop::sample::select(LOCATION_PIECES), 0..6)
                .prop_map(|pieces| format!("<{}>", pieces.concat()).into_bytes()),
        ],
        0..3,
    )
}

const EXCLUDE_PATTERNS: &[&str] = &["^/admin", r"(?i)\.PDF$", "a+", "%2[fF]", r"\?.*=", "^/$"];

#[derive(Debug, Clone)]
struct Case {
    status: i32,
    method: &'static str,
    scheme: &'static str,
    host: Option<Vec<u8>>,
    server_port: u16,
    request_target: Vec<u8>,
    flags: [bool; 7],
    opt_out_values: Vec<&'static str>,
    locations: Vec<Vec<u8>>,
    links: Vec<Vec<u8>>,
    statuses: Option<String>,
    excludes: Vec<&'static str>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop_oneof![
            8 => prop::sample::select(&[301, 302, 303, 307, 308][..]),
            2 => 300i32..=399,
            1 => any::<i32>(),
            1 => 200i32..=210,
        ],
        prop_oneof![6 => Just("GET"), 1 => prop::sample::select(&["HEAD", "POST", "get", ""][..])],
        prop_oneof![
            6 => Just("https"),
            1 => prop::sample::select(&["http", "HTTPS", "ftp", ""][..]),
        ],
        host(),
        any::<u16>(),
        request_target(),
        prop::array::uniform7(prop::bool::weighted(0.08)),
        prop_oneof![
            6 => Just(vec![]),
            1 => prop::collection::vec(
                prop::sample::select(&["off", " NO ", "on", "1", "false"][..]),
                1..3,
            ),
        ],
        prop_oneof![
            6 => hostile_location().prop_map(|l| vec![l]),
            1 => prop::collection::vec(hostile_location(), 0..3),
        ],
        existing_links(),
        prop::option::of(
            prop::sample::select(&["301 302", "300 399", "307", "302 303 308"][..])
                .prop_map(str::to_owned),
        ),
        prop::sample::subsequence(EXCLUDE_PATTERNS, 0..3),
    )
        .prop_map(
            |(
                status,
                method,
                scheme,
                host,
                server_port,
                request_target,
                flags,
                opt_out_values,
                locations,
                links,
                statuses,
                excludes,
            )| Case {
                status,
                method,
                scheme,
                host,
                server_port,
                request_target,
                flags,
                opt_out_values,
                locations,
                links,
                statuses,
                excludes,
            },
        )
}

fn run(case: &Case) -> Decision<'static> {
    let [http2, no_h2_push, pushed_stream, has_cookie, has_authorization, opt_out_env, tls_off] =
        case.flags;
    let mut excludes = ExcludeSet::new();
    for pattern in &case.excludes {
        excludes.add(pattern).unwrap();
    }
    let policy = Policy {
        statuses: case
            .statuses
            .as_deref()
            .map_or(StatusSet::DEFAULT, |s| StatusSet::parse(s).unwrap()),
        excludes: (!case.excludes.is_empty()).then_some(&excludes),
        require_tls: !tls_off,
        with_credentials: has_cookie && opt_out_env,
        ..Policy::default()
    };
    let opt_out_values: Vec<&[u8]> = case.opt_out_values.iter().map(|v| v.as_bytes()).collect();
    let locations: Vec<&[u8]> = case.locations.iter().map(Vec::as_slice).collect();
    let links: Vec<&[u8]> = case.links.iter().map(Vec::as_slice).collect();
    let exchange = Exchange {
        status: case.status,
        method: case.method.as_bytes(),
        scheme: case.scheme.as_bytes(),
        host: case.host.as_deref(),
        server_name: b"server.example",
        server_port: case.server_port,
        request_target: &case.request_target,
        http2,
        h2_push: !no_h2_push,
        pushed_stream,
        has_cookie,
        has_authorization,
        opt_out_env,
        opt_out_values: &opt_out_values,
        locations: &locations,
        links: &links,
        ..Exchange::default()
    };
    decide_and_check(&policy, &exchange).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6_000, ..ProptestConfig::default() })]

    #[test]
    fn every_decision_keeps_the_invariants(case in case()) {
        run(&case);
    }

    /// The hostile Locations against a request that passes rules 1-5, so
    /// that the Location rules are what is exercised.
    #[test]
    fn hostile_locations_are_pushed_cleanly_or_skipped(
        location in hostile_location(),
        host in prop::sample::select(&["example.com", "example.com:8443", "localhost"][..]),
    ) {
        let case = Case {
            status: 302, method: "GET", scheme: "https",
            host: Some(host.as_bytes().to_vec()), server_port: 443,
            request_target: b"/old".to_vec(), flags: [true, false, false, false, false, false, false],
            opt_out_values: vec![], locations: vec![location], links: vec![],
            statuses: None, excludes: vec![],
        };
        run(&case);
    }

    #[test]
    fn status_lists_parse_to_codes_in_range_or_fail(args in "[0-9 \t+-]{0,16}|.{0,16}") {
        match StatusSet::parse(&args) {
            Ok(set) => {
                let codes: Vec<i32> = set.codes().collect();
                prop_assert!(!codes.is_empty());
                prop_assert!(codes.iter().all(|c| (300..=399).contains(c)));
                for word in args.split_ascii_whitespace() {
                    prop_assert!(set.contains(word.parse().unwrap()));
                }
            }
            Err(err) => prop_assert!(!err.to_string().is_empty() && err.to_string().len() < 300),
        }
    }

    #[test]
    fn flags_are_on_or_off_in_any_case(value in "(?i:on|off)|.{0,8}") {
        let lower = value.to_ascii_lowercase();
        match parse_flag(&value) {
            Ok(on) => prop_assert_eq!(on, lower == "on"),
            Err(err) => {
                prop_assert!(lower != "on" && lower != "off");
                prop_assert!(err.to_string().ends_with("is not On or Off"));
            }
        }
    }

    #[test]
    fn exclude_patterns_compile_or_fail_with_a_short_message(pattern in ".{0,24}", subject in ".{0,64}") {
        let mut set = ExcludeSet::new();
        match set.add(&pattern) {
            Ok(()) => {
                prop_assert_eq!(set.patterns(), &[pattern.clone()][..]);
                set.is_match(&subject);
            }
            Err(err) => {
                prop_assert!(set.patterns().is_empty());
                prop_assert!(err.to_string().len() < 400, "{}", err);
            }
        }
    }
}

#[test]
fn the_spec_tokens_are_eleven_distinct_words() {
    let mut tokens = SPEC_SKIP_TOKENS.to_vec();
    tokens.sort_unstable();
    tokens.dedup();
    assert_eq!(tokens.len(), 11);
}

/// The generators reach every outcome, so the properties above are checked
/// on pushes too, not only on skips.
#[test]
fn generated_cases_reach_pushes_and_skips() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = case();
    let (mut pushes, mut skips, mut not_redirects) = (0, 0, 0);
    for _ in 0..3_000 {
        match run(&strategy.new_tree(&mut runner).unwrap().current()) {
            Decision::Push(_) => pushes += 1,
            Decision::Skip(r) => {
                skips += 1;
                eprintln!("SKIP {r:?}");
            }
            Decision::NotRedirect => not_redirects += 1,
        }
    }
    assert!(pushes >= 60, "only {pushes} pushes in 3000 cases");
    assert!(
        skips >= 300 && not_redirects >= 30,
        "{skips} skips, {not_redirects} non-redirects"
    );
}
