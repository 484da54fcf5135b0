//! The plain fast path: a redirect decided without the URL parser.

use crate::exchange::Exchange;

/// The target's path+query and the request's, without the URL parser, for
/// the shapes where resolving is the identity: a path-absolute Location, or
/// an absolute one that starts with the request's scheme and Host byte for
/// byte; a Host that is a plain name or dotted-quad IPv4 address with an
/// optional port; a request target and a target path made only of bytes the
/// URL standard leaves as they are, with no dot segment, no `%`, no `//`
/// prefix. Then the resolved target is the same origin and its path+query
/// is the Location's own, which is what the URL parser would say too (the
/// differential tests hold the two to that). Parsing two URLs is most of
/// the cost of a redirect's decision; this is the common case it skips.
pub(crate) fn plain_target<'a, 'b>(
    ex: &Exchange<'b>,
    location: &'a str,
) -> Option<(&'a str, &'b [u8])> {
    let scheme = if ex.scheme.eq_ignore_ascii_case(b"https") {
        "https"
    } else if ex.scheme.eq_ignore_ascii_case(b"http") {
        "http"
    } else {
        return None;
    };
    let host = ex.host.filter(|host| is_plain_authority(host))?;
    if !is_plain_path(ex.request_target) {
        return None;
    }
    let target = if location.starts_with('/') {
        location
    } else {
        let authority_and_path = location.strip_prefix(scheme)?.strip_prefix("://")?;
        if !authority_and_path.as_bytes().starts_with(host) {
            return None;
        }
        // `host` is ASCII, so this is a character boundary.
        &authority_and_path[host.len()..]
    };
    if !is_plain_path(target.as_bytes()) {
        return None;
    }
    Some((target, ex.request_target))
}

/// The bytes of [`is_plain_path`], as a table: it runs over every byte of
/// every redirect's Location.
pub(crate) static PLAIN_PATH_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
                    | b'/'
                    | b'?'
            );
        b += 1;
    }
    table
};

/// A path+query that the URL standard keeps byte for byte: one leading `/`,
/// unreserved and sub-delimiter characters, `:`, `@`, `/`, `?`; no `%`,
/// apostrophe, backslash, `#` or anything it would encode; no `.` or `..`
/// segment. One pass without branches for the bytes and for whether a `/.`
/// occurs at all: it runs over every redirect's Location.
pub(crate) fn is_plain_path(path_and_query: &[u8]) -> bool {
    let (mut plain, mut slash_dot, mut previous) = (true, false, 0);
    for &b in path_and_query {
        plain &= PLAIN_PATH_BYTES[usize::from(b)];
        slash_dot |= previous == b'/' && b == b'.';
        previous = b;
    }
    if !plain || path_and_query.first() != Some(&b'/') || path_and_query.get(1) == Some(&b'/') {
        return false;
    }
    // A dot segment starts after a `/`: most paths have none, and are done.
    if !slash_dot {
        return true;
    }
    let path_end = path_and_query
        .iter()
        .position(|&b| b == b'?')
        .unwrap_or(path_and_query.len());
    let path = &path_and_query[..path_end];
    !path
        .split(|&b| b == b'/')
        .any(|segment| segment == b"." || segment == b"..")
}

/// A Host the URL parser takes as it is (up to case): LDH labels whose last
/// one starts with a letter and none is IDNA (`xn--` anywhere), or a
/// dotted-quad IPv4 address without leading zeros; then optionally `:` and a
/// port. One pass over the name.
pub(crate) fn is_plain_authority(host: &[u8]) -> bool {
    let (name, port) = match host.iter().rposition(|&b| b == b':') {
        Some(colon) => (&host[..colon], Some(&host[colon + 1..])),
        None => (host, None),
    };
    if port.is_some_and(|port| !short_decimal(port, 5).is_some_and(|n| n <= 65535)) {
        return false;
    }
    let (mut labels, mut label_len, mut last_start) = (0, 0, 0);
    for (i, &b) in name.iter().enumerate() {
        if b == b'.' {
            // An empty label (`a..b`, `.a`) is not LDH.
            if label_len == 0 {
                return false;
            }
            labels += 1;
            label_len = 0;
            last_start = i + 1;
            continue;
        }
        if !(b.is_ascii_alphanumeric() || b == b'-') {
            return false;
        }
        if b == b'-'
            && i >= 3
            && name[i - 1] == b'-'
            && name[i - 3..i - 1].eq_ignore_ascii_case(b"xn")
        {
            return false;
        }
        label_len += 1;
    }
    if label_len == 0 {
        return false;
    }
    labels += 1;
    if name[last_start].is_ascii_alphabetic() {
        return true;
    }
    let octet = |label: &[u8]| {
        short_decimal(label, 3).is_some_and(|n| n <= 255) && (label.len() == 1 || label[0] != b'0')
    };
    labels == 4 && name.split(|&b| b == b'.').all(octet)
}

/// The value of 1 to `max_len` ASCII digits.
pub(crate) fn short_decimal(digits: &[u8], max_len: usize) -> Option<u32> {
    (!digits.is_empty() && digits.len() <= max_len && digits.iter().all(u8::is_ascii_digit))
        .then(|| digits.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
}
