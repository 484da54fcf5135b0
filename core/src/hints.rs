//! Early Hints across redirects: a `103` sent before a same-origin redirect,
//! carrying the preloads of the redirect's target, for browsers that refuse
//! push but keep a 103's preloads across a same-origin redirect.
//!
//! The hints for a target come from two places:
//! - **declared** (`PushRedirectEarlyHint <target-path> "<link-value>"`), a
//!   [`DeclaredHints`](crate::DeclaredHints) built at configuration time;
//! - **learned** from the `Link` fields and the HTML of earlier `200`
//!   responses for that URL, kept as a [`Record`](crate::Record) in Apache's
//!   shared object cache for `PushRedirectEarlyHintsLifetime` seconds.
//!
//! Every hint is re-validated and re-serialised here, whatever its source:
//! only `rel=preload` (with a known `as`), `rel=modulepreload` (same origin)
//! and `rel=preconnect`, only to the same origin or to `https`, written back
//! from parsed parts (never copied),
//! so a backend cannot inject a field through a learned value. At most
//! [`MAX_HINTS`] hints and [`MAX_HINTS_LEN`] bytes go into one 103.

use std::ffi::CStr;

use url::Url;

use crate::exchange::Reason;
use crate::link::{is_tchar, link_values, params};
use crate::origin::{is_linkable, is_safe_in_link, path_and_query, same_origin};

/// The most hints in one 103.
pub const MAX_HINTS: usize = 16;
/// The longest `Link` field value of one 103, in bytes.
pub const MAX_HINTS_LEN: usize = 4096;
/// The longest path that is learned (longer ones are not remembered).
pub const MAX_LEARNED_PATH_LEN: usize = 2048;

/// The `as` values a preload hint may carry (the HTML standard's request
/// destinations that a 103 preload makes sense for).
pub(crate) const PRELOAD_DESTINATIONS: [&str; 9] = [
    "audio", "fetch", "font", "image", "script", "style", "track", "video", "worker",
];

/// One hint, validated and serialised, e.g.
/// `</static/app.css>; rel=preload; as=style`.
///
/// No `nopush` parameter, although mod_http2 pushes from a 103's preloads
/// as from any response: Chromium 156 ignores an Early Hints preload that
/// carries `nopush` (measured). The Apache module keeps mod_http2 from
/// pushing from the 103 by other means.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Hint {
    pub(crate) value: String,
}

