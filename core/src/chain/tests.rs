use std::collections::HashMap;

use super::*;
use crate::config::ExcludeSet;
use crate::exchange::Exchange;
use crate::hints::{Hint, MAX_HINTS, MAX_HINTS_LEN};
use crate::record::RecordKey;

const NAME: &[u8] = b"www.example.com";
const PORT: u16 = 443;

fn url(path: &str) -> Url {
    Url::parse("https://www.example.com")
        .unwrap()
        .join(path)
        .unwrap()
}

fn requested() -> Url {
    url("/start")
}

/// The request for https://www.example.com/start.
fn start() -> Exchange<'static> {
    Exchange {
        scheme: b"https",
        host: Some(b"www.example.com"),
        request_target: b"/start",
        ..Exchange::default()
    }
}

/// A page's record with these hint lines.
fn page(lines: &[&str]) -> Vec<u8> {
    let mut bytes = b"pr1 h\n".to_vec();
    for line in lines {
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
    }
    assert!(Record::parse(&bytes).is_some(), "{lines:?}");
    bytes
}

fn redirect(target: &str) -> Vec<u8> {
    Record::redirect(target).unwrap().to_bytes()
}

/// The shared store as bytes by key, read back as the shim's lookup does:
/// parsed, untrusted. Counts the lookups.
struct Store {
    bytes: HashMap<RecordKey, Vec<u8>>,
    lookups: usize,
}

impl Store {
    fn new(records: &[(&str, Vec<u8>)]) -> Store {
        Store::of(NAME, records)
    }

    fn of(name: &[u8], records: &[(&str, Vec<u8>)]) -> Store {
        let bytes = records
            .iter()
            .map(|(path, bytes)| {
                let key = RecordKey::new(name, PORT, path.as_bytes()).unwrap();
                (key, bytes.clone())
            })
            .collect();
        Store { bytes, lookups: 0 }
    }

    fn follow(&mut self, first: &str) -> Chain {
        let bytes = &self.bytes;
        let lookups = &mut self.lookups;
        let mut lookup = |target: &[u8]| {
            *lookups += 1;
            let key = RecordKey::new(NAME, PORT, target)?;
            bytes.get(&key).and_then(|b| Record::parse(b)).map(Arc::new)
        };
        let ex = start();
        follow(&mut Requested::of(&ex).unwrap(), first, &mut lookup)
    }
}

fn paths(chain: &Chain) -> Vec<&str> {
    chain.hops().iter().map(String::as_str).collect()
}

/// The hints learned for the page the chain ends on.
fn learned_hints(chain: &Chain) -> &[Hint] {
    chain.final_page().unwrap().1.unwrap().hints().unwrap()
}

fn final_path(chain: &Chain) -> Option<&str> {
    chain.final_page().map(|(page, _)| page)
}

const CSS: &str = "</s/app.css>; rel=preload; as=style";
const JS: &str = "</s/app.js>; rel=preload; as=script";

#[test]
fn a_target_that_is_a_page_ends_the_chain_there() {
    let mut store = Store::new(&[("/h1", page(&[CSS]))]);
    let chain = store.follow("/h1");
    assert_eq!(paths(&chain), ["/h1"]);
    assert_eq!(final_path(&chain), Some("/h1"));
    assert_eq!(learned_hints(&chain)[0].as_str(), CSS);
    assert_eq!(store.lookups, 1);
}

#[test]
fn a_page_without_hints_is_a_page() {
    let mut store = Store::new(&[("/h1", redirect("/h2")), ("/h2", page(&[]))]);
    let chain = store.follow("/h1");
    assert_eq!(
        chain.end(),
        &End::Page(Arc::new(Record::page(vec![]).unwrap()))
    );
    assert_eq!(final_path(&chain), Some("/h2"));
}

fn hops(n: usize, last: Vec<u8>) -> Vec<(String, Vec<u8>)> {
    let mut records: Vec<(String, Vec<u8>)> = (1..n)
        .map(|i| (format!("/h{i}"), redirect(&format!("/h{}", i + 1))))
        .collect();
    records.push((format!("/h{n}"), last));
    records
}

