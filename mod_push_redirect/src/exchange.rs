//! The shim's snapshot of one request and response, and the core's view of
//! it. The response fields come as Apache's tables hold them; which of them
//! the rules read is decided here, not in C.

use std::ffi::{c_char, c_int, c_void};

use push_redirect_core::{client_scheme, Exchange};
use smallvec::SmallVec;

use crate::bytes;

/// One entry of an APR table, laid out as `apr_table_entry_t`
/// (apr_tables.h), so that the shim hands over a table's entries as they
/// are.
#[repr(C)]
pub struct push_redirect_field {
    pub key: *const c_char,
    pub val: *const c_char,
    pub key_checksum: u32,
}

/// The entries of one table: `count` fields at `items` (NULL when 0).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct push_redirect_fields {
    pub items: *const push_redirect_field,
    pub count: usize,
}

/// Asked of the shim for a request without `Host`: the server's name and
/// port for the URL the client asked for (`request` is the exchange's).
pub type push_redirect_authority_fn =
    Option<unsafe extern "C" fn(request: *mut c_void, name: *mut *const c_char, port: *mut u16)>;

/// The request and response, borrowed from Apache for the duration of one
/// call. Strings are NUL-terminated.
#[repr(C)]
pub struct push_redirect_exchange {
    pub status: c_int,
    pub method: *const c_char,
    /// `ap_http_scheme` of the request the client sent.
    pub scheme: *const c_char,
    /// The request came through a proxy Apache trusts (mod_remoteip took
    /// the client's address from it, by a proxy list that names it): its
    /// `X-Forwarded-Proto` is read, and says the scheme the client used.
    pub trusted_proxy: bool,
    /// The header fields of the request the client sent: `Host`, `Cookie`,
    /// `Authorization`, with `early_hints` `Sec-Fetch-Mode` and
    /// `Sec-Fetch-Dest`, and with `trusted_proxy` `X-Forwarded-Proto` are
    /// read from them, the first of each name.
    pub headers_in: push_redirect_fields,
    /// Called with `request` only when there is no `Host` field; NULL: the
    /// URL asked for is not known then.
    pub server_authority: push_redirect_authority_fn,
    pub request: *mut c_void,
    pub request_target: *const c_char,
    /// The decoded path of the request the client sent, for the log.
    pub uri: *const c_char,
    pub is_http2: bool,
    /// The request is HTTP/1.0 or older (`r->proto_num`).
    pub http1_0: bool,
    /// mod_http2's `H2_PUSH` and `H2_PUSHED` for this request (NULL: not
    /// HTTP/2, or mod_http2 not loaded). `H2_PUSH` stays `on` on a pushed
    /// stream, which mod_http2 never pushes from: `H2_PUSHED` is `PUSHED`
    /// there.
    pub h2_push: *const c_char,
    pub h2_pushed: *const c_char,
    /// `no-push-redirect` is set in a request of the chain of internal
    /// redirects, under its own name or a `REDIRECT_` one.
    pub opt_out_env: bool,
    /// The response's `headers_out`, then its `err_headers_out`: together,
    /// the fields the client gets.
    pub headers_out: push_redirect_fields,
    pub err_headers_out: push_redirect_fields,
    /// The response's media type as Apache will send it (`r->content_type`:
    /// `Content-Type` is written from it after this filter); NULL: none.
    pub content_type: *const c_char,
    /// The answering virtual host's identity (its `ServerName` and
    /// `ServerAlias` names, from the shim's vhost.c) and the port the
    /// request came in on (the key of what is learned).
    pub vhost: *const c_char,
    pub local_port: u16,
    /// A 103 can go out for this request: what only a 103 needs is read.
    pub early_hints: bool,
    /// `push_redirect_ahead` sent this request's 103 already (read only
    /// with `early_hints`).
    pub early_hints_sent: bool,
}

/// The entries of `table`, none for NULL.
unsafe fn entries<'a>(table: push_redirect_fields) -> &'a [push_redirect_field] {
    if table.items.is_null() {
        &[]
    } else {
        std::slice::from_raw_parts(table.items, table.count)
    }
}

