//! What the server learns, as it is kept in Apache's shared object cache
//! (mod_socache): one [`Record`] per [`RecordKey`], saying what that URL led
//! to last time. The Apache module only moves the bytes; their format, the
//! key, and what may be learned at all are decided here.
//!
//! # The record
//!
//! ```text
//! pr1 h\n                                   a 200 with these hints (none: a 200 without)
//! </s/app.css>; rel=preload; as=style\n     one hint a line, as the 103 would carry it
//! <https://cdn.example>; rel=preconnect\n
//!
//! pr1 r\n                                   a redirect to this same-origin path+query
//! /new?from=old\n
//! ```
//!
//! A first line names the version (`pr1`) and the kind (`h` hints, `r`
//! redirect); every line ends with LF, the last one too. Hints are the
//! re-serialised text of validated link-values, never what a backend sent.
//! The cache can be written by anyone who reaches it (a farm's redis is
//! shared with other software), so [`Record::parse`] reads it as untrusted:
//! each hint must come out of the same validation as a backend's `Link`
//! header, byte for byte, and a target must be a path+query that a redirect
//! of ours would have produced; anything else, and anything over the bounds,
//! is no record at all. Bounds: [`MAX_HINTS`] hints of [`MAX_HINTS_LEN`]
//! bytes in all (as one 103's `Link` value), a target of at most
//! [`MAX_LOCATION_LEN`] bytes, so a record is at most [`MAX_RECORD_LEN`].
//!
//! # The key
//!
//! The virtual host that answered (its identity, which the shim makes of its
//! `ServerName` and `ServerAlias` names, and the port the request came in
//! on: both from the configuration and the listener, never from
//! `Host` or `:authority`, and the same on every server of a farm with the
//! same configuration) and the request's path and query as the client sent
//! them. See [`RecordKey`].
//!
//! # What is written
//!
//! [`check_learnable`] says whether a response teaches anything;
//! [`plan_write`] whether its record is worth a write; [`WriteBudget`]
//! bounds the writes of one process.

mod budget;
mod settled;
mod strangers;
#[cfg(test)]
mod tests;
mod validated;

use sha2::{Digest, Sha256};
use url::Url;

use crate::exchange::MAX_LOCATION_LEN;
use crate::hints::{Hint, MAX_HINTS, MAX_HINTS_LEN, MAX_LEARNED_PATH_LEN};
use crate::link::link_values;
use crate::origin::{is_linkable, path_and_query, port_digits, same_origin};
use crate::plain::is_plain_path;
use crate::table::Table;

pub use budget::{WriteBudget, WriteRate};
pub(crate) use settled::Fingerprint;
pub use settled::{Held, Settled};
pub use strangers::Strangers;
pub use validated::Validated;

const VERSION: &str = "pr1";
/// The tag of the keys of a page's hints not yet public.
const UNCONFIRMED: &[u8] = b"pr1u:";
const HINTS_HEADER: &[u8] = b"pr1 h\n";
const REDIRECT_HEADER: &[u8] = b"pr1 r\n";

/// The longest record: a redirect's header, a target of
/// [`MAX_LOCATION_LEN`] bytes and its LF. A page's record is shorter (at
/// most [`MAX_HINTS_LEN`] bytes of hints, an LF in place of each `, `).
pub const MAX_RECORD_LEN: usize = REDIRECT_HEADER.len() + MAX_LOCATION_LEN + 1;

/// The base a stored hint or target is read against: a path-absolute
/// reference stays a path, an https URL stays a URL. `.invalid` is never a
/// real host, so no stored hint can be "same origin" with it.
const RECORD_BASE: &str = "https://record.invalid/";

/// What one URL led to the last time it was answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    kind: Kind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    /// A 200, with these hints (perhaps none), and the value of the one
    /// `Link` field of a 103 that carries them all: joined once, when the
    /// record is made, since a record read back is kept and sent as it is
    /// ([`Validated`]).
    Page { hints: Vec<Hint>, link: String },
    /// A redirect to this same-origin path+query.
    Redirect(String),
}

