use super::*;
use crate::config::ExcludeSet;
use crate::exchange::Reason;
use crate::hints::{hints_of, Hint, HintList, MAX_HINTS, MAX_HINTS_LEN};
use crate::link::link_values;
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

fn hint(value: &str) -> Option<String> {
    let base = Url::parse(&format!("{ORIGIN}/dir/page")).unwrap();
    let mut values = link_values(value.as_bytes());
    let (reference, raw) = values.next()?;
    Hint::parse(reference, raw, &base).map(|h| h.value)
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

/// The URL standard lets a host hold `"`: an origin that could not stand
/// in a `Link` is no preconnect, as such a URL is no preload (found by the
/// `respond` fuzz target, from a page's `<script src=//"/h.js>`).
#[test]
fn a_preconnect_to_an_origin_a_link_cannot_hold_is_dropped() {
    for value in [
        r#"<https://"/x>; rel=preconnect"#,
        r#"<https://a"b.example>; rel=preconnect"#,
        r#"<https://"/x>; rel=preload; as=script"#,
    ] {
        assert_eq!(hint(value), None, "{value}");
    }
    let page = Url::parse("https://example.com/p").unwrap();
    let hints = hints_of(&[&br#"<//"/h.js>; rel=preconnect"#[..]], &page);
    assert!(hints.is_empty(), "{hints:?}");
}

#[test]
fn modulepreloads_are_kept_to_the_same_origin_only() {
    assert_eq!(
        hint("</js/app.mjs>; rel=modulepreload").as_deref(),
        Some("</js/app.mjs>; rel=modulepreload")
    );
    assert_eq!(
        hint("<app.mjs?v=2#x>; REL=ModulePreload; as=script; crossorigin=use-credentials")
            .as_deref(),
        Some("</dir/app.mjs?v=2>; rel=modulepreload; crossorigin=use-credentials")
    );
    assert_eq!(
        hint("<https://example.com:8443/a.mjs>; rel=modulepreload; crossorigin").as_deref(),
        Some("</a.mjs>; rel=modulepreload; crossorigin")
    );
    for value in [
        "<https://cdn.example/a.mjs>; rel=modulepreload",
        "<http://example.com:8443/a.mjs>; rel=modulepreload",
        "</.//evil.example/a.mjs>; rel=modulepreload",
        "</%zz.mjs>; rel=modulepreload",
        "<data:text/javascript,x>; rel=modulepreload",
    ] {
        assert_eq!(hint(value), None, "{value}");
    }
    // Preload wins over modulepreload in one rel list, as over preconnect.
    assert_eq!(
        hint("</a.js>; rel=\"modulepreload preload\"; as=script").as_deref(),
        Some("</a.js>; rel=preload; as=script")
    );
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
        early_hints(&Policy::default(), Some(&set), None, &redirect("/none")),
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
fn which_redirects_get_a_103() {
    let set = declared(&[("/new", "</a.css>; rel=preload; as=style")]);
    let policy = Policy::default();
    let run = |ex: &Exchange<'_>, policy: &Policy<'_>| early_hints(policy, Some(&set), None, ex);
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
fn http1_1_gets_one_only_where_early_hints_http1_is_on_and_http1_0_never() {
    let set = declared(&[("/new", "</static/app.css>; rel=preload; as=style")]);
    let run = |ex: &Exchange<'_>, policy: &Policy<'_>| early_hints(policy, Some(&set), None, ex);
    let skip = |s| EarlyHintsDecision::Skip(s);
    let http1 = Policy {
        early_hints_http1: true,
        ..Policy::default()
    };
    let h1_1 = Exchange {
        http2: false,
        ..redirect("/new")
    };
    let h1_0 = Exchange {
        http1_0: true,
        ..h1_1
    };
    assert_eq!(
        run(&h1_1, &Policy::default()),
        skip(EarlyHintsSkip::NotHttp2)
    );
    assert_eq!(
        run(&h1_0, &Policy::default()),
        skip(EarlyHintsSkip::NotHttp2)
    );
    match run(&h1_1, &http1) {
        EarlyHintsDecision::Send(hints) => {
            assert_eq!(
                hints.link_value(),
                "</static/app.css>; rel=preload; as=style"
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(run(&h1_0, &http1), skip(EarlyHintsSkip::Http1_0));
    assert_eq!(EarlyHintsSkip::Http1_0.as_str(), "http1.0");
    // HTTP/2 is as it was.
    assert!(matches!(
        run(&redirect("/new"), &http1),
        EarlyHintsDecision::Send(_)
    ));
    // Every other gate and rule holds over HTTP/1.1: navigations only, the
    // TLS rule, the opt-out, the target's rules.
    let fetch = Exchange {
        sec_fetch_mode: Some(b"cors"),
        ..h1_1
    };
    assert_eq!(run(&fetch, &http1), skip(EarlyHintsSkip::NotNavigation));
    let navigation = Exchange {
        sec_fetch_mode: Some(b"navigate"),
        sec_fetch_dest: Some(b"document"),
        ..h1_1
    };
    assert!(matches!(
        run(&navigation, &http1),
        EarlyHintsDecision::Send(_)
    ));
    for (ex, reason) in [
        (
            Exchange {
                scheme: b"http",
                ..h1_1
            },
            Reason::Insecure,
        ),
        (
            Exchange {
                opt_out_env: true,
                ..h1_1
            },
            Reason::OptOut,
        ),
        (
            Exchange {
                http2: false,
                ..redirect("https://other.example/new")
            },
            Reason::CrossOrigin,
        ),
    ] {
        assert_eq!(run(&ex, &http1), skip(EarlyHintsSkip::Rule(reason)));
    }
}