impl Hint {
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// Reads one link-value (`reference`, raw `params`) as a hint, resolving
    /// the reference against `base`, the URL of the page it is for. `None`
    /// when it is not a hint we send (another relation, a preload without a
    /// known `as`, a scheme other than https to another origin, ...).
    pub(crate) fn parse(reference: &[u8], raw_params: &[u8], base: &Url) -> Option<Hint> {
        // A control character anywhere (CR, LF, NUL, ...) is an attempt at
        // something: the URL parser would quietly drop some of them.
        let is_control = |b: &u8| (*b < b' ' && *b != b'\t') || *b == 0x7f;
        if reference.iter().any(is_control) || raw_params.iter().any(is_control) {
            return None;
        }
        let reference = std::str::from_utf8(reference).ok()?;
        let mut rel = None;
        let mut destination = None;
        let mut crossorigin = None;
        let mut mime_type = None;
        for (name, value) in params(raw_params) {
            let slot = match name.to_ascii_lowercase().as_slice() {
                b"rel" => &mut rel,
                b"as" => &mut destination,
                b"crossorigin" => &mut crossorigin,
                b"type" => &mut mime_type,
                _ => continue,
            };
            // RFC 8288: occurrences after the first are ignored.
            if slot.is_none() {
                *slot = Some(value.unwrap_or_default());
            }
        }
        let relation = Relation::parse(&rel?)?;
        let mut url = base.join(reference).ok()?;
        url.set_fragment(None);
        if !url.username().is_empty() || url.password().is_some() {
            return None;
        }
        let same = same_origin(base, &url);
        let mut value = String::with_capacity(64 + reference.len());
        value.push('<');
        match relation {
            Relation::Preload if same && is_linkable(&url) => {
                value.push_str(path_and_query(&url));
            }
            Relation::ModulePreload if same && is_linkable(&url) => {
                value.push_str(path_and_query(&url));
            }
            Relation::Preload
                if !same && url.scheme() == "https" && is_safe_in_link(url.as_str()) =>
            {
                value.push_str(url.as_str());
            }
            // A preconnect to our own origin is the connection in use. The
            // URL standard lets a host hold `"`: such an origin, like such
            // a URL above, cannot stand in a Link.
            Relation::Preconnect if !same && url.scheme() == "https" => {
                let origin = url.origin().ascii_serialization();
                if !is_safe_in_link(&origin) {
                    return None;
                }
                value.push_str(&origin);
            }
            _ => return None,
        }
        value.push('>');
        match relation {
            Relation::Preload => {
                let destination = destination?.to_ascii_lowercase();
                let destination = PRELOAD_DESTINATIONS
                    .iter()
                    .find(|known| known.as_bytes() == destination.as_slice())?;
                value.push_str("; rel=preload; as=");
                value.push_str(destination);
            }
            // A module's destination is always `script`: no `as` to keep.
            Relation::ModulePreload => value.push_str("; rel=modulepreload"),
            Relation::Preconnect => value.push_str("; rel=preconnect"),
        }
        match crossorigin.as_deref() {
            None => {}
            Some(v) if v.eq_ignore_ascii_case(b"use-credentials") => {
                value.push_str("; crossorigin=use-credentials")
            }
            // HTML: any other value, or none, is the anonymous state.
            Some(_) => value.push_str("; crossorigin"),
        }
        if let Some(mime) = mime_type.as_deref().and_then(mime_type_text) {
            value.push_str("; type=\"");
            value.push_str(mime);
            value.push('"');
        }
        (value.len() <= MAX_HINTS_LEN).then_some(Hint { value })
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Relation {
    Preload,
    /// A module script and its imports (HTML's `modulepreload`). Same origin
    /// only: a module from another origin is what a preconnect is for.
    ModulePreload,
    Preconnect,
}

impl Relation {
    /// `rel` is a space-separated list of relation types, in any case.
    fn parse(rel: &[u8]) -> Option<Relation> {
        let has = |wanted: &[u8]| {
            rel.split(|b| b.is_ascii_whitespace())
                .any(|token| token.eq_ignore_ascii_case(wanted))
        };
        if has(b"preload") {
            Some(Relation::Preload)
        } else if has(b"modulepreload") {
            Some(Relation::ModulePreload)
        } else if has(b"preconnect") {
            Some(Relation::Preconnect)
        } else {
            None
        }
    }
}

/// A `type` parameter that is a plain `type/subtype` of tokens.
pub(crate) fn mime_type_text(value: &[u8]) -> Option<&str> {
    let (kind, subtype) = value.split_at(value.iter().position(|&b| b == b'/')?);
    let subtype = &subtype[1..];
    let token = |t: &[u8]| !t.is_empty() && t.len() <= 127 && t.iter().all(|&b| is_tchar(b));
    (token(kind) && token(subtype))
        .then(|| std::str::from_utf8(value).ok())
        .flatten()
}

/// Every hint of some `Link` field values, in order, without duplicates,
/// within [`MAX_HINTS`] and [`MAX_HINTS_LEN`].
pub(crate) fn hints_of(fields: &[&[u8]], base: &Url) -> Vec<Hint> {
    let mut hints = HintList::default();
    for field in fields {
        for (reference, raw_params) in link_values(field) {
            if let Some(hint) = Hint::parse(reference, raw_params, base) {
                hints.push(hint);
            }
        }
    }
    hints.hints
}

/// Hints gathered for one 103, kept within the limits.
#[derive(Default)]
pub(crate) struct HintList {
    pub(crate) hints: Vec<Hint>,
    /// The length of the hints joined with `, `.
    len: usize,
}

impl HintList {
    /// Adds `hint` unless it is there already or the list is full; a hint
    /// that does not fit in what is left of [`MAX_HINTS_LEN`] is left out.
    pub(crate) fn push(&mut self, hint: Hint) {
        let separator = if self.hints.is_empty() { 0 } else { 2 };
        if self.hints.len() >= MAX_HINTS
            || self.len + separator + hint.value.len() > MAX_HINTS_LEN
            || self.hints.contains(&hint)
        {
            return;
        }
        self.len += separator + hint.value.len();
        self.hints.push(hint);
    }

    pub(crate) fn field_value(&self) -> String {
        let mut value = String::with_capacity(self.len);
        for (i, hint) in self.hints.iter().enumerate() {
            if i > 0 {
                value.push_str(", ");
            }
            value.push_str(&hint.value);
        }
        value
    }
}

/// Why a redirect gets no 103. [`EarlyHintsSkip::as_str`] is logged and put
/// in `PUSH_REDIRECT_EARLY_HINTS_SKIPPED`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EarlyHintsSkip {
    /// One of the contract's rules that apply to Early Hints failed.
    Rule(Reason),
    /// HTTP/1.x where `PushRedirectEarlyHintsHTTP1` is off.
    NotHttp2,
    /// HTTP/1.0 (or older): never a 1xx there (RFC 9110, section 15.2).
    Http1_0,
    /// A pushed stream: there is no browser waiting on it.
    PushedStream,
    /// `Sec-Fetch-Mode` or `Sec-Fetch-Dest` say the request is not a
    /// navigation (a `fetch()`, an image, a frame).
    NotNavigation,
    /// Neither declared nor learned hints for the target.
    NoHints,
    /// This response's 103 went out before the handler ran.
    SentAhead,
}

impl EarlyHintsSkip {
    /// The token, as text.
    pub const fn as_str(self) -> &'static str {
        match self.as_c_str().to_str() {
            Ok(token) => token,
            Err(_) => panic!("a token is ASCII"),
        }
    }

