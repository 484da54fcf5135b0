//! The plain fast path: a redirect decided without the URL parser.

use crate::exchange::{Exchange, Policy, Reason, MAX_LOCATION_LEN};

/// The request as the plain path takes it: its scheme (`https` or `http`),
/// a Host that is a plain name or dotted-quad IPv4 address with an optional
/// port, and a request target made only of bytes the URL standard leaves as
/// they are, which the URL parser would keep byte for byte. Checked once
/// per response ([`PlainRequest::of`]) and handed to each part of the
/// answer that reads the Location against it: the push, the 103's first
/// hop and what is learned.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PlainRequest<'b> {
    scheme: &'static [u8],
    host: &'b [u8],
    request_target: &'b [u8],
}

impl<'b> PlainRequest<'b> {
    /// `None` when the plain path does not take the request.
    #[inline]
    pub(crate) fn of(ex: &Exchange<'b>) -> Option<PlainRequest<'b>> {
        // Apache says `https` or `http`, in lower case: compared as they
        // are first.
        let scheme: &[u8] = match ex.scheme {
            b"https" => b"https",
            b"http" => b"http",
            s if s.eq_ignore_ascii_case(b"https") => b"https",
            s if s.eq_ignore_ascii_case(b"http") => b"http",
            _ => return None,
        };
        let host = ex.host.filter(|host| is_plain_authority(host))?;
        is_plain_path(ex.request_target).then_some(PlainRequest {
            scheme,
            host,
            request_target: ex.request_target,
        })
    }

    /// The request target (origin-form path+query), plain: ASCII, whose
    /// reading as text never fails (the push compares bytes and needs no
    /// text).
    pub(crate) fn request_target(&self) -> &'b [u8] {
        self.request_target
    }

    /// The target's path+query without the URL parser, for the shapes
    /// where resolving is the identity: a path-absolute Location, or an
    /// absolute one that starts with the request's scheme and Host byte
    /// for byte; a target path made only of bytes the URL standard leaves
    /// as they are, with no dot segment, no `%`, no `//` prefix. Then the
    /// resolved target is the same origin and its path+query is the
    /// Location's own, which is what the URL parser would say too (the
    /// differential tests hold the two to that). Parsing two URLs is most
    /// of the cost of a redirect's decision; this is the common case it
    /// skips.
    fn target<'a>(&self, location: &'a [u8]) -> Option<&'a str> {
        let at = self.target_at(location)?;
        // A plain path is ASCII, so this never fails; the Location need
        // not have been validated as text before.
        std::str::from_utf8(&location[at..]).ok()
    }

    /// Where the plain target starts in `location`, when the plain path
    /// takes it.
    fn target_at(&self, location: &[u8]) -> Option<usize> {
        let target = if location.starts_with(b"/") {
            location
        } else {
            let authority_and_path = location.strip_prefix(self.scheme)?.strip_prefix(b"://")?;
            authority_and_path.strip_prefix(self.host)?
        };
        is_plain_path(target).then_some(location.len() - target.len())
    }
}

/// A redirect the plain path takes whole: the request ([`PlainRequest`])
/// and the one Location's target, no longer than [`MAX_LOCATION_LEN`].
/// Found once per response, for the push, the 103's first hop and what is
/// learned: what it takes is a valid Location (visible ASCII), so none of
/// them validates it as text first.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PlainRedirect<'a, 'b> {
    request: PlainRequest<'b>,
    target: &'a str,
}

impl<'a, 'b> PlainRedirect<'a, 'b> {
    /// `None` when the plain path does not take the request or the
    /// Location: the URL parser decides.
    pub(crate) fn of(ex: &Exchange<'b>, location: &'a [u8]) -> Option<PlainRedirect<'a, 'b>> {
        if location.len() > MAX_LOCATION_LEN {
            return None;
        }
        let request = PlainRequest::of(ex)?;
        let target = request.target(location)?;
        Some(PlainRedirect { request, target })
    }

    /// The target's path+query, whatever rules 7 to 10 say of it.
    #[cfg(test)]
    pub(crate) fn target(&self) -> &'a str {
        self.target
    }

    pub(crate) fn request(&self) -> PlainRequest<'b> {
        self.request
    }

    /// Rules 7 to 10 for the target: its path+query where they hold.
    pub(crate) fn check(&self, policy: &Policy<'_>) -> Result<&'a str, Reason> {
        policy.check_target_path(self.target, self.request.request_target())?;
        Ok(self.target)
    }
}

/// What [`is_plain_path`] and [`is_plain_authority`] need to know of a
/// byte, as bits of a table: they run over every byte of every redirect's
/// Location and Host, and OR-ing table entries is one pass without branches.
const NOT_PATH: u8 = 1;
const NOT_NAME: u8 = 2;
const DOT: u8 = 4;
const HYPHEN: u8 = 8;
const SLASH: u8 = 16;
/// Not a class: [`is_plain_path`]'s mark of a `.` right after a `/`.
const SLASH_DOT: u8 = DOT << 4;

