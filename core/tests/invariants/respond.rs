//! The properties of the module's entry point, `respond`, on one response,
//! with or without a model of the shared cache ([`Model`]):
//!
//! - its push decision is `decide`'s, as the module reports it (the `Link`
//!   value or the skip token), and keeps every property of one
//!   ([`check_decision`]); the further hops of a pushed chain are links of
//!   the same shape, each one that rules 7 to 11 let through on its own;
//! - its 103 goes out only where docs/behaviour.md, "When a 103 goes out",
//!   says, with the skip token of the contract's order otherwise; what it
//!   carries is one `Link` value of visible ASCII, within one 103's bounds,
//!   of the hints "What is in it" allows: the scope's declared hints for the
//!   page first, then hints a page taught, and those only to a visitor who
//!   may fetch the page;
//! - what it learns comes only from responses that may teach ("What is
//!   learned", "Never learned from"), under the URL's key: a redirect its
//!   target, a page valid hints, never a hint holding a cookie it sets.

use push_redirect_core::{
    decide, early_hints, respond, Decision, EarlyHintsDecision, EarlyHintsSkip, Exchange, Learn,
    Policy, Reason, RecordKey, Response, Settings, Step, DEFAULT_LIFETIME_SECS, MAX_HINTS,
    MAX_HINTS_LEN, MAX_HOPS,
};
use url::Url;

use super::store::{FixedVisitor, Model};
use super::{check_decision, check_push, decide_and_check};

/// A scope's `PushRedirectEarlyHint` lines, as (page path, link value),
/// each value written as a 103 carries it (the order of its parameters
/// and their spelling the core's), so that the 103 carries it byte for
/// byte: the `DeclaredHints` of the settings, as text.
pub type DeclaredLines<'a> = [(&'a str, &'a str)];

/// The tokens a redirect's 103 may be skipped with: the second table of
/// docs/behaviour.md, "Skip reasons", and `sent-ahead` (`internal-error`
/// is only for a panic the FFI boundary caught).
pub const EARLY_HINTS_SKIP_TOKENS: [&str; 14] = [
    "sent-ahead",
    "not-http2",
    "http1.0",
    "pushed-stream",
    "not-navigation",
    "opt-out",
    "method",
    "insecure",
    "no-location",
    "bad-location",
    "cross-origin",
    "self",
    "excluded",
    "no-hints",
];

/// The `as` values of a preload hint ("What is in it").
pub const PRELOAD_DESTINATIONS: [&str; 9] = [
    "audio", "fetch", "font", "image", "script", "style", "track", "video", "worker",
];

/// A push decision as the module reports it: the `Link` value it appends,
/// the skip token it logs, or nothing for a response that is no redirect.
pub fn reported(decision: &Decision<'_>) -> String {
    match decision {
        Decision::NotRedirect => "not a redirect".to_owned(),
        Decision::Push(push) => format!("Link: {}", push.link_value()),
        Decision::Skip(reason) => format!("skip {}", reason.as_str()),
    }
}

/// Answers `ex` as the module does, and checks every property above:
/// with `model`, the answer is the one a store over it gives (its writes
/// applied, a page read from `body`), as the shim calls `respond` for a
/// response its settings step to; without, the answer without a store.
/// Panics when a property fails. Returns the answer.
pub fn respond_and_check<'a>(
    settings: &Settings<'_>,
    declared: &DeclaredLines<'_>,
    ex: &Exchange<'a>,
    model: Option<&mut Model>,
    body: &[&[u8]],
) -> Response<'a> {
    assert_eq!(
        settings.declared.map_or(0, |d| d.len()),
        declared.len(),
        "the declared lines are not the settings'"
    );
    let policy = settings.policy();
    let step = settings.step(Some(ex.status));
    // The shim calls `respond` with its store only for a response its
    // settings step to; another is checked without one.
    let mut model = model.filter(|_| step == Step::Respond);
    let before = model.as_deref().map(|model| Before {
        visitor: model.visitor,
        lifetime_secs: model.lifetime_secs,
        holds_a_redirect: model.memory.holds_a_redirect(),
        page_hints: model.memory.page_hints(),
    });
    // The 103 by its own decision, before `respond` changes anything.
    let oracle = settings.early_hints_on().then(|| match &mut model {
        Some(model) => model.early_hints(&policy, settings, ex),
        None => early_hints(&policy, settings.declared, None, ex),
    });
    let response = match &mut model {
        Some(model) => model.respond(settings, ex, body),
        None => respond(settings, ex, None),
    };
    if step == Step::Inactive {
        assert!(response.push.is_none() && response.early_hints.is_none());
    }
    check_push_side(&policy, settings, ex, &response, before.as_ref());
    check_early_hints(&policy, settings, declared, ex, &response, before.as_ref());
    if let (Some(decision), Some(oracle)) = (&response.early_hints, &oracle) {
        check_against_early_hints(declared, decision, oracle, before.as_ref());
    }
    if before.is_none() {
        // Rules 4, 5 and 11 protect a push: a 103 does not depend on them.
        let links: &[&[u8]] = &[];
        let client_fetches = Exchange {
            h2_push: true,
            has_cookie: false,
            has_authorization: false,
            links,
            ..*ex
        };
        assert_eq!(
            respond(settings, &client_fetches, None).early_hints,
            response.early_hints,
            "a push-only rule changed the 103"
        );
    }
    match &response.learn {
        Some(learn) => {
            let before = before.as_ref().expect("learned without a store");
            check_learn(&policy, settings, ex, learn, before);
        }
        None => assert!(response.page.is_none(), "a page left unread"),
    }
    response
}

