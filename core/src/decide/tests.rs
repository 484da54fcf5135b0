use super::*;
use crate::config::ExcludeSet;
use crate::config::StatusSet;
use crate::exchange::MAX_LOCATION_LEN;
use crate::origin::{is_safe_in_link, itoa_port};

/// A GET over HTTP/2 with push on, to https://example.com:8443/old?x=1,
/// answered with `302 Location: <location>`. Every rule passes unless a
/// test changes a field.
fn redirect_to(locations: &'static [&'static [u8]]) -> Exchange<'static> {
    Exchange {
        status: 302,
        method: b"GET",
        scheme: b"https",
        host: Some(b"example.com:8443"),
        server_name: b"server.invalid",
        server_port: 9999,
        request_target: b"/dir/old?x=1",
        http2: true,
        h2_push: true,
        locations,
        ..Exchange::default()
    }
}

fn run<'a>(ex: &Exchange<'a>) -> Decision<'a> {
    decide(&Policy::default(), ex)
}

fn pushed_target(ex: &Exchange<'_>) -> String {
    match run(ex) {
        Decision::Push(push) => {
            assert_eq!(
                push.link_value(),
                format!("<{}>; as=document; rel=preload", push.path_and_query())
            );
            push.path_and_query().to_owned()
        }
        other => panic!("expected a push, got {other:?}"),
    }
}

fn skipped(ex: &Exchange<'_>) -> Reason {
    match run(ex) {
        Decision::Skip(reason) => reason,
        other => panic!("expected a skip, got {other:?}"),
    }
}

fn location(value: &'static str) -> Exchange<'static> {
    let leaked: &'static [&'static [u8]] = Box::leak(Box::new([value.as_bytes()]));
    redirect_to(leaked)
}

/// The plain path and the URL parser must give the same answer for
/// every request: a push of the same target, or the same skip.
fn assert_resolutions_agree(policy: &Policy<'_>, ex: &Exchange<'_>) {
    assert_eq!(
        check_redirect(policy, ex, Resolution::PlainFirst),
        check_redirect(policy, ex, Resolution::UrlParser),
        "host {:?}, target {:?}, locations {:?}",
        ex.host.map(String::from_utf8_lossy),
        String::from_utf8_lossy(ex.request_target),
        ex.locations
            .iter()
            .map(|l| String::from_utf8_lossy(l))
            .collect::<Vec<_>>(),
    );
}

const TRICKY_HOSTS: &[&str] = &[
    "example.com:8443",
    "Example.COM:8443",
    "example.com",
    "example.com:443",
    "example.com:0",
    "example.com:65535",
    "example.com:65536",
    "example.com:008443",
    "example.com:",
    "a-.b-:1",
    "-a.b",
    "1.example",
    "example.1",
    "example.0x1",
    "127.0.0.1",
    "127.0.0.1:8443",
    "127.0.0.01",
    "256.0.0.1",
    "1.2.3",
    "1.2.3.4.5",
    "xn--nxasmq6b.com",
    "XN--a.com",
    "a.xN--b",
    "xn-a.com",
    "a-xn--",
    "a:b:1",
    ":8443",
    "1.2.3.4:",
    "a..b",
    "a.b.",
    ".a",
    "localhost",
    "[::1]:8443",
    "user@example.com",
    "ex ample.com",
    "\u{e9}xample.com",
];

const TRICKY_LOCATIONS: &[&str] = &[
    "/new",
    "/new?a=1&b=2",
    "/dir/old?x=1",
    "/dir/old",
    "/a/./b",
    "/a/../b",
    "/a/.",
    "/a/..",
    "/.",
    "/..",
    "/.a/..b/...",
    "/a/.?q",
    "/a/..?q",
    "/a?/./b",
    "/a?x/..",
    "/a.b/.c",
    "/a./b",
    "//evil.example/x",
    "/\\evil",
    "/a%2e/b",
    "/a/%2e%2e/b",
    "/%00",
    "/a b",
    "/a'b",
    "/a?'",
    "/a?b?c",
    "/a#f",
    "/a?#",
    "/~u/!$&()*+,;=:@",
    "/a^b",
    "/a`b",
    "/a{b}",
    "/a|b",
    "/\u{e9}",
    "https://example.com:8443/new",
    "https://Example.COM:8443/new",
    "https://example.com:8443//evil",
    "https://example.com:84431/x",
    "https://example.com:8443.evil/x",
    "https://example.com:8443@evil/x",
    "HTTPS://example.com:8443/x",
    "http://example.com:8443/x",
    "https://example.com/x",
    "https://example.com:443/x",
    "https://127.0.0.1:8443/x",
    "https://example.com:8443",
    "https://example.com:8443?q",
    "new",
    "./new",
    "?q",
    "#f",
    "",
];