impl Record {
    /// A 200's record. `None` when the hints are more than one 103 carries
    /// ([`MAX_HINTS`], [`MAX_HINTS_LEN`]) or one is there twice, which the
    /// learning never produces.
    pub fn page(hints: Vec<Hint>) -> Option<Record> {
        if !within_bounds(&hints) {
            return None;
        }
        let link = hints
            .iter()
            .map(Hint::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        Some(Record {
            kind: Kind::Page { hints, link },
        })
    }

    /// A redirect's record: its resolved same-origin target, a path+query as
    /// the URL parser serialises it (`/new?q=1`). `None` for anything else:
    /// a scheme or authority, `//`, a fragment, a byte that could not stand
    /// in a `Link`, more than [`MAX_LOCATION_LEN`] bytes.
    pub fn redirect(target: &str) -> Option<Record> {
        is_stored_target(target).then(|| Record {
            kind: Kind::Redirect(target.to_owned()),
        })
    }

    /// The hints of a 200 (empty: it had none); `None` for a redirect.
    pub fn hints(&self) -> Option<&[Hint]> {
        match &self.kind {
            Kind::Page { hints, .. } => Some(hints),
            Kind::Redirect(_) => None,
        }
    }

    /// The hints of a 200 joined by `, `, as the one `Link` field of a 103
    /// carries them (empty: it had none); `None` for a redirect.
    pub fn link_value(&self) -> Option<&str> {
        match &self.kind {
            Kind::Page { link, .. } => Some(link),
            Kind::Redirect(_) => None,
        }
    }

    /// The target of a redirect; `None` for a 200.
    pub fn redirect_target(&self) -> Option<&str> {
        match &self.kind {
            Kind::Page { .. } => None,
            Kind::Redirect(target) => Some(target),
        }
    }

    /// A 200 with no hints.
    pub fn is_empty_page(&self) -> bool {
        matches!(&self.kind, Kind::Page { hints, .. } if hints.is_empty())
    }

    /// The bytes of text it holds.
    #[cfg(test)]
    fn text_len(&self) -> usize {
        match &self.kind {
            Kind::Page { hints, link } => {
                hints.iter().map(|h| h.as_str().len()).sum::<usize>() + link.len()
            }
            Kind::Redirect(target) => target.len(),
        }
    }

    /// The bytes to store, at most [`MAX_RECORD_LEN`].
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        match &self.kind {
            Kind::Page { hints, .. } => {
                out.extend_from_slice(HINTS_HEADER);
                for hint in hints {
                    out.extend_from_slice(hint.as_str().as_bytes());
                    out.push(b'\n');
                }
            }
            Kind::Redirect(target) => {
                out.extend_from_slice(REDIRECT_HEADER);
                out.extend_from_slice(target.as_bytes());
                out.push(b'\n');
            }
        }
        out
    }

    /// Reads bytes from the cache, trusting none of them. `None` for
    /// anything that [`Record::to_bytes`] would not have written: every
    /// record this returns serialises back to exactly `bytes`.
    pub fn parse(bytes: &[u8]) -> Option<Record> {
        if bytes.len() > MAX_RECORD_LEN {
            return None;
        }
        let (header, body) = bytes.split_at(bytes.iter().position(|&b| b == b'\n')? + 1);
        // Every line ends with LF: an empty body is no line, "\n" is one
        // empty line (which no item is).
        let lines: Vec<&[u8]> = match body {
            [] => Vec::new(),
            [lines @ .., b'\n'] => lines.split(|&b| b == b'\n').collect(),
            _ => return None,
        };
        if header == HINTS_HEADER {
            let mut hints = Vec::with_capacity(lines.len().min(MAX_HINTS));
            for line in lines {
                if hints.len() == MAX_HINTS {
                    return None;
                }
                hints.push(stored_hint(line)?);
            }
            Record::page(hints)
        } else if header == REDIRECT_HEADER {
            let [target] = lines[..] else {
                return None;
            };
            Record::redirect(std::str::from_utf8(target).ok()?)
        } else {
            None
        }
    }
}

/// No control character (CR, LF, NUL, ...) nor anything outside ASCII: the
/// validation below would catch them too; this says so up front and
/// keeps the URL parser from ever seeing them.
fn is_printable(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| (b' '..=b'~').contains(&b))
}