/// What the model held before the call.
struct Before {
    visitor: Option<FixedVisitor>,
    lifetime_secs: Option<u64>,
    holds_a_redirect: bool,
    page_hints: Vec<Vec<String>>,
}

/// The push: `decide`'s, and the further hops of a pushed chain.
fn check_push_side(
    policy: &Policy<'_>,
    settings: &Settings<'_>,
    ex: &Exchange<'_>,
    response: &Response<'_>,
    before: Option<&Before>,
) {
    let want = settings.push_on().then(|| decide_and_check(policy, ex));
    assert_eq!(
        response.push.as_ref().map(reported),
        want.as_ref().map(reported),
        "respond's push is not decide's"
    );
    if let Some(decision) = &response.push {
        check_decision(policy, ex, decision);
    }
    let Some(Decision::Push(push)) = &response.push else {
        assert!(
            response.further_links.is_empty(),
            "further links without a push"
        );
        return;
    };
    // docs/behaviour.md, "Whole chains for push clients": one Link a hop,
    // at most MAX_HOPS in all, each checked against rules 8 to 11 on its
    // own; only a chain the server learned has further hops.
    assert!(response.further_links.len() < MAX_HOPS);
    if !before.is_some_and(|before| before.holds_a_redirect) {
        assert!(
            response.further_links.is_empty(),
            "further links with no redirect learned"
        );
    }
    let mut linked = vec![push.path_and_query()];
    for link in &response.further_links {
        let target = link
            .strip_prefix('<')
            .and_then(|link| link.strip_suffix(">; as=document; rel=preload"))
            .unwrap_or_else(|| panic!("further link {link:?} is not the contract's shape"));
        check_push(policy, ex, link, target);
        assert!(!linked.contains(&target), "{target:?} linked twice");
        // As this response's own Location, the hop would be pushed.
        let location = [target.as_bytes()];
        let again = Exchange {
            locations: &location,
            ..*ex
        };
        match decide(policy, &again) {
            Decision::Push(again) => assert_eq!(again.path_and_query(), target),
            other => panic!("further hop {target:?} linked, but as a Location: {other:?}"),
        }
        linked.push(target);
    }
}

/// Whether the request is a navigation: `Sec-Fetch-Mode`, when present, is
/// `navigate` and `Sec-Fetch-Dest`, when present, `document` (field values
/// without the white space around them).
pub fn is_navigation(ex: &Exchange<'_>) -> bool {
    let is = |value: Option<&[u8]>, token: &[u8]| {
        value.map_or(true, |v| {
            let ows = |b: &u8| *b == b' ' || *b == b'\t';
            let start = v.iter().position(|b| !ows(b)).unwrap_or(v.len());
            let end = v.iter().rposition(|b| !ows(b)).map_or(start, |i| i + 1);
            &v[start..end] == token
        })
    };
    is(ex.sec_fetch_mode, b"navigate") && is(ex.sec_fetch_dest, b"document")
}

