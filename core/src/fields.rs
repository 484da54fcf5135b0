//! Which header fields of the request and the response the rules read,
//! from the tables the module holds as Apache does (`headers_in`, then
//! `headers_out` and `err_headers_out`), read once so that
//! [`Fields::view`] can borrow them into an [`Exchange`].
//!
//! A field's name and value stay the module's ([`FieldName`],
//! [`FieldValue`]): a name is read no further than it must be, its first
//! letter first, since most fields are none of these; a value is measured
//! only when it is read.

use smallvec::SmallVec;

use crate::exchange::Exchange;
use crate::proxy::client_scheme;

/// A field's name as the module holds it.
pub trait FieldName: Copy {
    /// Its first byte with bit 5 set (an ASCII letter in lower case); 0
    /// for none.
    fn first_letter(self) -> u8;

    /// Whether it is `name` in any case (with `prefix`: starts with it).
    /// `name` is ASCII letters and `-`, and the caller has matched its
    /// first letter.
    fn is(self, name: &[u8], prefix: bool) -> bool;
}

/// A field's value as the module holds it.
pub trait FieldValue<'a>: Copy {
    /// The table holds no value here.
    fn is_none(self) -> bool;

    /// The value's bytes, measured now; empty for none.
    fn bytes(self) -> &'a [u8];

    fn get(self) -> Option<&'a [u8]> {
        (!self.is_none()).then(|| self.bytes())
    }
}

impl FieldName for &[u8] {
    fn first_letter(self) -> u8 {
        self.first().map_or(0, |&b| b | 0x20)
    }

    fn is(self, name: &[u8], prefix: bool) -> bool {
        let head = self.get(..name.len());
        head.is_some_and(|head| head.eq_ignore_ascii_case(name))
            && (prefix || self.len() == name.len())
    }
}

impl<'a> FieldValue<'a> for Option<&'a [u8]> {
    fn is_none(self) -> bool {
        Option::is_none(&self)
    }

    fn bytes(self) -> &'a [u8] {
        self.unwrap_or_default()
    }
}

/// The values of one field name, on the stack when there are few (a
/// redirect rarely has more than one opt-out header or Link field).
type Values<'a> = SmallVec<[&'a [u8]; 4]>;

/// The fields the rules read, by name.
pub struct Fields<'a, V> {
    /// The first `Host` value, measured in [`Fields::view`] (after the
    /// loops, which a call in them would make spill).
    host: Option<V>,
    has_cookie: bool,
    has_authorization: bool,
    sec_fetch_mode: Option<&'a [u8]>,
    sec_fetch_dest: Option<&'a [u8]>,
    forwarded_proto: Option<&'a [u8]>,
    opt_out_values: Values<'a>,
    /// The first Location and, when there is another, a stand-in for it:
    /// the rules only count the others.
    locations: [&'a [u8]; 2],
    /// The first `Location` value, measured once the tables are read.
    location: Option<V>,
    more_locations: bool,
    links: Values<'a>,
    cache_control: Values<'a>,
    set_cookies: Values<'a>,
    content_encoding: Option<&'a [u8]>,
}

