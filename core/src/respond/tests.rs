use super::*;
use crate::chain::MAX_HOPS;
use crate::decide::decide;
use crate::early_hints::early_hints;
use crate::exchange::MAX_LOCATION_LEN;
use crate::learn::{Provider, Store, Visitor, FETCH_BUF_LEN};
use crate::record::{RecordKey, Settled, Strangers, WriteBudget, WriteRate, DEFAULT_LIFETIME_SECS};
use std::collections::HashMap;

/// A shared store standing in for mod_socache, counting its fetches.
#[derive(Default)]
struct Memory(HashMap<Vec<u8>, Vec<u8>>, usize);

impl Provider for Memory {
    fn fetch(&mut self, key: &[u8; 32]) -> Option<&[u8]> {
        self.1 += 1;
        self.0
            .get(&key[..])
            .map(Vec::as_slice)
            .filter(|value| value.len() <= FETCH_BUF_LEN)
    }

    fn put(&mut self, key: &[u8; 32], record: &[u8], _: u64) {
        self.0.insert(key.to_vec(), record.to_vec());
    }
}

/// Answers `ex` with a store over `memory`, which keeps what it learned.
fn respond_stored<'a>(
    settings: &Settings<'_>,
    ex: &Exchange<'a>,
    memory: &mut Memory,
    budget: &WriteBudget,
) -> Response<'a> {
    respond_stored_at(settings, ex, memory, budget, 0)
}

/// [`respond_stored`] at `now_ms`.
fn respond_stored_at<'a>(
    settings: &Settings<'_>,
    ex: &Exchange<'a>,
    memory: &mut Memory,
    budget: &WriteBudget,
    now_ms: u64,
) -> Response<'a> {
    let mut store = Store::new(memory, Some(budget), None, now_ms);
    respond(settings, ex, Some(&mut store))
}

/// A GET over HTTP/2 to https://example.com/old, push on, answered with
/// `status` and these Locations.
fn exchange(status: i32, locations: &'static [&'static [u8]]) -> Exchange<'static> {
    Exchange {
        status,
        method: b"GET",
        scheme: b"https",
        host: Some(b"example.com"),
        request_target: b"/old",
        http2: true,
        h2_push: true,
        locations,
        ..Exchange::default()
    }
}

fn settings(push: Switch, early_hints: Switch) -> Settings<'static> {
    Settings {
        push,
        early_hints,
        ..Settings::default()
    }
}

#[test]
fn unset_switches_take_the_contracts_defaults() {
    let policy = Settings::default().policy();
    assert!(policy.require_tls && !policy.with_credentials);
    assert_eq!(policy.statuses, StatusSet::DEFAULT);
    assert!(!Settings::default().push_on() && !Settings::default().early_hints_on());
    assert_eq!(Settings::default().step(Some(302)), Step::Inactive);
    let on = settings(Switch::On, Switch::Unset);
    assert_eq!(on.step(None), Step::Respond);
    assert_eq!(on.step(Some(302)), Step::Respond);
    assert_eq!(
        on.step(Some(200)),
        Step::StripOnly,
        "a 200 teaches only where a 103 can go out"
    );
    let marked = Settings {
        server_sends_hints: true,
        ..on
    };
    assert_eq!(marked.step(Some(200)), Step::Respond, "a 200 teaches");
    assert_eq!(on.step(Some(300)), Step::StripOnly);
    assert_eq!(
        settings(Switch::Off, Switch::On).step(Some(200)),
        Step::Respond
    );
    let statuses = Settings {
        statuses: Some(StatusSet::parse("300").unwrap()),
        ..on
    };
    assert_eq!(statuses.step(Some(300)), Step::Respond);
    assert_eq!(statuses.step(Some(302)), Step::StripOnly);
}

