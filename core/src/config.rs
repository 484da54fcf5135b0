//! Directive values, parsed and validated once at configuration time.
//!
//! Every error names the offending value; the Apache shim prefixes the
//! directive name, so `apachectl -t` reports e.g.
//! `PushRedirectStatus: '299' is not a redirect status (expected 300 to 399)`.

use std::borrow::Cow;
use std::fmt;

use regex::RegexSet;

/// The lowest and highest status accepted by `PushRedirectStatus`.
pub const STATUS_RANGE: std::ops::RangeInclusive<i32> = 300..=399;

/// The statuses that count as redirects (`PushRedirectStatus`).
///
/// A bit set over 300..=399: copying it is free and `contains` is one shift.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusSet {
    bits: u128,
}

impl StatusSet {
    /// `301 302 303 307 308`, the contract's default.
    pub const DEFAULT: StatusSet = StatusSet {
        bits: Self::bit(301) | Self::bit(302) | Self::bit(303) | Self::bit(307) | Self::bit(308),
    };

    const fn bit(status: i32) -> u128 {
        1u128 << (status - *STATUS_RANGE.start())
    }

    /// Parses the arguments of one `PushRedirectStatus` line: one or more
    /// codes separated by white space.
    pub fn parse(args: &str) -> Result<StatusSet, ConfigError> {
        let mut bits = 0u128;
        for word in args.split_ascii_whitespace() {
            let code = parse_status(word)?;
            bits |= Self::bit(code);
        }
        if bits == 0 {
            return Err(ConfigError::MissingStatus);
        }
        Ok(StatusSet { bits })
    }

    /// The set as bits, status 300 in bit 0.
    pub const fn bits(self) -> u128 {
        self.bits
    }

    /// The set of [`StatusSet::bits`]; `None` for no status, which no
    /// directive can give (it means "not set here").
    pub const fn from_bits(bits: u128) -> Option<StatusSet> {
        let bits = bits & (u128::MAX >> (128 - 100));
        if bits == 0 {
            None
        } else {
            Some(StatusSet { bits })
        }
    }

    /// Whether `status` is one of the configured redirect statuses.
    #[inline]
    pub fn contains(self, status: i32) -> bool {
        STATUS_RANGE.contains(&status) && self.bits & Self::bit(status) != 0
    }

    /// The codes in ascending order.
    pub fn codes(self) -> impl Iterator<Item = i32> {
        STATUS_RANGE.filter(move |&code| self.contains(code))
    }
}

impl Default for StatusSet {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl fmt::Debug for StatusSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.codes()).finish()
    }
}

fn parse_status(word: &str) -> Result<i32, ConfigError> {
    // Only plain decimal digits: "+301" or "3e2" are typos, not statuses.
    if word.is_empty() || word.len() > 3 || !word.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ConfigError::NotAStatus(quoted(word)));
    }
    let code: i32 = word
        .parse()
        .map_err(|_| ConfigError::NotAStatus(quoted(word)))?;
    if !STATUS_RANGE.contains(&code) {
        return Err(ConfigError::NotARedirectStatus(quoted(word)));
    }
    Ok(code)
}

/// The `PushRedirectExclude` patterns of one scope, compiled into one
/// [`RegexSet`] so a target is matched against all of them in one pass.
///
/// The `regex` crate matches in time linear in the input, so a hostile
/// Location cannot make a pattern backtrack.
#[derive(Clone, Debug)]
pub struct ExcludeSet {
    patterns: Vec<String>,
    set: RegexSet,
}

impl ExcludeSet {
    /// An empty set, which matches nothing.
    pub fn new() -> ExcludeSet {
        ExcludeSet {
            patterns: Vec::new(),
            set: RegexSet::empty(),
        }
    }

    /// Adds one pattern. On error the set is unchanged.
    pub fn add(&mut self, pattern: &str) -> Result<(), ConfigError> {
        if pattern.is_empty() {
            return Err(ConfigError::EmptyPattern);
        }
        // Compiled alone first, so the error speaks of this pattern only.
        if let Err(err) = regex::Regex::new(pattern) {
            return Err(ConfigError::BadPattern {
                pattern: quoted(pattern),
                reason: regex_reason(&err),
            });
        }
        let mut patterns = self.patterns.clone();
        patterns.push(pattern.to_owned());
        let set = RegexSet::new(&patterns).map_err(|err| ConfigError::BadPattern {
            pattern: quoted(pattern),
            reason: regex_reason(&err),
        })?;
        self.patterns = patterns;
        self.set = set;
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
        match decode_unreserved(path_and_query) {
            Cow::Borrowed(text) => self.set.is_match(text),
            Cow::Owned(text) => self.set.is_match(&text),
        }
    }

