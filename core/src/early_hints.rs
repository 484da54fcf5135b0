//! Early Hints across redirects: a `103` sent before a same-origin redirect,
//! carrying the preloads of the redirect's target, for browsers that refuse
//! push but keep a 103's preloads across a same-origin redirect.
//!
//! The hints for a target come from two places:
//! - **declared** (`PushRedirectEarlyHint <target-path> "<link-value>"`), a
//!   [`DeclaredHints`] built at configuration time;
//! - **learned** from the `Link` fields of earlier `200` responses for that
//!   origin and path, kept in a bounded [`HintCache`] with a lifetime.
//!
//! Every hint is re-validated and re-serialised here, whatever its source:
//! only `rel=preload` (with a known `as`) and `rel=preconnect`, only to the
//! same origin or to `https`, written back from parsed parts (never copied),
//! so a backend cannot inject a field through a learned value. At most
//! [`MAX_HINTS`] hints and [`MAX_HINTS_LEN`] bytes go into one 103.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use url::Url;

use crate::config::{quoted, ConfigError};
use crate::decide::{
    check_target, is_linkable, is_safe_in_link, path_and_query, requested_url, same_origin,
    Exchange, Policy, Reason, Rules,
};
use crate::link::{is_tchar, link_values, params};

/// The most hints in one 103.
pub const MAX_HINTS: usize = 16;
/// The longest `Link` field value of one 103, in bytes.
pub const MAX_HINTS_LEN: usize = 4096;
/// The longest path that is learned (longer ones are not remembered).
pub const MAX_LEARNED_PATH_LEN: usize = 2048;

/// The `as` values a preload hint may carry (the HTML standard's request
/// destinations that a 103 preload makes sense for).
const PRELOAD_DESTINATIONS: [&str; 9] = [
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
    value: String,
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
            Relation::Preload
                if !same && url.scheme() == "https" && is_safe_in_link(url.as_str()) =>
            {
                value.push_str(url.as_str());
            }
            // A preconnect to our own origin is the connection in use.
            Relation::Preconnect if !same && url.scheme() == "https" => {
                value.push_str(&url.origin().ascii_serialization());
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
enum Relation {
    Preload,
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
        } else if has(b"preconnect") {
            Some(Relation::Preconnect)
        } else {
            None
        }
    }
}

/// A `type` parameter that is a plain `type/subtype` of tokens.
fn mime_type_text(value: &[u8]) -> Option<&str> {
    let (kind, subtype) = value.split_at(value.iter().position(|&b| b == b'/')?);
    let subtype = &subtype[1..];
    let token = |t: &[u8]| !t.is_empty() && t.len() <= 127 && t.iter().all(|&b| is_tchar(b));
    (token(kind) && token(subtype))
        .then(|| std::str::from_utf8(value).ok())
        .flatten()
}

