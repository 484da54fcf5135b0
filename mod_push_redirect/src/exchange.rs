//! The shim's snapshot of one request and response, and the core's view of
//! it. The fields come as Apache's tables hold them; which of them the
//! rules read is the core's ([`push_redirect_core::Fields`]), not C's.

use std::ffi::{c_char, c_int, c_void};
use std::marker::PhantomData;
use std::ops::Deref;

use push_redirect_core::{Exchange, FieldName, FieldValue};

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

/// A field's name in a table: NUL-terminated.
#[derive(Clone, Copy)]
struct Name(*const c_char);

impl FieldName for Name {
    fn first_letter(self) -> u8 {
        if self.0.is_null() {
            0
        } else {
            // SAFETY: a NUL-terminated name the shim handed over.
            unsafe { self.0.cast::<u8>().read() | 0x20 }
        }
    }

    /// Read no further than `name`: a byte that differs, the NUL
    /// included, ends it. (Its first letter is compared again, so that
    /// this reads nothing past the NUL whoever calls it.)
    #[inline(always)]
    fn is(self, name: &[u8], prefix: bool) -> bool {
        if self.0.is_null() {
            return false;
        }
        for (i, &want) in name.iter().enumerate() {
            // SAFETY: the bytes before this one were not NUL.
            let byte = unsafe { self.0.add(i).cast::<u8>().read() };
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
        // SAFETY: as above.
        prefix || unsafe { self.0.add(name.len()).read() } == 0
    }
}

/// A field's value in a table: NUL-terminated, or NULL.
#[derive(Clone, Copy)]
pub(crate) struct Value<'a>(*const c_char, PhantomData<&'a [u8]>);

impl<'a> FieldValue<'a> for Value<'a> {
    fn is_none(self) -> bool {
        self.0.is_null()
    }

    fn bytes(self) -> &'a [u8] {
        // SAFETY: NULL or a NUL-terminated value the shim handed over,
        // which outlives the call.
        unsafe { bytes(self.0) }
    }
}

/// The names and values of `table`, none for NULL.
unsafe fn entries<'a>(table: push_redirect_fields) -> impl Iterator<Item = (Name, Value<'a>)> {
    let entries: &[push_redirect_field] = if table.items.is_null() {
        &[]
    } else {
        std::slice::from_raw_parts(table.items, table.count)
    };
    entries
        .iter()
        .map(|field| (Name(field.key), Value(field.val, PhantomData)))
}

/// The fields the rules read of one exchange ([`push_redirect_core::Fields`]),
/// from its tables.
pub(crate) struct Fields<'a>(push_redirect_core::Fields<'a, Value<'a>>);

impl<'a> Deref for Fields<'a> {
    type Target = push_redirect_core::Fields<'a, Value<'a>>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<'a> Fields<'a> {
    #[inline]
    pub(crate) fn new() -> Fields<'a> {
        Fields(push_redirect_core::Fields::new())
    }

    #[inline(always)]
    pub(crate) unsafe fn read_all(&mut self, exchange: &'a push_redirect_exchange) {
        let (early_hints, trusted) = (exchange.early_hints, exchange.trusted_proxy);
        self.0
            .read_request(entries(exchange.headers_in), early_hints, trusted);
        self.0.read_response(entries(exchange.headers_out));
        self.0.read_response(entries(exchange.err_headers_out));
        self.0.read_done();
    }

    #[inline(always)]
    pub(crate) unsafe fn view<'v>(&'v self, exchange: &'v push_redirect_exchange) -> Exchange<'v> {
        let ex = Exchange {
            status: exchange.status,
            method: bytes(exchange.method),
            scheme: bytes(exchange.scheme),
            request_target: bytes(exchange.request_target),
            http2: exchange.is_http2,
            http1_0: exchange.http1_0,
            h2_push: exchange.is_http2 && bytes(exchange.h2_push) == b"on",
            pushed_stream: exchange.is_http2 && bytes(exchange.h2_pushed) == b"PUSHED",
            opt_out_env: exchange.opt_out_env,
            vhost: bytes(exchange.vhost),
            local_port: exchange.local_port,
            content_type: (!exchange.content_type.is_null()).then(|| bytes(exchange.content_type)),
            early_hints_sent: exchange.early_hints_sent,
            ..Exchange::default()
        };
        self.0.view(ex, exchange.trusted_proxy, || {
            let (mut name, mut port) = (std::ptr::null(), 0);
            if let Some(authority) = exchange.server_authority {
                authority(exchange.request, &mut name, &mut port);
            }
            (bytes(name), port)
        })
    }
}