/// One line of a page's record, validated as a backend's `Link` value
/// would be and accepted only when it re-serialises to itself.
fn stored_hint(line: &[u8]) -> Option<Hint> {
    if line.is_empty() || line.len() > MAX_HINTS_LEN || !is_printable(line) {
        return None;
    }
    let mut values = link_values(line);
    let (Some((reference, raw_params)), None) = (values.next(), values.next()) else {
        return None;
    };
    let absolute = (reference.starts_with(b"/") && !reference.starts_with(b"//"))
        || reference.starts_with(b"https://");
    if !absolute {
        return None;
    }
    let base = Url::parse(RECORD_BASE).expect("a valid base");
    Hint::parse(reference, raw_params, &base).filter(|hint| hint.as_str().as_bytes() == line)
}

/// As many hints as one 103 carries, each once.
fn within_bounds(hints: &[Hint]) -> bool {
    let joined: usize =
        hints.iter().map(|h| h.as_str().len()).sum::<usize>() + 2 * hints.len().saturating_sub(1);
    hints.len() <= MAX_HINTS
        && joined <= MAX_HINTS_LEN
        && hints
            .iter()
            .enumerate()
            .all(|(i, hint)| !hints[..i].contains(hint))
}

/// A path-absolute same-origin path+query, exactly as a redirect's
/// resolved target is serialised, and linkable as one.
fn is_stored_target(target: &str) -> bool {
    if target.len() > MAX_LOCATION_LEN
        || !target.starts_with('/')
        || target.starts_with("//")
        || !is_printable(target.as_bytes())
    {
        return false;
    }
    // What the plain path takes, the URL parser keeps byte for byte as a
    // same-origin linkable path (the plain path's differential tests):
    // most targets, read without it.
    is_plain_path(target.as_bytes()) || is_parsed_stored_target(target)
}

/// [`is_stored_target`] by the URL parser alone.
fn is_parsed_stored_target(target: &str) -> bool {
    let base = Url::parse(RECORD_BASE).expect("a valid base");
    base.join(target).is_ok_and(|url| {
        same_origin(&base, &url)
            && url.fragment().is_none()
            && path_and_query(&url) == target
            && is_linkable(&url)
    })
}

/// The longest virtual host identity in a key (the shim gives a longer
/// one as its `ServerName` and a digest).
pub const MAX_KEY_SERVER_NAME_LEN: usize = 255;
/// The longest request target (path and query) that is learned or looked
/// up; longer ones are neither.
pub const MAX_KEY_TARGET_LEN: usize = MAX_LEARNED_PATH_LEN;
/// The length of a key, in bytes.
pub const KEY_LEN: usize = 32;

/// The socache id of one URL of one virtual host: the SHA-256 of the text
/// `pr1:<n>:<server-name>:<port>:<path-and-query>`, where `<n>` is the
/// length of the server name in decimal.
///
/// The length prefix makes the text unambiguous whatever the name and the
/// target contain (the name ends where its length says, the port is digits
/// up to the next `:`, the rest is the target), and SHA-256 has no known
/// collisions, so a crafted name or URL of one virtual host cannot take
/// another's key. Hashing every key, not only long ones, suits each
/// provider: memcache and redis write an id as hex after a tag of at most
/// 16 bytes in a 254-byte buffer (at most 118 bytes of id fit); shmcb picks
/// its sub-cache from the id's first byte, which a common prefix would make
/// the same for every key; dbm takes any bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RecordKey {
    id: [u8; KEY_LEN],
}

impl RecordKey {
    /// The key of `target` (the request's path and query, as the client
    /// sent them) on the virtual host named `server_name` that answered on
    /// `port`. `None`, and nothing learned or looked up, when the name is
    /// empty or longer than [`MAX_KEY_SERVER_NAME_LEN`], or the target is
    /// not origin-form (`/...`) or longer than [`MAX_KEY_TARGET_LEN`].
    pub fn new(server_name: &[u8], port: u16, target: &[u8]) -> Option<RecordKey> {
        if !RecordKey::is_keyable(server_name, target) {
            return None;
        }
        let mut hasher = Sha256::new();
        for part in key_text(server_name, port, target, &mut [[0; 5]; 2]) {
            hasher.update(part);
        }
        Some(RecordKey {
            id: hasher.finalize().into(),
        })
    }

