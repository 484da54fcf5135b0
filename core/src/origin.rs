//! The URL the client asked for, origins, and what a target may look like.

use url::{Position, Url};

use crate::exchange::Exchange;
use crate::plain::PlainRequest;

/// The URL the client asked for: scheme, authority (Host, or the server's
/// name and port) and the origin-form request target.
pub(crate) fn requested_url(ex: &Exchange<'_>) -> Option<Url> {
    let scheme: &str = if ex.scheme.eq_ignore_ascii_case(b"https") {
        "https"
    } else if ex.scheme.eq_ignore_ascii_case(b"http") {
        "http"
    } else {
        return None;
    };
    let target = std::str::from_utf8(ex.request_target).ok()?;
    if !target.starts_with('/') {
        return None; // `*` or absolute-form: no path of ours to resolve against.
    }
    let mut text = String::with_capacity(scheme.len() + 3 + 64 + target.len());
    text.push_str(scheme);
    text.push_str("://");
    match ex.host.filter(|host| !host.is_empty()) {
        Some(host) => text.push_str(authority(host)?),
        None => {
            text.push_str(authority(ex.server_name)?);
            text.push(':');
            text.push_str(itoa_port(ex.server_port, &mut [0; 5]));
        }
    }
    text.push_str(target);
    let url = Url::parse(&text).ok()?;
    (url.has_host() && url.username().is_empty() && url.password().is_none()).then_some(url)
}

/// The URL the client asked for, as a 103 needs it: its path+query, read
/// without the URL parser where the plain path takes the request
/// ([`PlainRequest`]: the parser would keep it byte for byte), and the
/// URL itself, parsed only when something needs more than that.
pub(crate) struct Requested<'e> {
    ex: &'e Exchange<'e>,
    /// The request target, when the plain path takes the request.
    plain: Option<&'e str>,
    /// Always there when `plain` is not.
    url: Option<Url>,
}

impl<'e> Requested<'e> {
    /// `None` when there is no URL of ours to resolve against (a Host that
    /// is not one, a request target that is not origin-form).
    pub(crate) fn of(ex: &'e Exchange<'e>) -> Option<Requested<'e>> {
        Requested::with(ex, PlainRequest::of(ex))
    }

    /// [`Requested::of`] where the plain path's answer for the request is
    /// known already: not checked again.
    pub(crate) fn with(
        ex: &'e Exchange<'e>,
        plain: Option<PlainRequest<'e>>,
    ) -> Option<Requested<'e>> {
        let plain = plain.and_then(|plain| std::str::from_utf8(plain.request_target()).ok());
        let url = match plain {
            Some(_) => None,
            None => Some(requested_url(ex)?),
        };
        Some(Requested { ex, plain, url })
    }

    /// The URL [`requested_url`] gave already.
    pub(crate) fn parsed(ex: &'e Exchange<'e>, url: Url) -> Requested<'e> {
        Requested {
            ex,
            plain: None,
            url: Some(url),
        }
    }

    pub(crate) fn path_and_query(&self) -> &str {
        match (self.plain, &self.url) {
            (Some(plain), _) => plain,
            (None, Some(url)) => path_and_query(url),
            (None, None) => unreachable!("a URL where the plain path declined"),
        }
    }

    /// The path, without the query.
    pub(crate) fn path(&self) -> &str {
        page_path(self.path_and_query())
    }

    /// The URL, parsed at the first call.
    pub(crate) fn url(&mut self) -> Option<&Url> {
        if self.url.is_none() {
            self.url = requested_url(self.ex);
        }
        self.url.as_ref()
    }
}

/// The path of a serialised path+query: up to its first `?`, which the URL
/// serialiser writes for the query only.
pub(crate) fn page_path(path_and_query: &str) -> &str {
    path_and_query
        .split_once('?')
        .map_or(path_and_query, |(path, _)| path)
}

/// A Host value usable as an authority: no userinfo, path, query or
/// fragment can be smuggled in through it.
pub(crate) fn authority(host: &[u8]) -> Option<&str> {
    let allowed = |b: &u8| b.is_ascii_alphanumeric() || b"-._~%!$&'()*+;=:[]".contains(b);
    if host.is_empty() || !host.iter().all(allowed) {
        return None;
    }
    std::str::from_utf8(host).ok()
}

pub(crate) fn itoa_port(port: u16, buf: &mut [u8; 5]) -> &str {
    std::str::from_utf8(port_digits(port, buf)).expect("ASCII digits")
}

/// The decimal digits of `port`, written at the end of `buf`: as bytes
/// for a record's key text (core/src/record/mod.rs), which needs no text
/// and so no check that digits are UTF-8.
pub(crate) fn port_digits(port: u16, buf: &mut [u8; 5]) -> &[u8] {
    let mut n = port;
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

/// Same scheme, host (after IDNA and case folding, as the URL parser does
/// them) and port (default ports folded), and no userinfo on the target.
pub(crate) fn same_origin(requested: &Url, target: &Url) -> bool {
    target.username().is_empty()
        && target.password().is_none()
        && target.scheme() == requested.scheme()
        && target.host() == requested.host()
        && target.port_or_known_default() == requested.port_or_known_default()
}

pub(crate) fn path_and_query(url: &Url) -> &str {
    &url[Position::BeforePath..Position::AfterQuery]
}

/// Whether the target's path+query can stand in a `Link` as a path-absolute
/// reference that Apache can serve:
/// - it must not begin with `//` (`/.//host/x` resolves to the path
///   `//host/x`, which a client would read back as a link to `host`);
/// - no byte that could end the reference or the field: the URL serialiser
///   percent-encodes all of them, and this keeps the contract's promise even if
///   a future `url` release did not;
/// - a path Apache accepts (see [`is_servable_path`]).
pub(crate) fn is_linkable(target: &Url) -> bool {
    let path = target.path();
    !path.starts_with("//") && is_safe_in_link(path_and_query(target)) && is_servable_path(path)
}

/// Whether Apache can serve this path at all. The URL standard keeps a
/// malformed escape (`%zz`) and `%00` as they are, but Apache answers both
/// with 400 and logs an error for each: a push of one only adds noise.
pub(crate) fn is_servable_path(path: &str) -> bool {
    let bytes = path.as_bytes();
    let mut i = 0;
    while let Some(offset) = bytes[i..].iter().position(|&b| b == b'%') {
        let at = i + offset;
        match bytes.get(at + 1..at + 3) {
            Some([hi, lo]) if hi.is_ascii_hexdigit() && lo.is_ascii_hexdigit() => {
                if *hi == b'0' && *lo == b'0' {
                    return false;
                }
            }
            _ => return false,
        }
        i = at + 3;
    }
    true
}

pub(crate) fn is_safe_in_link(path_and_query: &str) -> bool {
    path_and_query
        .bytes()
        .all(|b| b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b'"'))
}
