//! The decision: does this redirect get a `Link` preload, and if not, why not.

use url::{Position, Url};

use crate::config::{ExcludeSet, StatusSet};
use crate::link::{link_value, uri_references};

/// The largest Location that is resolved; longer ones are `bad-location`.
pub const MAX_LOCATION_LEN: usize = 8192;

/// The configuration in force for one response, borrowed from the merged
/// per-directory configuration.
#[derive(Clone, Copy, Debug)]
pub struct Policy<'a> {
    /// `PushRedirectStatus`.
    pub statuses: StatusSet,
    /// `PushRedirectExclude`; `None` when no pattern applies.
    pub excludes: Option<&'a ExcludeSet>,
    /// `PushRedirectRequireTLS`.
    pub require_tls: bool,
    /// `PushRedirectWithCredentials`.
    pub with_credentials: bool,
}

impl Default for Policy<'_> {
    fn default() -> Self {
        Policy {
            statuses: StatusSet::DEFAULT,
            excludes: None,
            require_tls: true,
            with_credentials: false,
        }
    }
}

/// What the decision looks at: the client's request and the response as it
/// stands when its headers are final. Everything is borrowed, and byte
/// strings stay bytes until a rule needs text, so nothing is copied or
/// validated for a response that is not a redirect.
#[derive(Clone, Copy, Debug, Default)]
pub struct Exchange<'a> {
    /// The response status.
    pub status: i32,
    /// The method of the request the client sent.
    pub method: &'a [u8],
    /// `http` or `https`, as Apache reports it for the client's request.
    pub scheme: &'a [u8],
    /// The `Host` header (HTTP/2: `:authority`), when the client sent one.
    pub host: Option<&'a [u8]>,
    /// Fallback authority when there is no `Host`: the server's name...
    pub server_name: &'a [u8],
    /// ...and port.
    pub server_port: u16,
    /// The request target exactly as the client sent it.
    pub request_target: &'a [u8],
    /// Whether the request came over HTTP/2.
    pub http2: bool,
    /// mod_http2's `H2_PUSH` for this request is `on` (server config, client
    /// SETTINGS_ENABLE_PUSH, Accept-Push-Policy).
    pub h2_push: bool,
    /// The request is itself a pushed stream (mod_http2's `H2_PUSHED`).
    /// mod_http2 never pushes from one, yet reports `H2_PUSH` as `on` for it.
    pub pushed_stream: bool,
    /// The request carries a `Cookie` header.
    pub has_cookie: bool,
    /// The request carries an `Authorization` header.
    pub has_authorization: bool,
    /// The `no-push-redirect` environment variable is set.
    pub opt_out_env: bool,
    /// Values of `X-Push-Redirect` response fields.
    pub opt_out_values: &'a [&'a [u8]],
    /// Values of `Location` response fields.
    pub locations: &'a [&'a [u8]],
    /// Values of `Link` response fields.
    pub links: &'a [&'a [u8]],
}

/// Why a redirect was not given a preload. [`Reason::as_str`] is the token of
/// the spec, which the module puts in `PUSH_REDIRECT_SKIPPED`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    OptOut,
    Method,
    Insecure,
    PushDisabled,
    Credentials,
    NoLocation,
    BadLocation,
    CrossOrigin,
    SelfRedirect,
    Excluded,
    AlreadyLinked,
    /// Not produced by [`decide`]: the FFI boundary reports a caught panic so.
    InternalError,
}

impl Reason {
    /// Every reason, in the order of the spec's rules.
    pub const ALL: [Reason; 12] = [
        Reason::OptOut,
        Reason::Method,
        Reason::Insecure,
        Reason::PushDisabled,
        Reason::Credentials,
        Reason::NoLocation,
        Reason::BadLocation,
        Reason::CrossOrigin,
        Reason::SelfRedirect,
        Reason::Excluded,
        Reason::AlreadyLinked,
        Reason::InternalError,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::OptOut => "opt-out",
            Reason::Method => "method",
            Reason::Insecure => "insecure",
            Reason::PushDisabled => "push-disabled",
            Reason::Credentials => "credentials",
            Reason::NoLocation => "no-location",
            Reason::BadLocation => "bad-location",
            Reason::CrossOrigin => "cross-origin",
            Reason::SelfRedirect => "self",
            Reason::Excluded => "excluded",
            Reason::AlreadyLinked => "already-linked",
            Reason::InternalError => "internal-error",
        }
    }
}

/// The target of a pushed redirect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Push {
    link: String,
    /// Where the target ends in `link` (it starts after the `<`).
    target_end: usize,
}

impl Push {
    /// The `Link` field value to append: `</path?query>; as=document; rel=preload`.
    pub fn link_value(&self) -> &str {
        &self.link
    }

    /// The pushed path+query (for `PUSH_REDIRECT`).
    pub fn path_and_query(&self) -> &str {
        &self.link[1..self.target_end]
    }
}

/// The outcome for one response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The status is not in `PushRedirectStatus`: leave the response alone.
    NotRedirect,
    /// Append this preload.
    Push(Push),
    /// A redirect that gets no preload, and the first rule it failed.
    Skip(Reason),
}

/// Applies the spec's rules, in the spec's order, to one response.
pub fn decide(policy: &Policy<'_>, exchange: &Exchange<'_>) -> Decision {
    if !policy.statuses.contains(exchange.status) {
        return Decision::NotRedirect;
    }
    match check_redirect(policy, exchange, Resolution::PlainFirst) {
        Ok(push) => Decision::Push(push),
        Err(reason) => Decision::Skip(reason),
    }
}