/// The 103: when it goes out, why not, and what it carries.
fn check_early_hints(
    policy: &Policy<'_>,
    settings: &Settings<'_>,
    declared: &DeclaredLines<'_>,
    ex: &Exchange<'_>,
    response: &Response<'_>,
    before: Option<&Before>,
) {
    let Some(decision) = &response.early_hints else {
        assert!(!settings.early_hints_on(), "no 103 decision");
        return;
    };
    assert!(settings.early_hints_on(), "a 103 decision where it is off");
    if !policy.statuses.contains(ex.status) {
        assert_eq!(*decision, EarlyHintsDecision::NotRedirect);
        return;
    }
    // The gates first, in the contract's order; one 103 per response. Over
    // HTTP/1.1 only with PushRedirectEarlyHintsHTTP1, never over HTTP/1.0.
    let gate = if ex.early_hints_sent {
        Some(EarlyHintsSkip::SentAhead)
    } else if !ex.http2 && !policy.early_hints_http1 {
        Some(EarlyHintsSkip::NotHttp2)
    } else if !ex.http2 && ex.http1_0 {
        Some(EarlyHintsSkip::Http1_0)
    } else if ex.pushed_stream {
        Some(EarlyHintsSkip::PushedStream)
    } else if !is_navigation(ex) {
        Some(EarlyHintsSkip::NotNavigation)
    } else {
        None
    };
    // Then rules 1 to 3 and 6 to 10: the push decision of the same
    // exchange with nothing for rules 4, 5 and 11 to refuse.
    let links: &[&[u8]] = &[];
    let client_fetches = Exchange {
        h2_push: true,
        pushed_stream: false,
        has_cookie: false,
        has_authorization: false,
        links,
        ..*ex
    };
    let rules = decide(policy, &client_fetches);
    let chained = before.is_some_and(|before| before.holds_a_redirect);
    match decision {
        EarlyHintsDecision::NotRedirect => panic!("a redirect's 103 said not-redirect"),
        EarlyHintsDecision::Skip(skip) => {
            assert!(
                EARLY_HINTS_SKIP_TOKENS.contains(&skip.as_str()),
                "{:?} is not a contract token",
                skip.as_str()
            );
            match (gate, &rules) {
                (Some(gate), _) => assert_eq!(*skip, gate),
                (None, Decision::Skip(reason)) => {
                    assert_eq!(*skip, EarlyHintsSkip::Rule(*reason))
                }
                (None, Decision::Push(_)) => match skip {
                    EarlyHintsSkip::NoHints => {}
                    // A hop of a learned chain that is excluded, or does
                    // not resolve, ends it on no page.
                    EarlyHintsSkip::Rule(Reason::Excluded | Reason::BadLocation) if chained => {}
                    other => panic!("103 skipped as {other:?}, but its rules hold"),
                },
                (None, Decision::NotRedirect) => unreachable!("a redirect status"),
            }
        }
        EarlyHintsDecision::Send(hints) => {
            assert_eq!(gate, None, "a 103 past its gate");
            let Decision::Push(first) = &rules else {
                panic!("a 103 although a rule fails: {rules:?}");
            };
            let sent = check_hints(hints.link_value());
            assert_eq!(sent.len(), hints.count());
            let page = hints.target_path();
            assert!(
                page.starts_with('/') && !page.contains('?'),
                "page {page:?}"
            );
            if !chained {
                assert_eq!(
                    page,
                    page_path(first.path_and_query()),
                    "not the target's page"
                );
            }
            // The scope's declared hints for the page first, then what a
            // page taught, to a visitor who may fetch it.
            let mut want: Vec<&str> = Vec::new();
            for (path, value) in declared {
                if *path == page && !want.contains(value) {
                    want.push(value);
                }
            }
            assert_eq!(
                &sent[..want.len().min(sent.len())],
                &want[..],
                "not the declared hints first"
            );
            let learned = &sent[want.len()..];
            if !learned.is_empty() {
                let before = before.expect("learned hints without a store");
                assert!(
                    before.visitor.map_or(true, |v| v.may_fetch_pages()),
                    "learned hints to a visitor who may not fetch the page"
                );
                assert!(
                    before
                        .page_hints
                        .iter()
                        .any(|taught| is_subsequence(learned, taught)),
                    "hints {learned:?} that no page taught"
                );
            }
        }
    }
}

/// `respond`'s 103 is the one the 103's own decision makes of the same
/// records, but for a page's learned hints, which go only to a visitor who
/// may fetch the page.
fn check_against_early_hints(
    declared: &DeclaredLines<'_>,
    decision: &EarlyHintsDecision,
    oracle: &EarlyHintsDecision,
    before: Option<&Before>,
) {
    let visitor = before.and_then(|before| before.visitor);
    if visitor.map_or(true, |v| v.may_fetch_pages()) {
        assert_eq!(decision, oracle, "respond's 103 is not early_hints'");
        return;
    }
    match (decision, oracle) {
        (EarlyHintsDecision::Send(sent), EarlyHintsDecision::Send(all)) => {
            let page = sent.target_path();
            assert_eq!(page, all.target_path());
            for hint in sent.link_value().split(", ") {
                assert!(
                    declared.contains(&(page, hint)),
                    "{hint:?} sent to a visitor who may not fetch {page:?}"
                );
            }
        }
        (EarlyHintsDecision::Skip(EarlyHintsSkip::NoHints), EarlyHintsDecision::Send(_)) => {}
        (decision, oracle) => assert_eq!(decision, oracle, "respond's 103 is not early_hints'"),
    }
}