static CLASS: [u8; 256] = {
    let mut table = [0; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let path = c.is_ascii_alphanumeric()
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
        let name = c.is_ascii_alphanumeric() || c == b'-' || c == b'.';
        table[b] = if path { 0 } else { NOT_PATH }
            | if name { 0 } else { NOT_NAME }
            | if c == b'.' { DOT } else { 0 }
            | if c == b'-' { HYPHEN } else { 0 }
            | if c == b'/' { SLASH } else { 0 };
        b += 1;
    }
    table
};

/// The OR of the [`CLASS`] bits of `bytes`.
fn class_of(bytes: &[u8]) -> u8 {
    bytes
        .iter()
        .fold(0, |class, &b| class | CLASS[usize::from(b)])
}

/// A path+query that the URL standard keeps byte for byte: one leading `/`,
/// unreserved and sub-delimiter characters, `:`, `@`, `/`, `?`; no `%`,
/// apostrophe, backslash, `#` or anything it would encode; no `.` or `..`
/// segment.
pub(crate) fn is_plain_path(path_and_query: &[u8]) -> bool {
    let [b'/', rest @ ..] = path_and_query else {
        return false;
    };
    if rest.first() == Some(&b'/') {
        return false;
    }
    // One pass for the classes of all bytes and for a `.` after a `/`
    // (most paths have none: a dot in a file name is not one).
    let mut class = 0;
    // DOT when the byte before was `/` (the first one was), so that
    // `after_slash & this` is DOT for a `.` right after a `/`, and moved up
    // to SLASH_DOT; SLASH moved down is DOT.
    let mut after_slash = DOT;
    for &b in rest {
        let this = CLASS[usize::from(b)];
        class |= this | (after_slash & this) << 4;
        after_slash = (this & SLASH) >> 2;
    }
    if class & NOT_PATH != 0 {
        return false;
    }
    // A dot segment is a `.` after a `/`, followed (after another `.`, if
    // any) by the end of the path.
    if class & SLASH_DOT == 0 {
        return true;
    }
    // `1..`: the first byte is `/`.
    let mut from = 1;
    while let Some(offset) = path_and_query[from..].iter().position(|&b| b == b'.') {
        let dot = from + offset;
        let after = &path_and_query[dot + 1..];
        let after = after.strip_prefix(b".").unwrap_or(after);
        if path_and_query[dot - 1] == b'/' && matches!(after.first(), None | Some(b'/' | b'?')) {
            // The first one decides: in the query, it and any later one
            // are no segment.
            return path_and_query[..dot].contains(&b'?');
        }
        from = dot + 1;
    }
    true
}

/// A Host the URL parser takes as it is (up to case): LDH labels whose last
/// one starts with a letter and none is IDNA (`xn--` anywhere), or a
/// dotted-quad IPv4 address without leading zeros; then optionally `:` and a
/// port.
pub(crate) fn is_plain_authority(host: &[u8]) -> bool {
    // A port is the digits after the last `:`: any other `:` is no name.
    // Index loops rather than iterator chains: this runs on every redirect,
    // and they compile to a few instructions a byte.
    let mut digits_start = host.len();
    while digits_start > 0 && host[digits_start - 1].is_ascii_digit() {
        digits_start -= 1;
    }
    let name = match digits_start.checked_sub(1) {
        Some(colon) if host[colon] == b':' => {
            // Up to 65535: four digits at most are below it, five compare
            // as text.
            let port = &host[digits_start..];
            if port.is_empty() || port.len() > 5 || (port.len() == 5 && port > &b"65535"[..]) {
                return false;
            }
            &host[..colon]
        }
        _ => host,
    };
    let class = class_of(name);
    // An empty label (`a..b`, `.a`, `a.`, an empty name) is not LDH.
    let (Some(&first), Some(&last)) = (name.first(), name.last()) else {
        return false;
    };
    if class & NOT_NAME != 0 || first == b'.' || last == b'.' {
        return false;
    }
    if class & DOT != 0 && name.windows(2).any(|pair| pair == b"..") {
        return false;
    }
    if class & HYPHEN != 0
        && name
            .windows(4)
            .any(|w| w[..2].eq_ignore_ascii_case(b"xn") && &w[2..] == b"--")
    {
        return false;
    }
    let last_start = match class & DOT {
        0 => 0,
        _ => name
            .iter()
            .rposition(|&b| b == b'.')
            .map_or(0, |dot| dot + 1),
    };
    if name[last_start].is_ascii_alphabetic() {
        return true;
    }
    let octet = |label: &[u8]| {
        short_decimal(label, 3).is_some_and(|n| n <= 255) && (label.len() == 1 || label[0] != b'0')
    };
    name.split(|&b| b == b'.').count() == 4 && name.split(|&b| b == b'.').all(octet)
}

/// The value of 1 to `max_len` ASCII digits.
pub(crate) fn short_decimal(digits: &[u8], max_len: usize) -> Option<u32> {
    if digits.is_empty() || digits.len() > max_len {
        return None;
    }
    let mut value = 0;
    for &digit in digits {
        if !digit.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u32::from(digit - b'0');
    }
    Some(value)
}