fn store_of(records: &[(String, Vec<u8>)]) -> Store {
    let borrowed: Vec<(&str, Vec<u8>)> = records
        .iter()
        .map(|(p, b)| (p.as_str(), b.clone()))
        .collect();
    Store::new(&borrowed)
}

#[test]
fn four_hops_reach_the_page() {
    let mut store = store_of(&hops(4, page(&[CSS])));
    let chain = store.follow("/h1");
    assert_eq!(paths(&chain), ["/h1", "/h2", "/h3", "/h4"]);
    assert_eq!(final_path(&chain), Some("/h4"));
    assert!(store.lookups <= 2 * MAX_HOPS);
}

#[test]
fn a_fifth_hop_is_too_long_and_ends_on_no_page() {
    let mut records = hops(4, redirect("/h5"));
    records.push(("/h5".into(), page(&[CSS])));
    let mut store = store_of(&records);
    let chain = store.follow("/h1");
    assert_eq!(chain.end(), &End::TooLong);
    assert_eq!(paths(&chain), ["/h1", "/h2", "/h3", "/h4"]);
    assert_eq!(chain.final_page(), None);
    assert_eq!(
        chain.early_hints(None, &Policy::default(), &mut |_| true),
        Err(EarlyHintsSkip::NoHints)
    );
    // The lookups stop at the bound: /h5's record is never read.
    assert_eq!(store.lookups, 4);
    // The hops within the bound are still linked for a push client.
    let links = chain.further_links(&Policy::default(), &requested(), &[]);
    let linked: Vec<_> = links.iter().filter_map(HopLink::link_value).collect();
    assert_eq!(
        linked,
        [
            "</h2>; as=document; rel=preload",
            "</h3>; as=document; rel=preload",
            "</h4>; as=document; rel=preload",
        ]
    );
}

#[test]
fn a_loop_at_the_first_hop() {
    // The first target is the URL asked for (the callers skip it as `self`
    // before this; the chain sees a loop all the same).
    let mut store = Store::new(&[("/start", page(&[CSS]))]);
    let chain = store.follow("/start");
    assert_eq!(chain.end(), &End::Loop);
    assert!(chain.hops().is_empty());
    assert_eq!(store.lookups, 0);
}

#[test]
fn a_loop_at_the_second_hop() {
    for back in ["/start", "/h1"] {
        let mut store = Store::new(&[("/h1", redirect(back)), ("/start", page(&[CSS]))]);
        let chain = store.follow("/h1");
        assert_eq!(chain.end(), &End::Loop, "{back}");
        assert_eq!(paths(&chain), ["/h1"]);
        assert_eq!(chain.final_page(), None);
    }
}

#[test]
fn a_loop_at_the_third_hop() {
    for back in ["/start", "/h1", "/h2"] {
        let mut store = Store::new(&[("/h1", redirect("/h2")), ("/h2", redirect(back))]);
        let chain = store.follow("/h1");
        assert_eq!(chain.end(), &End::Loop, "{back}");
        assert_eq!(paths(&chain), ["/h1", "/h2"]);
        assert_eq!(
            chain.early_hints(None, &Policy::default(), &mut |_| true),
            Err(EarlyHintsSkip::NoHints)
        );
    }
}

#[test]
fn a_loop_at_the_fourth_hop() {
    let mut records = hops(3, redirect("/h2"));
    records.push(("/h4".into(), page(&[CSS])));
    let mut store = store_of(&records);
    let chain = store.follow("/h1");
    assert_eq!(chain.end(), &End::Loop);
    assert_eq!(paths(&chain), ["/h1", "/h2", "/h3"]);
    // The distinct hops before the loop closes are linked.
    let links = chain.further_links(&Policy::default(), &requested(), &[]);
    assert_eq!(links.len(), 2);
    assert!(links.iter().all(|l| l.linked.is_ok()));
}