/// The one call answers as the push decision and the 103 decision do when
/// asked apart, for every combination of switches and many exchanges.
#[test]
fn one_answer_agrees_with_the_two_decisions() {
    let page = Exchange {
        links: &[b"</app.css>; rel=preload; as=style"],
        request_target: b"/new",
        vhost: b"example.com",
        ..exchange(200, &[])
    };
    let mut memory = Memory::default();
    let budget = WriteBudget::default();
    let learned = respond_stored(
        &settings(Switch::Off, Switch::On),
        &page,
        &mut memory,
        &budget,
    );
    assert_eq!(learned.learn.map(|l| l.hints), Some(1));
    let exchanges: Vec<Exchange<'static>> = vec![
        exchange(302, &[b"/new"]),
        exchange(302, &[b"https://example.com/new"]),
        exchange(302, &[b"/a/../new"]),
        exchange(302, &[b"/old"]),
        exchange(302, &[]),
        exchange(302, &[b"/a", b"/b"]),
        exchange(302, &[b"https://other.example/new"]),
        exchange(200, &[]),
        Exchange {
            h2_push: false,
            ..exchange(302, &[b"/new"])
        },
        Exchange {
            has_cookie: true,
            ..exchange(302, &[b"/new"])
        },
        Exchange {
            http2: false,
            ..exchange(301, &[b"/new"])
        },
        Exchange {
            pushed_stream: true,
            ..exchange(302, &[b"/new"])
        },
        Exchange {
            opt_out_env: true,
            ..exchange(302, &[])
        },
        Exchange {
            method: b"POST",
            h2_push: false,
            ..exchange(303, &[b"/new"])
        },
        Exchange {
            links: &[b"</new>; rel=preload"],
            ..exchange(302, &[b"/new"])
        },
        // Locations the plain path does not take, or must not: the push is
        // decided before the Location is validated as text, and must agree.
        exchange(302, &[b""]),
        exchange(302, &[b"   "]),
        exchange(302, &[b"\t/new"]),
        exchange(302, &[b"/new\r\nX: 1"]),
        exchange(302, &[b"/new\x7f"]),
        exchange(302, &[b"/n\xc3\xa9w"]),
        exchange(302, &[b"/n\xffw"]),
        exchange(302, &[b"/new", b"/new"]),
    ];
    let long_plain = Box::leak(format!("/{}", "a".repeat(MAX_LOCATION_LEN)).into_boxed_str());
    let long_blank = Box::leak(" ".repeat(MAX_LOCATION_LEN + 1).into_boxed_str());
    let mut exchanges = exchanges;
    for location in [&*long_plain, &*long_blank] {
        let locations: &'static [&'static [u8]] = Box::leak(Box::new([location.as_bytes()]));
        exchanges.push(exchange(302, locations));
    }
    let switches = [Switch::Unset, Switch::Off, Switch::On];
    for ex in &exchanges {
        for push in switches {
            for early in switches {
                let settings = settings(push, early);
                let policy = settings.policy();
                let answer = respond(&settings, ex, None);
                let want_push = settings.push_on().then(|| decide(&policy, ex));
                let want_early = settings
                    .early_hints_on()
                    .then(|| early_hints(&policy, None, None, ex));
                assert_eq!(answer.push, want_push, "{ex:?}");
                assert_eq!(answer.early_hints, want_early, "{ex:?}");
            }
        }
    }
}