    /// Where the hints of a page that may be one visitor's wait until a
    /// second response confirms them (see the learning of pages): the
    /// SHA-256 of `pr1u:` and this key, which no lookup for a 103 ever
    /// asks for.
    pub fn unconfirmed(&self) -> RecordKey {
        let mut hasher = Sha256::new();
        hasher.update(UNCONFIRMED);
        hasher.update(self.id);
        RecordKey {
            id: hasher.finalize().into(),
        }
    }

    /// Whether [`RecordKey::new`] gives a key for these, without hashing.
    pub fn is_keyable(server_name: &[u8], target: &[u8]) -> bool {
        !server_name.is_empty()
            && server_name.len() <= MAX_KEY_SERVER_NAME_LEN
            && target.starts_with(b"/")
            && target.len() <= MAX_KEY_TARGET_LEN
    }

    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.id
    }
}

/// The parts of the text a key hashes, in order: `pr1:<n>:<server-name>:<port>:<path-and-query>`.
/// The name's length (at most [`MAX_KEY_SERVER_NAME_LEN`]) and the port
/// are written in `digits`, not formatted.
fn key_text<'p>(
    server_name: &'p [u8],
    port: u16,
    target: &'p [u8],
    digits: &'p mut [[u8; 5]; 2],
) -> [&'p [u8]; 9] {
    let [len, port_text] = digits;
    let name_len = u16::try_from(server_name.len()).expect("a keyable name");
    [
        VERSION.as_bytes(),
        b":",
        port_digits(name_len, len),
        b":",
        server_name,
        b":",
        port_digits(port, port_text),
        b":",
        target,
    ]
}

/// Slots of a process's table of [`Keys`].
const KEPT_KEYS: usize = 64;
/// The longest text whose key is kept: a name and a path of a few hundred
/// bytes; a longer one is hashed on each lookup.
const MAX_KEPT_KEY_TEXT: usize = 320;

/// The keys one process has hashed lately, by the text they hash: a URL
/// that every request looks up (the page a 103 goes ahead of, a redirect's
/// target) is hashed once, not on every lookup. The text is compared in
/// full ([`table`](self::table)); [`KEPT_KEYS`] slots of at most
/// [`MAX_KEPT_KEY_TEXT`] bytes each.
#[derive(Debug)]
pub struct Keys {
    table: Table<RecordKey>,
}

impl Default for Keys {
    fn default() -> Self {
        Keys {
            table: Table::new(KEPT_KEYS, MAX_KEPT_KEY_TEXT),
        }
    }
}

impl Keys {
    /// [`RecordKey::new`], kept from when this process hashed the same
    /// text lately.
    pub fn key(&self, server_name: &[u8], port: u16, target: &[u8]) -> Option<RecordKey> {
        if !RecordKey::is_keyable(server_name, target) {
            return None;
        }
        let mut text = [0; MAX_KEPT_KEY_TEXT];
        let mut rest = &mut text[..];
        let fits = key_text(server_name, port, target, &mut [[0; 5]; 2])
            .into_iter()
            .all(|part| std::io::Write::write_all(&mut rest, part).is_ok());
        if !fits {
            return RecordKey::new(server_name, port, target);
        }
        let len = MAX_KEPT_KEY_TEXT - rest.len();
        Some(self.table.get_or_make(&text[..len], |text| RecordKey {
            id: Sha256::digest(text).into(),
        }))
    }
}

/// The path of a target that has a query (`/p?q` gives `/p`); `None`
/// without one. A query URL is looked up first under its own key, then
/// under its path's (see [`plan_write`]).
pub fn without_query(target: &[u8]) -> Option<&[u8]> {
    target
        .iter()
        .position(|&b| b == b'?')
        .map(|at| &target[..at])
}

/// Why a response teaches nothing. [`NotLearned::as_str`] is the token for
/// the logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotLearned {
    /// Not a GET.
    Method,
    /// The request had `Cookie` or `Authorization`: what it got may be
    /// personal, and hints go to everyone.
    Credentials,
    /// A pushed stream: not what a client asked for.
    PushedStream,
    /// The response sets a cookie: it is someone's.
    SetCookie,
    /// `Cache-Control: private` or `no-store`: the origin says it is not
    /// for sharing.
    CacheControl,
}

