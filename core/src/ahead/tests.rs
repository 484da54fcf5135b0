use std::collections::HashMap;
use std::sync::Arc;

use super::*;
use crate::config::ExcludeSet;
use crate::declared::DeclaredHints;
use crate::learn::{Provider, Store};
use crate::navigation::FetchMetadata;
use crate::record::{Record, RecordKey};
use crate::respond::Switch;

const NAME: &[u8] = b"www.example.com";
const CSS: &str = "</s/app.css>; rel=preload; as=style";
const JS: &str = "</s/app.js>; rel=preload; as=script";

/// A browser's GET over HTTP/2 and TLS for `target`, before any response.
fn get(target: &'static str) -> Exchange<'static> {
    Exchange {
        method: b"GET",
        scheme: b"https",
        host: Some(b"www.example.com"),
        request_target: target.as_bytes(),
        http2: true,
        ..Exchange::default()
    }
}

const NAVIGATE: FetchMetadata<'static> = FetchMetadata {
    mode: Some(b"navigate"),
    dest: Some(b"document"),
};

fn page(lines: &[&str]) -> Record {
    let mut bytes = b"pr1 h\n".to_vec();
    for line in lines {
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
    }
    Record::parse(&bytes).unwrap()
}

fn redirect(target: &str) -> Record {
    Record::redirect(target).unwrap()
}

/// `settings` with both switches of the 103 ahead on.
fn on<'a>(settings: &Settings<'a>) -> Settings<'a> {
    Settings {
        early_hints: Switch::On,
        ahead: Switch::On,
        ..*settings
    }
}

fn with<'a>(ex: &Exchange<'a>, fetch: FetchMetadata<'a>) -> Exchange<'a> {
    Exchange {
        sec_fetch_mode: fetch.mode,
        sec_fetch_dest: fetch.dest,
        ..*ex
    }
}

struct Case {
    records: HashMap<RecordKey, Record>,
    lookups: usize,
}

impl Case {
    fn new(records: &[(&str, Record)]) -> Case {
        let records = records
            .iter()
            .map(|(path, r)| {
                (
                    RecordKey::new(NAME, 443, path.as_bytes()).unwrap(),
                    r.clone(),
                )
            })
            .collect();
        Case {
            records,
            lookups: 0,
        }
    }

    fn ahead(&mut self, settings: &Settings<'_>, ex: &Exchange<'_>, fetch: FetchMetadata) -> Ahead {
        let records = &self.records;
        let lookups = &mut self.lookups;
        let mut lookup = |target: &[u8]| {
            *lookups += 1;
            records
                .get(&RecordKey::new(NAME, 443, target)?)
                .cloned()
                .map(Arc::new)
        };
        ahead_with(&on(settings), &with(ex, fetch), &mut lookup, &mut |_| true)
    }

    fn sent(&mut self, target: &'static str) -> String {
        match self.ahead(&Settings::default(), &get(target), NAVIGATE) {
            Ahead::Send(hints) => hints.link_value().to_owned(),
            other => panic!("expected a 103, got {other:?}"),
        }
    }

    fn skipped(
        &mut self,
        settings: &Settings<'_>,
        ex: &Exchange<'_>,
        fetch: FetchMetadata,
    ) -> &'static str {
        match self.ahead(settings, ex, fetch) {
            Ahead::Skip(skip) => skip.as_str(),
            other => panic!("expected a skip, got {other:?}"),
        }
    }
}

#[test]
fn off_unless_both_switches_are_on() {
    let mut case = Case::new(&[("/p", page(&[CSS]))]);
    for (early_hints, ahead) in [
        (Switch::Unset, Switch::Unset),
        (Switch::On, Switch::Unset),
        (Switch::On, Switch::Off),
        (Switch::Unset, Switch::On),
        (Switch::Off, Switch::On),
    ] {
        let mut lookup = |_: &[u8]| -> Option<Arc<Record>> { panic!("no lookup when off") };
        let settings = Settings {
            early_hints,
            ahead,
            ..Settings::default()
        };
        let answer = ahead_with(&settings, &get("/p"), &mut lookup, &mut |_| true);
        assert_eq!(answer, Ahead::Off, "{early_hints:?} {ahead:?}");
    }
    assert_eq!(case.sent("/p"), CSS);
}