#[test]
fn a_target_with_nothing_learned_is_taken_for_the_page() {
    let mut store = Store::new(&[("/h1", redirect("/h2"))]);
    let chain = store.follow("/h1");
    assert_eq!(chain.end(), &End::Unknown);
    assert_eq!(final_path(&chain), Some("/h2"));
    assert!(chain.final_page().unwrap().1.is_none());
    // Its declared hints are the page's.
    let mut declared = DeclaredHints::new();
    declared.add("/h1", JS).unwrap();
    declared.add("/h2", CSS).unwrap();
    let hints = chain
        .early_hints(Some(&declared), &Policy::default(), &mut |_| true)
        .unwrap();
    assert_eq!(hints.link_value(), CSS);
    assert_eq!(hints.target_path(), "/h2");
    assert_eq!(
        chain.early_hints(None, &Policy::default(), &mut |_| true),
        Err(EarlyHintsSkip::NoHints)
    );
}

#[test]
fn a_record_that_does_not_parse_mid_chain_is_no_record() {
    for garbage in [
        &b"pr1 r\nhttps://evil.example/x\n"[..],
        b"pr1 r\n/h3\r\n",
        b"pr1 h\n<https://evil.example/t.js>; rel=preload; as=script; evil\n",
        b"pr1 h\n</x.css>; rel=preload; as=style",
        b"pr2 r\n/h3\n",
        b"",
    ] {
        let mut store = Store::new(&[
            ("/h1", redirect("/h2")),
            ("/h2", garbage.to_vec()),
            ("/h3", page(&[CSS])),
        ]);
        let chain = store.follow("/h1");
        assert_eq!(chain.end(), &End::Unknown, "{garbage:?}");
        assert_eq!(paths(&chain), ["/h1", "/h2"]);
        assert_eq!(
            chain.early_hints(None, &Policy::default(), &mut |_| true),
            Err(EarlyHintsSkip::NoHints),
            "{garbage:?}"
        );
    }
}

#[test]
fn a_query_url_falls_back_to_its_path() {
    let mut store = Store::new(&[("/h1", redirect("/p?lang=en")), ("/p", page(&[CSS]))]);
    let chain = store.follow("/h1");
    assert_eq!(final_path(&chain), Some("/p?lang=en"));
    assert_eq!(learned_hints(&chain)[0].as_str(), CSS);
    // Its own record comes first.
    let mut store = Store::new(&[
        ("/h1", redirect("/p?lang=en")),
        ("/p", page(&[CSS])),
        ("/p?lang=en", page(&[JS])),
    ]);
    let chain = store.follow("/h1");
    assert_eq!(learned_hints(&chain)[0].as_str(), JS);
}

#[test]
fn another_virtual_hosts_records_are_not_followed() {
    let mut store = Store::of(b"other.example", &[("/h1", redirect("/h2"))]);
    let chain = store.follow("/h1");
    assert_eq!(chain.end(), &End::Unknown);
    assert_eq!(paths(&chain), ["/h1"]);
}

fn excluding(pattern: &str) -> ExcludeSet {
    let mut set = ExcludeSet::new();
    set.add(pattern).unwrap();
    set
}

fn excluded_by(set: &ExcludeSet) -> Policy<'_> {
    Policy {
        excludes: Some(set),
        ..Policy::default()
    }
}

#[test]
fn an_excluded_hop_hints_nothing_through_it() {
    let mut store = store_of(&hops(3, page(&[CSS])));
    let chain = store.follow("/h1");
    let set = excluding("^/h2$");
    let policy = excluded_by(&set);
    assert_eq!(
        chain.early_hints(None, &policy, &mut |_| true),
        Err(EarlyHintsSkip::Rule(Reason::Excluded))
    );
    // The excluded page itself too.
    let set = excluding("^/h3$");
    let policy = excluded_by(&set);
    assert_eq!(
        chain.early_hints(None, &policy, &mut |_| true),
        Err(EarlyHintsSkip::Rule(Reason::Excluded))
    );
}