#[test]
fn a_200_teaches_and_the_redirect_to_it_is_hinted() {
    let page = Exchange {
        links: &[b"</app.js>; rel=preload; as=script"],
        request_target: b"/new",
        vhost: b"example.com",
        local_port: 443,
        ..exchange(200, &[])
    };
    let (mut memory, budget) = (Memory::default(), WriteBudget::default());
    let push_only = settings(Switch::On, Switch::Unset);
    let learned = respond_stored(&push_only, &page, &mut memory, &budget);
    assert_eq!(
        learned.learn.map(|l| l.hints),
        Some(1),
        "PushRedirect On learns too"
    );
    let redirect = Exchange {
        vhost: b"example.com",
        local_port: 443,
        ..exchange(302, &[b"/new"])
    };
    let answer = respond_stored(
        &settings(Switch::Off, Switch::On),
        &redirect,
        &mut memory,
        &budget,
    );
    match answer.early_hints {
        Some(EarlyHintsDecision::Send(hints)) => {
            assert_eq!(hints.link_value(), "</app.js>; rel=preload; as=script")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        answer.learn.and_then(|l| l.record),
        Some(b"pr1 r\n/new\n".to_vec())
    );
    let other_vhost = Exchange {
        vhost: b"other.example",
        ..redirect
    };
    let answer = respond_stored(
        &settings(Switch::Off, Switch::On),
        &other_vhost,
        &mut memory,
        &budget,
    );
    assert!(matches!(
        answer.early_hints,
        Some(EarlyHintsDecision::Skip(EarlyHintsSkip::NoHints))
    ));
    // A page that sets a cookie may be one visitor's: its hints wait for a
    // second such response to agree before any is public.
    let cookie = Exchange {
        set_cookies: &[b"sid=visitor-a; Path=/"],
        request_target: b"/p",
        ..page
    };
    let learn = respond_stored(&push_only, &cookie, &mut memory, &budget)
        .learn
        .expect("a page that sets a cookie may teach");
    assert_eq!((learn.record, learn.hints), (None, 0));
    assert!(learn.unconfirmed.is_some());
}

#[test]
fn the_bits_to_respond_to_are_the_steps() {
    let statuses = [
        None,
        Some(StatusSet::parse("300 399").unwrap()),
        Some(StatusSet::parse("302").unwrap()),
    ];
    let switches = [Switch::Unset, Switch::Off, Switch::On];
    for statuses in statuses {
        for push in switches {
            for early_hints in switches {
                let settings = Settings {
                    statuses,
                    ..settings(push, early_hints)
                };
                let bits = settings.respond_to();
                for n in 0..256 {
                    let status = 200 + n as i32;
                    assert_eq!(
                        bits[n / 64] >> (n % 64) & 1 == 1,
                        settings.step(Some(status)) == Step::Respond,
                        "{status} {settings:?}"
                    );
                }
            }
        }
    }
}

const CSS: &[u8] = b"</chain.css>; rel=preload; as=style";

/// A GET of `target` on example.com:443, answered `status` with `locations`.
fn at(target: &'static str, status: i32, locations: &'static [&'static [u8]]) -> Exchange<'static> {
    Exchange {
        request_target: target.as_bytes(),
        vhost: b"example.com",
        local_port: 443,
        ..exchange(status, locations)
    }
}

/// A store that learned /c1 -> /c2 -> /c3 -> /page.html and the page's
/// stylesheet, from the responses themselves.
fn taught_chain() -> (Memory, WriteBudget) {
    let (mut memory, budget) = (Memory::default(), WriteBudget::default());
    let teach = settings(Switch::On, Switch::On);
    let page = Exchange {
        links: &[CSS],
        ..at("/page.html", 200, &[])
    };
    for ex in [
        page,
        at("/c3", 302, &[b"/page.html"]),
        at("/c2", 302, &[b"/c3"]),
        at("/c1", 302, &[b"/c2"]),
    ] {
        let answer = respond_stored(&teach, &ex, &mut memory, &budget);
        assert!(answer.learn.is_some(), "{ex:?}");
    }
    (memory, budget)
}

fn sent(answer: &Response<'_>) -> Option<(String, String)> {
    match &answer.early_hints {
        Some(EarlyHintsDecision::Send(hints)) => Some((
            hints.link_value().to_owned(),
            hints.target_path().to_owned(),
        )),
        _ => None,
    }
}

fn link(path: &str) -> String {
    format!("<{path}>; as=document; rel=preload")
}

#[test]
fn the_103_at_a_redirect_carries_the_hints_of_the_page_its_chain_ends_on() {
    let (mut memory, budget) = taught_chain();
    let early = settings(Switch::Off, Switch::On);
    for (from, to) in [("/c1", "/c2"), ("/c2", "/c3"), ("/c3", "/page.html")] {
        let locations: &'static [&'static [u8]] = Box::leak(Box::new([to.as_bytes()]));
        let answer = respond_stored(&early, &at(from, 302, locations), &mut memory, &budget);
        assert_eq!(
            sent(&answer),
            Some((
                "</chain.css>; rel=preload; as=style".into(),
                "/page.html".into()
            )),
            "{from}"
        );
        assert!(answer.further_links.is_empty(), "no push, no links");
    }
}

#[test]
fn a_pushed_redirect_links_each_further_hop() {
    let (mut memory, budget) = taught_chain();
    for switches in [
        settings(Switch::On, Switch::Unset),
        settings(Switch::On, Switch::On),
    ] {
        let answer = respond_stored(&switches, &at("/c1", 302, &[b"/c2"]), &mut memory, &budget);
        assert!(matches!(answer.push, Some(Decision::Push(_))), "{answer:?}");
        assert_eq!(answer.further_links, [link("/c3"), link("/page.html")]);
        let answer = respond_stored(
            &switches,
            &at("/c3", 302, &[b"/page.html"]),
            &mut memory,
            &budget,
        );
        assert!(answer.further_links.is_empty(), "the target is the page");
    }
}

#[test]
fn a_pushed_redirect_links_at_most_max_hops_however_long_its_chain() {
    // The module's answer has room for MAX_HOPS Link fields: the push's
    // and the further hops', which the core bounds.
    let (mut memory, budget) = (Memory::default(), WriteBudget::default());
    let teach = settings(Switch::On, Switch::On);
    let path = |i: usize| -> &'static str { Box::leak(format!("/d{i}").into_boxed_str()) };
    for i in (1..3 * MAX_HOPS).rev() {
        let to: &'static [&'static [u8]] = Box::leak(Box::new([path(i + 1).as_bytes()]));
        let answer = respond_stored(&teach, &at(path(i), 302, to), &mut memory, &budget);
        assert!(answer.learn.is_some());
    }
    let push = settings(Switch::On, Switch::Unset);
    let answer = respond_stored(&push, &at("/d0", 302, &[b"/d1"]), &mut memory, &budget);
    assert!(matches!(answer.push, Some(Decision::Push(_))));
    let further: Vec<_> = (2..=MAX_HOPS).map(|i| link(path(i))).collect();
    assert_eq!(answer.further_links, further);
}

#[test]
fn each_further_hop_is_checked_on_its_own() {
    let (mut memory, budget) = taught_chain();
    let mut set = ExcludeSet::new();
    set.add("^/c3$").unwrap();
    let excluding = Settings {
        excludes: Some(&set),
        ..settings(Switch::On, Switch::Unset)
    };
    let answer = respond_stored(&excluding, &at("/c1", 302, &[b"/c2"]), &mut memory, &budget);
    assert_eq!(answer.further_links, [link("/page.html")]);
    let linked = Exchange {
        links: &[b"</page.html>; rel=preload; nopush"],
        ..at("/c1", 302, &[b"/c2"])
    };
    let push = settings(Switch::On, Switch::Unset);
    let answer = respond_stored(&push, &linked, &mut memory, &budget);
    assert_eq!(answer.further_links, [link("/c3")]);
    // No push, no further links: a client that refuses push.
    let refused = Exchange {
        h2_push: false,
        ..at("/c1", 302, &[b"/c2"])
    };
    let answer = respond_stored(&push, &refused, &mut memory, &budget);
    assert!(answer.further_links.is_empty());
}

#[test]
fn a_103_sent_ahead_is_not_sent_again_and_the_push_goes_on() {
    let (mut memory, budget) = taught_chain();
    let ahead = Exchange {
        early_hints_sent: true,
        ..at("/c1", 302, &[b"/c2"])
    };
    let answer = respond_stored(
        &settings(Switch::On, Switch::On),
        &ahead,
        &mut memory,
        &budget,
    );
    assert_eq!(
        answer.early_hints,
        Some(EarlyHintsDecision::Skip(EarlyHintsSkip::SentAhead))
    );
    assert!(matches!(answer.push, Some(Decision::Push(_))));
    assert_eq!(answer.further_links, [link("/c3"), link("/page.html")]);
}

#[test]
fn only_navigations_get_a_103_at_the_redirect() {
    let (mut memory, budget) = taught_chain();
    let early = settings(Switch::Off, Switch::On);
    for (mode, dest, navigation) in [
        (None, None, true),
        (Some(&b"navigate"[..]), Some(&b"document"[..]), true),
        (Some(b"cors"), None, false),
        (None, Some(b"image"), false),
        (Some(b"navigate"), Some(b"iframe"), false),
    ] {
        let ex = Exchange {
            sec_fetch_mode: mode,
            sec_fetch_dest: dest,
            ..at("/c1", 302, &[b"/c2"])
        };
        let answer = respond_stored(&early, &ex, &mut memory, &budget);
        if navigation {
            assert!(sent(&answer).is_some(), "{mode:?} {dest:?}");
        } else {
            assert_eq!(
                answer.early_hints,
                Some(EarlyHintsDecision::Skip(EarlyHintsSkip::NotNavigation)),
                "{mode:?} {dest:?}"
            );
        }
    }
}

#[test]
fn a_redirect_still_learns_after_following_a_whole_chain() {
    let (mut memory, budget) = taught_chain();
    // /c0 is new: the answer follows /c1's chain of 4 hops to the page (as
    // far as the lookups allow) and still plans /c0's record.
    let answer = respond_stored(
        &settings(Switch::On, Switch::On),
        &at("/c0?q=1", 302, &[b"/c1"]),
        &mut memory,
        &budget,
    );
    assert_eq!(
        sent(&answer).map(|(_, page)| page),
        Some("/page.html".into())
    );
    assert_eq!(answer.further_links.len(), 3);
    assert_eq!(
        answer.learn.and_then(|l| l.record),
        Some(b"pr1 r\n/c1\n".to_vec())
    );
}

/// A response that teaches what this process settled with the store less
/// than a window ago reads and writes nothing; one that teaches something
/// else, or comes after the window, or after a lookup found the record
/// gone, asks the store again.
#[test]
fn what_is_settled_is_not_asked_again_within_its_window() {
    let page = Exchange {
        links: &[b"</app.css>; rel=preload; as=style"],
        request_target: b"/new",
        vhost: b"example.com",
        local_port: 443,
        ..exchange(200, &[])
    };
    let on = settings(Switch::On, Switch::On);
    let (mut memory, budget) = (Memory::default(), WriteBudget::default());
    let window = Settled::window_ms(DEFAULT_LIFETIME_SECS);
    assert_eq!(window, 10_000);
    let first = respond_stored_at(&on, &page, &mut memory, &budget, 1_000);
    assert!(first.learn.is_some());
    let fetches = memory.1;
    assert!(fetches > 0, "the first response reads what the store holds");
    for now in [1_001, 5_000, 1_000 + window - 1] {
        assert_eq!(
            respond_stored_at(&on, &page, &mut memory, &budget, now).learn,
            None
        );
    }
    assert_eq!(memory.1, fetches, "settled: nothing read");
    // After the window the store is read again, and holds the same.
    assert_eq!(
        respond_stored_at(&on, &page, &mut memory, &budget, 1_000 + window).learn,
        None
    );
    assert!(memory.1 > fetches);
    // Other hints for the same URL are no settled record.
    let changed = Exchange {
        links: &[b"</other.css>; rel=preload; as=style"],
        ..page
    };
    let learned = respond_stored_at(&on, &changed, &mut memory, &budget, 20_000).learn;
    assert_eq!(learned.map(|l| l.hints), Some(1));
    // The store loses the record (a flush, an eviction): a lookup that
    // misses makes the next 200 write it again, inside the window.
    memory.0.clear();
    let redirect = Exchange {
        vhost: b"example.com",
        local_port: 443,
        ..exchange(302, &[b"/new"])
    };
    let answer = respond_stored_at(&on, &redirect, &mut memory, &budget, 20_001);
    assert!(matches!(
        answer.early_hints,
        Some(EarlyHintsDecision::Skip(EarlyHintsSkip::NoHints))
    ));
    let again = respond_stored_at(&on, &changed, &mut memory, &budget, 20_002).learn;
    assert_eq!(again.map(|l| l.hints), Some(1), "written again");
    // A record that does not parse is overwritten the same way.
    let key = RecordKey::new(b"example.com", 443, b"/new")
        .unwrap()
        .as_bytes()
        .to_vec();
    assert!(memory.0.contains_key(&key));
    memory.0.insert(key.clone(), b"pr1 h\ngarbage\n".to_vec());
    respond_stored_at(&on, &redirect, &mut memory, &budget, 20_003);
    let rewritten = respond_stored_at(&on, &changed, &mut memory, &budget, 20_004).learn;
    assert_eq!(
        rewritten.and_then(|l| l.record),
        memory.0.get(&key).cloned()
    );
}

/// A response the write budget refuses is not settled: it is tried again.
#[test]
fn a_write_the_budget_refused_is_not_settled() {
    let on = settings(Switch::Off, Switch::On);
    let one = WriteRate {
        burst: 1,
        per_second: 1,
    };
    let (mut memory, budget) = (Memory::default(), WriteBudget::new(one, one));
    let page = |target: &'static [u8]| Exchange {
        links: &[b"</app.css>; rel=preload; as=style"],
        request_target: target,
        vhost: b"example.com",
        ..exchange(200, &[])
    };
    assert!(
        respond_stored_at(&on, &page(b"/a"), &mut memory, &budget, 0)
            .learn
            .is_some()
    );
    assert!(
        respond_stored_at(&on, &page(b"/b"), &mut memory, &budget, 1)
            .learn
            .is_none()
    );
    assert!(
        respond_stored_at(&on, &page(b"/b"), &mut memory, &budget, 1_001)
            .learn
            .is_some(),
        "refilled, and /b was not taken as settled"
    );
}