#[test]
fn a_learned_page_sends_its_hints_declared_first() {
    let mut case = Case::new(&[("/p", page(&[JS]))]);
    let mut declared = DeclaredHints::new();
    declared.add("/p", CSS).unwrap();
    let settings = Settings {
        declared: Some(&declared),
        ..Settings::default()
    };
    match case.ahead(&settings, &get("/p?x=1"), NAVIGATE) {
        Ahead::Send(hints) => {
            assert_eq!(hints.link_value(), format!("{CSS}, {JS}"));
            assert_eq!(hints.target_path(), "/p");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_learned_page_without_hints_sends_declared_ones_or_nothing() {
    let mut case = Case::new(&[("/p", page(&[]))]);
    assert_eq!(
        case.skipped(&Settings::default(), &get("/p"), NAVIGATE),
        "no-hints"
    );
    let mut declared = DeclaredHints::new();
    declared.add("/p", CSS).unwrap();
    let settings = Settings {
        declared: Some(&declared),
        ..Settings::default()
    };
    assert!(matches!(
        case.ahead(&settings, &get("/p"), NAVIGATE),
        Ahead::Send(_)
    ));
}

#[test]
fn nothing_learned_sends_nothing_whatever_is_declared() {
    let mut case = Case::new(&[]);
    let mut declared = DeclaredHints::new();
    declared.add("/p", CSS).unwrap();
    let settings = Settings {
        declared: Some(&declared),
        ..Settings::default()
    };
    assert_eq!(case.skipped(&settings, &get("/p"), NAVIGATE), "no-hints");
    assert_eq!(case.lookups, 1);
}

#[test]
fn a_learned_redirect_sends_the_hints_of_the_page_its_chain_ends_on() {
    let mut case = Case::new(&[
        ("/c1", redirect("/c2")),
        ("/c2", redirect("/page.html")),
        ("/page.html", page(&[CSS])),
    ]);
    assert_eq!(case.sent("/c1"), CSS);
    // As the 103 at the redirect would: the same chain, the same value.
    let records = case.records.clone();
    let mut lookup = |target: &[u8]| {
        records
            .get(&RecordKey::new(NAME, 443, target)?)
            .cloned()
            .map(Arc::new)
    };
    let ex = Exchange {
        scheme: b"https",
        host: Some(b"www.example.com"),
        request_target: b"/c1",
        ..Exchange::default()
    };
    let mut requested = Requested::of(&ex).unwrap();
    let at_redirect = crate::chain::follow(&mut requested, "/c2", &mut lookup)
        .early_hints(None, &Settings::default().policy(), &mut |_| true)
        .unwrap();
    assert_eq!(at_redirect.link_value(), CSS);
}

#[test]
fn chains_of_four_hops_are_followed_and_longer_ones_are_not() {
    // /start's own redirect is hop 1.
    let mut records = vec![("/start".to_owned(), redirect("/h1"))];
    for i in 1..5 {
        records.push((format!("/h{i}"), redirect(&format!("/h{}", i + 1))));
    }
    records.push(("/h5".to_owned(), page(&[CSS])));
    let borrowed: Vec<(&str, Record)> = records
        .iter()
        .map(|(p, r)| (p.as_str(), r.clone()))
        .collect();
    let mut case = Case::new(&borrowed);
    // /start -> /h1 -> /h2 -> /h3 -> /h4 -> /h5: five hops, one too many.
    assert_eq!(
        case.skipped(&Settings::default(), &get("/start"), NAVIGATE),
        "no-hints"
    );
    // From /h1 it is four.
    assert_eq!(case.sent("/h1"), CSS);
}

#[test]
fn lookups_are_bounded() {
    let mut case = Case::new(&[
        ("/s?q", redirect("/a?q")),
        ("/a", redirect("/b?q")),
        ("/b", redirect("/c?q")),
        ("/c", redirect("/d?q")),
        ("/d", redirect("/e?q")),
        ("/e", page(&[CSS])),
    ]);
    case.skipped(&Settings::default(), &get("/s?q"), NAVIGATE);
    assert!(
        case.lookups <= 2 * (crate::chain::MAX_HOPS + 1),
        "{}",
        case.lookups
    );
}

#[test]
fn a_learned_loop_sends_nothing() {
    let mut case = Case::new(&[("/a", redirect("/b")), ("/b", redirect("/a"))]);
    assert_eq!(
        case.skipped(&Settings::default(), &get("/a"), NAVIGATE),
        "no-hints"
    );
}

#[test]
fn a_learned_redirect_is_read_as_a_location() {
    let mut case = Case::new(&[("/a", redirect("/a")), ("/x", redirect("/logout"))]);
    assert_eq!(
        case.skipped(&Settings::default(), &get("/a"), NAVIGATE),
        "self"
    );
    let mut set = ExcludeSet::new();
    set.add("^/logout").unwrap();
    let settings = Settings {
        excludes: Some(&set),
        ..Settings::default()
    };
    assert_eq!(case.skipped(&settings, &get("/x"), NAVIGATE), "excluded");
}

#[test]
fn the_gates_of_the_103_in_their_order() {
    let mut case = Case::new(&[("/p", page(&[CSS]))]);
    let d = Settings::default();
    let ex = |f: fn(&mut Exchange<'static>)| {
        let mut ex = get("/p");
        f(&mut ex);
        ex
    };
    let cors = FetchMetadata {
        mode: Some(b"cors"),
        dest: Some(b"empty"),
    };
    assert_eq!(
        case.skipped(&d, &ex(|e| e.http2 = false), cors),
        "not-http2"
    );
    assert_eq!(
        case.skipped(&d, &ex(|e| e.pushed_stream = true), cors),
        "pushed-stream"
    );
    assert_eq!(
        case.skipped(&d, &ex(|e| e.opt_out_env = true), cors),
        "not-navigation"
    );
    assert_eq!(
        case.skipped(&d, &ex(|e| e.opt_out_env = true), NAVIGATE),
        "opt-out"
    );
    assert_eq!(
        case.skipped(&d, &ex(|e| e.method = b"HEAD"), NAVIGATE),
        "method"
    );
    assert_eq!(
        case.skipped(&d, &ex(|e| e.scheme = b"http"), NAVIGATE),
        "insecure"
    );
    assert_eq!(
        case.skipped(&d, &ex(|e| e.request_target = b"*"), NAVIGATE),
        "bad-location"
    );
    assert_eq!(case.lookups, 0);
}

#[test]
fn over_http1_1_only_where_early_hints_http1_is_on_and_never_to_http1_0() {
    let mut case = Case::new(&[("/p", page(&[CSS]))]);
    let http1 = Settings {
        early_hints_http1: Switch::On,
        ..Settings::default()
    };
    let mut ex = get("/p");
    ex.http2 = false;
    assert_eq!(
        case.skipped(&Settings::default(), &ex, NAVIGATE),
        "not-http2"
    );
    match case.ahead(&http1, &ex, NAVIGATE) {
        Ahead::Send(hints) => assert_eq!(hints.link_value(), CSS),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        case.skipped(
            &http1,
            &ex,
            FetchMetadata {
                mode: Some(b"no-cors"),
                dest: Some(b"style")
            }
        ),
        "not-navigation"
    );
    ex.http1_0 = true;
    assert_eq!(case.skipped(&http1, &ex, NAVIGATE), "http1.0");
}

#[test]
fn plain_http_with_tls_not_required_and_credentials_still_get_one() {
    let mut case = Case::new(&[("/p", page(&[CSS]))]);
    let settings = Settings {
        require_tls: Switch::Off,
        ..Settings::default()
    };
    let mut ex = get("/p");
    ex.scheme = b"http";
    ex.has_cookie = true;
    ex.h2_push = false;
    assert!(matches!(
        case.ahead(&settings, &ex, FetchMetadata::default()),
        Ahead::Send(_)
    ));
}

#[test]
fn sec_fetch_combinations() {
    let mut case = Case::new(&[("/p", page(&[CSS]))]);
    let d = Settings::default();
    for (mode, dest, sent) in [
        (None, None, true),
        (Some(&b"navigate"[..]), None, true),
        (None, Some(&b"document"[..]), true),
        (Some(b"navigate"), Some(b"document"), true),
        (Some(b"navigate"), Some(b"iframe"), false),
        (Some(b"cors"), Some(b"document"), false),
        (Some(b"no-cors"), None, false),
        (None, Some(b"image"), false),
        (Some(b"Navigate"), None, false),
    ] {
        let answer = case.ahead(&d, &get("/p"), FetchMetadata { mode, dest });
        assert_eq!(matches!(answer, Ahead::Send(_)), sent, "{mode:?} {dest:?}");
    }
}

#[test]
fn another_virtual_host_learned_nothing_here() {
    // Through the store, as the shim calls it: the key's virtual host is
    // the one that answers.
    struct Bytes(HashMap<[u8; 32], Vec<u8>>);
    impl Provider for Bytes {
        fn fetch(&mut self, key: &[u8; 32]) -> Option<&[u8]> {
            self.0.get(key).map(Vec::as_slice)
        }
        fn put(&mut self, _: &[u8; 32], _: &[u8], _: u64) {
            unreachable!("nothing is written ahead of the handler");
        }
    }
    let key = RecordKey::new(NAME, 443, b"/p").unwrap();
    let mut bytes = Bytes(HashMap::from([(*key.as_bytes(), page(&[CSS]).to_bytes())]));
    let settings = on(&Settings::default());
    for (vhost, sent) in [(NAME, true), (&b"other.example"[..], false)] {
        let ex = Exchange {
            vhost,
            local_port: 443,
            ..get("/p")
        };
        let mut store = Store::new(&mut bytes, None, None, 0);
        let answer = ahead(&settings, &ex, Some(&mut store));
        assert_eq!(matches!(answer, Ahead::Send(_)), sent, "{answer:?}");
    }
    let answer = ahead(&settings, &get("/p"), None);
    assert_eq!(answer, Ahead::Skip(EarlyHintsSkip::NoHints), "no store");
}

#[test]
fn an_ahead_decision_is_the_103_decision_it_answers_and_counts_as() {
    assert_eq!(Ahead::Off.decision(), None, "nothing decided");
    let skip = EarlyHintsSkip::NoHints;
    assert_eq!(
        Ahead::Skip(skip).decision(),
        Some(EarlyHintsDecision::Skip(skip))
    );
    let hints = EarlyHints::from_link(CSS, 1, "/new").unwrap();
    assert_eq!(
        Ahead::Send(hints.clone()).decision(),
        Some(EarlyHintsDecision::Send(hints))
    );
}
