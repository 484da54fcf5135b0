//! Property tests of `respond` over sequences of responses against one
//! model of the shared cache (`invariants/store.rs`): a page is answered
//! (once or twice, its `Link` fields and its head's HTML generated, the
//! request and the response such that the page may or may not teach), then
//! the redirects of a chain to it, then a redirect to that chain. The 103
//! before the last redirect carries what docs/behaviour.md says the page
//! taught ("What is learned", "From the page's HTML", "Pages that may be
//! one visitor's", "Never learned from", "Only to a visitor who may fetch
//! the page"), after the scope's declared hints; a pushed last redirect
//! links each further hop ("Whole chains for push clients"). Every answer
//! on the way keeps the invariants of `invariants/respond.rs`.
//!
//! The expected hints are written here from the contract, not computed by
//! the core: each generated `Link` value and HTML element comes with the
//! hint it must become, or none.

mod invariants;

use invariants::respond::{page_path, respond_and_check};
use invariants::store::{FixedVisitor, Model};
use proptest::prelude::*;
use push_redirect_core::{
    Decision, DeclaredHints, EarlyHintsDecision, EarlyHintsSkip, Exchange, Settings, Switch,
};

/// The URLs a page is generated at (on https://example.com).
const PAGE_TARGETS: &[&str] = &[
    "/page",
    "/p?x=1",
    "/dir/a%20b.html",
    "/page.html?lang=en&v=2",
];

/// `Link` values a page sends, and the hint each must teach (`None`: it
/// teaches none). `{dir}` is the page's directory, `{cookie}` the value of
/// the cookie the page sets (or a value no cookie has), `%{hex}{okie}` the
/// same with its first byte percent-encoded.
const PAGE_LINKS: &[(&str, Option<&str>)] = &[
    (
        "</app.css>; rel=preload; as=style",
        Some("</app.css>; rel=preload; as=style"),
    ),
    (
        "<rel.js>; rel=preload; as=script",
        Some("<{dir}rel.js>; rel=preload; as=script"),
    ),
    (
        "<https://cdn.example/lib.js>; rel=preload; as=script; crossorigin",
        Some("<https://cdn.example/lib.js>; rel=preload; as=script; crossorigin"),
    ),
    (
        "<https://fonts.example>; rel=preconnect",
        Some("<https://fonts.example>; rel=preconnect"),
    ),
    (
        "</mod.js>; rel=modulepreload",
        Some("</mod.js>; rel=modulepreload"),
    ),
    (
        "</font.woff2>; rel=preload; as=font; crossorigin; type=\"font/woff2\"",
        Some("</font.woff2>; rel=preload; as=font; crossorigin; type=\"font/woff2\""),
    ),
    // Same origin: written as a path.
    (
        "<https://example.com/abs.css>; rel=preload; as=style",
        Some("</abs.css>; rel=preload; as=style"),
    ),
    // Parameters other than crossorigin and type are dropped.
    (
        "</x.js>; rel=preload; as=script; nopush; title=\"x\"",
        Some("</x.js>; rel=preload; as=script"),
    ),
    (
        "</api/{cookie}.json>; rel=preload; as=fetch",
        Some("</api/{cookie}.json>; rel=preload; as=fetch"),
    ),
    (
        "</e/%{hex}{okie}.json>; rel=preload; as=fetch",
        Some("</e/%{hex}{okie}.json>; rel=preload; as=fetch"),
    ),
    ("</s.css>; rel=stylesheet", None),
    ("</x.js>; rel=preload", None),
    ("</doc>; rel=preload; as=document", None),
    ("<http://cdn.example/x.js>; rel=preload; as=script", None),
    (
        "<https://u:p@cdn.example/x.js>; rel=preload; as=script",
        None,
    ),
    ("<https://cdn.example/m.js>; rel=modulepreload", None),
    ("<https://example.com>; rel=preconnect", None),
    ("</a\r\nX: 1>; rel=preload; as=script", None),
];

