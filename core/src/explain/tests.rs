use std::collections::HashMap;

use super::*;
use crate::config::ExcludeSet;
use crate::declared::DeclaredHints;
use crate::learn::{Provider, Store};
use crate::record::{RecordKey, WriteBudget};
use crate::respond::Switch;
use crate::tally::tests::Recorded;
use crate::tally::Event;

const NAME: &[u8] = b"www.example.com";
const CSS: &str = "</s/app.css>; rel=preload; as=style";
const JS: &str = "</s/app.js>; rel=preload; as=script";

/// The store's bytes, by key, and how many fetches it answered.
struct Bytes(HashMap<[u8; 32], Vec<u8>>, usize);

impl Provider for Bytes {
    fn fetch(&mut self, key: &[u8; 32]) -> Option<&[u8]> {
        self.1 += 1;
        self.0.get(key).map(Vec::as_slice)
    }

    fn put(&mut self, _: &[u8; 32], _: &[u8], _: u64) {
        unreachable!("explaining writes nothing");
    }
}

fn page(lines: &[&str]) -> Vec<u8> {
    let mut bytes = b"pr1 h\n".to_vec();
    for line in lines {
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
    }
    bytes
}

fn redirect(target: &str) -> Vec<u8> {
    format!("pr1 r\n{target}\n").into_bytes()
}

fn bytes(records: &[(&str, Vec<u8>)]) -> Bytes {
    Bytes(
        records
            .iter()
            .map(|(path, record)| {
                let key = RecordKey::new(NAME, 443, path.as_bytes()).unwrap();
                (*key.as_bytes(), record.clone())
            })
            .collect(),
        0,
    )
}

/// `target` asked about as the shim asks: the URL, the scheme and
/// authority of the request that asks, the virtual host.
fn navigation(target: &'static str) -> Exchange<'static> {
    Exchange {
        scheme: b"https",
        host: Some(b"www.example.com"),
        request_target: target.as_bytes(),
        vhost: NAME,
        local_port: 443,
        ..Exchange::default()
    }
}

fn hints_on() -> Settings<'static> {
    Settings {
        early_hints: Switch::On,
        ..Settings::default()
    }
}

fn ahead_on() -> Settings<'static> {
    Settings {
        ahead: Switch::On,
        ..hints_on()
    }
}

fn explained(settings: &Settings<'_>, target: &'static str, store: &mut Bytes) -> Explanation {
    let mut store = Store::new(store, None, None, 0);
    explain(settings, &navigation(target), Some(&mut store))
}

fn sent(explanation: &Explanation) -> (&str, &str, bool) {
    match &explanation.early_hints {
        Ok(preview) => (
            preview.hints.link_value(),
            preview.hints.target_path(),
            preview.ahead,
        ),
        Err(none) => panic!("no 103: {}", none.as_str()),
    }
}

fn none(explanation: &Explanation) -> &'static str {
    match &explanation.early_hints {
        Ok(preview) => panic!("a 103: {preview:?}"),
        Err(none) => none.as_str(),
    }
}

#[test]
fn an_unknown_url_has_no_record_no_chain_and_no_103() {
    let mut store = bytes(&[("/new", page(&[CSS]))]);
    let explanation = explained(&hints_on(), "/unknown", &mut store);
    assert_eq!(explanation.record_of, None);
    assert!(explanation.record.is_none());
    assert_eq!(explanation.hops, Vec::<String>::new());
    assert_eq!(explanation.chain_end, None);
    assert_eq!(none(&explanation), "not-learned");
    let explanation = explained(&ahead_on(), "/unknown", &mut store);
    assert_eq!(none(&explanation), "not-learned");
}

#[test]
fn a_learned_redirect_shows_its_chain_and_the_103_at_the_redirect() {
    let mut store = bytes(&[("/old", redirect("/new")), ("/new", page(&[CSS]))]);
    let explanation = explained(&hints_on(), "/old", &mut store);
    assert_eq!(explanation.record_of.as_deref(), Some("/old"));
    let record = explanation.record.as_deref().unwrap();
    assert_eq!(record.redirect_target(), Some("/new"));
    assert_eq!(explanation.hops, ["/new"]);
    assert_eq!(explanation.chain_end, Some(ChainEnd::Page));
    assert_eq!(sent(&explanation), (CSS, "/new", false));
    // Ahead of the handler where that is on: the same hints, sooner.
    let explanation = explained(&ahead_on(), "/old", &mut store);
    assert_eq!(sent(&explanation), (CSS, "/new", true));
    // Whatever the request that asks is, the answer is a fresh anonymous
    // navigation's: a GET over HTTP/2, without credentials.
    let asked = Exchange {
        method: b"POST",
        http2: false,
        has_cookie: true,
        sec_fetch_mode: Some(b"cors"),
        ..navigation("/old")
    };
    let mut s = Store::new(&mut store, None, None, 0);
    assert_eq!(
        sent(&explain(&hints_on(), &asked, Some(&mut s))),
        (CSS, "/new", false)
    );
}