/// docs/behaviour.md, "Bounded writes": distinct query URLs, each a 200
/// that teaches what its path does not, spend their own bucket; a page
/// without a query answered in the middle of the flood is learned.
#[test]
fn a_flood_of_query_urls_does_not_stop_a_path_being_learned() {
    let on = settings(Switch::Off, Switch::On);
    let (mut memory, budget) = (Memory::default(), WriteBudget::default());
    let page = |target: &'static [u8]| Exchange {
        links: &[b"</app.css>; rel=preload; as=style"],
        request_target: target,
        vhost: b"example.com",
        ..exchange(200, &[])
    };
    let targets: Vec<&'static [u8]> = (0..1_000)
        .map(|n| format!("/page?n={n}").leak().as_bytes())
        .collect();
    let learned = |memory: &mut Memory, targets: &[&'static [u8]]| {
        targets
            .iter()
            .filter(|target| {
                respond_stored_at(&on, &page(target), memory, &budget, 100)
                    .learn
                    .is_some()
            })
            .count()
    };
    assert_eq!(learned(&mut memory, &targets[..500]), 16, "the query burst");
    let public = respond_stored_at(&on, &page(b"/public"), &mut memory, &budget, 100);
    assert!(public.learn.is_some(), "learned in the middle of the flood");
    let fetches = memory.1;
    assert_eq!(learned(&mut memory, &targets[500..]), 0);
    // Nor does the rest of the flood keep the store busy: with the bucket
    // empty, no query URL's record is looked up for a write it cannot make.
    assert_eq!(memory.1, fetches, "the store was read for a refused write");
}