/// How rules 7 to 10 find the target.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Resolution {
    /// [`plain_target`] where it applies, else the URL parser.
    PlainFirst,
    /// Always the URL parser (the reference the plain path is tested against).
    #[cfg(test)]
    UrlParser,
}

fn check_redirect(
    policy: &Policy<'_>,
    ex: &Exchange<'_>,
    resolution: Resolution,
) -> Result<Push, Reason> {
    let location = check_request(policy, ex, Rules::Push)?;
    if resolution == Resolution::PlainFirst && ex.links.is_empty() {
        if let Some((target_path, requested_path)) = plain_target(ex, location) {
            check_target_path(policy, target_path, requested_path)?;
            return Ok(push_to(target_path));
        }
    }
    let (requested, target) = resolve_target(policy, ex, location)?;
    if links_to(ex.links, &requested, &target) {
        return Err(Reason::AlreadyLinked);
    }
    Ok(push_to(path_and_query(&target)))
}

fn push_to(target_path: &str) -> Push {
    Push {
        link: link_value(target_path),
        target_end: 1 + target_path.len(),
    }
}

/// Which of the spec's rules [`check_target`] applies.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rules {
    /// All of them (up to rule 10): the client will take a pushed response.
    Push,
    /// All but `push-disabled` and `credentials`: the client fetches what
    /// it is told about itself, with its own cookies (Early Hints).
    ClientFetches,
}

/// Rules 1 to 10: returns the URL the client asked for and the redirect's
/// resolved target, or the first rule that failed.
pub(crate) fn check_target(
    policy: &Policy<'_>,
    ex: &Exchange<'_>,
    rules: Rules,
) -> Result<(Url, Url), Reason> {
    let location = check_request(policy, ex, rules)?;
    resolve_target(policy, ex, location)
}

/// Rules 1 to 6: returns the one usable Location.
fn check_request<'a>(
    policy: &Policy<'_>,
    ex: &Exchange<'a>,
    rules: Rules,
) -> Result<&'a str, Reason> {
    if ex.opt_out_env || ex.opt_out_values.iter().any(|v| is_opt_out(v)) {
        return Err(Reason::OptOut);
    }
    if ex.method != b"GET" {
        return Err(Reason::Method);
    }
    if policy.require_tls && !ex.scheme.eq_ignore_ascii_case(b"https") {
        return Err(Reason::Insecure);
    }
    if rules == Rules::Push {
        if ex.http2 && (!ex.h2_push || ex.pushed_stream) {
            return Err(Reason::PushDisabled);
        }
        if !policy.with_credentials && (ex.has_cookie || ex.has_authorization) {
            return Err(Reason::Credentials);
        }
    }
    single_location(ex.locations)
}

/// Rules 7 to 10 with the URL parser: the Location resolved against the URL
/// the client asked for, as a client resolves it.
fn resolve_target(
    policy: &Policy<'_>,
    ex: &Exchange<'_>,
    location: &str,
) -> Result<(Url, Url), Reason> {
    let requested = requested_url(ex).ok_or(Reason::BadLocation)?;
    let target = requested.join(location).map_err(|_| Reason::BadLocation)?;
    if !same_origin(&requested, &target) {
        return Err(Reason::CrossOrigin);
    }
    // Rule 7 as far as our own origin goes: the resolved target must be
    // something we can write as a path and Apache can serve.
    if !is_linkable(&target) {
        return Err(Reason::BadLocation);
    }
    check_target_path(policy, path_and_query(&target), path_and_query(&requested))?;
    Ok((requested, target))
}

/// Rules 9 and 10, on the target's and the request's path+query.
fn check_target_path(policy: &Policy<'_>, target: &str, requested: &str) -> Result<(), Reason> {
    if target == requested {
        return Err(Reason::SelfRedirect);
    }
    if policy.excludes.is_some_and(|set| set.is_match(target)) {
        return Err(Reason::Excluded);
    }
    Ok(())
}

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
fn plain_target<'a, 'b>(ex: &Exchange<'b>, location: &'a str) -> Option<(&'a str, &'b str)> {
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
    let requested = std::str::from_utf8(ex.request_target).ok()?;
    Some((target, requested))
}