/// Elements of a page's head, and the hint each must teach.
const HEAD_PARTS: &[(&str, Option<&str>)] = &[
    (
        "<link rel=stylesheet href=\"/h.css\">",
        Some("</h.css>; rel=preload; as=style"),
    ),
    (
        "<script src=\"/h.js\"></script>",
        Some("</h.js>; rel=preload; as=script"),
    ),
    (
        "<script type=module src=\"/hm.js\"></script>",
        Some("</hm.js>; rel=modulepreload"),
    ),
    (
        "<link rel=preload href=\"/hp.woff2\" as=font crossorigin>",
        Some("</hp.woff2>; rel=preload; as=font; crossorigin"),
    ),
    (
        "<link rel=preconnect href=\"https://api.example\">",
        Some("<https://api.example>; rel=preconnect"),
    ),
    (
        "<link rel=stylesheet href=\"/app.css\">",
        Some("</app.css>; rel=preload; as=style"),
    ),
    ("<link rel=\"alternate stylesheet\" href=\"/alt.css\">", None),
    ("<link rel=stylesheet href=\"/print.css\" media=print>", None),
    ("<script nomodule src=\"/old.js\"></script>", None),
    ("<noscript><link rel=stylesheet href=\"/ns.css\"></noscript>", None),
    (
        "<script type=\"application/ld+json\">{\"x\": \"<link rel=stylesheet href=/fake.css>\"}</script>",
        None,
    ),
];

/// What follows the head: nothing in it teaches.
const BODY_TAIL: &str =
    "</head><body><link rel=stylesheet href=\"/late.css\"><script src=\"/late.js\"></script>";

/// `PushRedirectEarlyHint` lines for the pages' paths, each value as a 103
/// carries it.
const DECLARED: &[(&str, &str)] = &[
    ("/page", "</d1.css>; rel=preload; as=style"),
    ("/page", "</mod.js>; rel=modulepreload"),
    ("/p", "</d2.js>; rel=preload; as=script"),
    ("/dir/a%20b.html", "<https://cdn.example>; rel=preconnect"),
    ("/page.html", "</app.css>; rel=preload; as=style"),
];

/// Who asks for the page, as far as teaching goes ("Never learned from").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Asker {
    Anonymous,
    Cookie,
    Authorization,
    PushedStream,
    Head,
    /// A client certificate or a user Apache's authentication set.
    Authenticated,
}

/// Whether the page may be one visitor's ("Pages that may be one
/// visitor's").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Personal {
    No,
    /// It sets a cookie: the same value on both visits, or one each.
    SetsCookie {
        same_value: bool,
    },
    /// `Cache-Control: no-store, private`.
    Private,
}

/// The directives of the page's scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PageScope {
    /// `PushRedirectEarlyHints On`.
    EarlyHints,
    /// `PushRedirect On`, and the virtual host sends 103s elsewhere.
    PushWhereHintsGo,
    /// `PushRedirect On` alone: a 200 teaches nothing.
    PushOnly,
}