impl NotLearned {
    pub const fn as_str(self) -> &'static str {
        match self {
            NotLearned::Method => "method",
            NotLearned::Credentials => "credentials",
            NotLearned::PushedStream => "pushed-stream",
            NotLearned::SetCookie => "set-cookie",
            NotLearned::CacheControl => "cache-control",
        }
    }
}

/// What [`check_learnable`] needs of an exchange.
#[derive(Clone, Copy, Debug, Default)]
pub struct LearnInput<'a> {
    pub method: &'a [u8],
    pub has_cookie: bool,
    pub has_authorization: bool,
    pub pushed_stream: bool,
    /// `Set-Cookie` (or `Set-Cookie2`) in the response's headers or error
    /// headers.
    pub has_set_cookie: bool,
    /// Every `Cache-Control` field value of the response.
    pub cache_control: &'a [&'a [u8]],
    /// The response is a page (a 200), which may teach what two such
    /// responses agree on although it sets a cookie or is not for sharing
    /// (see the learning of pages); a redirect then teaches nothing.
    pub page: bool,
}

/// Whether a response may teach anything, whatever it is. Credentials count
/// whatever `PushRedirectWithCredentials` says: that directive is about
/// pushing to the client who sent them, this about hinting to everyone.
#[inline]
pub fn check_learnable(input: &LearnInput<'_>) -> Result<(), NotLearned> {
    if input.method != b"GET" {
        Err(NotLearned::Method)
    } else if input.has_cookie || input.has_authorization {
        Err(NotLearned::Credentials)
    } else if input.pushed_stream {
        Err(NotLearned::PushedStream)
    } else if input.page {
        Ok(())
    } else if input.has_set_cookie {
        Err(NotLearned::SetCookie)
    } else if forbids_sharing_any(input.cache_control) {
        Err(NotLearned::CacheControl)
    } else {
        Ok(())
    }
}

/// Whether one of the `Cache-Control` field values says `private` or
/// `no-store`.
pub(crate) fn forbids_sharing_any(fields: &[&[u8]]) -> bool {
    fields.iter().any(|field| forbids_sharing(field))
}

/// A `Cache-Control` value with a `private` or `no-store` directive, in any
/// case, with or without an argument (`private="Set-Cookie"`). A comma in
/// a quoted argument splits it here; the pieces can only add a directive,
/// which errs on the side of learning nothing.
fn forbids_sharing(field: &[u8]) -> bool {
    field.split(|&b| b == b',').any(|directive| {
        let name = directive.split(|&b| b == b'=').next().unwrap_or_default();
        let name = name.trim_ascii();
        name.eq_ignore_ascii_case(b"private") || name.eq_ignore_ascii_case(b"no-store")
    })
}

/// What to do with the cache for one learned record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Write {
    /// Store the new record under the URL's key.
    Store,
    /// Remove the URL's key: what it would say is what a lookup finds
    /// without it.
    Remove,
    /// Nothing to write.
    Keep,
}

/// Whether a learned record is worth a write, given what the cache holds:
/// `current`, the URL's record now, and for a URL with a query, `fallback`,
/// the record of the same path without query, which a lookup of the query
/// URL falls back to (`None` without a query, or when nothing is known).
///
/// Nothing is written when the cache would say the same without the write:
/// an unchanged record, a query URL whose record is its path's, a 200
/// without hints where nothing else is known. That bounds the flood of
/// distinct query strings to a page once its path is learned;
/// [`WriteBudget`] bounds the rest. An unchanged record is not rewritten,
/// so it lives out its lifetime and the next 200 after that learns it
/// again.
pub fn plan_write(new: &Record, current: Option<&Record>, fallback: Option<&Record>) -> Write {
    if current == Some(new) {
        return Write::Keep;
    }
    let redundant = match fallback {
        Some(fallback) => fallback == new,
        None => new.is_empty_page(),
    };
    match (redundant, current) {
        (false, _) => Write::Store,
        (true, Some(_)) => Write::Remove,
        (true, None) => Write::Keep,
    }
}

/// `PushRedirectEarlyHintsLifetime` when it is absent: ten minutes.
pub const DEFAULT_LIFETIME_SECS: u64 = 600;