/// The path of a path+query.
pub fn page_path(path_and_query: &str) -> &str {
    path_and_query.split('?').next().unwrap_or_default()
}

fn is_subsequence(part: &[&str], whole: &[String]) -> bool {
    let mut whole = whole.iter();
    part.iter().all(|hint| whole.any(|h| h == hint))
}

/// One 103 `Link` value: visible ASCII (and the spaces that join its
/// hints), within [`MAX_HINTS`] and [`MAX_HINTS_LEN`], each hint once and
/// each of the kinds docs/behaviour.md allows. Returns the hints.
pub fn check_hints(value: &str) -> Vec<&str> {
    assert!(
        value.bytes().all(|b| (b' '..=b'~').contains(&b)),
        "a 103 Link value that is not visible ASCII: {value:?}"
    );
    assert!(value.len() <= MAX_HINTS_LEN, "{} bytes", value.len());
    let hints: Vec<&str> = value.split(", ").collect();
    assert!(hints.len() <= MAX_HINTS, "{} hints", hints.len());
    for (i, hint) in hints.iter().enumerate() {
        assert!(!hints[..i].contains(hint), "{hint:?} twice");
        check_hint(hint);
    }
    hints
}

/// One hint as docs/behaviour.md, "What is in it", allows it: a preload
/// with a known `as`, written as a path-absolute reference or, to another
/// origin, as an https URL; a modulepreload of a path; a preconnect to an
/// https origin; then at most `crossorigin` (anonymous or
/// `use-credentials`) and a plain `type/subtype`, nothing else.
pub fn check_hint(hint: &str) {
    let (reference, params) = hint
        .strip_prefix('<')
        .and_then(|hint| hint.split_once('>'))
        .unwrap_or_else(|| panic!("hint {hint:?} is no <reference>"));
    assert!(
        !reference.is_empty()
            && reference
                .bytes()
                .all(|b| b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b'"')),
        "unsafe reference in {hint:?}"
    );
    let path = reference.starts_with('/') && !reference.starts_with("//");
    let url = (!path).then(|| {
        let url = Url::parse(reference).unwrap_or_else(|_| panic!("{hint:?}: no path, no URL"));
        assert_eq!(url.scheme(), "https", "{hint:?}");
        assert!(url.username().is_empty() && url.password().is_none() && url.fragment().is_none());
        url
    });
    let mut params = params
        .strip_prefix("; ")
        .unwrap_or_else(|| panic!("hint {hint:?} has no relation"))
        .split("; ");
    match params.next() {
        Some("rel=preload") => {
            let destination = params.next().and_then(|p| p.strip_prefix("as="));
            assert!(
                destination.is_some_and(|d| PRELOAD_DESTINATIONS.contains(&d)),
                "a preload without a known as: {hint:?}"
            );
        }
        Some("rel=modulepreload") => assert!(path, "a module from another origin: {hint:?}"),
        Some("rel=preconnect") => {
            let url = url.unwrap_or_else(|| panic!("a preconnect to a path: {hint:?}"));
            assert_eq!(reference, url.origin().ascii_serialization(), "{hint:?}");
        }
        _ => panic!("another relation: {hint:?}"),
    }
    let (mut crossorigin, mut mime_type) = (0, 0);
    for param in params {
        if param == "crossorigin" || param == "crossorigin=use-credentials" {
            crossorigin += 1;
        } else if let Some(value) = param
            .strip_prefix("type=\"")
            .and_then(|p| p.strip_suffix('"'))
        {
            let token = |t: &str| !t.is_empty() && t.bytes().all(is_tchar);
            let (kind, subtype) = value.split_once('/').unwrap_or_default();
            assert!(token(kind) && token(subtype), "type {value:?} in {hint:?}");
            mime_type += 1;
        } else {
            panic!("parameter {param:?} kept in {hint:?}");
        }
    }
    assert!(crossorigin <= 1 && mime_type <= 1, "{hint:?}");
}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// What a response teaches: only a response that may teach, under its
/// URL's key, a redirect its target, a page hints that are valid.
fn check_learn(
    policy: &Policy<'_>,
    settings: &Settings<'_>,
    ex: &Exchange<'_>,
    learn: &Learn,
    before: &Before,
) {
    // "Never learned from".
    assert_eq!(ex.method, b"GET", "learned from a {:?}", ex.method);
    assert!(
        !ex.has_cookie && !ex.has_authorization,
        "learned from credentials"
    );
    assert!(!ex.pushed_stream, "learned from a pushed stream");
    assert!(
        !before.visitor.is_some_and(|v| v.authenticated),
        "learned from an authenticated visitor"
    );
    let key = RecordKey::new(ex.vhost, ex.local_port, ex.request_target)
        .expect("learned for a URL without a key");
    assert_eq!(&learn.key, key.as_bytes(), "not the URL's key");
    assert_eq!(
        learn.lifetime_secs,
        before.lifetime_secs.unwrap_or(DEFAULT_LIFETIME_SECS)
    );
    let personal = !ex.set_cookies.is_empty() || forbids_sharing(ex.cache_control);
    if policy.statuses.contains(ex.status) {
        assert!(!personal, "a redirect that may be one visitor's taught");
        assert!(learn.unconfirmed.is_none() && learn.hints == 0);
        // Rules 1 and 6 to 10 hold, whatever the push-only and TLS rules say.
        let links: &[&[u8]] = &[];
        let learnable = Exchange {
            h2_push: true,
            pushed_stream: false,
            links,
            ..*ex
        };
        let any_scheme = Policy {
            require_tls: false,
            ..*policy
        };
        match decide(&any_scheme, &learnable) {
            Decision::Push(target) => assert_eq!(
                learn.record.as_deref(),
                Some(format!("pr1 r\n{}\n", target.path_and_query()).as_bytes()),
                "a redirect taught another target"
            ),
            other => panic!("a redirect taught, but its rules say {other:?}"),
        }
        return;
    }
    assert_eq!(ex.status, 200, "learned from a {}", ex.status);
    assert!(
        settings.learns_pages(),
        "a page taught where no 103 goes out"
    );
    assert!(personal || learn.unconfirmed.is_none());
    let cookies = cookie_values(ex.set_cookies);
    let records = learn.record.iter();
    for record in records.chain(learn.unconfirmed.iter().map(|(_, record)| record)) {
        let text = std::str::from_utf8(record).expect("a record of text");
        let lines = text
            .strip_prefix("pr1 h\n")
            .unwrap_or_else(|| panic!("a page taught {text:?}"));
        let hints: Vec<&str> = lines.lines().collect();
        if !hints.is_empty() {
            check_hints(&hints.join(", "));
        }
        for hint in &hints {
            let decoded = percent_decoded(hint.as_bytes());
            for cookie in &cookies {
                let holds = |text: &[u8]| text.windows(cookie.len()).any(|w| w == &cookie[..]);
                assert!(
                    !holds(hint.as_bytes()) && !holds(&decoded),
                    "{hint:?} holds a cookie the page set"
                );
            }
        }
        if Some(record) == learn.record.as_ref() {
            assert_eq!(learn.hints, hints.len());
        }
    }
}

