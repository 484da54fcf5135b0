//! `PushRedirectExclude`: the patterns of one scope, each checked alone
//! when its directive is read, and compiled together into one [`RegexSet`]
//! the first time the scope matches a target, so that a target is matched
//! against all of them in one pass. The `regex` crate matches in time
//! linear in the input, so a hostile Location cannot make a pattern
//! backtrack.
//!
//! An `.htaccess` file is read again for every request, with each of its
//! lines: so each process keeps the patterns it has checked
//! ([`CHECKED`]) and the sets it has compiled ([`COMPILED`]), found by
//! their exact text in fixed tables (`crate::table`), and a scope read again
//! with the same lines checks and compiles nothing. Without them a
//! 1,000-pattern `.htaccess` took a second per request.

use std::borrow::Cow;
use std::sync::{Arc, LazyLock, OnceLock};

use regex::{Regex, RegexSet, RegexSetBuilder};

use super::{quoted, ConfigError};
use crate::table::Table;

/// `regex::RegexBuilder::size_limit`'s default, which `Regex::new` checks
/// each pattern against.
const ONE_PATTERN_SIZE_LIMIT: usize = 10 * (1 << 20);

/// Patterns this process has found valid, each alone: a slot each, of at
/// most 1 KiB (a longer one is checked every time it is read).
static CHECKED: LazyLock<Table<()>> = LazyLock::new(|| Table::new(4096, 1024));
/// Scopes' sets this process has compiled, by their patterns' text: a
/// slot each, of at most 256 KiB of patterns.
static COMPILED: LazyLock<Table<Arc<RegexSet>>> = LazyLock::new(|| Table::new(16, 256 * 1024));

/// The `PushRedirectExclude` patterns of one scope.
#[derive(Clone, Debug, Default)]
pub struct ExcludeSet {
    patterns: Vec<String>,
    /// The patterns, each after its length: the set's text, as
    /// [`COMPILED`] keys it.
    text: Vec<u8>,
    set: OnceLock<Arc<RegexSet>>,
}

impl ExcludeSet {
    /// An empty set, which matches nothing.
    pub fn new() -> ExcludeSet {
        ExcludeSet::default()
    }

    /// Adds one pattern. On error the set is unchanged.
    pub fn add(&mut self, pattern: &str) -> Result<(), ConfigError> {
        if pattern.is_empty() {
            return Err(ConfigError::EmptyPattern);
        }
        // Checked alone, so the error speaks of this pattern only; the
        // set's compiled size is each pattern's at most, which this
        // bounds (see `compile`).
        if CHECKED.get(pattern.as_bytes()).is_none() {
            Regex::new(pattern).map_err(|err| ConfigError::BadPattern {
                pattern: quoted(pattern),
                reason: regex_reason(&err),
            })?;
            CHECKED.put(pattern.as_bytes(), ());
        }
        self.text.extend_from_slice(&pattern.len().to_le_bytes());
        self.text.extend_from_slice(pattern.as_bytes());
        self.patterns.push(pattern.to_owned());
        self.set = OnceLock::new();
        Ok(())
    }

    /// Whether any pattern matches anywhere in `path_and_query`, read as
    /// the resource it names: a percent-encoded unreserved character
    /// (RFC 3986, 2.3: letters, digits, `-`, `.`, `_`, `~`) is the
    /// character itself (RFC 3986, 6.2.2.2), and Apache serves
    /// `/accounts/%6Cogout` as `/accounts/logout`. A pattern matched against
    /// the encoded text alone let a reflected Location past
    /// `^/accounts/logout`. Reserved characters stay encoded: `%2F` or
    /// `%3F` decoded would move a path's boundaries.
    pub fn is_match(&self, path_and_query: &str) -> bool {
        if self.patterns.is_empty() {
            return false;
        }
        let set = self
            .set
            .get_or_init(|| COMPILED.get_or_make(&self.text, |_| compile(&self.patterns)));
        match decode_unreserved(path_and_query) {
            Cow::Borrowed(text) => set.is_match(text),
            Cow::Owned(text) => set.is_match(&text),
        }
    }

    /// The patterns, in the order they were added.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }
}

/// The set of `patterns`, each checked alone by `add` within the regex
/// crate's size limit: the set's limit is theirs together, so that
/// patterns valid one by one are valid together. Should it fail all the
/// same, the set matches everything: the scope then pushes and hints no
/// redirect, rather than one its patterns meant to keep out.
fn compile(patterns: &[String]) -> Arc<RegexSet> {
    RegexSetBuilder::new(patterns)
        .size_limit(ONE_PATTERN_SIZE_LIMIT.saturating_mul(patterns.len()))
        .build()
        .or_else(|_| RegexSet::new([""]))
        .map(Arc::new)
        .unwrap_or_else(|_| Arc::new(RegexSet::empty()))
}