/// A pushed redirect's target that this process saw within the window is
/// not probed again: a page or nothing links no further hop, a redirect
/// has its chain followed. A chain another process learns meanwhile is
/// linked at most one window later.
#[test]
fn a_pushed_redirects_target_seen_lately_is_not_probed_again() {
    let push = settings(Switch::On, Switch::Unset);
    let (mut memory, budget) = (Memory::default(), WriteBudget::default());
    let window = Settled::window_ms(DEFAULT_LIFETIME_SECS);
    let to_new = at("/old", 302, &[b"/new"]);
    let first = respond_stored_at(&push, &to_new, &mut memory, &budget, 1_000);
    assert!(first.learn.is_some() && first.further_links.is_empty());
    let fetches = memory.1;
    let again = respond_stored_at(&push, &to_new, &mut memory, &budget, 2_000);
    assert!(matches!(again.push, Some(Decision::Push(_))));
    assert!(again.further_links.is_empty() && again.learn.is_none());
    assert_eq!(memory.1, fetches, "/new was seen to hold nothing");
    // Another process learns that /new redirects.
    let key = RecordKey::new(b"example.com", 443, b"/new").unwrap();
    memory
        .0
        .insert(key.as_bytes().to_vec(), b"pr1 r\n/newer\n".to_vec());
    let within = respond_stored_at(&push, &to_new, &mut memory, &budget, 1_000 + window - 1);
    assert!(within.further_links.is_empty());
    assert_eq!(memory.1, fetches);
    let after = respond_stored_at(&push, &to_new, &mut memory, &budget, 1_000 + window);
    assert_eq!(after.further_links, [link("/newer")]);
    // Seen to redirect: followed with no probe first.
    let fetches = memory.1;
    let followed = respond_stored_at(&push, &to_new, &mut memory, &budget, 1_001 + window);
    assert_eq!(followed.further_links, [link("/newer")]);
    assert_eq!(
        memory.1 - fetches,
        2,
        "/new's record once, then /newer's, not there"
    );
}