    /// The token, NUL-terminated in static storage (as [`Reason::as_c_str`]).
    pub const fn as_c_str(self) -> &'static CStr {
        match self {
            EarlyHintsSkip::Rule(reason) => reason.as_c_str(),
            EarlyHintsSkip::NotHttp2 => c"not-http2",
            EarlyHintsSkip::Http1_0 => c"http1.0",
            EarlyHintsSkip::PushedStream => c"pushed-stream",
            EarlyHintsSkip::NotNavigation => c"not-navigation",
            EarlyHintsSkip::NoHints => c"no-hints",
            EarlyHintsSkip::SentAhead => c"sent-ahead",
        }
    }
}

/// The 103 to send before a redirect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EarlyHints {
    link: String,
    count: usize,
    declared: usize,
    target_path: String,
}

impl EarlyHints {
    /// The value of the 103's one `Link` field: the hints joined by `, `.
    pub fn link_value(&self) -> &str {
        &self.link
    }

    /// How many hints it carries.
    pub fn count(&self) -> usize {
        self.count
    }

    /// How many of them are declared (`PushRedirectEarlyHint`), the first
    /// ones.
    pub fn declared(&self) -> usize {
        self.declared
    }

    /// The path of the page the hints are for.
    pub fn target_path(&self) -> &str {
        &self.target_path
    }

    /// The 103 carrying `hints` for the page at `page_path`, the first
    /// `declared` of them declared; `None` when there are none.
    pub(crate) fn from_hints(
        hints: &HintList,
        declared: usize,
        page_path: &str,
    ) -> Option<EarlyHints> {
        let mut early_hints =
            EarlyHints::from_link(&hints.field_value(), hints.hints.len(), page_path)?;
        early_hints.declared = declared;
        Some(early_hints)
    }

    /// The 103 whose `Link` value is `link`, `count` hints joined as
    /// [`HintList::field_value`] joins them; `None` when there are none.
    pub(crate) fn from_link(link: &str, count: usize, page_path: &str) -> Option<EarlyHints> {
        (count > 0).then(|| EarlyHints {
            link: link.to_owned(),
            count,
            declared: 0,
            target_path: page_path.to_owned(),
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EarlyHintsDecision {
    /// The status is not in `PushRedirectStatus`.
    NotRedirect,
    Send(EarlyHints),
    Skip(EarlyHintsSkip),
}
