//! What a decision reads: the configuration in force and the exchange.

use std::ffi::CStr;

use crate::config::{ExcludeSet, StatusSet};

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
    /// `PushRedirectEarlyHintsHTTP1`: a 103 goes out over HTTP/1.1 too, for
    /// a proxy in front that relays it.
    pub early_hints_http1: bool,
}

impl Default for Policy<'_> {
    fn default() -> Self {
        Policy {
            statuses: StatusSet::DEFAULT,
            excludes: None,
            require_tls: true,
            with_credentials: false,
            early_hints_http1: false,
        }
    }
}

impl Policy<'_> {
    /// Rules 9 and 10, on the target's and the request's path+query (bytes:
    /// the plain path need not validate the request target as text).
    pub(crate) fn check_target_path(&self, target: &str, requested: &[u8]) -> Result<(), Reason> {
        if target.as_bytes() == requested {
            return Err(Reason::SelfRedirect);
        }
        if self.excludes.is_some_and(|set| set.is_match(target)) {
            return Err(Reason::Excluded);
        }
        Ok(())
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
    /// `http` or `https`: the scheme of the URL the client asked for, as
    /// Apache reports it or, behind a proxy Apache trusts, as that proxy
    /// says ([`client_scheme`](crate::client_scheme)).
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
    /// The request is HTTP/1.0 (or older): no 1xx response may go to it
    /// (RFC 9110, section 15.2), whatever the directives say.
    pub http1_0: bool,
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
    /// `no-push-redirect` is set in a request of the chain of internal
    /// redirects (under its own name or a `REDIRECT_` one).
    pub opt_out_env: bool,
    /// Values of `X-Push-Redirect` response fields.
    pub opt_out_values: &'a [&'a [u8]],
    /// Values of `Location` response fields.
    pub locations: &'a [&'a [u8]],
    /// Values of `Link` response fields.
    pub links: &'a [&'a [u8]],
    /// The virtual host that answered, by the identity the shim gives it
    /// (its `ServerName` and `ServerAlias` names, docs/behaviour.md), and
    /// the port the request came in on: half of a learned record's key,
    /// never from `Host` or `:authority`.
    pub vhost: &'a [u8],
    pub local_port: u16,
    /// Values of `Set-Cookie` (and `Set-Cookie2`) response fields.
    pub set_cookies: &'a [&'a [u8]],
    /// Values of `Cache-Control` response fields.
    pub cache_control: &'a [&'a [u8]],
    /// The response's media type as Apache will send it (`text/html;
    /// charset=utf-8`), and its first `Content-Encoding` field: what a
    /// page's body is read as.
    pub content_type: Option<&'a [u8]>,
    pub content_encoding: Option<&'a [u8]>,
    /// The request's `Sec-Fetch-Mode` and `Sec-Fetch-Dest`, when it has
    /// them: whether it is a navigation, which alone gets a 103.
    pub sec_fetch_mode: Option<&'a [u8]>,
    pub sec_fetch_dest: Option<&'a [u8]>,
    /// The module sent this request's 103 before the handler ran
    /// (`PushRedirectEarlyHintsAhead`): none goes out at the redirect.
    pub early_hints_sent: bool,
}

/// Why a redirect was not given a preload. [`Reason::as_str`] is its token in
/// the behaviour contract (docs/behaviour.md, "Skip reasons"), which the
/// module puts in `PUSH_REDIRECT_SKIPPED` ([`Reason::as_c_str`]: the same
/// token, written once, as C reads it).
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
    /// Not produced by [`decide`](crate::decide()): the FFI boundary
    /// reports a caught panic so.
    InternalError,
}

impl Reason {
    /// Every reason, in the order of the contract's rules.
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

    /// The token, as text.
    pub const fn as_str(self) -> &'static str {
        match self.as_c_str().to_str() {
            Ok(token) => token,
            Err(_) => panic!("a token is ASCII"),
        }
    }

    /// The token, NUL-terminated in static storage, for the module to hand
    /// to C as it is.
    pub const fn as_c_str(self) -> &'static CStr {
        match self {
            Reason::OptOut => c"opt-out",
            Reason::Method => c"method",
            Reason::Insecure => c"insecure",
            Reason::PushDisabled => c"push-disabled",
            Reason::Credentials => c"credentials",
            Reason::NoLocation => c"no-location",
            Reason::BadLocation => c"bad-location",
            Reason::CrossOrigin => c"cross-origin",
            Reason::SelfRedirect => c"self",
            Reason::Excluded => c"excluded",
            Reason::AlreadyLinked => c"already-linked",
            Reason::InternalError => c"internal-error",
        }
    }
}
