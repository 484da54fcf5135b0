//! Directive values, parsed and validated once at configuration time.
//!
//! Every error names the offending value; the Apache shim prefixes the
//! directive name, so `apachectl -t` reports e.g.
//! `PushRedirectStatus: '299' is not a redirect status (expected 300 to 399)`.

use std::fmt;

mod exclude;

pub use exclude::ExcludeSet;

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
    fn huge_values_are_shortened_in_messages() {
        let huge = "x".repeat(100_000);
        let message = parse_flag(&huge).unwrap_err().to_string();
        assert!(message.len() < 200, "{message}");
        assert!(message.contains("(100000 bytes)"), "{message}");
        let multibyte = "é".repeat(100);
        let message = parse_flag(&multibyte).unwrap_err().to_string();
        assert!(message.starts_with("'éé"), "{message}");
    }
}