#[test]
fn a_page_this_process_learned_is_not_probed_when_pushed_to() {
    let push = settings(Switch::On, Switch::Unset);
    let (mut memory, budget) = (Memory::default(), WriteBudget::default());
    let page = Exchange {
        links: &[CSS],
        ..at("/page.html", 200, &[])
    };
    assert!(respond_stored_at(&push, &page, &mut memory, &budget, 0)
        .learn
        .is_some());
    let fetches = memory.1;
    let answer = respond_stored_at(
        &push,
        &at("/old", 302, &[b"/page.html"]),
        &mut memory,
        &budget,
        1,
    );
    assert!(answer.further_links.is_empty() && answer.learn.is_some());
    assert_eq!(memory.1 - fetches, 1, "the redirect's own record only");
}

#[test]
fn a_pushed_query_target_is_probed_every_time() {
    let push = settings(Switch::On, Switch::Unset);
    let (mut memory, budget) = (Memory::default(), WriteBudget::default());
    let to_query = at("/old", 302, &[b"/new?x=1"]);
    respond_stored_at(&push, &to_query, &mut memory, &budget, 0);
    let fetches = memory.1;
    let again = respond_stored_at(&push, &to_query, &mut memory, &budget, 1);
    assert!(again.further_links.is_empty() && again.learn.is_none());
    assert_eq!(memory.1 - fetches, 2, "/new?x=1 and /new");
}

/// A store that answers nothing in time: every fetch is unanswered.
struct Unanswering;

impl Provider for Unanswering {
    fn fetch(&mut self, _: &[u8; 32]) -> Option<&[u8]> {
        None
    }

    fn all_answered(&self) -> bool {
        false
    }

    fn put(&mut self, _: &[u8; 32], _: &[u8], _: u64) {
        unreachable!("written on the strength of a lookup that got no answer");
    }
}

#[test]
fn nothing_is_written_or_settled_on_a_lookup_the_store_did_not_answer() {
    let push = settings(Switch::On, Switch::Unset);
    let budget = WriteBudget::default();
    let page = Exchange {
        links: &[CSS],
        ..at("/page.html", 200, &[])
    };
    let mut unanswering = Unanswering;
    let mut store = Store::new(&mut unanswering, Some(&budget), None, 0);
    assert!(respond(&push, &page, Some(&mut store)).learn.is_none());
    // Nothing was taken as settled: a store that answers gets the write.
    let mut memory = Memory::default();
    assert!(respond_stored_at(&push, &page, &mut memory, &budget, 1)
        .learn
        .is_some());
}

/// The hints of the 103 before a redirect to /p.
fn hints_for_redirect_to_p(memory: &mut Memory, budget: &WriteBudget) -> Vec<String> {
    let both = settings(Switch::Off, Switch::On);
    let answer = respond_stored_at(&both, &at("/old", 302, &[b"/p"]), memory, budget, 9);
    match answer.early_hints {
        Some(EarlyHintsDecision::Send(hints)) => {
            hints.link_value().split(", ").map(str::to_owned).collect()
        }
        _ => Vec::new(),
    }
}

#[test]
fn a_page_that_sets_a_cookie_teaches_only_what_two_responses_agree_on() {
    let teach = settings(Switch::Off, Switch::On);
    let (mut memory, budget) = (Memory::default(), WriteBudget::default());
    // Each visitor's page preloads their session's data, named after the
    // cookie it sets, and a fresh id of its own; the stylesheet is everyone's.
    type Fields = &'static [&'static [u8]];
    let visits: [(Fields, Fields); 2] = [
        (
            &[b"sid=visitor-a-session; Path=/"],
            &[
                CSS,
                b"</api/visitor-a-session.json>; rel=preload; as=fetch",
                b"</n/1.js>; rel=preload; as=script",
            ],
        ),
        (
            &[b"sid=visitor-b-session; Path=/"],
            &[
                CSS,
                b"</api/visitor-b-session.json>; rel=preload; as=fetch",
                b"</n/2.js>; rel=preload; as=script",
            ],
        ),
    ];
    for (i, (cookies, links)) in visits.into_iter().enumerate() {
        let page = Exchange {
            set_cookies: cookies,
            links,
            ..at("/p", 200, &[])
        };
        respond_stored_at(&teach, &page, &mut memory, &budget, i as u64);
        let public = hints_for_redirect_to_p(&mut memory, &budget);
        let css = std::str::from_utf8(CSS).unwrap().to_owned();
        let expected = if i == 0 { Vec::new() } else { vec![css] };
        assert_eq!(public, expected, "after visit {}", i + 1);
    }
}

/// A visitor whose answers are fixed, and what a stranger gets; it counts
/// the questions.
#[derive(Default)]
struct FixedVisitor {
    authenticated: bool,
    may_fetch: bool,
    stranger: Option<bool>,
    asked: usize,
    strangers_asked: usize,
}