    /// The patterns, in the order they were added.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }
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

impl Default for ExcludeSet {
    fn default() -> Self {
        Self::new()
    }
}

/// Parses an `On|Off` directive argument, in any case, as Apache's own flags do.
pub fn parse_flag(value: &str) -> Result<bool, ConfigError> {
    if value.eq_ignore_ascii_case("on") {
        Ok(true)
    } else if value.eq_ignore_ascii_case("off") {
        Ok(false)
    } else {
        Err(ConfigError::NotAFlag(quoted(value)))
    }
}

/// A directive value that cannot be used. `Display` names the value (quoted,
/// shortened when huge) but not the directive: the caller knows that.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    NotAStatus(String),
    NotARedirectStatus(String),
    MissingStatus,
    EmptyPattern,
    BadPattern {
        pattern: String,
        reason: String,
    },
    NotAFlag(String),
    /// A value of an Early Hints directive: the value (quoted) and why not.
    BadEarlyHints {
        value: String,
        reason: &'static str,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::NotAStatus(v) => {
                write!(f, "{v} is not a status code (expected a number from 300 to 399)")
            }
            ConfigError::NotARedirectStatus(v) => {
                write!(f, "{v} is not a redirect status (expected 300 to 399)")
            }
            ConfigError::MissingStatus => {
                f.write_str("needs at least one status code (300 to 399)")
            }
            ConfigError::EmptyPattern => f.write_str(
                "'' is an empty pattern, which would exclude every redirect (use PushRedirect Off instead)",
            ),
            ConfigError::BadPattern { pattern, reason } => {
                write!(f, "{pattern} is not a valid regular expression: {reason}")
            }
            ConfigError::NotAFlag(v) => write!(f, "{v} is not On or Off"),
            ConfigError::BadEarlyHints { value, reason } => write!(f, "{value} {reason}"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Values are echoed in error messages; a 100 KB regex is shortened so the
/// message stays readable.
const ECHO_LIMIT: usize = 120;

pub(crate) fn quoted(value: &str) -> String {
    if value.len() <= ECHO_LIMIT {
        return format!("'{value}'");
    }
    let mut end = ECHO_LIMIT;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    format!("'{}...' ({} bytes)", &value[..end], value.len())
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
    fn default_statuses_are_the_specs() {
        let codes: Vec<i32> = StatusSet::DEFAULT.codes().collect();
        assert_eq!(codes, [301, 302, 303, 307, 308]);
        assert_eq!(StatusSet::default(), StatusSet::DEFAULT);
        assert!(!StatusSet::DEFAULT.contains(300));
        assert!(!StatusSet::DEFAULT.contains(304));
        assert!(!StatusSet::DEFAULT.contains(200));
        assert!(!StatusSet::DEFAULT.contains(-1));
        assert!(!StatusSet::DEFAULT.contains(i32::MAX));
    }

    #[test]
    fn status_list_parses_with_any_white_space() {
        let set = StatusSet::parse(" 301\t399  300 ").unwrap();
        assert_eq!(set.codes().collect::<Vec<_>>(), [300, 301, 399]);
    }

    #[test]
    fn status_errors_name_the_value() {
        let cases = [
            (
                "299",
                "'299' is not a redirect status (expected 300 to 399)",
            ),
            (
                "301 400",
                "'400' is not a redirect status (expected 300 to 399)",
            ),
            (
                "abc",
                "'abc' is not a status code (expected a number from 300 to 399)",
            ),
            (
                "+301",
                "'+301' is not a status code (expected a number from 300 to 399)",
            ),
            (
                "0301",
                "'0301' is not a status code (expected a number from 300 to 399)",
            ),
            (
                "301,302",
                "'301,302' is not a status code (expected a number from 300 to 399)",
            ),
        ];
        for (args, message) in cases {
            assert_eq!(
                StatusSet::parse(args).unwrap_err().to_string(),
                message,
                "{args}"
            );
        }
        assert_eq!(
            StatusSet::parse("").unwrap_err(),
            ConfigError::MissingStatus
        );
        assert_eq!(
            StatusSet::parse("  \t").unwrap_err(),
            ConfigError::MissingStatus
        );
    }

    #[test]
    fn flags_accept_on_and_off_in_any_case() {
        assert_eq!(parse_flag("On"), Ok(true));
        assert_eq!(parse_flag("ON"), Ok(true));
        assert_eq!(parse_flag("off"), Ok(false));
        assert_eq!(
            parse_flag("maybe").unwrap_err().to_string(),
            "'maybe' is not On or Off"
        );
        assert_eq!(
            parse_flag("").unwrap_err().to_string(),
            "'' is not On or Off"
        );
    }

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
    fn huge_values_are_shortened_in_messages() {
        let huge = "x".repeat(100_000);
        let message = parse_flag(&huge).unwrap_err().to_string();
        assert!(message.len() < 200, "{message}");
        assert!(message.contains("(100000 bytes)"), "{message}");
        let multibyte = "é".repeat(100);
        let message = parse_flag(&multibyte).unwrap_err().to_string();
        assert!(message.starts_with("'éé"), "{message}");
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
}