#[test]
fn an_excluded_hop_is_not_linked_and_the_others_are() {
    let mut store = store_of(&hops(4, page(&[CSS])));
    let chain = store.follow("/h1");
    let set = excluding("^/h3$");
    let policy = excluded_by(&set);
    let links = chain.further_links(&policy, &requested(), &[]);
    let outcome: Vec<_> = links
        .iter()
        .map(|l| (l.target.as_str(), l.linked))
        .collect();
    assert_eq!(
        outcome,
        [
            ("/h2", Ok(())),
            ("/h3", Err(Reason::Excluded)),
            ("/h4", Ok(())),
        ]
    );
}

#[test]
fn a_hop_already_linked_by_the_response_is_not_linked_again() {
    let mut store = store_of(&hops(3, page(&[])));
    let chain = store.follow("/h1");
    // With or without nopush, relative or absolute, as rule 11 reads them.
    for field in [
        &b"</h2>; rel=preload; nopush"[..],
        b"<h2>; rel=preload",
        b"<https://www.example.com/h2>; rel=preload",
    ] {
        let links = chain.further_links(&Policy::default(), &requested(), &[field]);
        assert_eq!(links[0].linked, Err(Reason::AlreadyLinked), "{field:?}");
        assert_eq!(links[1].linked, Ok(()), "{field:?}");
    }
    // Another origin's /h2 is not ours.
    let field = &b"<https://cdn.example/h2>; rel=preload"[..];
    let links = chain.further_links(&Policy::default(), &requested(), &[field]);
    assert_eq!(links[0].linked, Ok(()));
}

#[test]
fn a_hop_equal_to_the_requested_url_or_an_earlier_hop_is_self() {
    // The chain never yields one (it stops at a loop); the rule holds on
    // its own for whatever hops it is given.
    let hops = ["/h1", "/start", "/h1", "/h3"].map(String::from);
    let links = further_links(&Policy::default(), &requested(), &[], &hops);
    let outcome: Vec<_> = links.iter().map(|l| l.linked).collect();
    assert_eq!(
        outcome,
        [Err(Reason::SelfRedirect), Err(Reason::SelfRedirect), Ok(())]
    );
}

#[test]
fn a_hop_to_another_origin_is_never_followed() {
    // Hops are same-origin paths: a record that names another origin is
    // no record, and its URL is taken for the page.
    for evil in [
        &b"pr1 r\nhttps://evil.example/h2\n"[..],
        b"pr1 r\nhttp://www.example.com/h2\n",
        b"pr1 r\n//evil.example/h2\n",
        b"pr1 r\n/.//evil.example/h2\n",
    ] {
        let mut store = Store::new(&[("/h1", evil.to_vec())]);
        let chain = store.follow("/h1");
        assert_eq!(paths(&chain), ["/h1"], "{evil:?}");
        assert_eq!(chain.end(), &End::Unknown, "{evil:?}");
    }
}

#[test]
fn at_most_four_links_in_all() {
    let hops: Vec<String> = (1..=8).map(|i| format!("/h{i}")).collect();
    let links = further_links(&Policy::default(), &requested(), &[], &hops);
    assert_eq!(links.len(), MAX_HOPS - 1);
}