/// Every hint of some `Link` field values, in order, without duplicates,
/// within [`MAX_HINTS`] and [`MAX_HINTS_LEN`].
fn hints_of(fields: &[&[u8]], base: &Url) -> Vec<Hint> {
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
struct HintList {
    hints: Vec<Hint>,
    /// The length of the hints joined with `, `.
    len: usize,
}

impl HintList {
    /// Adds `hint` unless it is there already or the list is full; a hint
    /// that does not fit in what is left of [`MAX_HINTS_LEN`] is left out.
    fn push(&mut self, hint: Hint) {
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

    fn field_value(&self) -> String {
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

/// The base that declared hints are read against: a path-absolute reference
/// becomes a path, an https URL stays a URL. `.invalid` is never a real host.
const DECLARED_BASE: &str = "https://declared-hint.invalid/";

/// `PushRedirectEarlyHint` lines of one scope: hints by target path.
#[derive(Clone, Debug, Default)]
pub struct DeclaredHints {
    by_path: Vec<(String, Hint)>,
}

impl DeclaredHints {
    pub fn new() -> DeclaredHints {
        DeclaredHints::default()
    }

    /// Adds the hint of one `PushRedirectEarlyHint <target-path> "<link-value>"`.
    /// The target path is a path (`/new`), compared with the redirect
    /// target's path without its query; the link-value is one preload or
    /// preconnect whose reference is path-absolute or an https URL.
    pub fn add(&mut self, target_path: &str, link_value: &str) -> Result<(), ConfigError> {
        let base = Url::parse(DECLARED_BASE).expect("a valid base");
        let bad = |value: &str, reason| ConfigError::BadEarlyHints {
            value: quoted(value),
            reason,
        };
        let path = base
            .join(target_path)
            .ok()
            .filter(|url| {
                target_path.starts_with('/')
                    && !target_path.starts_with("//")
                    && same_origin(&base, url)
                    && url.query().is_none()
                    && url.fragment().is_none()
            })
            .ok_or_else(|| bad(target_path, "is not a path (expected e.g. /new)"))?;
        let mut values = link_values(link_value.as_bytes());
        let (Some((reference, raw_params)), None) = (values.next(), values.next()) else {
            return Err(bad(
                link_value,
                "is not one link-value (expected e.g. \"</app.css>; rel=preload; as=style\")",
            ));
        };
        let absolute = reference.starts_with(b"/") && !reference.starts_with(b"//")
            || reference.starts_with(b"https://");
        let hint = Hint::parse(reference, raw_params, &base)
            .filter(|_| absolute)
            .ok_or_else(|| {
                bad(
                    link_value,
                    "is not a hint: expected <path-or-https-URL> with rel=preload and an as \
                     (audio, fetch, font, image, script, style, track, video, worker), \
                     or an https URL with rel=preconnect",
                )
            })?;
        self.by_path.push((path.path().to_owned(), hint));
        Ok(())
    }

    fn for_path<'a>(&'a self, path: &'a str) -> impl Iterator<Item = &'a Hint> + 'a {
        self.by_path
            .iter()
            .filter(move |(declared, _)| declared == path)
            .map(|(_, hint)| hint)
    }

    pub fn len(&self) -> usize {
        self.by_path.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_path.is_empty()
    }
}

/// The size and lifetime of the learned cache
/// (`PushRedirectEarlyHintsCache <entries> <seconds>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheLimits {
    pub entries: usize,
    pub lifetime_secs: u64,
}

impl CacheLimits {
    /// 1024 pages for 10 minutes: at most 16 hints of 4 KB in all per page,
    /// so at most about 4 MB per child.
    pub const DEFAULT: CacheLimits = CacheLimits {
        entries: 1024,
        lifetime_secs: 600,
    };
    const MAX_ENTRIES: usize = 1_000_000;
    const MAX_LIFETIME_SECS: u64 = 7 * 24 * 3600;

    /// Parses the arguments `<entries> <seconds>`; `0` entries turns
    /// learning off.
    pub fn parse(args: &str) -> Result<CacheLimits, ConfigError> {
        let mut words = args.split_ascii_whitespace();
        let (Some(entries), Some(seconds), None) = (words.next(), words.next(), words.next())
        else {
            return Err(ConfigError::BadEarlyHints {
                value: quoted(args),
                reason: "is not two numbers (expected <entries> <seconds>, e.g. 1024 600)",
            });
        };
        let number = |text: &str, range: std::ops::RangeInclusive<u64>, reason| {
            text.parse::<u64>()
                .ok()
                .filter(|n| range.contains(n) && text.bytes().all(|b| b.is_ascii_digit()))
                .ok_or(ConfigError::BadEarlyHints {
                    value: quoted(text),
                    reason,
                })
        };
        let entries = number(
            entries,
            0..=Self::MAX_ENTRIES as u64,
            "is not a number of entries (0 to 1000000; 0 turns learning off)",
        )?;
        let lifetime_secs = number(
            seconds,
            1..=Self::MAX_LIFETIME_SECS,
            "is not a lifetime in seconds (1 to 604800)",
        )?;
        Ok(CacheLimits {
            entries: entries as usize,
            lifetime_secs,
        })
    }
}

impl Default for CacheLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Hints learned from `200` responses, by (origin, path): bounded in
/// entries, each entry good for the lifetime. Thread-safe; the lock is held
/// for map operations only (no I/O, no allocation of hints under it).
/// The caller passes the current time (seconds on any monotonic-enough
/// clock), so that the core reads no clock.
#[derive(Debug)]
pub struct HintCache {
    limits: CacheLimits,
    entries: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    map: HashMap<CacheKey, Entry>,
    /// Counts stores, so that the oldest entry is known within one second.
    stored: u64,
}

type CacheKey = (String, String);

#[derive(Debug)]
struct Entry {
    hints: Arc<[Hint]>,
    learned_at: u64,
    serial: u64,
}

impl HintCache {
    pub fn new(limits: CacheLimits) -> HintCache {
        HintCache {
            limits,
            entries: Mutex::new(Entries::default()),
        }
    }

    pub fn limits(&self) -> CacheLimits {
        self.limits
    }

    /// A panic elsewhere while the lock was held leaves a map that is still
    /// consistent (every operation is a single map call): keep using it.
    fn lock(&self) -> MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn is_fresh(&self, entry: &Entry, now: u64) -> bool {
        now.saturating_sub(entry.learned_at) < self.limits.lifetime_secs
    }

    /// Remembers `hints` for `key` (an empty list forgets the key: the page
    /// no longer has hints). When full, expired entries go first, then the
    /// oldest one.
    fn store(&self, key: CacheKey, hints: Vec<Hint>, now: u64) {
        if self.limits.entries == 0 {
            return;
        }
        if hints.is_empty() {
            self.lock().map.remove(&key);
            return;
        }
        let hints: Arc<[Hint]> = hints.into();
        let mut entries = self.lock();
        entries.stored += 1;
        let entry = Entry {
            hints,
            learned_at: now,
            serial: entries.stored,
        };
        let map = &mut entries.map;
        if map.len() >= self.limits.entries && !map.contains_key(&key) {
            map.retain(|_, e| now.saturating_sub(e.learned_at) < self.limits.lifetime_secs);
            if map.len() >= self.limits.entries {
                let oldest = map
                    .iter()
                    .min_by_key(|(_, e)| e.serial)
                    .map(|(k, _)| k.clone());
                if let Some(oldest) = oldest {
                    map.remove(&oldest);
                }
            }
        }
        map.insert(key, entry);
    }

    fn lookup(&self, key: &CacheKey, now: u64) -> Option<Arc<[Hint]>> {
        let mut entries = self.lock();
        let entry = entries.map.get(key)?;
        if self.is_fresh(entry, now) {
            return Some(Arc::clone(&entry.hints));
        }
        entries.map.remove(key);
        None
    }

    /// How many entries are stored (expired ones included until touched).
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Learns from one response: for a `200` to a GET, the hints in its
    /// `Link` fields become the hints of its origin and path (none: the
    /// entry is forgotten). Responses to requests with `Cookie` or
    /// `Authorization` teach nothing unless `policy.with_credentials`: their
    /// links may be personal, and the hints go to everyone. Returns how many
    /// hints were stored.
    pub fn learn(&self, policy: &Policy<'_>, ex: &Exchange<'_>, now: u64) -> usize {
        if self.limits.entries == 0
            || ex.status != 200
            || ex.method != b"GET"
            || (!policy.with_credentials && (ex.has_cookie || ex.has_authorization))
        {
            return 0;
        }
        let Some(page) = requested_url(ex) else {
            return 0;
        };
        if page.path().len() > MAX_LEARNED_PATH_LEN {
            return 0;
        }
        let hints = hints_of(ex.links, &page);
        let count = hints.len();
        self.store(cache_key(&page), hints, now);
        count
    }
}

fn cache_key(page: &Url) -> CacheKey {
    (page.origin().ascii_serialization(), page.path().to_owned())
}

/// Why a redirect gets no 103. [`EarlyHintsSkip::as_str`] is logged and put
/// in `PUSH_REDIRECT_EARLY_HINTS_SKIPPED`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EarlyHintsSkip {
    /// One of the spec's rules that apply to Early Hints failed.
    Rule(Reason),
    /// HTTP/1.x: never a 103 there.
    NotHttp2,
    /// A pushed stream: there is no browser waiting on it.
    PushedStream,
    /// Neither declared nor learned hints for the target.
    NoHints,
}

impl EarlyHintsSkip {
    pub const fn as_str(self) -> &'static str {
        match self {
            EarlyHintsSkip::Rule(reason) => reason.as_str(),
            EarlyHintsSkip::NotHttp2 => "not-http2",
            EarlyHintsSkip::PushedStream => "pushed-stream",
            EarlyHintsSkip::NoHints => "no-hints",
        }
    }
}

