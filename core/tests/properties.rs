//! Property tests: the invariants of `invariants/mod.rs` (no panic; a Link
//! value of visible ASCII without `<`, `>`, `"` that resolves to the
//! request's origin; skip reasons from the contract) over generated requests,
//! Locations built from hostile fragments, existing Link fields and
//! configurations; and those of `invariants/respond.rs` for the module's
//! entry point, `respond`, on the same exchanges, with and without a
//! model of the shared cache holding generated records, with Early Hints
//! on and off. Also the directive parsers.

mod invariants;

use invariants::respond::respond_and_check;
use invariants::store::{FixedVisitor, Memory, Model};
use invariants::{decide_and_check, SPEC_SKIP_TOKENS};
use proptest::prelude::*;
use push_redirect_core::{
    parse_flag, Decision, DeclaredHints, EarlyHintsDecision, Exchange, ExcludeSet, RecordKey,
    Settings, StatusSet, Switch,
};

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

/// Locations of the targets the generated records are for, so that a
/// redirect often meets what the cache learned.
const PLAIN_LOCATIONS: &[&str] = &[
    "/new",
    "/target",
    "/a",
    "/x.html",
    "/dir/new",
    "/new?x=1",
    "/chain/1",
    "https://example.com/new",
    "new",
    "/old",
];

const EXCLUDE_PATTERNS: &[&str] = &["^/admin", r"(?i)\.PDF$", "a+", "%2[fF]", r"\?.*=", "^/$"];

/// `PushRedirectEarlyHint` lines, each value as a 103 carries it.
const DECLARED: &[(&str, &str)] = &[
    ("/new", "</d.css>; rel=preload; as=style"),
    ("/new", "</a.css>; rel=preload; as=style"),
    ("/target", "<https://cdn.example>; rel=preconnect"),
    ("/x.html", "</m.js>; rel=modulepreload"),
    ("/", "</root.js>; rel=preload; as=script; crossorigin"),
    ("/chain/end", "</end.css>; rel=preload; as=style"),
];

/// The URLs on example.com:443 that generated records are kept for.
const RECORD_TARGETS: &[&str] = &[
    "/new",
    "/target",
    "/a",
    "/x.html",
    "/",
    "/dir/new",
    "/new?x=1",
    "/chain/1",
    "/chain/2",
    "/chain/end",
];

/// Hints a generated page record holds, as the core writes them.
const RECORD_HINTS: &[&str] = &[
    "</a.css>; rel=preload; as=style",
    "</s/app.js>; rel=preload; as=script",
    "<https://cdn.example/x.png>; rel=preload; as=image; crossorigin=use-credentials",
    "<https://cdn.example>; rel=preconnect",
    "</f.woff2>; rel=preload; as=font; crossorigin; type=\"font/woff2\"",
    "</m.js>; rel=modulepreload",
];

/// Pieces of records nobody's learning wrote: near misses and garbage.
const RECORD_PIECES: &[&str] = &[
    "pr1 h\n",
    "pr1 r\n",
    "pr2 h\n",
    "/new\n",
    "/chain/2\n",
    "//evil.example/x\n",
    "https://evil.example/\n",
    "</a.css>; rel=preload; as=style\n",
    "</x>; rel=stylesheet\n",
    "<http://evil.example/x.js>; rel=preload; as=script\n",
    "\n",
    "\r",
    " ",
];

/// Heads of pages, for a 200 that is read.
const PAGE_BODIES: &[&str] = &[
    "<!doctype html><head><link rel=stylesheet href=/h.css><script src=/h.js></script></head>",
    "<head><link rel=preconnect href=https://api.example><script type=module src=m.js></script>",
    "<head><noscript><link rel=stylesheet href=/ns.css></noscript><body><script src=/late.js>",
    "not html at all \0 \u{FFFD}",
];