/// The bytes of [`is_plain_path`], as a table: it runs over every byte of
/// every redirect's Location.
const PLAIN_PATH_BYTES: [bool; 256] = {
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
/// segment.
fn is_plain_path(path_and_query: &[u8]) -> bool {
    if path_and_query.first() != Some(&b'/')
        || path_and_query.get(1) == Some(&b'/')
        || !path_and_query
            .iter()
            .all(|&b| PLAIN_PATH_BYTES[usize::from(b)])
    {
        return false;
    }
    let path_end = path_and_query
        .iter()
        .position(|&b| b == b'?')
        .unwrap_or(path_and_query.len());
    !path_and_query[..path_end]
        .split(|&b| b == b'/')
        .any(|segment| segment == b"." || segment == b"..")
}

/// A Host the URL parser takes as it is (up to case): LDH labels whose last
/// one starts with a letter and none is IDNA (`xn--`), or a dotted-quad IPv4
/// address without leading zeros; then optionally `:` and a port.
fn is_plain_authority(host: &[u8]) -> bool {
    let (name, port) = match host.iter().rposition(|&b| b == b':') {
        Some(colon) => (&host[..colon], Some(&host[colon + 1..])),
        None => (host, None),
    };
    if port.is_some_and(|port| !short_decimal(port, 5).is_some_and(|n| n <= 65535)) {
        return false;
    }
    // An empty name is one empty label: not LDH.
    let labels = || name.split(|&b| b == b'.');
    let ldh = |label: &[u8]| {
        !label.is_empty()
            && label
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
    };
    if !labels().all(ldh) || name.windows(4).any(|w| w.eq_ignore_ascii_case(b"xn--")) {
        return false;
    }
    let last = labels().next_back().unwrap_or_default();
    if last.first().is_some_and(u8::is_ascii_alphabetic) {
        return true;
    }
    let octet = |label: &[u8]| {
        short_decimal(label, 3).is_some_and(|n| n <= 255) && (label.len() == 1 || label[0] != b'0')
    };
    labels().count() == 4 && labels().all(octet)
}

/// The value of 1 to `max_len` ASCII digits.
fn short_decimal(digits: &[u8], max_len: usize) -> Option<u32> {
    (!digits.is_empty() && digits.len() <= max_len && digits.iter().all(u8::is_ascii_digit))
        .then(|| digits.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
}

/// `off`, `0`, `false` or `no`, trimmed, in any case.
fn is_opt_out(value: &[u8]) -> bool {
    let value = value.trim_ascii();
    [&b"off"[..], b"0", b"false", b"no"]
        .iter()
        .any(|token| value.eq_ignore_ascii_case(token))
}

fn single_location<'a>(locations: &[&'a [u8]]) -> Result<&'a str, Reason> {
    let value = match locations {
        [] => return Err(Reason::NoLocation),
        [one] => *one,
        _ => return Err(Reason::BadLocation),
    };
    if value.trim_ascii().is_empty() {
        return Err(Reason::NoLocation);
    }
    if value.len() > MAX_LOCATION_LEN || !is_field_value(value) {
        return Err(Reason::BadLocation);
    }
    std::str::from_utf8(value).map_err(|_| Reason::BadLocation)
}

/// Whether `value` is a valid HTTP field value: no control character but
/// HTAB (RFC 9110, section 5.5). Apache refuses to send a response whose
/// Location has one (AH02430: a 500 over HTTP/1.1, a reset stream over
/// HTTP/2); the URL parser would silently drop CR, LF and TAB and link a
/// target the client is never sent to (`/a\r\nX: 1` read as `/aX:%201`).
fn is_field_value(value: &[u8]) -> bool {
    !value.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f)
}

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

/// A Host value usable as an authority: no userinfo, path, query or
/// fragment can be smuggled in through it.
fn authority(host: &[u8]) -> Option<&str> {
    let allowed = |b: &u8| b.is_ascii_alphanumeric() || b"-._~%!$&'()*+;=:[]".contains(b);
    if host.is_empty() || !host.iter().all(allowed) {
        return None;
    }
    std::str::from_utf8(host).ok()
}