#[test]
fn the_plain_path_agrees_with_the_url_parser() {
    for host in TRICKY_HOSTS {
        for target in ["/dir/old?x=1", "/new", "/a/../new", "/a%20b", "//x", "/x?'"] {
            for location in TRICKY_LOCATIONS {
                for scheme in ["https", "http", "HTTPS"] {
                    let locations = [location.as_bytes()];
                    let ex = Exchange {
                        scheme: scheme.as_bytes(),
                        host: Some(host.as_bytes()),
                        request_target: target.as_bytes(),
                        locations: &locations,
                        ..location_exchange()
                    };
                    assert_resolutions_agree(&Policy::default(), &ex);
                }
            }
        }
    }
}

#[test]
fn the_plain_path_takes_the_common_shapes() {
    let plain = |host: &'static str, target: &'static str, location: &'static str| {
        let locations: &'static [&'static [u8]] = Box::leak(Box::new([location.as_bytes()]));
        let ex = Exchange {
            host: Some(host.as_bytes()),
            request_target: target.as_bytes(),
            ..redirect_to(locations)
        };
        PlainRedirect::of(&ex, location.as_bytes()).map(|plain| plain.target())
    };
    assert_eq!(
        plain("example.com:8443", "/old", "/new?a=1"),
        Some("/new?a=1")
    );
    assert_eq!(
        plain("example.com:8443", "/old", "https://example.com:8443/new"),
        Some("/new")
    );
    assert_eq!(
        plain("127.0.0.1:8443", "/old", "https://127.0.0.1:8443/new"),
        Some("/new")
    );
    assert_eq!(plain("localhost", "/docs", "/docs/"), Some("/docs/"));
    assert_eq!(
        plain("example.com:8443", "/old", "https://example.com/new"),
        None
    );
    assert_eq!(plain("example.com:8443", "/old", "/a/../new"), None);
    assert_eq!(plain("example.com:8443", "/old", "/a%20b"), None);
    assert_eq!(plain("xn--nxasmq6b.com", "/old", "/new"), None);
    assert_eq!(plain("example.com:8443", "/a/./old", "/new"), None);
}

fn location_exchange() -> Exchange<'static> {
    redirect_to(&[])
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20_000))]
    #[test]
    fn the_plain_path_agrees_with_the_url_parser_on_generated_input(
        host in "[a-zA-Z0-9.:-]{1,12}|[0-9]{1,4}(\\.[0-9]{1,4}){0,4}(:[0-9]{0,6})?",
        target in "/[a-z./?%'#:@!-]{0,10}",
        location in "(https?://[a-zA-Z0-9.:@-]{0,14})?[a-zA-Z0-9./?%'#:@!\\\\ -]{0,14}",
    ) {
        let locations = [location.as_bytes()];
        let ex = Exchange {
            host: Some(host.as_bytes()),
            request_target: target.as_bytes(),
            locations: &locations,
            ..location_exchange()
        };
        assert_resolutions_agree(&Policy::default(), &ex);
        // The same with the request's own authority in the Location.
        let own = format!("https://{host}{location}");
        let locations = [own.as_bytes()];
        assert_resolutions_agree(&Policy::default(), &Exchange { locations: &locations, ..ex });
    }
}

#[test]
fn reasons_have_the_specs_tokens() {
    let tokens: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
    assert_eq!(
        tokens,
        [
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
            "internal-error"
        ]
    );
}