#[test]
fn a_chain_of_learned_redirects_ends_on_its_last_page() {
    let mut store = bytes(&[
        ("/a", redirect("/b")),
        ("/b", redirect("/c?x=1")),
        ("/c", page(&[JS])),
    ]);
    let explanation = explained(&hints_on(), "/a", &mut store);
    assert_eq!(explanation.hops, ["/b", "/c?x=1"]);
    assert_eq!(explanation.chain_end, Some(ChainEnd::Page));
    assert_eq!(sent(&explanation), (JS, "/c", false));

    let mut store = bytes(&[("/a", redirect("/b")), ("/b", redirect("/a"))]);
    let explanation = explained(&hints_on(), "/a", &mut store);
    assert_eq!(explanation.hops, ["/b"]);
    assert_eq!(explanation.chain_end, Some(ChainEnd::Loop));
    assert_eq!(none(&explanation), "no-hints");

    let mut store = bytes(&[("/a", redirect("/b"))]);
    let explanation = explained(&hints_on(), "/a", &mut store);
    assert_eq!(explanation.chain_end, Some(ChainEnd::Unknown));
    assert_eq!(none(&explanation), "no-hints");
}

#[test]
fn a_learned_page_gets_a_103_only_ahead_of_the_handler() {
    let mut store = bytes(&[("/p", page(&[CSS, JS]))]);
    let explanation = explained(&hints_on(), "/p", &mut store);
    assert_eq!(
        explanation
            .record
            .as_deref()
            .unwrap()
            .hints()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(explanation.chain_end, None);
    assert_eq!(none(&explanation), "not-redirect");
    let explanation = explained(&ahead_on(), "/p", &mut store);
    assert_eq!(
        sent(&explanation),
        (&format!("{CSS}, {JS}")[..], "/p", true)
    );
}

#[test]
fn a_query_url_shows_its_paths_record_when_it_has_none_of_its_own() {
    let mut store = bytes(&[("/old", redirect("/new")), ("/new", page(&[CSS]))]);
    let explanation = explained(&hints_on(), "/old?utm=x", &mut store);
    assert_eq!(explanation.record_of.as_deref(), Some("/old"));
    assert_eq!(sent(&explanation), (CSS, "/new", false));
}

#[test]
fn the_reasons_why_none_would_go_out() {
    let mut store = bytes(&[("/old", redirect("/new")), ("/new", page(&[CSS]))]);
    // The directive is off here: the record and chain are still shown.
    let explanation = explained(&Settings::default(), "/old", &mut store);
    assert_eq!(none(&explanation), "off");
    assert_eq!(explanation.hops, ["/new"]);
    // Plain HTTP where TLS is required.
    let ex = Exchange {
        scheme: b"http",
        ..navigation("/old")
    };
    let mut s = Store::new(&mut store, None, None, 0);
    assert_eq!(none(&explain(&hints_on(), &ex, Some(&mut s))), "insecure");
    // An opt-out variable in the URL's scope.
    let ex = Exchange {
        opt_out_env: true,
        ..navigation("/old")
    };
    let mut s = Store::new(&mut store, None, None, 0);
    assert_eq!(none(&explain(&hints_on(), &ex, Some(&mut s))), "opt-out");
    // The target excluded.
    let mut excludes = ExcludeSet::new();
    excludes.add("^/new").unwrap();
    let settings = Settings {
        excludes: Some(&excludes),
        ..hints_on()
    };
    assert_eq!(none(&explained(&settings, "/old", &mut store)), "excluded");
    // A learned target on another origin cannot be: read back as untrusted.
    let mut store = bytes(&[("/old", b"pr1 r\nhttps://evil.example/\n".to_vec())]);
    let explanation = explained(&hints_on(), "/old", &mut store);
    assert!(explanation.record.is_none());
    assert_eq!(none(&explanation), "not-learned");
}

#[test]
fn declared_hints_come_first_and_are_counted() {
    let mut declared = DeclaredHints::new();
    declared.add("/new", JS).unwrap();
    let settings = Settings {
        declared: Some(&declared),
        ..hints_on()
    };
    let mut store = bytes(&[("/old", redirect("/new")), ("/new", page(&[CSS]))]);
    let explanation = explained(&settings, "/old", &mut store);
    assert_eq!(sent(&explanation).0, format!("{JS}, {CSS}"));
    let preview = explanation.early_hints.unwrap();
    assert_eq!((preview.hints.count(), preview.hints.declared()), (2, 1));
}

#[test]
fn without_a_store_nothing_is_learned() {
    let explanation = explain(&hints_on(), &navigation("/old"), None);
    assert!(explanation.record.is_none());
    assert_eq!(none(&explanation), "not-learned");
}

#[test]
fn its_lookups_count_as_any_others_where_the_budget_counts() {
    let mut store = bytes(&[("/old", redirect("/new")), ("/new", page(&[CSS]))]);
    let recorded = std::sync::Arc::new(Recorded::default());
    let budget = WriteBudget::default().with_tally(Box::new(recorded.clone()));
    let mut s = Store::new(&mut store, Some(&budget), None, 0);
    explain(&hints_on(), &navigation("/old?q"), Some(&mut s));
    // /old?q: none; /old: the redirect; /new: the page.
    assert_eq!(
        recorded.events(),
        [Event::LookupMissed, Event::LookupFound, Event::LookupFound]
    );
    assert_eq!(store.1, 3);
}

#[test]
fn json_strings_escape_what_json_and_html_must_not_see() {
    assert_eq!(json_string("/a"), "\"/a\"");
    assert_eq!(
        json_string("</script>\"\\\n\u{1}\u{2028}"),
        "\"\\u003c/script\\u003e\\\"\\\\\\n\\u0001\\u2028\""
    );
}

/// A store that answers no fetch.
struct Unanswering(usize);

impl Provider for Unanswering {
    fn fetch(&mut self, _: &[u8; 32]) -> Option<&[u8]> {
        self.0 += 1;
        None
    }

    fn put(&mut self, _: &[u8; 32], _: &[u8], _: u64) {
        unreachable!("explaining writes nothing");
    }

    fn all_answered(&self) -> bool {
        self.0 == 0
    }
}

#[test]
fn the_page_explains_without_counting_and_says_how_the_store_answered() {
    let mut store = bytes(&[("/old", redirect("/new")), ("/new", page(&[CSS]))]);
    let recorded = std::sync::Arc::new(Recorded::default());
    let budget = WriteBudget::default().with_tally(Box::new(recorded.clone()));
    let mut s = Store::new(&mut store, Some(&budget), None, 0);
    let (explanation, state) =
        explain_for_page(&hints_on(), &navigation("/old"), Some(&mut s), false);
    assert_eq!(sent(&explanation).1, "/new");
    assert_eq!(state, StoreState::Ok);
    assert!(s.budget.is_none(), "the budget is taken out");
    assert_eq!(recorded.events(), [], "its lookups are not counted");
    assert_eq!(store.1, 2);
    let mut silent = Unanswering(0);
    let mut s = Store::new(&mut silent, Some(&budget), None, 0);
    let (explanation, state) =
        explain_for_page(&hints_on(), &navigation("/old"), Some(&mut s), false);
    assert_eq!(none(&explanation), "not-learned");
    assert_eq!(state, StoreState::Unanswered);
    assert_eq!(recorded.events(), []);
}

#[test]
fn without_a_store_the_page_says_whether_it_is_backed_off() {
    for (backed_off, state, token) in [
        (false, StoreState::None, c"none"),
        (true, StoreState::BackedOff, c"backed-off"),
    ] {
        let (explanation, got) =
            explain_for_page(&hints_on(), &navigation("/old"), None, backed_off);
        assert_eq!(none(&explanation), "not-learned");
        assert_eq!((got, got.as_c_str()), (state, token));
    }
    assert_eq!(StoreState::Ok.as_c_str(), c"ok");
    assert_eq!(StoreState::Unanswered.as_c_str(), c"unanswered");
}