#[test]
fn declared_hints_come_first_and_both_are_bounded() {
    let mut store = Store::new(&[("/h1", redirect("/h2?x=1")), ("/h2?x=1", page(&[JS, CSS]))]);
    let chain = store.follow("/h1");
    let mut declared = DeclaredHints::new();
    declared.add("/h2", CSS).unwrap();
    declared
        .add("/h2", "<https://fonts.example>; rel=preconnect")
        .unwrap();
    let hints = chain
        .early_hints(Some(&declared), &Policy::default(), &mut |_| true)
        .unwrap();
    assert_eq!(
        hints.link_value(),
        format!("{CSS}, <https://fonts.example>; rel=preconnect, {JS}")
    );
    assert_eq!(hints.count(), 3);
    assert_eq!(hints.target_path(), "/h2");

    // 16 declared and 16 learned: the first 16, the declared ones.
    let mut declared = DeclaredHints::new();
    let many: Vec<String> = (0..MAX_HINTS)
        .map(|i| format!("</d{i}.css>; rel=preload; as=style"))
        .collect();
    for line in &many {
        declared.add("/h2", line).unwrap();
    }
    let learned: Vec<String> = (0..MAX_HINTS)
        .map(|i| format!("</l{i}.js>; rel=preload; as=script"))
        .collect();
    let learned: Vec<&str> = learned.iter().map(String::as_str).collect();
    let mut store = Store::new(&[("/h1", redirect("/h2")), ("/h2", page(&learned))]);
    let chain = store.follow("/h1");
    let hints = chain
        .early_hints(Some(&declared), &Policy::default(), &mut |_| true)
        .unwrap();
    assert_eq!(hints.count(), MAX_HINTS);
    assert_eq!(hints.link_value(), many.join(", "));

    // Long hints: what does not fit in 4096 bytes is left out, declared
    // ones first in.
    let long = |name: &str| format!("</{name}{}.css>; rel=preload; as=style", "a".repeat(1000));
    let learned: Vec<String> = ["l0", "l1", "l2"].map(long).to_vec();
    let learned: Vec<&str> = learned.iter().map(String::as_str).collect();
    let mut declared = DeclaredHints::new();
    declared.add("/h2", &long("d")).unwrap();
    let mut store = Store::new(&[("/h1", redirect("/h2")), ("/h2", page(&learned))]);
    let chain = store.follow("/h1");
    let hints = chain
        .early_hints(Some(&declared), &Policy::default(), &mut |_| true)
        .unwrap();
    assert!(hints.link_value().len() <= MAX_HINTS_LEN);
    assert_eq!(hints.count(), 3);
    assert!(hints.link_value().starts_with("</da"));
    assert!(!hints.link_value().contains("/l2a"));
}

#[test]
fn the_103_at_the_redirect_follows_the_chain() {
    let mut store = Store::new(&[
        ("/h1", redirect("/h2")),
        ("/h2", redirect("/page.html")),
        ("/page.html", page(&[CSS])),
    ]);
    let bytes = &store.bytes;
    let lookups = &mut store.lookups;
    let mut lookup = |target: &[u8]| {
        *lookups += 1;
        let key = RecordKey::new(NAME, PORT, target)?;
        bytes.get(&key).and_then(|b| Record::parse(b)).map(Arc::new)
    };
    let ex = start();
    let hints = follow(&mut Requested::of(&ex).unwrap(), "/h1", &mut lookup)
        .early_hints(None, &Policy::default(), &mut |_| true)
        .unwrap();
    assert_eq!(hints.link_value(), CSS);
    assert_eq!(hints.target_path(), "/page.html");
}

#[test]
fn a_record_sent_as_it_was_joined_is_what_the_hint_list_makes() {
    let record = Record::parse(&page(&[CSS, JS, "<https://cdn.example>; rel=preconnect"])).unwrap();
    let sent = page_early_hints(None, "/page", Some(&record)).unwrap();
    let mut list = HintList::default();
    record
        .hints()
        .unwrap()
        .iter()
        .for_each(|h| list.push(h.clone()));
    assert_eq!(Some(sent), EarlyHints::from_hints(&list, 0, "/page"));
    // With declared hints for the path, both, declared first, once each.
    let mut declared = DeclaredHints::new();
    declared.add("/page", JS).unwrap();
    let sent = page_early_hints(Some(&declared), "/page", Some(&record)).unwrap();
    assert_eq!(
        sent.link_value(),
        format!("{JS}, {CSS}, <https://cdn.example>; rel=preconnect")
    );
    // Nothing learned, nothing declared: nothing to send.
    let empty = Record::page(vec![]).unwrap();
    assert_eq!(
        page_early_hints(None, "/page", Some(&empty)),
        Err(EarlyHintsSkip::NoHints)
    );
    assert_eq!(
        page_early_hints(None, "/page", None),
        Err(EarlyHintsSkip::NoHints)
    );
}
