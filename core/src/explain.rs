//! What the server would do for one URL, for its operator (the module's
//! `push-redirect-info` handler, docs/operating.md): the record learned for
//! it, the chain that record leads to, and the 103 that a fresh anonymous
//! navigation to it would get, or why it would get none. Read with the
//! same pieces as the 103s themselves ([`crate::ahead`], [`crate::respond`]),
//! so that the page says what the server does.

use std::borrow::Cow;
use std::ffi::CStr;
use std::sync::Arc;

use crate::chain::{follow, page_early_hints, resolve_learned, Chain, End, Lookup};
use crate::exchange::{Exchange, Policy, Reason};
use crate::hints::{EarlyHints, EarlyHintsSkip};
use crate::learn::Store;
use crate::origin::Requested;
use crate::record::{without_query, Record};
use crate::respond::Settings;
use crate::rules::check_shared;

/// What one URL leads to, as far as the server has learned.
#[derive(Debug)]
pub struct Explanation {
    /// The URL whose record was found: the URL asked about, or its path
    /// without the query (whose record stands in for it); `None`: nothing
    /// is learned for it.
    pub record_of: Option<String>,
    pub record: Option<Arc<Record>>,
    /// When the record is a redirect: the target of each hop of the chain
    /// it leads to, in order (the first is the record's own).
    pub hops: Vec<String>,
    /// How that chain ends; `None` when the record is not a redirect.
    pub chain_end: Option<ChainEnd>,
    /// The 103 a fresh anonymous navigation to the URL would get, or why
    /// none.
    pub early_hints: Result<Preview, NoEarlyHints>,
}

/// How a learned chain ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChainEnd {
    /// On a page the server has a record of.
    Page,
    /// On a target with no record (or one that does not parse): taken for
    /// the page, with its declared hints only.
    Unknown,
    /// On a target seen before.
    Loop,
    /// Past the hops a chain may have.
    TooLong,
    /// On a learned target that does not resolve as a `Location` would.
    BadHop(Reason),
}

impl ChainEnd {
    pub const fn as_str(self) -> &'static str {
        match self {
            ChainEnd::Page => "page",
            ChainEnd::Unknown => "unknown",
            ChainEnd::Loop => "loop",
            ChainEnd::TooLong => "too-long",
            ChainEnd::BadHop(reason) => reason.as_str(),
        }
    }
}

/// The 103 that would go out.
#[derive(Debug, PartialEq, Eq)]
pub struct Preview {
    pub hints: EarlyHints,
    /// Ahead of the handler (`PushRedirectEarlyHintsAhead On`); else at
    /// the redirect.
    pub ahead: bool,
}

/// Why no 103 would go out: a token of the contract's
/// ([`EarlyHintsSkip`]), or one of the page's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoEarlyHints {
    Skip(EarlyHintsSkip),
    /// `PushRedirectEarlyHints` is not on for the URL.
    Off,
    /// Nothing is learned for the URL: whether it redirects, and where,
    /// is known only once it has answered.
    NotLearned,
    /// The URL is learned as a page, and only a redirect gets a 103 where
    /// `PushRedirectEarlyHintsAhead` is off.
    NotRedirect,
}

impl NoEarlyHints {
    pub const fn as_str(self) -> &'static str {
        match self {
            NoEarlyHints::Skip(skip) => skip.as_str(),
            NoEarlyHints::Off => "off",
            NoEarlyHints::NotLearned => "not-learned",
            NoEarlyHints::NotRedirect => "not-redirect",
        }
    }
}

/// The shared store as the process that answers sees it, for the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreState {
    /// It answered every lookup.
    Ok,
    /// Nothing is learned here: no store, or one that cannot be used.
    None,
    /// It failed lately: nothing was looked up.
    BackedOff,
    /// A lookup got no answer in time: what is shown may be incomplete.
    Unanswered,
}

impl StoreState {
    /// The state's token, NUL-terminated in static storage.
    pub const fn as_c_str(self) -> &'static CStr {
        match self {
            StoreState::Ok => c"ok",
            StoreState::None => c"none",
            StoreState::BackedOff => c"backed-off",
            StoreState::Unanswered => c"unanswered",
        }
    }
}

/// [`explain`] for the operator's page, and the state of the store as it
/// read it. Its lookups are made without the store's budget (taken out
/// of `store`): they are not counted, and leave what the process settled
/// as it was. `backed_off`: where there is no store, whether that is
/// because the store failed lately.
pub fn explain_for_page(
    settings: &Settings<'_>,
    asked: &Exchange<'_>,
    store: Option<&mut Store<'_>>,
    backed_off: bool,
) -> (Explanation, StoreState) {
    match store {
        Some(store) => {
            store.budget = None;
            let explanation = explain(settings, asked, Some(&mut *store));
            let state = match store.provider.all_answered() {
                true => StoreState::Ok,
                false => StoreState::Unanswered,
            };
            (explanation, state)
        }
        None => {
            let state = match backed_off {
                true => StoreState::BackedOff,
                false => StoreState::None,
            };
            (explain(settings, asked, None), state)
        }
    }
}