#[test]
fn a_same_origin_redirect_is_pushed() {
    assert_eq!(pushed_target(&location("/new")), "/new");
    let Decision::Push(push) = run(&location("/new?q=1")) else {
        panic!()
    };
    assert_eq!(push.link_value(), "</new?q=1>; as=document; rel=preload");
}

#[test]
fn only_configured_statuses_are_redirects() {
    for status in [200, 204, 300, 304, 305, 306, 400, 404, 500, 0, -5] {
        let ex = Exchange {
            status,
            ..location("/new")
        };
        assert_eq!(run(&ex), Decision::NotRedirect, "{status}");
    }
    for status in [301, 302, 303, 307, 308] {
        let ex = Exchange {
            status,
            ..location("/new")
        };
        assert_eq!(pushed_target(&ex), "/new", "{status}");
    }
    let policy = Policy {
        statuses: StatusSet::parse("301 300").unwrap(),
        ..Policy::default()
    };
    assert_eq!(decide(&policy, &location("/new")), Decision::NotRedirect);
    assert!(matches!(
        decide(
            &policy,
            &Exchange {
                status: 300,
                ..location("/new")
            }
        ),
        Decision::Push(_)
    ));
}

#[test]
fn rule_1_opt_out_by_env_or_header() {
    let ex = Exchange {
        opt_out_env: true,
        ..location("/new")
    };
    assert_eq!(skipped(&ex), Reason::OptOut);
    for value in ["off", "OFF", " Off\t", "0", "false", "False", "no", "NO"] {
        let values: &'static [&'static [u8]] = Box::leak(Box::new([value.as_bytes()]));
        let ex = Exchange {
            opt_out_values: values,
            ..location("/new")
        };
        assert_eq!(skipped(&ex), Reason::OptOut, "{value:?}");
    }
    for value in ["on", "1", "yes", "", "offf", "n o"] {
        let values: &'static [&'static [u8]] = Box::leak(Box::new([value.as_bytes()]));
        let ex = Exchange {
            opt_out_values: values,
            ..location("/new")
        };
        assert_eq!(pushed_target(&ex), "/new", "{value:?}");
    }
    let two: &[&[u8]] = &[b"on", b"no"];
    assert_eq!(
        skipped(&Exchange {
            opt_out_values: two,
            ..location("/new")
        }),
        Reason::OptOut
    );
}

#[test]
fn rule_2_only_get() {
    for method in [&b"POST"[..], b"HEAD", b"PUT", b"get", b""] {
        let ex = Exchange {
            method,
            ..location("/new")
        };
        assert_eq!(skipped(&ex), Reason::Method);
    }
}

#[test]
fn rule_3_tls_unless_not_required() {
    let ex = Exchange {
        scheme: b"http",
        http2: false,
        ..location("/new")
    };
    assert_eq!(skipped(&ex), Reason::Insecure);
    let policy = Policy {
        require_tls: false,
        ..Policy::default()
    };
    assert!(matches!(decide(&policy, &ex), Decision::Push(_)));
}

#[test]
fn rule_4_http2_needs_h2_push_on() {
    let ex = Exchange {
        h2_push: false,
        ..location("/new")
    };
    assert_eq!(skipped(&ex), Reason::PushDisabled);
    let http1 = Exchange {
        http2: false,
        h2_push: false,
        ..location("/new")
    };
    assert_eq!(pushed_target(&http1), "/new");
}

#[test]
fn rule_4_a_pushed_stream_never_pushes() {
    let pushed = Exchange {
        pushed_stream: true,
        ..location("/new")
    };
    assert_eq!(skipped(&pushed), Reason::PushDisabled);
    let http1 = Exchange {
        http2: false,
        h2_push: false,
        pushed_stream: true,
        ..location("/new")
    };
    assert_eq!(pushed_target(&http1), "/new");
}

#[test]
fn rule_7_a_target_path_that_reads_as_another_host_is_a_bad_location() {
    for loc in [
        "/.//evil.example/x",
        "/%2e//evil.example/x",
        "/a/..//evil.example/x",
        "https://example.com:8443//evil.example/x",
        "/./\\evil.example/x",
    ] {
        assert_eq!(skipped(&location(loc)), Reason::BadLocation, "{loc}");
    }
    let double_slash_request = Exchange {
        request_target: b"//evil.example/old",
        ..location("new")
    };
    assert_eq!(skipped(&double_slash_request), Reason::BadLocation);
    assert_eq!(pushed_target(&location("/a//b")), "/a//b");
}