/// Whether a `Cache-Control` field says `private` or `no-store`.
fn forbids_sharing(fields: &[&[u8]]) -> bool {
    fields
        .iter()
        .flat_map(|f| f.split(|&b| b == b','))
        .any(|d| {
            let name = d
                .split(|&b| b == b'=')
                .next()
                .unwrap_or_default()
                .trim_ascii();
            name.eq_ignore_ascii_case(b"private") || name.eq_ignore_ascii_case(b"no-store")
        })
}

/// The values of the cookies `Set-Cookie` fields set, of 4 bytes or more
/// (docs/behaviour.md, "Pages that may be one visitor's"), unquoted.
fn cookie_values(fields: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut values = Vec::new();
    for field in fields {
        let pair = field.split(|&b| b == b';').next().unwrap_or_default();
        let Some(at) = pair.iter().position(|&b| b == b'=') else {
            continue;
        };
        let value = pair[at + 1..].trim_ascii();
        let value = value
            .strip_prefix(b"\"")
            .and_then(|v| v.strip_suffix(b"\""))
            .unwrap_or(value);
        if value.len() >= 4 {
            values.push(value.to_vec());
        }
    }
    values
}

fn percent_decoded(text: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let escape = text
            .get(i + 1..i + 3)
            .and_then(|h| Some(hex(h[0])? * 16 + hex(h[1])?));
        match (text[i], escape) {
            (b'%', Some(byte)) => {
                out.push(byte as u8);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}