impl Visitor for FixedVisitor {
    fn authenticated(&mut self) -> bool {
        self.authenticated
    }
    fn may_fetch(&mut self, _: &str) -> bool {
        self.asked += 1;
        self.may_fetch
    }
    fn stranger_may_fetch(&mut self, _: &str) -> Option<bool> {
        self.strangers_asked += 1;
        self.stranger
    }
}

/// A store where `/p` learned one stylesheet, and the process's budget.
fn p_learned() -> (Memory, WriteBudget) {
    let both = settings(Switch::Off, Switch::On);
    let (mut memory, budget) = (Memory::default(), WriteBudget::default());
    let page = Exchange {
        links: &[CSS],
        ..at("/p", 200, &[])
    };
    respond_stored_at(&both, &page, &mut memory, &budget, 0);
    (memory, budget)
}

/// The hints a redirect to `/p` gets at `now_ms` for `visitor`.
fn hints_at(
    memory: &mut Memory,
    budget: &WriteBudget,
    visitor: &mut FixedVisitor,
    now_ms: u64,
) -> Option<EarlyHintsDecision> {
    let both = settings(Switch::Off, Switch::On);
    let mut store = Store::new(memory, Some(budget), None, now_ms).with_visitor(visitor);
    respond(&both, &at("/old", 302, &[b"/p"]), Some(&mut store)).early_hints
}

#[test]
fn a_page_a_stranger_may_fetch_is_not_asked_about_again_for_a_while() {
    let (mut memory, budget) = p_learned();
    let mut visitor = FixedVisitor {
        stranger: Some(true),
        ..FixedVisitor::default()
    };
    for now_ms in [1, 2, Strangers::MEMO_MS] {
        let hints = hints_at(&mut memory, &budget, &mut visitor, now_ms);
        assert!(
            matches!(hints, Some(EarlyHintsDecision::Send(_))),
            "{hints:?}"
        );
    }
    assert_eq!((visitor.strangers_asked, visitor.asked), (1, 0));
    hints_at(&mut memory, &budget, &mut visitor, 1 + Strangers::MEMO_MS);
    assert_eq!((visitor.strangers_asked, visitor.asked), (2, 0));
}

#[test]
fn a_page_a_stranger_may_not_fetch_is_asked_about_for_each_visitor() {
    let (mut memory, _) = p_learned();
    // Refused, or not known (Apache did not check the stranger's access):
    // each visitor is asked about, and only an answer is kept.
    for (stranger, strangers_asked) in [(Some(false), 1), (None, 4)] {
        let budget = WriteBudget::default();
        let mut insider = FixedVisitor {
            may_fetch: true,
            stranger,
            ..FixedVisitor::default()
        };
        for now_ms in 1..=3 {
            let hints = hints_at(&mut memory, &budget, &mut insider, now_ms);
            assert!(
                matches!(hints, Some(EarlyHintsDecision::Send(_))),
                "{hints:?}"
            );
        }
        let mut outsider = FixedVisitor {
            stranger,
            ..FixedVisitor::default()
        };
        let hints = hints_at(&mut memory, &budget, &mut outsider, 4);
        assert!(matches!(
            hints,
            Some(EarlyHintsDecision::Skip(EarlyHintsSkip::NoHints))
        ));
        assert_eq!(insider.asked + outsider.asked, 4);
        assert_eq!(
            insider.strangers_asked + outsider.strangers_asked,
            strangers_asked
        );
    }
}

#[test]
fn a_page_behind_access_control_hints_no_one_it_would_refuse() {
    let (mut memory, budget) = p_learned();
    assert_eq!(hints_for_redirect_to_p(&mut memory, &budget).len(), 1);
    let hints = hints_at(&mut memory, &budget, &mut FixedVisitor::default(), 1);
    assert!(matches!(
        hints,
        Some(EarlyHintsDecision::Skip(EarlyHintsSkip::NoHints))
    ));
}

#[test]
fn an_authenticated_visitor_teaches_nothing() {
    let both = settings(Switch::Off, Switch::On);
    let (mut memory, budget) = (Memory::default(), WriteBudget::default());
    let page = Exchange {
        links: &[CSS],
        ..at("/p", 200, &[])
    };
    let mut authenticated = FixedVisitor {
        authenticated: true,
        may_fetch: true,
        ..FixedVisitor::default()
    };
    let mut store =
        Store::new(&mut memory, Some(&budget), None, 0).with_visitor(&mut authenticated);
    assert!(respond(&both, &page, Some(&mut store)).learn.is_none());
}