#[test]
fn hosts_compare_as_the_url_standard_normalises_them() {
    let encoded = Exchange {
        host: Some(b"ex%61mple.com:8443"),
        ..location("https://example.com:8443/new")
    };
    assert_eq!(pushed_target(&encoded), "/new");
    let short_ipv4 = Exchange {
        host: Some(b"127.1:8443"),
        ..location("https://127.0.0.1:8443/new")
    };
    assert_eq!(pushed_target(&short_ipv4), "/new");
    let explicit_default = Exchange {
        host: Some(b"example.com:443"),
        ..location("https://example.com/new")
    };
    assert_eq!(pushed_target(&explicit_default), "/new");
}

#[test]
fn rule_7_paths_apache_refuses_are_bad_locations() {
    for loc in ["/%", "/a%zz", "/a%2", "/%00", "/a/%00/b", "%", "/%g0"] {
        assert_eq!(skipped(&location(loc)), Reason::BadLocation, "{loc}");
    }
    for (loc, expected) in [
        ("/%20%2F%ff", "/%20%2F%ff"),
        ("/a?q=%zz", "/a?q=%zz"),
        ("/%0A", "/%0A"),
        ("/100%25", "/100%25"),
    ] {
        assert_eq!(pushed_target(&location(loc)), expected, "{loc}");
    }
}

#[test]
fn rule_5_credentials() {
    let cookie = Exchange {
        has_cookie: true,
        ..location("/new")
    };
    let auth = Exchange {
        has_authorization: true,
        ..location("/new")
    };
    assert_eq!(skipped(&cookie), Reason::Credentials);
    assert_eq!(skipped(&auth), Reason::Credentials);
    let policy = Policy {
        with_credentials: true,
        ..Policy::default()
    };
    assert!(matches!(decide(&policy, &cookie), Decision::Push(_)));
    assert!(matches!(decide(&policy, &auth), Decision::Push(_)));
}

#[test]
fn rule_6_exactly_one_usable_location() {
    assert_eq!(skipped(&redirect_to(&[])), Reason::NoLocation);
    assert_eq!(skipped(&location("")), Reason::NoLocation);
    assert_eq!(skipped(&location(" \t ")), Reason::NoLocation);
    assert_eq!(skipped(&redirect_to(&[b"/a", b"/b"])), Reason::BadLocation);
    assert_eq!(skipped(&redirect_to(&[b"/a", b"/a"])), Reason::BadLocation);
    assert_eq!(skipped(&redirect_to(&[b"/\xff\xfe"])), Reason::BadLocation);
    // Control characters (but HTAB) make an invalid field, which Apache
    // refuses to send; found by the hostile-Location suite through
    // mod_rewrite [NE], which decodes %0d%0a into the Location.
    for bad in [
        "/t.html\r\nX-Injected: 1",
        "/t.html\n",
        "/t.html\x0bx",
        "\x01javascript:alert(1)",
        "/t\x7f.html",
        "/t.html\0",
    ] {
        assert_eq!(skipped(&location(bad)), Reason::BadLocation, "{bad:?}");
    }
    assert_eq!(pushed_target(&location("/t.\thtml")), "/t.html");
    let long: &'static str =
        Box::leak(format!("/{}", "a".repeat(MAX_LOCATION_LEN - 1)).into_boxed_str());
    assert_eq!(pushed_target(&location(long)).len(), MAX_LOCATION_LEN);
    let too_long: &'static str =
        Box::leak(format!("/{}", "a".repeat(MAX_LOCATION_LEN)).into_boxed_str());
    assert_eq!(skipped(&location(too_long)), Reason::BadLocation);
}

#[test]
fn rule_7_location_must_resolve() {
    // `///host/x` is an empty host to the url crate, the contract's reference.
    for bad in [
        "http://[::1",
        "https://exa mple.com/",
        "https://a:99999/",
        "http://",
        "///other.example/new",
    ] {
        assert_eq!(skipped(&location(bad)), Reason::BadLocation, "{bad}");
    }
}