fn itoa_port(port: u16, buf: &mut [u8; 5]) -> &str {
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
    std::str::from_utf8(&buf[i..]).expect("ASCII digits")
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

/// Whether any existing `Link` field already refers to `target`, resolving
/// each reference against the requested URL as a client would.
fn links_to(links: &[&[u8]], requested: &Url, target: &Url) -> bool {
    let target_path = path_and_query(target);
    links.iter().any(|field| {
        uri_references(field).any(|reference| {
            let Ok(reference) = std::str::from_utf8(reference) else {
                return false;
            };
            requested.join(reference).is_ok_and(|linked| {
                same_origin(requested, &linked) && path_and_query(&linked) == target_path
            })
        })
    })
}

/// Whether the target's path+query can stand in a `Link` as a path-absolute
/// reference that Apache can serve:
/// - it must not begin with `//` (`/.//host/x` resolves to the path
///   `//host/x`, which a client would read back as a link to `host`);
/// - no byte that could end the reference or the field: the URL serialiser
///   percent-encodes all of them, and this keeps the spec's promise even if
///   a future `url` release did not;
/// - a path Apache accepts (see [`is_servable_path`]).
pub(crate) fn is_linkable(target: &Url) -> bool {
    let path = target.path();
    !path.starts_with("//") && is_safe_in_link(path_and_query(target)) && is_servable_path(path)
}

/// Whether Apache can serve this path at all. The URL standard keeps a
/// malformed escape (`%zz`) and `%00` as they are, but Apache answers both
/// with 400 and logs an error for each: a push of one only adds noise.
fn is_servable_path(path: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A GET over HTTP/2 with push on, to https://example.com:8443/old?x=1,
    /// answered with `302 Location: <location>`. Every rule passes unless a
    /// test changes a field.
    fn redirect_to(locations: &'static [&'static [u8]]) -> Exchange<'static> {
        Exchange {
            status: 302,
            method: b"GET",
            scheme: b"https",
            host: Some(b"example.com:8443"),
            server_name: b"server.invalid",
            server_port: 9999,
            request_target: b"/dir/old?x=1",
            http2: true,
            h2_push: true,
            locations,
            ..Exchange::default()
        }
    }

    fn run(ex: &Exchange<'_>) -> Decision {
        decide(&Policy::default(), ex)
    }

    fn pushed_target(ex: &Exchange<'_>) -> String {
        match run(ex) {
            Decision::Push(push) => {
                assert_eq!(
                    push.link_value(),
                    format!("<{}>; as=document; rel=preload", push.path_and_query())
                );
                push.path_and_query().to_owned()
            }
            other => panic!("expected a push, got {other:?}"),
        }
    }

    fn skipped(ex: &Exchange<'_>) -> Reason {
        match run(ex) {
            Decision::Skip(reason) => reason,
            other => panic!("expected a skip, got {other:?}"),
        }
    }

    fn location(value: &'static str) -> Exchange<'static> {
        let leaked: &'static [&'static [u8]] = Box::leak(Box::new([value.as_bytes()]));
        redirect_to(leaked)
    }

    /// The plain path and the URL parser must give the same answer for
    /// every request: a push of the same target, or the same skip.
    fn assert_resolutions_agree(policy: &Policy<'_>, ex: &Exchange<'_>) {
        assert_eq!(
            check_redirect(policy, ex, Resolution::PlainFirst),
            check_redirect(policy, ex, Resolution::UrlParser),
            "host {:?}, target {:?}, locations {:?}",
            ex.host.map(String::from_utf8_lossy),
            String::from_utf8_lossy(ex.request_target),
            ex.locations
                .iter()
                .map(|l| String::from_utf8_lossy(l))
                .collect::<Vec<_>>(),
        );
    }

    const TRICKY_HOSTS: &[&str] = &[
        "example.com:8443",
        "Example.COM:8443",
        "example.com",
        "example.com:443",
        "example.com:0",
        "example.com:65535",
        "example.com:65536",
        "example.com:008443",
        "example.com:",
        "a-.b-:1",
        "-a.b",
        "1.example",
        "example.1",
        "example.0x1",
        "127.0.0.1",
        "127.0.0.1:8443",
        "127.0.0.01",
        "256.0.0.1",
        "1.2.3",
        "1.2.3.4.5",
        "xn--nxasmq6b.com",
        "XN--a.com",
        "a..b",
        "a.b.",
        ".a",
        "localhost",
        "[::1]:8443",
        "user@example.com",
        "ex ample.com",
        "\u{e9}xample.com",
    ];

    const TRICKY_LOCATIONS: &[&str] = &[
        "/new",
        "/new?a=1&b=2",
        "/dir/old?x=1",
        "/dir/old",
        "/a/./b",
        "/a/../b",
        "/a/.",
        "/a/..",
        "/.",
        "/..",
        "/.a/..b/...",
        "//evil.example/x",
        "/\\evil",
        "/a%2e/b",
        "/a/%2e%2e/b",
        "/%00",
        "/a b",
        "/a'b",
        "/a?'",
        "/a?b?c",
        "/a#f",
        "/a?#",
        "/~u/!$&()*+,;=:@",
        "/a^b",
        "/a`b",
        "/a{b}",
        "/a|b",
        "/\u{e9}",
        "https://example.com:8443/new",
        "https://Example.COM:8443/new",
        "https://example.com:8443//evil",
        "https://example.com:84431/x",
        "https://example.com:8443.evil/x",
        "https://example.com:8443@evil/x",
        "HTTPS://example.com:8443/x",
        "http://example.com:8443/x",
        "https://example.com/x",
        "https://example.com:443/x",
        "https://127.0.0.1:8443/x",
        "https://example.com:8443",
        "https://example.com:8443?q",
        "new",
        "./new",
        "?q",
        "#f",
        "",
    ];

    #[test]
    fn the_plain_path_agrees_with_the_url_parser() {
        for host in TRICKY_HOSTS {
            for target in ["/dir/old?x=1", "/new", "/a/../new", "/a%20b", "//x", "/x?'"] {
                for location in TRICKY_LOCATIONS {
                    for scheme in ["https", "http", "HTTPS"] {
                        let locations = [location.as_bytes()];
                        let ex = Exchange {
                            scheme: scheme.as_bytes(),
                            host: Some(host.as_bytes()),
                            request_target: target.as_bytes(),
                            locations: &locations,
                            ..location_exchange()
                        };
                        assert_resolutions_agree(&Policy::default(), &ex);
                    }
                }
            }
        }
    }

    #[test]
    fn the_plain_path_takes_the_common_shapes() {
        let plain = |host: &'static str, target: &'static str, location: &'static str| {
            let locations: &'static [&'static [u8]] = Box::leak(Box::new([location.as_bytes()]));
            let ex = Exchange {
                host: Some(host.as_bytes()),
                request_target: target.as_bytes(),
                ..redirect_to(locations)
            };
            plain_target(&ex, location).map(|(target, _)| target)
        };
        assert_eq!(
            plain("example.com:8443", "/old", "/new?a=1"),
            Some("/new?a=1")
        );
        assert_eq!(
            plain("example.com:8443", "/old", "https://example.com:8443/new"),
            Some("/new")
        );
        assert_eq!(
            plain("127.0.0.1:8443", "/old", "https://127.0.0.1:8443/new"),
            Some("/new")
        );
        assert_eq!(plain("localhost", "/docs", "/docs/"), Some("/docs/"));
        assert_eq!(
            plain("example.com:8443", "/old", "https://example.com/new"),
            None
        );
        assert_eq!(plain("example.com:8443", "/old", "/a/../new"), None);
        assert_eq!(plain("example.com:8443", "/old", "/a%20b"), None);
        assert_eq!(plain("xn--nxasmq6b.com", "/old", "/new"), None);
        assert_eq!(plain("example.com:8443", "/a/./old", "/new"), None);
    }

    fn location_exchange() -> Exchange<'static> {
        redirect_to(&[])
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20_000))]
        #[test]
        fn the_plain_path_agrees_with_the_url_parser_on_generated_input(
            host in "[a-zA-Z0-9.:-]{1,12}|[0-9]{1,4}(\\.[0-9]{1,4}){0,4}(:[0-9]{0,6})?",
            target in "/[a-z./?%'#:@!-]{0,10}",
            location in "(https?://[a-zA-Z0-9.:@-]{0,14})?[a-zA-Z0-9./?%'#:@!\\\\ -]{0,14}",
        ) {
            let locations = [location.as_bytes()];
            let ex = Exchange {
                host: Some(host.as_bytes()),
                request_target: target.as_bytes(),
                locations: &locations,
                ..location_exchange()
            };
            assert_resolutions_agree(&Policy::default(), &ex);
            // The same with the request's own authority in the Location.
            let own = format!("https://{host}{location}");
            let locations = [own.as_bytes()];
            assert_resolutions_agree(&Policy::default(), &Exchange { locations: &locations, ..ex });
        }
    }

    #[test]
    fn reasons_have_the_specs_tokens() {
        let tokens: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(
            tokens,
            [
                "opt-out",
                "method",
                "insecure",
                "push-disabled",
                "credentials",
                "no-location",
                "bad-location",
                "cross-origin",
                "self",
                "excluded",
                "already-linked",
                "internal-error"
            ]
        );
    }

    #[test]
    fn a_same_origin_redirect_is_pushed() {
        assert_eq!(pushed_target(&location("/new")), "/new");
        let Decision::Push(push) = run(&location("/new?q=1")) else {
            panic!()
        };
        assert_eq!(push.link_value(), "</new?q=1>; as=document; rel=preload");
    }

    #[test]
    fn only_configured_statuses_are_redirects() {
        for status in [200, 204, 300, 304, 305, 306, 400, 404, 500, 0, -5] {
            let ex = Exchange {
                status,
                ..location("/new")
            };
            assert_eq!(run(&ex), Decision::NotRedirect, "{status}");
        }
        for status in [301, 302, 303, 307, 308] {
            let ex = Exchange {
                status,
                ..location("/new")
            };
            assert_eq!(pushed_target(&ex), "/new", "{status}");
        }
        let policy = Policy {
            statuses: StatusSet::parse("301 300").unwrap(),
            ..Policy::default()
        };
        assert_eq!(decide(&policy, &location("/new")), Decision::NotRedirect);
        assert!(matches!(
            decide(
                &policy,
                &Exchange {
                    status: 300,
                    ..location("/new")
                }
            ),
            Decision::Push(_)
        ));
    }

    #[test]
    fn rule_1_opt_out_by_env_or_header() {
        let ex = Exchange {
            opt_out_env: true,
            ..location("/new")
        };
        assert_eq!(skipped(&ex), Reason::OptOut);
        for value in ["off", "OFF", " Off\t", "0", "false", "False", "no", "NO"] {
            let values: &'static [&'static [u8]] = Box::leak(Box::new([value.as_bytes()]));
            let ex = Exchange {
                opt_out_values: values,
                ..location("/new")
            };
            assert_eq!(skipped(&ex), Reason::OptOut, "{value:?}");
        }
        for value in ["on", "1", "yes", "", "offf", "n o"] {
            let values: &'static [&'static [u8]] = Box::leak(Box::new([value.as_bytes()]));
            let ex = Exchange {
                opt_out_values: values,
                ..location("/new")
            };
            assert_eq!(pushed_target(&ex), "/new", "{value:?}");
        }
        let two: &[&[u8]] = &[b"on", b"no"];
        assert_eq!(
            skipped(&Exchange {
                opt_out_values: two,
                ..location("/new")
            }),
            Reason::OptOut
        );
    }

    #[test]
    fn rule_2_only_get() {
        for method in [&b"POST"[..], b"HEAD", b"PUT", b"get", b""] {
            let ex = Exchange {
                method,
                ..location("/new")
            };
            assert_eq!(skipped(&ex), Reason::Method);
        }
    }

    #[test]
    fn rule_3_tls_unless_not_required() {
        let ex = Exchange {
            scheme: b"http",
            http2: false,
            ..location("/new")
        };
        assert_eq!(skipped(&ex), Reason::Insecure);
        let policy = Policy {
            require_tls: false,
            ..Policy::default()
        };
        assert!(matches!(decide(&policy, &ex), Decision::Push(_)));
    }

    #[test]
    fn rule_4_http2_needs_h2_push_on() {
        let ex = Exchange {
            h2_push: false,
            ..location("/new")
        };
        assert_eq!(skipped(&ex), Reason::PushDisabled);
        let http1 = Exchange {
            http2: false,
            h2_push: false,
            ..location("/new")
        };
        assert_eq!(pushed_target(&http1), "/new");
    }

    #[test]
    fn rule_4_a_pushed_stream_never_pushes() {
        let pushed = Exchange {
            pushed_stream: true,
            ..location("/new")
        };
        assert_eq!(skipped(&pushed), Reason::PushDisabled);
        let http1 = Exchange {
            http2: false,
            h2_push: false,
            pushed_stream: true,
            ..location("/new")
        };
        assert_eq!(pushed_target(&http1), "/new");
    }

    #[test]
    fn rule_7_a_target_path_that_reads_as_another_host_is_a_bad_location() {
        for loc in [
            "/.//evil.example/x",
            "/%2e//evil.example/x",
            "/a/..//evil.example/x",
            "https://example.com:8443//evil.example/x",
            "/./\\evil.example/x",
        ] {
            assert_eq!(skipped(&location(loc)), Reason::BadLocation, "{loc}");
        }
        let double_slash_request = Exchange {
            request_target: b"//evil.example/old",
            ..location("new")
        };
        assert_eq!(skipped(&double_slash_request), Reason::BadLocation);
        assert_eq!(pushed_target(&location("/a//b")), "/a//b");
    }

    #[test]
    fn hosts_compare_as_the_url_standard_normalises_them() {
        let encoded = Exchange {
            host: Some(b"ex%61mple.com:8443"),
            ..location("https://example.com:8443/new")
        };
        assert_eq!(pushed_target(&encoded), "/new");
        let short_ipv4 = Exchange {
            host: Some(b"127.1:8443"),
            ..location("https://127.0.0.1:8443/new")
        };
        assert_eq!(pushed_target(&short_ipv4), "/new");
        let explicit_default = Exchange {
            host: Some(b"example.com:443"),
            ..location("https://example.com/new")
        };
        assert_eq!(pushed_target(&explicit_default), "/new");
    }

    #[test]
    fn rule_7_paths_apache_refuses_are_bad_locations() {
        for loc in ["/%", "/a%zz", "/a%2", "/%00", "/a/%00/b", "%", "/%g0"] {
            assert_eq!(skipped(&location(loc)), Reason::BadLocation, "{loc}");
        }
        for (loc, expected) in [
            ("/%20%2F%ff", "/%20%2F%ff"),
            ("/a?q=%zz", "/a?q=%zz"),
            ("/%0A", "/%0A"),
            ("/100%25", "/100%25"),
        ] {
            assert_eq!(pushed_target(&location(loc)), expected, "{loc}");
        }
    }

    #[test]
    fn rule_5_credentials() {
        let cookie = Exchange {
            has_cookie: true,
            ..location("/new")
        };
        let auth = Exchange {
            has_authorization: true,
            ..location("/new")
        };
        assert_eq!(skipped(&cookie), Reason::Credentials);
        assert_eq!(skipped(&auth), Reason::Credentials);
        let policy = Policy {
            with_credentials: true,
            ..Policy::default()
        };
        assert!(matches!(decide(&policy, &cookie), Decision::Push(_)));
        assert!(matches!(decide(&policy, &auth), Decision::Push(_)));
    }

    #[test]
    fn rule_6_exactly_one_usable_location() {
        assert_eq!(skipped(&redirect_to(&[])), Reason::NoLocation);
        assert_eq!(skipped(&location("")), Reason::NoLocation);
        assert_eq!(skipped(&location(" \t ")), Reason::NoLocation);
        assert_eq!(skipped(&redirect_to(&[b"/a", b"/b"])), Reason::BadLocation);
        assert_eq!(skipped(&redirect_to(&[b"/a", b"/a"])), Reason::BadLocation);
        assert_eq!(skipped(&redirect_to(&[b"/\xff\xfe"])), Reason::BadLocation);
        // Control characters (but HTAB) make an invalid field, which Apache
        // refuses to send; found by the hostile-Location suite through
        // mod_rewrite [NE], which decodes %0d%0a into the Location.
        for bad in [
            "/t.html\r\nX-Injected: 1",
            "/t.html\n",
            "/t.html\x0bx",
            "\x01javascript:alert(1)",
            "/t\x7f.html",
            "/t.html\0",
        ] {
            assert_eq!(skipped(&location(bad)), Reason::BadLocation, "{bad:?}");
        }
        assert_eq!(pushed_target(&location("/t.\thtml")), "/t.html");
        let long: &'static str =
            Box::leak(format!("/{}", "a".repeat(MAX_LOCATION_LEN - 1)).into_boxed_str());
        assert_eq!(pushed_target(&location(long)).len(), MAX_LOCATION_LEN);
        let too_long: &'static str =
            Box::leak(format!("/{}", "a".repeat(MAX_LOCATION_LEN)).into_boxed_str());
        assert_eq!(skipped(&location(too_long)), Reason::BadLocation);
    }

    #[test]
    fn rule_7_location_must_resolve() {
        // `///host/x` is an empty host to the url crate, the spec's reference.
        for bad in [
            "http://[::1",
            "https://exa mple.com/",
            "https://a:99999/",
            "http://",
            "///other.example/new",
        ] {
            assert_eq!(skipped(&location(bad)), Reason::BadLocation, "{bad}");
        }
    }

    #[test]
    fn rule_7_request_target_must_be_origin_form() {
        for target in [
            &b"*"[..],
            b"https://example.com:8443/dir/old",
            b"",
            b"dir/old",
            b"/\xff",
        ] {
            let ex = Exchange {
                request_target: target,
                ..location("/new")
            };
            assert_eq!(skipped(&ex), Reason::BadLocation, "{target:?}");
        }
    }

    #[test]
    fn rule_7_host_must_be_a_plain_authority() {
        for host in [
            &b"evil.com/x"[..],
            b"user@example.com:8443",
            b"a b",
            b"ex\\ample.com",
            b"h?x",
            b"h#x",
        ] {
            let ex = Exchange {
                host: Some(host),
                ..location("/new")
            };
            assert_eq!(skipped(&ex), Reason::BadLocation, "{host:?}");
        }
    }

    #[test]
    fn without_host_the_server_name_and_port_are_the_origin() {
        let ex = Exchange {
            host: None,
            server_name: b"example.com",
            server_port: 8443,
            ..location("https://example.com:8443/new")
        };
        assert_eq!(pushed_target(&ex), "/new");
        let empty = Exchange {
            host: Some(b""),
            ..ex
        };
        assert_eq!(pushed_target(&empty), "/new");
        let other_port = Exchange {
            server_port: 443,
            ..ex
        };
        assert_eq!(skipped(&other_port), Reason::CrossOrigin);
        let default_port = Exchange {
            server_port: 443,
            ..location("https://example.com/new")
        };
        assert_eq!(
            pushed_target(&Exchange {
                host: None,
                server_name: b"example.com",
                ..default_port
            }),
            "/new"
        );
        let ipv6 = Exchange {
            host: None,
            server_name: b"[::1]",
            server_port: 8443,
            ..location("https://[0:0::1]:8443/v6")
        };
        assert_eq!(pushed_target(&ipv6), "/v6");
    }

    #[test]
    fn relative_locations_resolve_against_the_requested_url() {
        let cases = [
            ("new", "/dir/new"),
            ("./new", "/dir/new"),
            ("../new", "/new"),
            ("../../../new", "/new"),
            ("/a/./b/../c", "/a/c"),
            ("?y=2", "/dir/old?y=2"),
            ("#frag", "/dir/old?x=1"), // self: see below
            ("/new#frag", "/new"),
            ("/new?q=a b", "/new?q=a%20b"),
            ("/n e w", "/n%20e%20w"),
            ("/caf\u{e9}", "/caf%C3%A9"),
            ("/%7euser", "/%7euser"),
            ("//example.com:8443/x", "/x"),
            ("https:new", "/dir/new"),
            ("https:/new", "/new"),
            ("\\new", "/new"),
            ("/a\\b", "/a/b"),
            ("  /trimmed  ", "/trimmed"),
            ("/new?", "/new?"),
            ("/tab\tbed", "/tabbed"),
        ];
        for (loc, expected) in cases {
            let ex = location(loc);
            if expected == "/dir/old?x=1" {
                assert_eq!(skipped(&ex), Reason::SelfRedirect, "{loc}");
            } else {
                assert_eq!(pushed_target(&ex), expected, "{loc}");
            }
        }
    }

    #[test]
    fn rule_8_absolute_locations_must_be_same_origin() {
        let same = [
            "https://example.com:8443/new",
            "HTTPS://EXAMPLE.COM:8443/new",
            "https://Example.Com:8443/new",
        ];
        for loc in same {
            assert_eq!(pushed_target(&location(loc)), "/new", "{loc}");
        }
        let cross = [
            "https://other.example:8443/new",
            "https://example.com/new",
            "https://example.com:443/new",
            "https://example.com:8444/new",
            "http://example.com:8443/new",
            "//other.example/new",
            "\\\\other.example/new",
            "/\\other.example/new",
            "https://user@example.com:8443/new",
            "https://user:pw@example.com:8443/new",
            "https://:pw@example.com:8443/new",
            "javascript:alert(1)",
            "data:text/html,hi",
            "mailto:a@example.com",
            "ftp://example.com:8443/new",
            "https://example.com.:8443/new",
            "https://xn--exmple-cua.com:8443/",
            "https://exämple.com:8443/",
        ];
        for loc in cross {
            assert_eq!(skipped(&location(loc)), Reason::CrossOrigin, "{loc}");
        }
    }

    #[test]
    fn rule_8_hosts_compare_after_idna_case_and_default_port_folding() {
        let idn = Exchange {
            host: Some(b"xn--exmple-cua.com"),
            ..location("https://EXÄMPLE.com/new")
        };
        assert_eq!(pushed_target(&idn), "/new");
        let default_port = Exchange {
            host: Some(b"Example.COM"),
            ..location("https://example.com:443/new")
        };
        assert_eq!(pushed_target(&default_port), "/new");
        let http = Exchange {
            scheme: b"http",
            host: Some(b"example.com:80"),
            http2: false,
            ..location("http://example.com/new")
        };
        let policy = Policy {
            require_tls: false,
            ..Policy::default()
        };
        assert!(matches!(decide(&policy, &http), Decision::Push(_)));
        let v6 = Exchange {
            host: Some(b"[::1]:8443"),
            ..location("https://[0::1]:8443/new")
        };
        assert_eq!(pushed_target(&v6), "/new");
    }

    #[test]
    fn rule_9_self_redirects_are_skipped() {
        for loc in [
            "/dir/old?x=1",
            "old?x=1",
            "https://example.com:8443/dir/old?x=1",
            "/dir/./old?x=1",
            "#top",
        ] {
            assert_eq!(skipped(&location(loc)), Reason::SelfRedirect, "{loc}");
        }
        assert_eq!(pushed_target(&location("/dir/old")), "/dir/old");
        assert_eq!(pushed_target(&location("/dir/old?x=2")), "/dir/old?x=2");
        let normalised = Exchange {
            request_target: b"/a/../dir/old?x=1",
            ..location("/dir/old?x=1")
        };
        assert_eq!(skipped(&normalised), Reason::SelfRedirect);
    }

    #[test]
    fn rule_10_excludes_match_path_and_query() {
        let mut set = ExcludeSet::new();
        set.add("^/admin").unwrap();
        set.add("logout").unwrap();
        let policy = Policy {
            excludes: Some(&set),
            ..Policy::default()
        };
        assert_eq!(
            decide(&policy, &location("/admin/x")),
            Decision::Skip(Reason::Excluded)
        );
        assert_eq!(
            decide(&policy, &location("/x?do=logout")),
            Decision::Skip(Reason::Excluded)
        );
        assert_eq!(
            decide(&policy, &location("https://example.com:8443/admin")),
            Decision::Skip(Reason::Excluded)
        );
        assert!(matches!(
            decide(&policy, &location("/public/admin")),
            Decision::Push(_)
        ));
        // Patterns see the serialised target, so an encoded space is %20.
        let mut encoded = ExcludeSet::new();
        encoded.add("a%20b").unwrap();
        let policy = Policy {
            excludes: Some(&encoded),
            ..Policy::default()
        };
        assert_eq!(
            decide(&policy, &location("/a b")),
            Decision::Skip(Reason::Excluded)
        );
    }

    #[test]
    fn rule_11_an_existing_link_to_the_target() {
        let linked = |links: &'static [&'static [u8]]| Exchange {
            links,
            ..location("/new?q=1")
        };
        for field in [
            &b"</new?q=1>; rel=preload"[..],
            b"</new?q=1>; rel=preload; nopush",
            b"<https://example.com:8443/new?q=1>; rel=preload",
            b"<HTTPS://EXAMPLE.com:8443/new?q=1#x>",
            b"</style.css>; rel=preload; as=style, <../new?q=1>; rel=next",
            b"<../dir/../new?q=1>",
        ] {
            let links: &'static [&'static [u8]] = Box::leak(Box::new([field]));
            assert_eq!(
                skipped(&linked(links)),
                Reason::AlreadyLinked,
                "{:?}",
                String::from_utf8_lossy(field)
            );
        }
        let several: &[&[u8]] = &[b"</a.css>; rel=preload", b"</new?q=1>; rel=preload; nopush"];
        assert_eq!(skipped(&linked(several)), Reason::AlreadyLinked);
        for field in [
            &b"</new>; rel=preload"[..],
            b"</new?q=2>",
            b"<https://other.example:8443/new?q=1>",
            b"<https://example.com/new?q=1>",
            b"</style.css>; rel=preload; as=style",
            b"garbage",
            b"<\xff>",
            b"<http://[::1>",
        ] {
            let links: &'static [&'static [u8]] = Box::leak(Box::new([field]));
            assert_eq!(
                pushed_target(&linked(links)),
                "/new?q=1",
                "{:?}",
                String::from_utf8_lossy(field)
            );
        }
    }

    #[test]
    fn rules_apply_in_the_specs_order() {
        // Every rule fails at once: the first one is reported, then the next
        // one once the first is fixed, and so on.
        let mut set = ExcludeSet::new();
        set.add(".").unwrap();
        let policy = Policy {
            excludes: Some(&set),
            ..Policy::default()
        };
        let all_bad = Exchange {
            opt_out_env: true,
            method: b"POST",
            scheme: b"http",
            h2_push: false,
            has_cookie: true,
            locations: &[],
            ..location("/new")
        };
        type Fix = fn(Exchange<'static>) -> Exchange<'static>;
        let steps: [(Reason, Fix); 6] = [
            (Reason::OptOut, |ex| Exchange {
                opt_out_env: false,
                ..ex
            }),
            (Reason::Method, |ex| Exchange {
                method: b"GET",
                ..ex
            }),
            (Reason::Insecure, |ex| Exchange {
                scheme: b"https",
                ..ex
            }),
            (Reason::PushDisabled, |ex| Exchange {
                h2_push: true,
                ..ex
            }),
            (Reason::Credentials, |ex| Exchange {
                has_cookie: false,
                ..ex
            }),
            (Reason::NoLocation, |ex| Exchange {
                locations: &[b"//evil.example/dir/old?x=1"],
                ..ex
            }),
        ];
        let mut ex = all_bad;
        for (reason, fix) in steps {
            assert_eq!(decide(&policy, &ex), Decision::Skip(reason));
            ex = fix(ex);
        }
        assert_eq!(decide(&policy, &ex), Decision::Skip(Reason::CrossOrigin));
        ex.locations = &[b"https://evil.example/%zz"];
        assert_eq!(decide(&policy, &ex), Decision::Skip(Reason::CrossOrigin));
        ex.locations = &[b"/%zz"];
        assert_eq!(decide(&policy, &ex), Decision::Skip(Reason::BadLocation));
        ex.locations = &[b"/dir/old?x=1"];
        assert_eq!(decide(&policy, &ex), Decision::Skip(Reason::SelfRedirect));
        ex.locations = &[b"/new"];
        ex.links = &[b"</new>"];
        assert_eq!(decide(&policy, &ex), Decision::Skip(Reason::Excluded));
        assert_eq!(
            decide(&Policy::default(), &ex),
            Decision::Skip(Reason::AlreadyLinked)
        );
    }

    #[test]
    fn produced_links_never_carry_unsafe_bytes() {
        for loc in [
            "/a\"b",
            "/a<b>c",
            "/\u{7f}",
            "/a\u{0}b",
            "/x?a=\"<>\"",
            "/\u{1}\u{1f}",
            "/a b?c d",
            "/`{}|^",
            "/%0d%0aSet-Cookie:%20x",
            "/new\r\nSet-Cookie: x",
            "/\u{202e}",
            "/?'",
        ] {
            if let Decision::Push(push) = run(&location(loc)) {
                let target = push.path_and_query();
                assert!(is_safe_in_link(target), "{loc:?} gave {target:?}");
                assert!(target.starts_with('/'), "{loc:?} gave {target:?}");
            }
        }
    }

    #[test]
    fn the_port_fallback_formats_every_port() {
        let mut buf = [0; 5];
        assert_eq!(itoa_port(0, &mut buf), "0");
        assert_eq!(itoa_port(8443, &mut buf), "8443");
        assert_eq!(itoa_port(u16::MAX, &mut buf), "65535");
    }
}