#[test]
fn over_http1_1_the_103_goes_out_only_with_early_hints_http1_and_never_to_http1_0() {
    let (mut memory, budget) = taught_chain();
    let early = settings(Switch::Off, Switch::On);
    let http1 = Settings {
        early_hints_http1: Switch::On,
        ..early
    };
    let h1_1 = Exchange {
        http2: false,
        h2_push: false,
        ..at("/c1", 302, &[b"/c2"])
    };
    let answer = respond_stored(&early, &h1_1, &mut memory, &budget);
    assert_eq!(
        answer.early_hints,
        Some(EarlyHintsDecision::Skip(EarlyHintsSkip::NotHttp2))
    );
    let answer = respond_stored(&http1, &h1_1, &mut memory, &budget);
    assert_eq!(
        sent(&answer),
        Some((
            "</chain.css>; rel=preload; as=style".into(),
            "/page.html".into()
        ))
    );
    let h1_0 = Exchange {
        http1_0: true,
        ..h1_1
    };
    let answer = respond_stored(&http1, &h1_0, &mut memory, &budget);
    assert_eq!(
        answer.early_hints,
        Some(EarlyHintsDecision::Skip(EarlyHintsSkip::Http1_0))
    );
    // The push side is as it was over HTTP/1.x: the Link, for whoever
    // reads it.
    let both = Settings {
        push: Switch::On,
        ..http1
    };
    let answer = respond_stored(&both, &h1_0, &mut memory, &budget);
    assert!(matches!(answer.push, Some(Decision::Push(_))), "{answer:?}");
}

#[test]
fn behind_a_trusted_proxy_the_url_asked_for_has_the_scheme_the_proxy_says() {
    let (mut memory, budget) = taught_chain();
    let early = settings(Switch::Off, Switch::On);
    // An application behind the proxy writes its own https URLs.
    let from_proxy = |scheme| Exchange {
        scheme,
        http2: false,
        ..at("/c1", 302, &[b"https://example.com/c2"])
    };
    let http1 = Settings {
        early_hints_http1: Switch::On,
        ..early
    };
    let said = crate::client_scheme(b"http", true, Some(b"https"));
    assert!(sent(&respond_stored(
        &http1,
        &from_proxy(said),
        &mut memory,
        &budget
    ))
    .is_some());
    // Apache's own scheme alone: plain HTTP, and another origin.
    let answer = respond_stored(&http1, &from_proxy(b"http"), &mut memory, &budget);
    assert_eq!(
        answer.early_hints,
        Some(EarlyHintsDecision::Skip(EarlyHintsSkip::Rule(
            Reason::Insecure
        )))
    );
    let tls_off = Settings {
        require_tls: Switch::Off,
        ..http1
    };
    let answer = respond_stored(&tls_off, &from_proxy(b"http"), &mut memory, &budget);
    assert_eq!(
        answer.early_hints,
        Some(EarlyHintsDecision::Skip(EarlyHintsSkip::Rule(
            Reason::CrossOrigin
        )))
    );
    // An untrusted peer's header changes nothing.
    let forged = crate::client_scheme(b"http", false, Some(b"https"));
    let answer = respond_stored(&http1, &from_proxy(forged), &mut memory, &budget);
    assert_eq!(
        answer.early_hints,
        Some(EarlyHintsDecision::Skip(EarlyHintsSkip::Rule(
            Reason::Insecure
        )))
    );
}

/// What the store counts for the operator (docs/operating.md): each
/// lookup by what it found, each record written by its kind, each write
/// the budget refused.
#[test]
fn the_store_counts_its_lookups_writes_and_refusals() {
    use crate::tally::tests::Recorded;
    use crate::tally::Event::*;
    let on = settings(Switch::Off, Switch::On);
    let one = WriteRate {
        burst: 2,
        per_second: 1,
    };
    let recorded = std::sync::Arc::new(Recorded::default());
    let budget = WriteBudget::new(one, one).with_tally(Box::new(recorded.clone()));
    let mut memory = Memory::default();
    let counted = |ex: &Exchange<'_>, memory: &mut Memory, html: &[u8]| {
        let mut store = Store::new(memory, Some(&budget), None, 0);
        let response = respond(&on, ex, Some(&mut store));
        let learn = match response.page {
            Some(mut page) => {
                page.feed(html);
                page.finish(&mut store)
            }
            None => response.learn,
        };
        learn.is_some()
    };
    let page = Exchange {
        links: &[CSS],
        ..at("/page.html", 200, &[])
    };
    assert!(counted(&page, &mut memory, b""));
    assert_eq!(recorded.events(), [LookupMissed, LearnedPageFromLink]);
    let html = Exchange {
        content_type: Some(b"text/html"),
        ..at("/html.html", 200, &[])
    };
    assert!(counted(
        &html,
        &mut memory,
        b"<head><link rel=stylesheet href=/s/h.css></head>"
    ));
    assert_eq!(recorded.events()[2..], [LookupMissed, LearnedPageFromHtml]);
    // The redirect's 103 finds the page; the budget (2 writes) is spent,
    // so its own record is not looked up for a write.
    assert!(!counted(
        &at("/old", 302, &[b"/page.html"]),
        &mut memory,
        b""
    ));
    assert_eq!(recorded.events()[4..], [LookupFound, WriteRefused]);
    // A store that does not answer.
    let mut unanswering = Unanswering;
    let mut store = Store::new(&mut unanswering, Some(&budget), None, 10_000);
    respond(&on, &at("/old", 302, &[b"/page.html"]), Some(&mut store));
    assert_eq!(recorded.events()[6..], [LookupUnanswered, LookupUnanswered]);
}