/// What the server would do for a fresh anonymous navigation to the URL
/// of `asked` with the URL's `settings`, from what `store` holds. `asked`
/// gives the URL (`request_target`), the scheme and authority of the
/// request that asks, the virtual host that answers it and its opt-out;
/// the rest of the navigation is filled in here: a GET over HTTP/2,
/// without credentials, whose `Sec-Fetch-*` fields say it is one. The
/// visitor is taken to be one who may fetch the page the chain ends on.
pub fn explain(
    settings: &Settings<'_>,
    asked: &Exchange<'_>,
    store: Option<&mut Store<'_>>,
) -> Explanation {
    let ex = &Exchange {
        method: b"GET",
        http2: true,
        has_cookie: false,
        has_authorization: false,
        sec_fetch_mode: Some(b"navigate"),
        sec_fetch_dest: Some(b"document"),
        ..*asked
    };
    let mut store = store;
    let mut lookup = |target: &[u8]| store.as_deref_mut()?.looked_up(ex, target);
    let target = String::from_utf8_lossy(ex.request_target);
    let (record_of, record) = learned_from(&target, &mut lookup).unzip();
    let mut requested = Requested::of(ex);
    // A learned redirect's target, read as the backend's Location would
    // be, and the chain it leads to.
    let first = record.as_ref().and_then(|record| {
        let location = record.redirect_target()?;
        Some(match requested.as_mut() {
            Some(requested) => resolve_learned(requested, location).map(Cow::into_owned),
            None => Err(Reason::BadLocation),
        })
    });
    let chain = match (&first, requested.as_mut()) {
        (Some(Ok(first)), Some(requested)) => Some(follow(requested, first, &mut lookup)),
        _ => None,
    };
    let policy = settings.policy();
    let early_hints = preview(
        settings,
        &policy,
        ex,
        &Seen {
            requested: requested.as_ref(),
            record: record.as_deref(),
            first: first.as_ref(),
            chain: chain.as_ref(),
        },
    );
    let (hops, chain_end) = match (&first, chain) {
        (Some(Err(reason)), _) => (Vec::new(), Some(ChainEnd::BadHop(*reason))),
        (_, Some(chain)) => {
            let end = match chain.end() {
                End::Page(_) => ChainEnd::Page,
                End::Unknown => ChainEnd::Unknown,
                End::Loop => ChainEnd::Loop,
                End::TooLong => ChainEnd::TooLong,
                End::BadHop(reason) => ChainEnd::BadHop(*reason),
            };
            (chain.hops().to_vec(), Some(end))
        }
        _ => (Vec::new(), None),
    };
    Explanation {
        record_of,
        record,
        hops,
        chain_end,
        early_hints,
    }
}

/// The record of `target`, else of its path without the query, and the
/// URL it is of.
fn learned_from(target: &str, lookup: &mut Lookup<'_>) -> Option<(String, Arc<Record>)> {
    if let Some(record) = lookup(target.as_bytes()) {
        return Some((target.to_owned(), record));
    }
    let path = without_query(target.as_bytes())?;
    let record = lookup(path)?;
    Some((String::from_utf8_lossy(path).into_owned(), record))
}

/// What [`explain`] found before it looks at the 103.
struct Seen<'s, 'e> {
    requested: Option<&'s Requested<'e>>,
    record: Option<&'s Record>,
    /// A learned redirect's target, resolved (or why it does not).
    first: Option<&'s Result<String, Reason>>,
    chain: Option<&'s Chain>,
}

/// The 103: the gates a fresh anonymous navigation meets (the directive,
/// rules 1 to 3), then what the record says, as ahead of the handler or
/// at the redirect.
fn preview(
    settings: &Settings<'_>,
    policy: &Policy<'_>,
    ex: &Exchange<'_>,
    seen: &Seen<'_, '_>,
) -> Result<Preview, NoEarlyHints> {
    let rule = |reason| NoEarlyHints::Skip(EarlyHintsSkip::Rule(reason));
    if !settings.early_hints_on() {
        return Err(NoEarlyHints::Off);
    }
    check_shared(policy, ex).map_err(rule)?;
    let requested = seen.requested.ok_or(rule(Reason::BadLocation))?;
    let record = seen.record.ok_or(NoEarlyHints::NotLearned)?;
    let ahead = settings.ahead_on();
    let hints = match (seen.first, seen.chain) {
        (None, _) if !ahead => return Err(NoEarlyHints::NotRedirect),
        (None, _) => page_early_hints(settings.declared, requested.path(), Some(record)),
        (Some(Err(reason)), _) => return Err(rule(*reason)),
        (Some(Ok(first)), Some(chain)) => {
            policy
                .check_target_path(first, requested.path_and_query().as_bytes())
                .map_err(rule)?;
            chain.early_hints(settings.declared, policy, &mut |_| true)
        }
        (Some(Ok(_)), None) => return Err(rule(Reason::BadLocation)),
    };
    hints
        .map(|hints| Preview { hints, ahead })
        .map_err(NoEarlyHints::Skip)
}

/// `text` as a JSON string, quotes included, for the handler's JSON
/// answer: `"`, `\` and control characters escaped, and `<`, `>`, `&`,
/// DEL, U+2028 and U+2029 too, so that it can stand in HTML or JavaScript.
/// (The tools' JSON, read by scripts only, is `serde_json`'s.)
pub fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20
                || matches!(c, '<' | '>' | '&' | '\u{7f}' | '\u{2028}' | '\u{2029}') =>
            {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests;