#[test]
fn rule_7_request_target_must_be_origin_form() {
    for target in [
        &b"*"[..],
        b"https://example.com:8443/dir/old",
        b"",
        b"dir/old",
        b"/\xff",
    ] {
        let ex = Exchange {
            request_target: target,
            ..location("/new")
        };
        assert_eq!(skipped(&ex), Reason::BadLocation, "{target:?}");
    }
}

#[test]
fn rule_7_host_must_be_a_plain_authority() {
    for host in [
        &b"evil.com/x"[..],
        b"user@example.com:8443",
        b"a b",
        b"ex\\ample.com",
        b"h?x",
        b"h#x",
    ] {
        let ex = Exchange {
            host: Some(host),
            ..location("/new")
        };
        assert_eq!(skipped(&ex), Reason::BadLocation, "{host:?}");
    }
}

#[test]
fn without_host_the_server_name_and_port_are_the_origin() {
    let ex = Exchange {
        host: None,
        server_name: b"example.com",
        server_port: 8443,
        ..location("https://example.com:8443/new")
    };
    assert_eq!(pushed_target(&ex), "/new");
    let empty = Exchange {
        host: Some(b""),
        ..ex
    };
    assert_eq!(pushed_target(&empty), "/new");
    let other_port = Exchange {
        server_port: 443,
        ..ex
    };
    assert_eq!(skipped(&other_port), Reason::CrossOrigin);
    let default_port = Exchange {
        server_port: 443,
        ..location("https://example.com/new")
    };
    assert_eq!(
        pushed_target(&Exchange {
            host: None,
            server_name: b"example.com",
            ..default_port
        }),
        "/new"
    );
    let ipv6 = Exchange {
        host: None,
        server_name: b"[::1]",
        server_port: 8443,
        ..location("https://[0:0::1]:8443/v6")
    };
    assert_eq!(pushed_target(&ipv6), "/v6");
}

#[test]
fn relative_locations_resolve_against_the_requested_url() {
    let cases = [
        ("new", "/dir/new"),
        ("./new", "/dir/new"),
        ("../new", "/new"),
        ("../../../new", "/new"),
        ("/a/./b/../c", "/a/c"),
        ("?y=2", "/dir/old?y=2"),
        ("#frag", "/dir/old?x=1"), // self: see below
        ("/new#frag", "/new"),
        ("/new?q=a b", "/new?q=a%20b"),
        ("/n e w", "/n%20e%20w"),
        ("/caf\u{e9}", "/caf%C3%A9"),
        ("/%7euser", "/%7euser"),
        ("//example.com:8443/x", "/x"),
        ("https:new", "/dir/new"),
        ("https:/new", "/new"),
        ("\\new", "/new"),
        ("/a\\b", "/a/b"),
        ("  /trimmed  ", "/trimmed"),
        ("/new?", "/new?"),
        ("/tab\tbed", "/tabbed"),
    ];
    for (loc, expected) in cases {
        let ex = location(loc);
        if expected == "/dir/old?x=1" {
            assert_eq!(skipped(&ex), Reason::SelfRedirect, "{loc}");
        } else {
            assert_eq!(pushed_target(&ex), expected, "{loc}");
        }
    }
}

#[test]
fn rule_8_absolute_locations_must_be_same_origin() {
    let same = [
        "https://example.com:8443/new",
        "HTTPS://EXAMPLE.COM:8443/new",
        "https://Example.Com:8443/new",
    ];
    for loc in same {
        assert_eq!(pushed_target(&location(loc)), "/new", "{loc}");
    }
    let cross = [
        "https://other.example:8443/new",
        "https://example.com/new",
        "https://example.com:443/new",
        "https://example.com:8444/new",
        "http://example.com:8443/new",
        "//other.example/new",
        "\\\\other.example/new",
        "/\\other.example/new",
        "https://user@example.com:8443/new",
        "https://user:pw@example.com:8443/new",
        "https://:pw@example.com:8443/new",
        "javascript:alert(1)",
        "data:text/html,hi",
        "mailto:a@example.com",
        "ftp://example.com:8443/new",
        "https://example.com.:8443/new",
        "https://xn--exmple-cua.com:8443/",
        "https://exämple.com:8443/",
    ];
    for loc in cross {
        assert_eq!(skipped(&location(loc)), Reason::CrossOrigin, "{loc}");
    }
}