#[derive(Clone, Debug)]
struct Scenario {
    page: &'static str,
    links: Vec<usize>,
    head: Vec<usize>,
    html: bool,
    from_html: Switch,
    chunks: (usize, usize),
    asker: Asker,
    personal: Personal,
    visits: usize,
    scope: PageScope,
    hops: usize,
    declared: Vec<(&'static str, &'static str)>,
    visitor: Option<FixedVisitor>,
    push: bool,
    navigation: bool,
    other_vhost: bool,
    /// The last redirect comes over HTTP/1.1, with
    /// `PushRedirectEarlyHintsHTTP1 On`.
    http1: bool,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        (
            prop::sample::select(PAGE_TARGETS),
            prop::sample::subsequence((0..PAGE_LINKS.len()).collect::<Vec<_>>(), 0..6),
            prop::sample::subsequence((0..HEAD_PARTS.len()).collect::<Vec<_>>(), 0..5),
            prop::bool::weighted(0.8),
            prop_oneof![3 => Just(Switch::Unset), 1 => Just(Switch::On), 1 => Just(Switch::Off)],
            (0usize..400, 0usize..400),
        ),
        (
            prop_oneof![
                6 => Just(Asker::Anonymous),
                1 => prop::sample::select(&[
                    Asker::Cookie,
                    Asker::Authorization,
                    Asker::PushedStream,
                    Asker::Head,
                    Asker::Authenticated,
                ][..]),
            ],
            prop_oneof![
                3 => Just(Personal::No),
                1 => any::<bool>().prop_map(|same_value| Personal::SetsCookie { same_value }),
                1 => Just(Personal::Private),
            ],
            1usize..=2,
            prop_oneof![
                4 => Just(PageScope::EarlyHints),
                1 => Just(PageScope::PushWhereHintsGo),
                1 => Just(PageScope::PushOnly),
            ],
        ),
        (
            0usize..=2,
            prop::sample::subsequence(DECLARED, 0..3),
            prop_oneof![
                2 => Just(None),
                1 => (any::<bool>(), prop::option::of(any::<bool>())).prop_map(
                    |(may_fetch, stranger)| Some(FixedVisitor {
                        authenticated: false,
                        may_fetch,
                        stranger,
                    })
                ),
            ],
            any::<bool>(),
            prop::bool::weighted(0.9),
            prop::bool::weighted(0.1),
            prop::bool::weighted(0.2),
        ),
    )
        .prop_map(
            |(
                (page, links, head, html, from_html, chunks),
                (asker, personal, visits, scope),
                (hops, declared, visitor, push, navigation, other_vhost, http1),
            )| Scenario {
                page,
                links,
                head,
                html,
                from_html,
                chunks,
                asker,
                personal,
                visits,
                scope,
                hops,
                declared,
                visitor,
                push,
                navigation,
                other_vhost,
                http1,
            },
        )
}

/// A GET over HTTP/2 for `target` on https://example.com, answered on the
/// virtual host example.com:443.
fn exchange<'a>(status: i32, target: &'a str, locations: &'a [&'a [u8]]) -> Exchange<'a> {
    Exchange {
        status,
        method: b"GET",
        scheme: b"https",
        host: Some(b"example.com"),
        request_target: target.as_bytes(),
        http2: true,
        h2_push: true,
        locations,
        vhost: b"example.com",
        local_port: 443,
        ..Exchange::default()
    }
}

/// The directory of a page's path, with its final `/`.
fn directory(target: &str) -> &str {
    let path = page_path(target);
    &path[..=path.rfind('/').expect("a path")]
}

/// A template of the tables with this visit's values.
fn fill(template: &str, dir: &str, cookie: &str) -> String {
    template
        .replace("{dir}", dir)
        .replace("{cookie}", cookie)
        .replace("{hex}", &format!("{:02X}", cookie.as_bytes()[0]))
        .replace("{okie}", &cookie[1..])
}

/// Each hint once, in order.
fn push_new(list: &mut Vec<String>, hint: String) {
    if !list.contains(&hint) {
        list.push(hint);
    }
}

