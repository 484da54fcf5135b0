//! Whether a request is a navigation, from its Fetch metadata headers: a
//! 103 helps only a browser loading a page, never a `fetch()`, an image or
//! a script (docs/behaviour.md, "When a 103 goes out").

use crate::exchange::Exchange;

/// The request's `Sec-Fetch-Mode` and `Sec-Fetch-Dest` values, as Apache
/// holds them (fields sent twice are one value joined by `, `).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FetchMetadata<'a> {
    pub(crate) mode: Option<&'a [u8]>,
    pub(crate) dest: Option<&'a [u8]>,
}

impl<'a> FetchMetadata<'a> {
    pub(crate) fn of(ex: &Exchange<'a>) -> FetchMetadata<'a> {
        FetchMetadata {
            mode: ex.sec_fetch_mode,
            dest: ex.sec_fetch_dest,
        }
    }

    /// A navigation unless `Sec-Fetch-Mode` is present and not `navigate`,
    /// or `Sec-Fetch-Dest` is present and not `document`; a request
    /// without them (an older client, nghttp, curl) is taken for one.
    ///
    /// Both are structured fields whose value is one token (the Fetch
    /// Metadata Request Headers specification, RFC 8941): tokens are
    /// case-sensitive and browsers send them in lowercase, so `Navigate`
    /// is another token, not `navigate`. Space and tab around the value
    /// are not part of it. Anything else present (another case, a
    /// parameter, a list, an empty value) is not a navigation: the side
    /// that sends no 103.
    pub(crate) fn is_navigation(&self) -> bool {
        let is = |value: Option<&[u8]>, token: &[u8]| value.map_or(true, |v| trim_ows(v) == token);
        is(self.mode, b"navigate") && is(self.dest, b"document")
    }
}

/// Without the optional white space (SP, HTAB) around a field value.
pub(crate) fn trim_ows(value: &[u8]) -> &[u8] {
    let ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = value.iter().position(|b| !ows(b)).unwrap_or(value.len());
    let end = value.iter().rposition(|b| !ows(b)).map_or(start, |i| i + 1);
    &value[start..end]
}

#[cfg(test)]
mod tests;