/// A record kept before the response.
#[derive(Debug, Clone)]
enum Seed {
    Page(Vec<&'static str>),
    Redirect(&'static str),
    Raw(Vec<&'static str>),
}

/// What `respond` reads beyond what `decide` does, and the cache it finds.
#[derive(Debug, Clone)]
struct RespondCase {
    push: Switch,
    sec_fetch_mode: Option<&'static str>,
    sec_fetch_dest: Option<&'static str>,
    early_hints_sent: bool,
    server_sends_hints: bool,
    /// `PushRedirectEarlyHintsHTTP1`, and a request that is HTTP/1.0.
    early_hints_http1: Switch,
    http1_0: bool,
    vhost: &'static str,
    set_cookies: Vec<&'static str>,
    cache_control: Vec<&'static str>,
    html: Option<&'static str>,
    declared: Vec<(&'static str, &'static str)>,
    seeds: Vec<(&'static str, Seed)>,
    visitor: Option<FixedVisitor>,
}

fn seed() -> impl Strategy<Value = Seed> {
    prop_oneof![
        4 => prop::sample::subsequence(RECORD_HINTS, 0..4).prop_map(Seed::Page),
        3 => prop::sample::select(PLAIN_LOCATIONS).prop_map(Seed::Redirect),
        1 => prop::collection::vec(prop::sample::select(RECORD_PIECES), 0..5).prop_map(Seed::Raw),
    ]
}

fn visitor() -> impl Strategy<Value = Option<FixedVisitor>> {
    prop_oneof![
        3 => Just(None),
        1 => (prop::bool::weighted(0.2), any::<bool>(), prop::option::of(any::<bool>())).prop_map(
            |(authenticated, may_fetch, stranger)| Some(FixedVisitor {
                authenticated,
                may_fetch,
                stranger,
            })
        ),
    ]
}

fn respond_case() -> impl Strategy<Value = RespondCase> {
    let fetch = |token: &'static str| {
        prop_oneof![
            4 => Just(None),
            2 => Just(Some(token)),
            1 => prop::sample::select(&["cors", " navigate ", "Navigate", "iframe", ""][..]).prop_map(Some),
        ]
    };
    (
        prop_oneof![4 => Just(Switch::On), 1 => prop::sample::select(&[Switch::Off, Switch::Unset][..])],
        (fetch("navigate"), fetch("document")),
        (
            prop::bool::weighted(0.05),
            any::<bool>(),
            prop::sample::select(&[Switch::Unset, Switch::Off, Switch::On][..]),
            prop::bool::weighted(0.2),
        ),
        prop_oneof![6 => Just("example.com"), 1 => prop::sample::select(&["other.example", ""][..])],
        prop::sample::subsequence(&["sid=visitor-a-secret; Path=/", "lang=en"][..], 0..2),
        prop::sample::subsequence(&["no-store, private", "max-age=60", "PRIVATE"][..], 0..2),
        prop::option::of(prop::sample::select(PAGE_BODIES)),
        prop::sample::subsequence(DECLARED, 0..4),
        prop::collection::vec((prop::sample::select(RECORD_TARGETS), seed()), 0..10),
        visitor(),
    )
        .prop_map(
            |(
                push,
                (sec_fetch_mode, sec_fetch_dest),
                (early_hints_sent, server_sends_hints, early_hints_http1, http1_0),
                vhost,
                set_cookies,
                cache_control,
                html,
                declared,
                seeds,
                visitor,
            )| RespondCase {
                push,
                sec_fetch_mode,
                sec_fetch_dest,
                early_hints_sent,
                server_sends_hints,
                early_hints_http1,
                http1_0,
                vhost,
                set_cookies,
                cache_control,
                html,
                declared,
                seeds,
                visitor,
            },
        )
}

/// The cache holding `seeds`, for example.com on port 443.
fn seeded(seeds: &[(&str, Seed)]) -> Memory {
    let mut memory = Memory::default();
    for (target, seed) in seeds {
        let text = match seed {
            Seed::Page(hints) => hints.iter().fold("pr1 h\n".to_owned(), |mut text, hint| {
                text.push_str(hint);
                text.push('\n');
                text
            }),
            Seed::Redirect(location) => format!("pr1 r\n{location}\n"),
            Seed::Raw(pieces) => pieces.concat(),
        };
        let key = RecordKey::new(b"example.com", 443, target.as_bytes()).expect("a key");
        memory.values.insert(*key.as_bytes(), text.into_bytes());
    }
    memory
}

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
    /// `None`: the case is for `decide` alone.
    respond: Option<RespondCase>,
}

/// A case for `decide` alone.
fn decided_case() -> impl Strategy<Value = Case> {
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
        // HTTP/2 half the time (a 103 is sent only there); the rest rarely.
        (
            any::<bool>(),
            prop::array::uniform6(prop::bool::weighted(0.08)),
        )
            .prop_map(|(http2, [a, b, c, d, e, f])| [http2, a, b, c, d, e, f]),
        prop_oneof![
            6 => Just(vec![]),
            1 => prop::collection::vec(
                prop::sample::select(&["off", " NO ", "on", "1", "false"][..]),
                1..3,
            ),
        ],
        prop_oneof![
            5 => hostile_location().prop_map(|l| vec![l]),
            5 => prop::sample::select(PLAIN_LOCATIONS).prop_map(|l| vec![l.as_bytes().to_vec()]),
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
                respond: None,
            },
        )
}

fn case() -> impl Strategy<Value = Case> {
    (decided_case(), respond_case()).prop_map(|(case, respond)| Case {
        respond: Some(respond),
        ..case
    })
}

/// What one case came to: `decide`'s decision, and what `respond` did with
/// it over the variants [`run`] tries.
struct Ran {
    decision: Decision<'static>,
    hints_sent: usize,
    further_links: usize,
    learned: usize,
}

/// Decides `case` and checks the invariants; then, unless the case is for
/// `decide` alone, answers it with `respond`, Early Hints off and on,
/// without a store and with one over the case's records, and checks the
/// invariants of its answer.
fn run(case: &Case) -> Ran {
    let [http2, no_h2_push, pushed_stream, has_cookie, has_authorization, opt_out_env, tls_off] =
        case.flags;
    let only_decide = RespondCase {
        push: Switch::On,
        sec_fetch_mode: None,
        sec_fetch_dest: None,
        early_hints_sent: false,
        server_sends_hints: false,
        early_hints_http1: Switch::Unset,
        http1_0: false,
        vhost: "example.com",
        set_cookies: vec![],
        cache_control: vec![],
        html: None,
        declared: vec![],
        seeds: vec![],
        visitor: None,
    };
    let more = case.respond.as_ref().unwrap_or(&only_decide);
    let mut excludes = ExcludeSet::new();
    for pattern in &case.excludes {
        excludes.add(pattern).unwrap();
    }
    let mut declared = DeclaredHints::new();
    for (path, value) in &more.declared {
        declared.add(path, value).unwrap();
    }
    let on_or_unset = |on| if on { Switch::On } else { Switch::Unset };
    let settings = Settings {
        push: more.push,
        require_tls: if tls_off { Switch::Off } else { Switch::Unset },
        with_credentials: on_or_unset(has_cookie && opt_out_env),
        statuses: case
            .statuses
            .as_deref()
            .map(|s| StatusSet::parse(s).unwrap()),
        excludes: (!case.excludes.is_empty()).then_some(&excludes),
        declared: (!more.declared.is_empty()).then_some(&declared),
        server_sends_hints: more.server_sends_hints,
        early_hints_http1: more.early_hints_http1,
        ..Settings::default()
    };
    let policy = settings.policy();
    let opt_out_values: Vec<&[u8]> = case.opt_out_values.iter().map(|v| v.as_bytes()).collect();
    let locations: Vec<&[u8]> = case.locations.iter().map(Vec::as_slice).collect();
    let links: Vec<&[u8]> = case.links.iter().map(Vec::as_slice).collect();
    let set_cookies: Vec<&[u8]> = more.set_cookies.iter().map(|v| v.as_bytes()).collect();
    let cache_control: Vec<&[u8]> = more.cache_control.iter().map(|v| v.as_bytes()).collect();
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
        vhost: more.vhost.as_bytes(),
        local_port: 443,
        set_cookies: &set_cookies,
        cache_control: &cache_control,
        content_type: more.html.map(|_| &b"text/html; charset=utf-8"[..]),
        content_encoding: None,
        sec_fetch_mode: more.sec_fetch_mode.map(str::as_bytes),
        sec_fetch_dest: more.sec_fetch_dest.map(str::as_bytes),
        early_hints_sent: more.early_hints_sent,
        http1_0: more.http1_0,
    };
    let mut ran = Ran {
        decision: decide_and_check(&policy, &exchange).into_owned(),
        hints_sent: 0,
        further_links: 0,
        learned: 0,
    };
    let body: Vec<&[u8]> = more.html.map_or(Vec::new(), |html| {
        let (head, tail) = html.as_bytes().split_at(html.len() / 2);
        vec![head, tail]
    });
    if case.respond.is_none() {
        return ran;
    }
    for early_hints in [Switch::Off, Switch::On] {
        let settings = Settings {
            early_hints,
            ..settings
        };
        for stored in [false, true] {
            let mut model = stored.then(|| Model {
                memory: seeded(&more.seeds),
                ..Model::new(more.visitor)
            });
            let response =
                respond_and_check(&settings, &more.declared, &exchange, model.as_mut(), &body);
            ran.hints_sent += usize::from(matches!(
                response.early_hints,
                Some(EarlyHintsDecision::Send(_))
            ));
            ran.further_links += response.further_links.len();
            ran.learned += usize::from(response.learn.is_some());
        }
    }
    ran
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
            statuses: None, excludes: vec![], respond: None,
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
    let (mut hints_sent, mut further_links, mut learned) = (0, 0, 0);
    for _ in 0..3_000 {
        let ran = run(&strategy.new_tree(&mut runner).unwrap().current());
        match ran.decision {
            Decision::Push(_) => pushes += 1,
            Decision::Skip(_) => skips += 1,
            Decision::NotRedirect => not_redirects += 1,
        }
        hints_sent += ran.hints_sent;
        further_links += ran.further_links;
        learned += ran.learned;
    }
    assert!(pushes >= 60, "only {pushes} pushes in 3000 cases");
    assert!(
        skips >= 300 && not_redirects >= 30,
        "{skips} skips, {not_redirects} non-redirects"
    );
    assert!(
        hints_sent >= 20 && further_links >= 5 && learned >= 50,
        "{hints_sent} 103s sent, {further_links} further links, {learned} lessons"
    );
}