#[test]
fn rule_8_hosts_compare_after_idna_case_and_default_port_folding() {
    let idn = Exchange {
        host: Some(b"xn--exmple-cua.com"),
        ..location("https://EXÄMPLE.com/new")
    };
    assert_eq!(pushed_target(&idn), "/new");
    let default_port = Exchange {
        host: Some(b"Example.COM"),
        ..location("https://example.com:443/new")
    };
    assert_eq!(pushed_target(&default_port), "/new");
    let http = Exchange {
        scheme: b"http",
        host: Some(b"example.com:80"),
        http2: false,
        ..location("http://example.com/new")
    };
    let policy = Policy {
        require_tls: false,
        ..Policy::default()
    };
    assert!(matches!(decide(&policy, &http), Decision::Push(_)));
    let v6 = Exchange {
        host: Some(b"[::1]:8443"),
        ..location("https://[0::1]:8443/new")
    };
    assert_eq!(pushed_target(&v6), "/new");
}

#[test]
fn rule_9_self_redirects_are_skipped() {
    for loc in [
        "/dir/old?x=1",
        "old?x=1",
        "https://example.com:8443/dir/old?x=1",
        "/dir/./old?x=1",
        "#top",
    ] {
        assert_eq!(skipped(&location(loc)), Reason::SelfRedirect, "{loc}");
    }
    assert_eq!(pushed_target(&location("/dir/old")), "/dir/old");
    assert_eq!(pushed_target(&location("/dir/old?x=2")), "/dir/old?x=2");
    let normalised = Exchange {
        request_target: b"/a/../dir/old?x=1",
        ..location("/dir/old?x=1")
    };
    assert_eq!(skipped(&normalised), Reason::SelfRedirect);
}

#[test]
fn rule_10_excludes_match_path_and_query() {
    let mut set = ExcludeSet::new();
    set.add("^/admin").unwrap();
    set.add("logout").unwrap();
    let policy = Policy {
        excludes: Some(&set),
        ..Policy::default()
    };
    assert_eq!(
        decide(&policy, &location("/admin/x")),
        Decision::Skip(Reason::Excluded)
    );
    assert_eq!(
        decide(&policy, &location("/x?do=logout")),
        Decision::Skip(Reason::Excluded)
    );
    assert_eq!(
        decide(&policy, &location("https://example.com:8443/admin")),
        Decision::Skip(Reason::Excluded)
    );
    assert!(matches!(
        decide(&policy, &location("/public/admin")),
        Decision::Push(_)
    ));
    // Patterns see the serialised target, so an encoded space is %20.
    let mut encoded = ExcludeSet::new();
    encoded.add("a%20b").unwrap();
    let policy = Policy {
        excludes: Some(&encoded),
        ..Policy::default()
    };
    assert_eq!(
        decide(&policy, &location("/a b")),
        Decision::Skip(Reason::Excluded)
    );
}

#[test]
fn rule_11_an_existing_link_to_the_target() {
    let linked = |links: &'static [&'static [u8]]| Exchange {
        links,
        ..location("/new?q=1")
    };
    for field in [
        &b"</new?q=1>; rel=preload"[..],
        b"</new?q=1>; rel=preload; nopush",
        b"<https://example.com:8443/new?q=1>; rel=preload",
        b"<HTTPS://EXAMPLE.com:8443/new?q=1#x>",
        b"</style.css>; rel=preload; as=style, <../new?q=1>; rel=next",
        b"<../dir/../new?q=1>",
    ] {
        let links: &'static [&'static [u8]] = Box::leak(Box::new([field]));
        assert_eq!(
            skipped(&linked(links)),
            Reason::AlreadyLinked,
            "{:?}",
            String::from_utf8_lossy(field)
        );
    }
    let several: &[&[u8]] = &[b"</a.css>; rel=preload", b"</new?q=1>; rel=preload; nopush"];
    assert_eq!(skipped(&linked(several)), Reason::AlreadyLinked);
    for field in [
        &b"</new>; rel=preload"[..],
        b"</new?q=2>",
        b"<https://other.example:8443/new?q=1>",
        b"<https://example.com/new?q=1>",
        b"</style.css>; rel=preload; as=style",
        b"garbage",
        b"<\xff>",
        b"<http://[::1>",
    ] {
        let links: &'static [&'static [u8]] = Box::leak(Box::new([field]));
        assert_eq!(
            pushed_target(&linked(links)),
            "/new?q=1",
            "{:?}",
            String::from_utf8_lossy(field)
        );
    }
}

