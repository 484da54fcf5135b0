use super::*;
use crate::decide::decide;
use crate::early_hints::early_hints;
use crate::hint_cache::CacheLimits;

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
    assert_eq!(on.step(Some(200)), Step::StripOnly);
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
    let cache = HintCache::new(CacheLimits::DEFAULT);
    let page = Exchange {
        links: &[b"</app.css>; rel=preload; as=style"],
        request_target: b"/new",
        ..exchange(200, &[])
    };
    assert_eq!(cache.learn(&Policy::default(), &page, 0), 1);
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
    ];
    let switches = [Switch::Unset, Switch::Off, Switch::On];
    for ex in &exchanges {
        for push in switches {
            for early in switches {
                let settings = settings(push, early);
                let policy = settings.policy();
                let answer = respond(&settings, ex, Some(&cache), 1);
                let want_push = settings.push_on().then(|| decide(&policy, ex));
                let want_early = settings
                    .early_hints_on()
                    .then(|| early_hints(&policy, None, Some(&cache), ex, 1));
                assert_eq!(answer.push, want_push, "{ex:?}");
                assert_eq!(answer.early_hints, want_early, "{ex:?}");
            }
        }
    }
}

#[test]
fn a_200_teaches_the_cache_only_with_early_hints_on() {
    let cache = HintCache::new(CacheLimits::DEFAULT);
    let page = Exchange {
        links: &[b"</app.js>; rel=preload; as=script"],
        ..exchange(200, &[])
    };
    let learned = |s| respond(&s, &page, Some(&cache), 0).learned;
    assert_eq!(learned(settings(Switch::On, Switch::Unset)), 0);
    assert!(cache.is_empty());
    assert_eq!(learned(settings(Switch::Unset, Switch::On)), 1);
    assert_eq!(cache.len(), 1);
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
