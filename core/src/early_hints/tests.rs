use super::*;
use crate::config::ExcludeSet;
use crate::hint_cache::CacheLimits;
use crate::hints::{hints_of, Hint, MAX_HINTS, MAX_HINTS_LEN};
use crate::link::link_values;
use std::sync::Arc;
use url::Url;

const ORIGIN: &str = "https://example.com:8443";

/// A GET over HTTP/2 (push refused, as browsers do) to
/// https://example.com:8443/old, answered `302 Location: <location>`.
fn redirect(location: &'static str) -> Exchange<'static> {
    let locations: &'static [&'static [u8]] = Box::leak(Box::new([location.as_bytes()]));
    Exchange {
        status: 302,
        method: b"GET",
        scheme: b"https",
        host: Some(b"example.com:8443"),
        request_target: b"/old",
        http2: true,
        h2_push: false,
        locations,
        ..Exchange::default()
    }
}

/// A 200 to GET `path` on the same origin with these Link fields.
fn page(path: &'static str, links: &'static [&'static [u8]]) -> Exchange<'static> {
    Exchange {
        status: 200,
        method: b"GET",
        scheme: b"https",
        host: Some(b"example.com:8443"),
        request_target: path.as_bytes(),
        http2: true,
        links,
        ..Exchange::default()
    }
}

fn hint(value: &str) -> Option<String> {
    let base = Url::parse(&format!("{ORIGIN}/dir/page")).unwrap();
    let mut values = link_values(value.as_bytes());
    let (reference, raw) = values.next()?;
    Hint::parse(reference, raw, &base).map(|h| h.value)
}

fn sent(decision: EarlyHintsDecision) -> String {
    match decision {
        EarlyHintsDecision::Send(hints) => hints.link,
        other => panic!("expected a 103, got {other:?}"),
    }
}

fn declared(lines: &[(&str, &str)]) -> DeclaredHints {
    let mut set = DeclaredHints::new();
    for (path, value) in lines {
        set.add(path, value).unwrap();
    }
    set
}

#[test]
fn preloads_are_reserialised_from_their_parts() {
    assert_eq!(
        hint("</static/app.css>; rel=preload; as=style").as_deref(),
        Some("</static/app.css>; rel=preload; as=style")
    );
    assert_eq!(
        hint(r#"<app.js> ;REL="Preload" ; AS="SCRIPT"; title=x"#).as_deref(),
        Some("</dir/app.js>; rel=preload; as=script")
    );
    assert_eq!(
        hint(r#"<https://example.com:8443/f.woff2>; rel=preload; as=font; crossorigin; type="font/woff2""#)
            .as_deref(),
        Some(r#"</f.woff2>; rel=preload; as=font; crossorigin; type="font/woff2""#)
    );
    assert_eq!(
        hint("<https://cdn.example/a.css#x>; rel=preload; as=style; crossorigin=use-credentials")
            .as_deref(),
        Some("<https://cdn.example/a.css>; rel=preload; as=style; crossorigin=use-credentials")
    );
    assert_eq!(
        hint("</a.png>; rel=\"preload prefetch\"; as=image; crossorigin=bogus").as_deref(),
        Some("</a.png>; rel=preload; as=image; crossorigin")
    );
}

#[test]
fn preconnects_keep_only_an_https_origin() {
    assert_eq!(
        hint("<https://cdn.example/path?q>; rel=preconnect").as_deref(),
        Some("<https://cdn.example>; rel=preconnect")
    );
    assert_eq!(
        hint("<https://cdn.example:444>; rel=preconnect; crossorigin").as_deref(),
        Some("<https://cdn.example:444>; rel=preconnect; crossorigin")
    );
    for value in [
        "</x>; rel=preconnect",
        "<http://cdn.example>; rel=preconnect",
        "<https://user@cdn.example>; rel=preconnect",
    ] {
        assert_eq!(hint(value), None, "{value}");
    }
}

#[test]
fn what_is_not_a_hint_is_dropped() {
    for value in [
        "</a.css>; rel=stylesheet",
        "</a.css>; rel=preload",
        "</a.css>; rel=preload; as=document",
        "</a.css>; rel=preload; as=bogus",
        "</a.css>; as=style",
        "<http://cdn.example/a.css>; rel=preload; as=style",
        "<http://example.com:8443/a.css>; rel=preload; as=style",
        "<javascript:alert(1)>; rel=preload; as=script",
        "<data:text/css,x>; rel=preload; as=style",
        "<https://u:p@cdn.example/a.css>; rel=preload; as=style",
        "<//evil.example/a.css>; rel=preload; as=style; x", // resolves to https: kept below
        "</%zz>; rel=preload; as=style",
        "</.//evil.example/a.css>; rel=preload; as=style",
        "</a\u{7f}b>; rel=preload; as=style",
        "</a.css>; rel=preload; as=style; title=\"a\u{0}b\"",
    ] {
        let expected = if value.starts_with("<//evil") {
            Some("<https://evil.example/a.css>; rel=preload; as=style".to_owned())
        } else {
            None
        };
        assert_eq!(hint(value), expected, "{value}");
    }
}

#[test]
fn injection_attempts_never_reach_the_output() {
    for value in [
        "</a.css>; rel=preload; as=style\r\nSet-Cookie: x=1",
        "</a.css>; rel=preload; as=style\nX: y",
        "</a.css\r\nSet-Cookie: x=1>; rel=preload; as=style",
        "</a.css>; rel=preload; as=\"style\r\nX: y\"",
        "</a.css>; rel=preload; as=style; type=\"text/css\r\nX: y\"",
        "<https://cdn.example/a\u{0}b>; rel=preload; as=style",
    ] {
        assert_eq!(hint(value), None, "{value:?}");
    }
    for value in [
        "</a\"b<c>; rel=preload; as=style",
        "</a b>; rel=preload; as=style",
        "</a.css>; rel=\"preload\"; as=style; type=\"a/b; x=\\\"y\\\"\"",
        "</a.css>; rel=preload; as=style; type=\"text/css, <evil>\"",
    ] {
        if let Some(out) = hint(value) {
            assert!(
                out.bytes().all(|b| (b' '..=b'~').contains(&b)),
                "{value:?} gave {out:?}"
            );
            assert_eq!(out.matches('<').count(), 1, "{value:?} gave {out:?}");
            assert_eq!(out.matches('>').count(), 1, "{value:?} gave {out:?}");
            assert!(
                !out.contains("X:") && !out.contains("Set-Cookie"),
                "{out:?}"
            );
        }
    }
}

#[test]
fn limits_of_one_103() {
    let many: Vec<String> = (0..40)
        .map(|i| format!("</s{i}.css>; rel=preload; as=style"))
        .collect();
    let field = many.join(", ");
    let base = Url::parse(&format!("{ORIGIN}/")).unwrap();
    let hints = hints_of(&[field.as_bytes()], &base);
    assert_eq!(hints.len(), MAX_HINTS);
    assert_eq!(hints[0].as_str(), "</s0.css>; rel=preload; as=style");

    let long: Vec<String> = (0..16)
        .map(|i| format!("</{i}{}>; rel=preload; as=image", "x".repeat(400)))
        .collect();
    let field = long.join(", ");
    let hints = hints_of(&[field.as_bytes()], &base);
    let mut list = HintList::default();
    hints.into_iter().for_each(|h| list.push(h));
    assert!(list.field_value().len() <= MAX_HINTS_LEN);
    assert!(list.hints.len() < 16 && !list.hints.is_empty());

    let huge = format!("</{}>; rel=preload; as=image", "x".repeat(MAX_HINTS_LEN));
    assert!(hints_of(&[huge.as_bytes()], &base).is_empty());

    let twice = "</a.css>; rel=preload; as=style, </a.css>; rel=preload; as=style";
    assert_eq!(hints_of(&[twice.as_bytes()], &base).len(), 1);
}

#[test]
fn declared_hints_are_sent_for_their_target_path() {
    let set = declared(&[
        ("/new", "</static/app.css>; rel=preload; as=style"),
        ("/new", "<https://fonts.example>; rel=preconnect"),
        ("/other", "</o.css>; rel=preload; as=style"),
    ]);
    assert_eq!(set.len(), 3);
    let decision = early_hints(
        &Policy::default(),
        Some(&set),
        None,
        &redirect("/new?from=old"),
        0,
    );
    let EarlyHintsDecision::Send(hints) = decision else {
        panic!("{decision:?}")
    };
    assert_eq!(
        hints.link_value(),
        "</static/app.css>; rel=preload; as=style, <https://fonts.example>; rel=preconnect"
    );
    assert_eq!(hints.count(), 2);
    assert_eq!(hints.target_path(), "/new");
    assert_eq!(
        early_hints(&Policy::default(), Some(&set), None, &redirect("/none"), 0),
        EarlyHintsDecision::Skip(EarlyHintsSkip::NoHints)
    );
}

#[test]
fn bad_declarations_name_the_value() {
    let mut set = DeclaredHints::new();
    for (path, value, named) in [
        ("new", "</a.css>; rel=preload; as=style", "'new'"),
        (
            "//host/new",
            "</a.css>; rel=preload; as=style",
            "'//host/new'",
        ),
        ("/new?q=1", "</a.css>; rel=preload; as=style", "'/new?q=1'"),
        (
            "/new",
            "</a.css>; rel=stylesheet",
            "'</a.css>; rel=stylesheet'",
        ),
        (
            "/new",
            "<a.css>; rel=preload; as=style",
            "'<a.css>; rel=preload; as=style'",
        ),
        (
            "/new",
            "</a>; rel=preload; as=style, </b>; rel=preload; as=style",
            "'</a>",
        ),
        ("/new", "", "''"),
        (
            "/new",
            "<http://cdn.example/a.css>; rel=preload; as=style",
            "'<http:",
        ),
    ] {
        let error = set.add(path, value).unwrap_err().to_string();
        assert!(error.starts_with(named), "{path} {value}: {error}");
    }
    assert!(set.is_empty());
    set.add("/caf\u{e9} x", "</a.css>; rel=preload; as=style")
        .unwrap();
    assert_eq!(set.by_path[0].0, "/caf%C3%A9%20x");
}

#[test]
fn learned_hints_are_sent_for_a_redirect_to_that_page() {
    let cache = HintCache::new(CacheLimits::DEFAULT);
    let links: &[&[u8]] = &[
        b"</static/app.css>; rel=preload; as=style",
        b"</favicon.ico>; rel=icon, <https://cdn.example>; rel=preconnect",
    ];
    assert_eq!(
        cache.learn(&Policy::default(), &page("/new?x=1", links), 100),
        2
    );
    let policy = Policy::default();
    assert_eq!(
        sent(early_hints(
            &policy,
            None,
            Some(&cache),
            &redirect("/new"),
            101
        )),
        "</static/app.css>; rel=preload; as=style, <https://cdn.example>; rel=preconnect"
    );
    // Declared first, duplicates once.
    let set = declared(&[
        ("/new", "</d.js>; rel=preload; as=script"),
        ("/new", "</static/app.css>; rel=preload; as=style"),
    ]);
    assert_eq!(
        sent(early_hints(&policy, Some(&set), Some(&cache), &redirect("/new"), 101)),
        "</d.js>; rel=preload; as=script, </static/app.css>; rel=preload; as=style, <https://cdn.example>; rel=preconnect"
    );
    // Another host's page is another entry.
    let other_host = Exchange {
        host: Some(b"other.example:8443"),
        ..redirect("/new")
    };
    assert_eq!(
        early_hints(&policy, None, Some(&cache), &other_host, 101),
        EarlyHintsDecision::Skip(EarlyHintsSkip::NoHints)
    );
    // The page drops its links: the entry is forgotten.
    assert_eq!(cache.learn(&policy, &page("/new", &[]), 102), 0);
    assert!(cache.is_empty());
}

#[test]
fn what_is_not_learned() {
    let cache = HintCache::new(CacheLimits::DEFAULT);
    let links: &[&[u8]] = &[b"</a.css>; rel=preload; as=style"];
    let policy = Policy::default();
    let cases = [
        Exchange {
            status: 404,
            ..page("/p", links)
        },
        Exchange {
            status: 302,
            ..page("/p", links)
        },
        Exchange {
            method: b"HEAD",
            ..page("/p", links)
        },
        Exchange {
            has_cookie: true,
            ..page("/p", links)
        },
        Exchange {
            has_authorization: true,
            ..page("/p", links)
        },
        page("*", links),
    ];
    for ex in cases {
        assert_eq!(cache.learn(&policy, &ex, 0), 0, "{ex:?}");
    }
    assert!(cache.is_empty());
    let with_credentials = Policy {
        with_credentials: true,
        ..Policy::default()
    };
    let cookie = Exchange {
        has_cookie: true,
        ..page("/p", links)
    };
    assert_eq!(cache.learn(&with_credentials, &cookie, 0), 1);
    let off = HintCache::new(CacheLimits {
        entries: 0,
        lifetime_secs: 1,
    });
    assert_eq!(off.learn(&policy, &page("/p", links), 0), 0);
    assert!(off.is_empty());
}

#[test]
fn the_cache_is_bounded_and_entries_expire() {
    let cache = HintCache::new(CacheLimits {
        entries: 2,
        lifetime_secs: 10,
    });
    let policy = Policy::default();
    let links: &[&[u8]] = &[b"</a.css>; rel=preload; as=style"];
    cache.learn(&policy, &page("/one", links), 0);
    cache.learn(&policy, &page("/two", links), 1);
    cache.learn(&policy, &page("/three", links), 2);
    assert_eq!(cache.len(), 2);
    let hinted = |path: &'static str, now| {
        matches!(
            early_hints(&policy, None, Some(&cache), &redirect(path), now),
            EarlyHintsDecision::Send(_)
        )
    };
    assert!(!hinted("/one", 3), "the oldest entry was evicted");
    assert!(hinted("/two", 3) && hinted("/three", 3));
    assert!(hinted("/two", 10), "learned at 1, good until 11");
    assert!(!hinted("/two", 11), "expired");
    assert_eq!(cache.len(), 1, "an expired entry is dropped when looked up");
    // Relearning refreshes an entry; a full cache drops expired ones first.
    cache.learn(&policy, &page("/three", links), 20);
    cache.learn(&policy, &page("/four", links), 21);
    assert_eq!(cache.len(), 2);
    assert!(hinted("/three", 25) && hinted("/four", 25));
}

#[test]
fn eviction_is_in_store_order_within_one_second() {
    let cache = HintCache::new(CacheLimits {
        entries: 3,
        lifetime_secs: 10,
    });
    let policy = Policy::default();
    let links: &[&[u8]] = &[b"</a.css>; rel=preload; as=style"];
    for path in ["/p1", "/p2", "/p3", "/p4", "/p5"] {
        cache.learn(&policy, &page(path, links), 7);
    }
    let hinted = |path: &'static str| {
        matches!(
            early_hints(&policy, None, Some(&cache), &redirect(path), 7),
            EarlyHintsDecision::Send(_)
        )
    };
    assert!(!hinted("/p1") && !hinted("/p2"));
    assert!(hinted("/p3") && hinted("/p4") && hinted("/p5"));
}

#[test]
fn the_cache_is_shared_by_threads() {
    let cache = Arc::new(HintCache::new(CacheLimits {
        entries: 64,
        lifetime_secs: 100,
    }));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let cache = Arc::clone(&cache);
            std::thread::spawn(move || {
                let policy = Policy::default();
                for i in 0..200 {
                    let path: &'static str =
                        Box::leak(format!("/p{}", (t * 7 + i) % 100).into_boxed_str());
                    let links: &[&[u8]] = &[b"</a.css>; rel=preload; as=style"];
                    cache.learn(&policy, &page(path, links), i);
                    early_hints(&policy, None, Some(&cache), &redirect(path), i);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert!(cache.len() <= 64);
}

#[test]
fn which_redirects_get_a_103() {
    let set = declared(&[("/new", "</a.css>; rel=preload; as=style")]);
    let policy = Policy::default();
    let run = |ex: &Exchange<'_>, policy: &Policy<'_>| early_hints(policy, Some(&set), None, ex, 0);
    let skip = |s| EarlyHintsDecision::Skip(s);
    // Push refused and credentials present do not matter here.
    let browser = Exchange {
        has_cookie: true,
        ..redirect("/new")
    };
    assert!(matches!(
        run(&browser, &policy),
        EarlyHintsDecision::Send(_)
    ));
    let http1 = Exchange {
        http2: false,
        ..redirect("/new")
    };
    assert_eq!(run(&http1, &policy), skip(EarlyHintsSkip::NotHttp2));
    let pushed = Exchange {
        pushed_stream: true,
        ..redirect("/new")
    };
    assert_eq!(run(&pushed, &policy), skip(EarlyHintsSkip::PushedStream));
    for (ex, reason) in [
        (redirect("https://other.example/new"), Reason::CrossOrigin),
        (redirect("/old"), Reason::SelfRedirect),
        (
            Exchange {
                opt_out_env: true,
                ..redirect("/new")
            },
            Reason::OptOut,
        ),
        (
            Exchange {
                method: b"POST",
                ..redirect("/new")
            },
            Reason::Method,
        ),
        (redirect(""), Reason::NoLocation),
    ] {
        assert_eq!(run(&ex, &policy), skip(EarlyHintsSkip::Rule(reason)));
    }
    let mut excludes = ExcludeSet::new();
    excludes.add("^/new").unwrap();
    let excluding = Policy {
        excludes: Some(&excludes),
        ..Policy::default()
    };
    assert_eq!(
        run(&redirect("/new"), &excluding),
        skip(EarlyHintsSkip::Rule(Reason::Excluded))
    );
    let not_redirect = Exchange {
        status: 200,
        ..redirect("/new")
    };
    assert_eq!(run(&not_redirect, &policy), EarlyHintsDecision::NotRedirect);
    assert_eq!(EarlyHintsSkip::Rule(Reason::OptOut).as_str(), "opt-out");
    assert_eq!(EarlyHintsSkip::NoHints.as_str(), "no-hints");
}

#[test]
fn cache_limits_parse() {
    assert_eq!(
        CacheLimits::parse(" 10\t60 ").unwrap(),
        CacheLimits {
            entries: 10,
            lifetime_secs: 60
        }
    );
    assert_eq!(CacheLimits::parse("0 1").unwrap().entries, 0);
    for (args, named) in [
        ("x 60", "'x'"),
        ("-1 60", "'-1'"),
        ("+5 60", "'+5'"),
        ("1000001 60", "'1000001'"),
        ("10 0", "'0'"),
        ("10 1e3", "'1e3'"),
        ("10 604801", "'604801'"),
        ("10", "'10' is not two numbers"),
        ("10 20 30", "'10 20 30'"),
        ("", "''"),
    ] {
        let error = CacheLimits::parse(args).unwrap_err().to_string();
        assert!(error.starts_with(named), "{error}");
    }
}