impl<'a, V: FieldValue<'a>> Fields<'a, V> {
    /// None yet: the `read_` calls fill them in place. Written field by
    /// field, as a constant this size would be copied whole, its
    /// uninitialised slots included.
    #[inline]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Fields<'a, V> {
        Fields {
            host: None,
            has_cookie: false,
            has_authorization: false,
            sec_fetch_mode: None,
            sec_fetch_dest: None,
            forwarded_proto: None,
            opt_out_values: Values::new(),
            locations: [b"", b""],
            location: None,
            more_locations: false,
            links: Values::new(),
            cache_control: Values::new(),
            set_cookies: Values::new(),
            content_encoding: None,
        }
    }

    /// The request's fields, as `apr_table_get` would: the first of each
    /// name. `Sec-Fetch-*` only where a 103 can go out (`early_hints`),
    /// `X-Forwarded-Proto` only from a proxy Apache trusts.
    #[inline(always)]
    pub fn read_request<K: FieldName>(
        &mut self,
        fields: impl Iterator<Item = (K, V)>,
        early_hints: bool,
        trusted_proxy: bool,
    ) {
        for (key, value) in fields {
            match key.first_letter() {
                b'h' if key.is(b"Host", false) && self.host.is_none() => {
                    self.host = (!value.is_none()).then_some(value);
                }
                b'c' if key.is(b"Cookie", false) => self.has_cookie = true,
                b'a' if key.is(b"Authorization", false) => self.has_authorization = true,
                b's' if early_hints && key.is(b"Sec-Fetch-", true) => {
                    if key.is(b"Sec-Fetch-Mode", false) {
                        self.sec_fetch_mode = self.sec_fetch_mode.or_else(|| value.get());
                    } else if key.is(b"Sec-Fetch-Dest", false) {
                        self.sec_fetch_dest = self.sec_fetch_dest.or_else(|| value.get());
                    }
                }
                b'x' if trusted_proxy && key.is(b"X-Forwarded-Proto", false) => {
                    self.forwarded_proto = self.forwarded_proto.or_else(|| value.get());
                }
                _ => {}
            }
        }
    }

    /// One table of the response's fields (`headers_out`, then
    /// `err_headers_out`: together, the fields the client gets). Inlined:
    /// for the two tables of every response, a call costs more than the
    /// one or two fields most of them hold.
    #[inline(always)]
    pub fn read_response<K: FieldName>(&mut self, fields: impl Iterator<Item = (K, V)>) {
        for (key, value) in fields {
            // The first letter first: most fields are none of these.
            match key.first_letter() {
                b'l' if key.is(b"Location", false) => {
                    self.more_locations |= self.location.is_some();
                    if self.location.is_none() && !value.is_none() {
                        self.location = Some(value);
                    }
                }
                b'l' if key.is(b"Link", false) => self.links.extend(value.get()),
                b'x' if key.is(b"X-Push-Redirect", false) => {
                    self.opt_out_values.extend(value.get())
                }
                b'c' if key.is(b"Cache-Control", false) => self.cache_control.extend(value.get()),
                b's' if key.is(b"Set-Cookie", true) => self.set_cookies.extend(value.get()),
                b'c' if key.is(b"Content-Encoding", false) => {
                    self.content_encoding = self.content_encoding.or_else(|| value.get())
                }
                _ => {}
            }
        }
    }

    /// After the last table.
    #[inline]
    pub fn read_done(&mut self) {
        self.locations[0] = self.location().unwrap_or_default();
    }

    /// The first `Location` field.
    fn location(&self) -> Option<&'a [u8]> {
        self.location.map(V::bytes)
    }

    /// The values of the response's `X-Push-Redirect` fields.
    pub fn opt_out_values(&self) -> &[&'a [u8]] {
        &self.opt_out_values
    }

    /// `ex` (what the module knows of the request and response besides
    /// these fields, its scheme Apache's) with what the fields say: the
    /// client's scheme behind a proxy Apache trusts, the authority, the
    /// request's credentials and `Sec-Fetch-*`, the response's fields.
    /// Without a `Host` field the URL's authority is the server's name and
    /// port, which `authority` is asked for then.
    #[inline(always)]
    pub fn view<'v>(
        &'v self,
        ex: Exchange<'v>,
        trusted_proxy: bool,
        authority: impl FnOnce() -> (&'v [u8], u16),
    ) -> Exchange<'v> {
        let host = self.host.map(V::bytes);
        let (server_name, server_port) = match host {
            None => authority(),
            Some(_) => (&b""[..], 0),
        };
        let location_count = match (self.location.is_some(), self.more_locations) {
            (false, _) => 0,
            (true, false) => 1,
            (true, true) => 2,
        };
        Exchange {
            scheme: client_scheme(ex.scheme, trusted_proxy, self.forwarded_proto),
            host,
            server_name,
            server_port,
            has_cookie: self.has_cookie,
            has_authorization: self.has_authorization,
            opt_out_values: self.opt_out_values.as_slice(),
            locations: &self.locations[..location_count],
            links: self.links.as_slice(),
            set_cookies: self.set_cookies.as_slice(),
            cache_control: self.cache_control.as_slice(),
            content_encoding: self.content_encoding,
            sec_fetch_mode: self.sec_fetch_mode,
            sec_fetch_dest: self.sec_fetch_dest,
            ..ex
        }
    }
}

#[cfg(test)]
mod tests;