/// The first letter of a field's name in lower case (for an ASCII letter),
/// 0 for none.
unsafe fn first_letter(key: *const c_char) -> u8 {
    if key.is_null() {
        0
    } else {
        key.cast::<u8>().read() | 0x20
    }
}

/// Whether the NUL-terminated `key` is `name` in any case (or, with
/// `prefix`, starts with it), read no further than that. `name` is ASCII
/// letters and `-`, and the caller has matched its first letter.
#[inline(always)]
unsafe fn key_is(key: *const c_char, name: &[u8], prefix: bool) -> bool {
    for (i, &want) in name.iter().enumerate().skip(1) {
        let byte = key.add(i).cast::<u8>().read();
        // A letter in either case is the letter with bit 5 set; `-` is
        // only itself.
        let folded = if want.is_ascii_alphabetic() {
            byte | 0x20
        } else {
            byte
        };
        if folded != want.to_ascii_lowercase() {
            return false;
        }
    }
    prefix || key.add(name.len()).read() == 0
}

/// The values of one field name, on the stack when there are few (a
/// redirect rarely has more than one opt-out header or Link field).
pub(crate) type Values<'a> = SmallVec<[&'a [u8]; 4]>;

/// The request and response fields the rules read, from the shim's tables,
/// read once so that [`Fields::view`] can borrow them.
pub(crate) struct Fields<'a> {
    /// The first `Host` value, measured in [`Fields::view`] (after the
    /// loops, which a call in them would make spill); NULL: none.
    host: *const c_char,
    has_cookie: bool,
    has_authorization: bool,
    sec_fetch_mode: Option<&'a [u8]>,
    sec_fetch_dest: Option<&'a [u8]>,
    forwarded_proto: Option<&'a [u8]>,
    pub(crate) opt_out_values: Values<'a>,
    /// The first Location and, when there is another, a stand-in for it:
    /// the rules only count the others.
    locations: [&'a [u8]; 2],
    /// The first `Location` value, measured once the tables are read.
    location: *const c_char,
    more_locations: bool,
    links: Values<'a>,
    cache_control: Values<'a>,
    set_cookies: Values<'a>,
    content_encoding: Option<&'a [u8]>,
}

