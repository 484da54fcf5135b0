//! The fields the rules read, from tables of names and values.

use super::*;

type Table<'a> = &'a [(&'a str, Option<&'a str>)];

fn entries<'a>(table: Table<'a>) -> impl Iterator<Item = (&'a [u8], Option<&'a [u8]>)> {
    table
        .iter()
        .map(|(key, value)| (key.as_bytes(), value.map(str::as_bytes)))
}

/// The exchange the fields of `request` and `response` make, with a 103
/// possible and through a trusted proxy as said.
fn view_of<'v, 'a: 'v>(
    fields: &'v mut Fields<'a, Option<&'a [u8]>>,
    (request, response): (Table<'a>, Table<'a>),
    early_hints: bool,
    trusted_proxy: bool,
) -> Exchange<'v> {
    fields.read_request(entries(request), early_hints, trusted_proxy);
    fields.read_response(entries(response));
    fields.read_done();
    let ex = Exchange {
        scheme: b"http",
        ..Exchange::default()
    };
    fields.view(ex, trusted_proxy, || (b"server.example", 8080))
}

#[test]
fn the_request_fields_are_the_first_of_each_name_in_any_case() {
    let request: Table<'_> = &[
        ("host", None),
        ("HOST", Some("a.example")),
        ("Host", Some("b.example")),
        ("cookie", Some("x=y")),
        ("sec-fetch-mode", Some("navigate")),
        ("Sec-Fetch-Mode", Some("cors")),
        ("SEC-FETCH-DEST", Some("document")),
        ("Sec-Fetch-Site", Some("none")),
        ("X-Forwarded-Proto", Some("https")),
    ];
    let mut fields = Fields::new();
    let ex = view_of(&mut fields, (request, &[]), true, false);
    assert_eq!(ex.host, Some(&b"a.example"[..]));
    assert!(ex.has_cookie && !ex.has_authorization);
    assert_eq!(ex.sec_fetch_mode, Some(&b"navigate"[..]));
    assert_eq!(ex.sec_fetch_dest, Some(&b"document"[..]));
    assert_eq!(
        ex.scheme, b"http",
        "a proxy Apache does not trust says nothing"
    );
    assert_eq!((ex.server_name, ex.server_port), (&b""[..], 0));
    // Sec-Fetch-* only where a 103 can go out; the scheme from a trusted
    // proxy; the server's authority without Host.
    let mut fields = Fields::new();
    let ex = view_of(&mut fields, (&request[4..], &[]), false, true);
    assert_eq!((ex.sec_fetch_mode, ex.sec_fetch_dest), (None, None));
    assert_eq!(ex.scheme, b"https");
    assert_eq!(ex.host, None);
    assert_eq!(
        (ex.server_name, ex.server_port),
        (&b"server.example"[..], 8080)
    );
}

#[test]
fn the_response_fields_are_gathered_from_both_tables() {
    let response: Table<'_> = &[
        ("Content-Length", Some("0")),
        ("location", None),
        ("LOCATION", Some("/new")),
        ("Link", Some("</a.css>; rel=preload; as=style")),
        ("x-push-redirect", Some("off")),
        ("Cache-Control", Some("no-store")),
        ("Set-Cookie2", Some("a=b")),
        ("Set-Cookie", Some("c=d")),
        ("Content-Encoding", Some("gzip")),
        ("content-encoding", Some("br")),
        ("Locations", Some("/not-a-location")),
    ];
    let mut fields = Fields::new();
    fields.read_response(entries(response));
    let err_headers_out: Table<'_> = &[("Location", Some("/other")), ("link", Some("</b.js>"))];
    fields.read_response(entries(err_headers_out));
    assert_eq!(fields.opt_out_values(), [&b"off"[..]]);
    fields.read_done();
    let ex = fields.view(Exchange::default(), false, || (b"", 0));
    assert_eq!(
        ex.locations.len(),
        2,
        "the first, and a stand-in for the others"
    );
    assert_eq!(ex.locations[0], b"/new");
    assert_eq!(
        ex.links,
        [&b"</a.css>; rel=preload; as=style"[..], b"</b.js>"]
    );
    assert_eq!(ex.cache_control, [&b"no-store"[..]]);
    assert_eq!(ex.set_cookies, [&b"a=b"[..], b"c=d"]);
    assert_eq!(ex.content_encoding, Some(&b"gzip"[..]));
    // One Location is one; none is none.
    let mut fields = Fields::new();
    fields.read_response(entries(&response[..3]));
    fields.read_done();
    let ex = fields.view(Exchange::default(), false, || (b"", 0));
    assert_eq!(ex.locations, [b"/new"]);
    let mut fields = Fields::<Option<&[u8]>>::new();
    fields.read_done();
    let ex = fields.view(Exchange::default(), false, || (b"", 0));
    assert!(ex.locations.is_empty());
}