/// The 103 to send before a redirect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EarlyHints {
    link: String,
    count: usize,
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

    /// The redirect target's path, which the hints are for.
    pub fn target_path(&self) -> &str {
        &self.target_path
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EarlyHintsDecision {
    /// The status is not in `PushRedirectStatus`.
    NotRedirect,
    Send(EarlyHints),
    Skip(EarlyHintsSkip),
}

/// Whether to send a 103 before this redirect, and with which hints:
/// HTTP/2 only, a GET whose target passes the spec's opt-out, TLS,
/// location, same-origin, self and exclude rules (not `push-disabled` nor
/// `credentials`: the browser fetches the hints itself, with its own
/// cookies). Declared hints come first, then learned ones.
pub fn early_hints(
    policy: &Policy<'_>,
    declared: Option<&DeclaredHints>,
    cache: Option<&HintCache>,
    ex: &Exchange<'_>,
    now: u64,
) -> EarlyHintsDecision {
    if !policy.statuses.contains(ex.status) {
        return EarlyHintsDecision::NotRedirect;
    }
    let skip = EarlyHintsDecision::Skip;
    if !ex.http2 {
        return skip(EarlyHintsSkip::NotHttp2);
    }
    if ex.pushed_stream {
        return skip(EarlyHintsSkip::PushedStream);
    }
    let target = match check_target(policy, ex, Rules::ClientFetches) {
        Ok((_, target)) => target,
        Err(reason) => return skip(EarlyHintsSkip::Rule(reason)),
    };
    let mut hints = HintList::default();
    for hint in declared.into_iter().flat_map(|d| d.for_path(target.path())) {
        hints.push(hint.clone());
    }
    if let Some(learned) = cache.and_then(|cache| cache.lookup(&cache_key(&target), now)) {
        for hint in learned.iter() {
            hints.push(hint.clone());
        }
    }
    if hints.hints.is_empty() {
        return skip(EarlyHintsSkip::NoHints);
    }
    EarlyHintsDecision::Send(EarlyHints {
        link: hints.field_value(),
        count: hints.hints.len(),
        target_path: target.path().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ExcludeSet;

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

    /// A 200 to GET `path` on the same origin with these Link fields.
    fn page(path: &'static str, links: &'static [&'static [u8]]) -> Exchange<'static> {
        Exchange {
            status: 200,
            method: b"GET",
            scheme: b"https",
            host: Some(b"example.com:8443"),
            request_target: path.as_bytes(),
            http2: true,
            links,
            ..Exchange::default()
        }
    }

    fn hint(value: &str) -> Option<String> {
        let base = Url::parse(&format!("{ORIGIN}/dir/page")).unwrap();
        let mut values = link_values(value.as_bytes());
        let (reference, raw) = values.next()?;
        Hint::parse(reference, raw, &base).map(|h| h.value)
    }

    fn sent(decision: EarlyHintsDecision) -> String {
        match decision {
            EarlyHintsDecision::Send(hints) => hints.link,
            other => panic!("expected a 103, got {other:?}"),
        }
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
            hint(
                "<https://cdn.example/a.css#x>; rel=preload; as=style; crossorigin=use-credentials"
            )
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
            0,
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
            early_hints(&Policy::default(), Some(&set), None, &redirect("/none"), 0),
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
    fn learned_hints_are_sent_for_a_redirect_to_that_page() {
        let cache = HintCache::new(CacheLimits::DEFAULT);
        let links: &[&[u8]] = &[
            b"</static/app.css>; rel=preload; as=style",
            b"</favicon.ico>; rel=icon, <https://cdn.example>; rel=preconnect",
        ];
        assert_eq!(
            cache.learn(&Policy::default(), &page("/new?x=1", links), 100),
            2
        );
        let policy = Policy::default();
        assert_eq!(
            sent(early_hints(
                &policy,
                None,
                Some(&cache),
                &redirect("/new"),
                101
            )),
            "</static/app.css>; rel=preload; as=style, <https://cdn.example>; rel=preconnect"
        );
        // Declared first, duplicates once.
        let set = declared(&[
            ("/new", "</d.js>; rel=preload; as=script"),
            ("/new", "</static/app.css>; rel=preload; as=style"),
        ]);
        assert_eq!(
            sent(early_hints(&policy, Some(&set), Some(&cache), &redirect("/new"), 101)),
            "</d.js>; rel=preload; as=script, </static/app.css>; rel=preload; as=style, <https://cdn.example>; rel=preconnect"
        );
        // Another host's page is another entry.
        let other_host = Exchange {
            host: Some(b"other.example:8443"),
            ..redirect("/new")
        };
        assert_eq!(
            early_hints(&policy, None, Some(&cache), &other_host, 101),
            EarlyHintsDecision::Skip(EarlyHintsSkip::NoHints)
        );
        // The page drops its links: the entry is forgotten.
        assert_eq!(cache.learn(&policy, &page("/new", &[]), 102), 0);
        assert!(cache.is_empty());
    }

    #[test]
    fn what_is_not_learned() {
        let cache = HintCache::new(CacheLimits::DEFAULT);
        let links: &[&[u8]] = &[b"</a.css>; rel=preload; as=style"];
        let policy = Policy::default();
        let cases = [
            Exchange {
                status: 404,
                ..page("/p", links)
            },
            Exchange {
                status: 302,
                ..page("/p", links)
            },
            Exchange {
                method: b"HEAD",
                ..page("/p", links)
            },
            Exchange {
                has_cookie: true,
                ..page("/p", links)
            },
            Exchange {
                has_authorization: true,
                ..page("/p", links)
            },
            page("*", links),
        ];
        for ex in cases {
            assert_eq!(cache.learn(&policy, &ex, 0), 0, "{ex:?}");
        }
        assert!(cache.is_empty());
        let with_credentials = Policy {
            with_credentials: true,
            ..Policy::default()
        };
        let cookie = Exchange {
            has_cookie: true,
            ..page("/p", links)
        };
        assert_eq!(cache.learn(&with_credentials, &cookie, 0), 1);
        let off = HintCache::new(CacheLimits {
            entries: 0,
            lifetime_secs: 1,
        });
        assert_eq!(off.learn(&policy, &page("/p", links), 0), 0);
        assert!(off.is_empty());
    }

    #[test]
    fn the_cache_is_bounded_and_entries_expire() {
        let cache = HintCache::new(CacheLimits {
            entries: 2,
            lifetime_secs: 10,
        });
        let policy = Policy::default();
        let links: &[&[u8]] = &[b"</a.css>; rel=preload; as=style"];
        cache.learn(&policy, &page("/one", links), 0);
        cache.learn(&policy, &page("/two", links), 1);
        cache.learn(&policy, &page("/three", links), 2);
        assert_eq!(cache.len(), 2);
        let hinted = |path: &'static str, now| {
            matches!(
                early_hints(&policy, None, Some(&cache), &redirect(path), now),
                EarlyHintsDecision::Send(_)
            )
        };
        assert!(!hinted("/one", 3), "the oldest entry was evicted");
        assert!(hinted("/two", 3) && hinted("/three", 3));
        assert!(hinted("/two", 10), "learned at 1, good until 11");
        assert!(!hinted("/two", 11), "expired");
        assert_eq!(cache.len(), 1, "an expired entry is dropped when looked up");
        // Relearning refreshes an entry; a full cache drops expired ones first.
        cache.learn(&policy, &page("/three", links), 20);
        cache.learn(&policy, &page("/four", links), 21);
        assert_eq!(cache.len(), 2);
        assert!(hinted("/three", 25) && hinted("/four", 25));
    }

    #[test]
    fn eviction_is_in_store_order_within_one_second() {
        let cache = HintCache::new(CacheLimits {
            entries: 3,
            lifetime_secs: 10,
        });
        let policy = Policy::default();
        let links: &[&[u8]] = &[b"</a.css>; rel=preload; as=style"];
        for path in ["/p1", "/p2", "/p3", "/p4", "/p5"] {
            cache.learn(&policy, &page(path, links), 7);
        }
        let hinted = |path: &'static str| {
            matches!(
                early_hints(&policy, None, Some(&cache), &redirect(path), 7),
                EarlyHintsDecision::Send(_)
            )
        };
        assert!(!hinted("/p1") && !hinted("/p2"));
        assert!(hinted("/p3") && hinted("/p4") && hinted("/p5"));
    }

    #[test]
    fn the_cache_is_shared_by_threads() {
        let cache = Arc::new(HintCache::new(CacheLimits {
            entries: 64,
            lifetime_secs: 100,
        }));
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let cache = Arc::clone(&cache);
                std::thread::spawn(move || {
                    let policy = Policy::default();
                    for i in 0..200 {
                        let path: &'static str =
                            Box::leak(format!("/p{}", (t * 7 + i) % 100).into_boxed_str());
                        let links: &[&[u8]] = &[b"</a.css>; rel=preload; as=style"];
                        cache.learn(&policy, &page(path, links), i);
                        early_hints(&policy, None, Some(&cache), &redirect(path), i);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert!(cache.len() <= 64);
    }

    #[test]
    fn which_redirects_get_a_103() {
        let set = declared(&[("/new", "</a.css>; rel=preload; as=style")]);
        let policy = Policy::default();
        let run =
            |ex: &Exchange<'_>, policy: &Policy<'_>| early_hints(policy, Some(&set), None, ex, 0);
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
    fn cache_limits_parse() {
        assert_eq!(
            CacheLimits::parse(" 10\t60 ").unwrap(),
            CacheLimits {
                entries: 10,
                lifetime_secs: 60
            }
        );
        assert_eq!(CacheLimits::parse("0 1").unwrap().entries, 0);
        for (args, named) in [
            ("x 60", "'x'"),
            ("-1 60", "'-1'"),
            ("+5 60", "'+5'"),
            ("1000001 60", "'1000001'"),
            ("10 0", "'0'"),
            ("10 1e3", "'1e3'"),
            ("10 604801", "'604801'"),
            ("10", "'10' is not two numbers"),
            ("10 20 30", "'10 20 30'"),
            ("", "''"),
        ] {
            let error = CacheLimits::parse(args).unwrap_err().to_string();
            assert!(error.starts_with(named), "{error}");
        }
    }
}