impl<'a> Fields<'a> {
    /// None yet: [`Fields::read_all`] fills them in place. Written
    /// field by field, as a constant this size would be copied whole, its
    /// uninitialised slots included.
    #[inline]
    pub(crate) fn new() -> Fields<'a> {
        Fields {
            host: std::ptr::null(),
            has_cookie: false,
            has_authorization: false,
            sec_fetch_mode: None,
            sec_fetch_dest: None,
            forwarded_proto: None,
            opt_out_values: Values::new(),
            locations: [b"", b""],
            location: std::ptr::null(),
            more_locations: false,
            links: Values::new(),
            cache_control: Values::new(),
            set_cookies: Values::new(),
            content_encoding: None,
        }
    }

    pub(crate) unsafe fn read_all(&mut self, exchange: &'a push_redirect_exchange) {
        self.read_request(exchange);
        self.read(exchange.headers_out);
        self.read(exchange.err_headers_out);
        self.locations[0] = self.location().unwrap_or_default();
    }

    /// As `apr_table_get` would: the first field of each name.
    unsafe fn read_request(&mut self, exchange: &'a push_redirect_exchange) {
        for field in entries(exchange.headers_in) {
            let key = field.key;
            let value = || (!field.val.is_null()).then(|| bytes(field.val));
            match first_letter(key) {
                b'h' if key_is(key, b"Host", false) && self.host.is_null() => {
                    self.host = field.val;
                }
                b'c' if key_is(key, b"Cookie", false) => self.has_cookie = true,
                b'a' if key_is(key, b"Authorization", false) => self.has_authorization = true,
                b's' if exchange.early_hints && key_is(key, b"Sec-Fetch-", true) => {
                    if key_is(key, b"Sec-Fetch-Mode", false) {
                        self.sec_fetch_mode = self.sec_fetch_mode.or_else(value);
                    } else if key_is(key, b"Sec-Fetch-Dest", false) {
                        self.sec_fetch_dest = self.sec_fetch_dest.or_else(value);
                    }
                }
                b'x' if exchange.trusted_proxy && key_is(key, b"X-Forwarded-Proto", false) => {
                    self.forwarded_proto = self.forwarded_proto.or_else(value);
                }
                _ => {}
            }
        }
    }

    // Inlined: for the two tables of every response, a call costs more
    // than the one or two fields most of them hold.
    #[inline(always)]
    unsafe fn read(&mut self, table: push_redirect_fields) {
        for field in entries(table) {
            let key = field.key;
            // Measured only for the fields read.
            let value = || (!field.val.is_null()).then(|| bytes(field.val));
            // The first letter first: most fields are none of these.
            match first_letter(key) {
                b'l' if key_is(key, b"Location", false) => {
                    self.more_locations |= !self.location.is_null();
                    if self.location.is_null() {
                        self.location = field.val;
                    }
                }
                b'l' if key_is(key, b"Link", false) => self.links.extend(value()),
                b'x' if key_is(key, b"X-Push-Redirect", false) => {
                    self.opt_out_values.extend(value())
                }
                b'c' if key_is(key, b"Cache-Control", false) => self.cache_control.extend(value()),
                b's' if key_is(key, b"Set-Cookie", true) => self.set_cookies.extend(value()),
                b'c' if key_is(key, b"Content-Encoding", false) => {
                    self.content_encoding = self.content_encoding.or_else(value)
                }
                _ => {}
            }
        }
    }

    /// The first `Location` field.
    pub(crate) fn location(&self) -> Option<&'a [u8]> {
        // SAFETY: a field value the shim handed over, NUL-terminated.
        (!self.location.is_null()).then(|| unsafe { bytes(self.location) })
    }

    #[inline(always)]
    pub(crate) unsafe fn view<'v>(&'v self, exchange: &'v push_redirect_exchange) -> Exchange<'v> {
        let host = (!self.host.is_null()).then(|| bytes(self.host));
        let (server_name, server_port) = match (host, exchange.server_authority) {
            (None, Some(authority)) => {
                let (mut name, mut port) = (std::ptr::null(), 0);
                authority(exchange.request, &mut name, &mut port);
                (bytes(name), port)
            }
            _ => (&b""[..], 0),
        };
        let location_count = match (!self.location.is_null(), self.more_locations) {
            (false, _) => 0,
            (true, false) => 1,
            (true, true) => 2,
        };
        Exchange {
            status: exchange.status,
            method: bytes(exchange.method),
            scheme: client_scheme(
                bytes(exchange.scheme),
                exchange.trusted_proxy,
                self.forwarded_proto,
            ),
            host,
            server_name,
            server_port,
            request_target: bytes(exchange.request_target),
            http2: exchange.is_http2,
            http1_0: exchange.http1_0,
            h2_push: exchange.is_http2 && bytes(exchange.h2_push) == b"on",
            pushed_stream: exchange.is_http2 && bytes(exchange.h2_pushed) == b"PUSHED",
            has_cookie: self.has_cookie,
            has_authorization: self.has_authorization,
            opt_out_env: exchange.opt_out_env,
            opt_out_values: self.opt_out_values.as_slice(),
            locations: &self.locations[..location_count],
            links: self.links.as_slice(),
            vhost: bytes(exchange.vhost),
            local_port: exchange.local_port,
            set_cookies: self.set_cookies.as_slice(),
            cache_control: self.cache_control.as_slice(),
            content_type: (!exchange.content_type.is_null()).then(|| bytes(exchange.content_type)),
            content_encoding: self.content_encoding,
            sec_fetch_mode: self.sec_fetch_mode,
            sec_fetch_dest: self.sec_fetch_dest,
            early_hints_sent: exchange.early_hints_sent,
        }
    }
}