#[test]
fn rules_apply_in_the_specs_order() {
    // Every rule fails at once: the first one is reported, then the next
    // one once the first is fixed, and so on.
    let mut set = ExcludeSet::new();
    set.add(".").unwrap();
    let policy = Policy {
        excludes: Some(&set),
        ..Policy::default()
    };
    let all_bad = Exchange {
        opt_out_env: true,
        method: b"POST",
        scheme: b"http",
        h2_push: false,
        has_cookie: true,
        locations: &[],
        ..location("/new")
    };
    type Fix = fn(Exchange<'static>) -> Exchange<'static>;
    let steps: [(Reason, Fix); 6] = [
        (Reason::OptOut, |ex| Exchange {
            opt_out_env: false,
            ..ex
        }),
        (Reason::Method, |ex| Exchange {
            method: b"GET",
            ..ex
        }),
        (Reason::Insecure, |ex| Exchange {
            scheme: b"https",
            ..ex
        }),
        (Reason::PushDisabled, |ex| Exchange {
            h2_push: true,
            ..ex
        }),
        (Reason::Credentials, |ex| Exchange {
            has_cookie: false,
            ..ex
        }),
        (Reason::NoLocation, |ex| Exchange {
            locations: &[b"//evil.example/dir/old?x=1"],
            ..ex
        }),
    ];
    let mut ex = all_bad;
    for (reason, fix) in steps {
        assert_eq!(decide(&policy, &ex), Decision::Skip(reason));
        ex = fix(ex);
    }
    assert_eq!(decide(&policy, &ex), Decision::Skip(Reason::CrossOrigin));
    ex.locations = &[b"https://evil.example/%zz"];
    assert_eq!(decide(&policy, &ex), Decision::Skip(Reason::CrossOrigin));
    ex.locations = &[b"/%zz"];
    assert_eq!(decide(&policy, &ex), Decision::Skip(Reason::BadLocation));
    ex.locations = &[b"/dir/old?x=1"];
    assert_eq!(decide(&policy, &ex), Decision::Skip(Reason::SelfRedirect));
    ex.locations = &[b"/new"];
    ex.links = &[b"</new>"];
    assert_eq!(decide(&policy, &ex), Decision::Skip(Reason::Excluded));
    assert_eq!(
        decide(&Policy::default(), &ex),
        Decision::Skip(Reason::AlreadyLinked)
    );
}

#[test]
fn produced_links_never_carry_unsafe_bytes() {
    for loc in [
        "/a\"b",
        "/a<b>c",
        "/\u{7f}",
        "/a\u{0}b",
        "/x?a=\"<>\"",
        "/\u{1}\u{1f}",
        "/a b?c d",
        "/`{}|^",
        "/%0d%0aSet-Cookie:%20x",
        "/new\r\nSet-Cookie: x",
        "/\u{202e}",
        "/?'",
    ] {
        if let Decision::Push(push) = run(&location(loc)) {
            let target = push.path_and_query();
            assert!(is_safe_in_link(target), "{loc:?} gave {target:?}");
            assert!(target.starts_with('/'), "{loc:?} gave {target:?}");
        }
    }
}

#[test]
fn the_port_fallback_formats_every_port() {
    let mut buf = [0; 5];
    assert_eq!(itoa_port(0, &mut buf), "0");
    assert_eq!(itoa_port(8443, &mut buf), "8443");
    assert_eq!(itoa_port(u16::MAX, &mut buf), "65535");
}