/// `text` with every `%XX` that stands for an unreserved character decoded;
/// borrowed when there is none.
fn decode_unreserved(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let unreserved_at = |i: usize| -> Option<u8> {
        let hex = |b: u8| (b as char).to_digit(16);
        let (high, low) = (hex(*bytes.get(i + 1)?)?, hex(*bytes.get(i + 2)?)?);
        let byte = u8::try_from(high * 16 + low).ok()?;
        (byte.is_ascii_alphanumeric() || b"-._~".contains(&byte)).then_some(byte)
    };
    let Some(first) = (0..bytes.len()).find(|&i| bytes[i] == b'%' && unreserved_at(i).is_some())
    else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..first]);
    let mut i = first;
    while i < bytes.len() {
        match (bytes[i], unreserved_at(i)) {
            (b'%', Some(byte)) => {
                out.push(char::from(byte));
                i += 3;
            }
            _ => {
                // Up to the next '%', an ASCII byte: whole UTF-8 sequences
                // only (a byte search, as `i + 1` may be inside one).
                let next = bytes[i + 1..]
                    .iter()
                    .position(|&b| b == b'%')
                    .map_or(text.len(), |at| i + 1 + at);
                out.push_str(&text[i..next]);
                i = next;
            }
        }
    }
    Cow::Owned(out)
}

/// The regex crate's syntax errors span several lines (pattern, caret,
/// message); an Apache config error reads best as the one-line message.
fn regex_reason(err: &regex::Error) -> String {
    match err {
        regex::Error::Syntax(text) => text
            .lines()
            .find_map(|line| line.strip_prefix("error: "))
            .unwrap_or(text.as_str())
            .to_owned(),
        regex::Error::CompiledTooBig(limit) => {
            format!("the compiled pattern exceeds the size limit of {limit} bytes")
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excludes_accumulate_and_match_unanchored() {
        let mut set = ExcludeSet::new();
        assert!(!set.is_match("/anything"));
        set.add("^/admin/").unwrap();
        set.add(r"\.pdf$").unwrap();
        assert_eq!(set.patterns(), ["^/admin/", r"\.pdf$"]);
        assert!(set.is_match("/admin/x"));
        assert!(set.is_match("/docs/a.pdf"));
        assert!(!set.is_match("/x?next=/y"));
        assert!(!set.is_match("/public/admin/"));
        let mut query = ExcludeSet::new();
        query.add("logout").unwrap();
        assert!(query.is_match("/a?action=logout"));
    }

    #[test]
    fn excludes_match_the_resource_a_percent_encoded_target_names() {
        let mut set = ExcludeSet::new();
        set.add("^/accounts/logout").unwrap();
        assert!(set.is_match("/accounts/%6Cogout"));
        assert!(set.is_match("/%61ccounts/logou%74?next=/"));
        assert!(
            set.is_match("/accounts/logout%2Fx"),
            "the text before it still matches"
        );
        // Reserved characters stay encoded: %2F is not a path separator.
        let mut slash = ExcludeSet::new();
        slash.add("^/a/b").unwrap();
        assert!(!slash.is_match("/a%2Fb"));
        // Not a triple, or not hex: left as it is.
        assert!(!set.is_match("/accounts/%6"));
        assert_eq!(decode_unreserved("/%7e%2D%zz/é%41"), "/~-%zz/éA");
        // A character of several bytes right after a decoded one.
        assert_eq!(decode_unreserved("%6b\u{a389f}D%"), "k\u{a389f}D%");
        assert!(matches!(decode_unreserved("/plain/%2F"), Cow::Borrowed(_)));
    }

    #[test]
    fn bad_pattern_is_an_error_that_leaves_the_set_unchanged() {
        let mut set = ExcludeSet::new();
        set.add("^/ok").unwrap();
        let err = set.add("(").unwrap_err();
        assert_eq!(
            err.to_string(),
            "'(' is not a valid regular expression: unclosed group"
        );
        assert_eq!(set.patterns(), ["^/ok"]);
        assert!(set.is_match("/ok"));
        assert_eq!(set.add("").unwrap_err(), ConfigError::EmptyPattern);
    }

    #[test]
    fn pathological_pattern_sizes_are_reported_not_panicked() {
        let mut set = ExcludeSet::new();
        // Far beyond the default compiled-size limit of the regex crate.
        let err = set.add(&"a{1000}{1000}".repeat(4)).unwrap_err();
        match err {
            ConfigError::BadPattern { reason, .. } => {
                assert!(reason.contains("size limit"), "{reason}")
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn sets_compiled_once_per_process_are_told_apart_by_their_patterns() {
        let set = |patterns: &[&str]| {
            let mut set = ExcludeSet::new();
            patterns.iter().for_each(|p| set.add(p).unwrap());
            set
        };
        // The same text, cut otherwise: two sets, not one.
        let (one, two) = (set(&["^/ab"]), set(&["^/a", "b"]));
        for _ in 0..2 {
            assert!(one.is_match("/ab") && !one.is_match("/a"));
            assert!(two.is_match("/a") && two.is_match("/xb") && !two.is_match("/x"));
        }
        // A set read again (an .htaccess) matches as the first did.
        let again = set(&["^/a", "b"]);
        assert!(again.is_match("/a") && !again.is_match("/x"));
        let mut grown = again.clone();
        grown.add("^/x").unwrap();
        assert!(grown.is_match("/x") && !again.is_match("/x"));
    }
}