/// Runs one scenario and checks what the last redirect gets.
fn run(s: &Scenario) -> (Option<EarlyHintsDecision>, usize) {
    let mut declared = DeclaredHints::new();
    for (path, value) in &s.declared {
        declared.add(path, value).unwrap();
    }
    let declared = (!s.declared.is_empty()).then_some(&declared);
    let page_settings = Settings {
        push: match s.scope {
            PageScope::EarlyHints => Switch::Unset,
            _ => Switch::On,
        },
        early_hints: match s.scope {
            PageScope::EarlyHints => Switch::On,
            _ => Switch::Unset,
        },
        from_html: s.from_html,
        server_sends_hints: s.scope == PageScope::PushWhereHintsGo,
        declared,
        ..Settings::default()
    };
    let mut model = Model::new(None);
    let dir = directory(s.page);
    let mut taught: Vec<String> = Vec::new();
    for visit in 1..=s.visits {
        let cookie = match s.personal {
            Personal::SetsCookie { same_value: true } => "csrf-shared-value".to_owned(),
            Personal::SetsCookie { same_value: false } => format!("session-of-visit-{visit}"),
            _ => "not-a-cookie-value".to_owned(),
        };
        let links: Vec<String> = s
            .links
            .iter()
            .map(|&i| fill(PAGE_LINKS[i].0, dir, &cookie))
            .collect();
        let links: Vec<&[u8]> = links.iter().map(|l| l.as_bytes()).collect();
        let set_cookie = format!("sid={cookie}; Path=/; HttpOnly");
        let set_cookies: Vec<&[u8]> = match s.personal {
            Personal::SetsCookie { .. } => vec![set_cookie.as_bytes()],
            _ => vec![],
        };
        let cache_control: &[&[u8]] = match s.personal {
            Personal::Private => &[b"no-store, private"],
            _ => &[b"max-age=60"],
        };
        let mut body = String::from("<!doctype html><html><head><title>t</title>");
        for &i in &s.head {
            body.push_str(HEAD_PARTS[i].0);
        }
        body.push_str(BODY_TAIL);
        let (a, b) = (s.chunks.0.min(body.len()), s.chunks.1.min(body.len()));
        let (a, b) = (a.min(b), a.max(b));
        let chunks = [
            &body.as_bytes()[..a],
            &body.as_bytes()[a..b],
            &body.as_bytes()[b..],
        ];
        let page = Exchange {
            method: if s.asker == Asker::Head {
                b"HEAD"
            } else {
                b"GET"
            },
            has_cookie: s.asker == Asker::Cookie,
            has_authorization: s.asker == Asker::Authorization,
            pushed_stream: s.asker == Asker::PushedStream,
            links: &links,
            set_cookies: &set_cookies,
            cache_control,
            content_type: Some(if s.html {
                b"text/html; charset=utf-8"
            } else {
                b"application/json"
            }),
            ..exchange(200, s.page, &[])
        };
        model.visitor = (s.asker == Asker::Authenticated).then_some(FixedVisitor {
            authenticated: true,
            may_fetch: true,
            stranger: None,
        });
        respond_and_check(
            &page_settings,
            &s.declared,
            &page,
            Some(&mut model),
            &chunks,
        );
        // What this visit's response teaches, per the contract: its Link
        // values, then its head's, each once; no hint holding the value
        // of a cookie it sets.
        let mut hints: Vec<String> = Vec::new();
        for &i in &s.links {
            if let Some(hint) = PAGE_LINKS[i].1 {
                push_new(&mut hints, fill(hint, dir, &cookie));
            }
        }
        if s.html && s.from_html != Switch::Off {
            for &i in &s.head {
                if let Some(hint) = HEAD_PARTS[i].1 {
                    push_new(&mut hints, hint.to_owned());
                }
            }
        }
        if let Personal::SetsCookie { .. } = s.personal {
            // As sent or percent-decoded: both hold all but its first byte.
            hints.retain(|hint| !hint.contains(&cookie[1..]));
        }
        let teaches = s.asker == Asker::Anonymous && s.scope != PageScope::PushOnly;
        // A page that may be one visitor's teaches what two responses
        // agree on.
        taught = match (teaches, s.personal) {
            (false, _) => Vec::new(),
            (true, Personal::No) => hints,
            (true, _) if visit == 1 => Vec::new(),
            (true, _) => hints,
        };
    }
    // The redirects of the chain, from the last to the first, each
    // learned; the first hop's target comes last.
    model.visitor = None;
    let hops: Vec<String> = (1..=s.hops).map(|n| format!("/hop/{n}")).collect();
    let redirect_settings = Settings {
        push: Switch::On,
        early_hints: Switch::On,
        declared,
        ..Settings::default()
    };
    let mut next = s.page.to_owned();
    for hop in hops.iter().rev() {
        let location = [next.as_bytes()];
        let answer = respond_and_check(
            &redirect_settings,
            &s.declared,
            &exchange(302, hop, &location),
            Some(&mut model),
            &[],
        );
        assert!(answer.learn.is_some(), "{hop} -> {next} not learned");
        next = hop.clone();
    }
    // The redirect to the chain, for this visitor.
    model.visitor = s.visitor;
    let location = [next.as_bytes()];
    let last = Exchange {
        http2: !s.http1,
        sec_fetch_mode: Some(if s.navigation { b"navigate" } else { b"cors" }),
        sec_fetch_dest: Some(if s.navigation { b"document" } else { b"empty" }),
        vhost: if s.other_vhost {
            b"other.example"
        } else {
            b"example.com"
        },
        ..exchange(302, "/old", &location)
    };
    let last_settings = Settings {
        push: if s.push { Switch::On } else { Switch::Off },
        early_hints_http1: if s.http1 { Switch::On } else { Switch::Unset },
        ..redirect_settings
    };
    let answer = respond_and_check(&last_settings, &s.declared, &last, Some(&mut model), &[]);

    // The chain is the other virtual host's: nothing learned is known
    // here, and the redirect's own target is taken for the page.
    let (page, chain): (&str, Vec<String>) = if s.other_vhost {
        (next.as_str(), Vec::new())
    } else {
        let mut chain = hops.clone();
        chain.push(s.page.to_owned());
        (s.page, chain)
    };
    let page = page_path(page);
    let mut want: Vec<String> = Vec::new();
    for (path, value) in &s.declared {
        if *path == page {
            push_new(&mut want, (*value).to_owned());
        }
    }
    let may_fetch = s.visitor.map_or(true, |v| v.may_fetch_pages());
    if !s.other_vhost && may_fetch {
        for hint in taught {
            push_new(&mut want, hint);
        }
    }
    let expected = if !s.navigation {
        EarlyHintsDecision::Skip(EarlyHintsSkip::NotNavigation)
    } else if want.is_empty() {
        EarlyHintsDecision::Skip(EarlyHintsSkip::NoHints)
    } else {
        let sent = answer.early_hints.clone();
        match &sent {
            Some(EarlyHintsDecision::Send(hints)) => {
                assert_eq!(hints.link_value(), want.join(", "), "{s:?}");
                assert_eq!(hints.target_path(), page, "{s:?}");
            }
            other => panic!("{other:?}, but {want:?} were to be sent, for {s:?}"),
        }
        sent.unwrap()
    };
    assert_eq!(answer.early_hints.as_ref(), Some(&expected), "{s:?}");
    // The push, and each further hop learned.
    if s.push {
        assert!(
            matches!(&answer.push, Some(Decision::Push(p)) if p.path_and_query() == next),
            "{s:?}"
        );
        let further: Vec<String> = chain
            .iter()
            .skip(1)
            .map(|hop| format!("<{hop}>; as=document; rel=preload"))
            .collect();
        assert_eq!(answer.further_links, further, "{s:?}");
    }
    (answer.early_hints, answer.further_links.len())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

    #[test]
    fn a_redirect_gets_the_103_the_page_it_leads_to_taught(s in scenario()) {
        run(&s);
    }
}

/// The generator reaches 103s with learned hints and chains linked whole.
#[test]
fn generated_scenarios_send_hints_and_link_chains() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = scenario();
    let (mut sent, mut learned_sent, mut further) = (0, 0, 0);
    for _ in 0..200 {
        let s = strategy.new_tree(&mut runner).unwrap().current();
        let (early_hints, links) = run(&s);
        if let Some(EarlyHintsDecision::Send(hints)) = early_hints {
            sent += 1;
            let declared = s.declared.iter().filter(|(p, _)| *p == hints.target_path());
            learned_sent += usize::from(hints.count() > declared.count());
        }
        further += links;
    }
    assert!(
        sent >= 60 && learned_sent >= 40 && further >= 40,
        "{sent} 103s, {learned_sent} with learned hints, {further} further links"
    );
}
