use std::io::Write as _;

use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
use flate2::Compression;

use super::attribute::decode_references;
use super::*;
use crate::hints::{MAX_HINTS, MAX_HINTS_LEN};

const PAGE: &str = "https://example.com/dir/page?x=1";

/// The hints of a body fed in `chunks`.
fn scan_chunks(content_type: &str, coding: Option<&str>, chunks: &[&[u8]]) -> Vec<String> {
    let page = Url::parse(PAGE).unwrap();
    let mut scan =
        PageScan::new(&page, content_type.as_bytes(), coding.map(str::as_bytes)).expect("scanned");
    for chunk in chunks {
        if !scan.feed(chunk) {
            break;
        }
    }
    scan.finish().into_iter().map(|h| h.value).collect()
}

/// The hints of a UTF-8 page, the same whether it comes in one chunk, a
/// byte at a time, or split in two at any position.
fn scan_bytes(content_type: &str, html: &[u8]) -> Vec<String> {
    let whole = scan_chunks(content_type, None, &[html]);
    let bytes: Vec<&[u8]> = html.chunks(1).collect();
    assert_eq!(
        scan_chunks(content_type, None, &bytes),
        whole,
        "a byte at a time"
    );
    if html.len() <= 2048 {
        for at in 0..html.len() {
            let (a, b) = html.split_at(at);
            assert_eq!(
                scan_chunks(content_type, None, &[a, b]),
                whole,
                "split at {at}"
            );
        }
    }
    whole
}

fn scan(html: &str) -> Vec<String> {
    scan_bytes("text/html; charset=utf-8", html.as_bytes())
}

fn style(path: &str) -> String {
    format!("<{path}>; rel=preload; as=style")
}

fn script(path: &str) -> String {
    format!("<{path}>; rel=preload; as=script")
}

#[test]
fn relative_references_resolve_against_the_page() {
    assert_eq!(
        scan(
            r#"<!doctype html><html><head>
            <link rel=stylesheet href="a.css">
            <link rel="stylesheet" href="../b.css">
            <link rel='stylesheet' href="/c.css?v=1#top">
            <link rel=stylesheet href="//example.com/d.css">
            <link rel=stylesheet href="https://EXAMPLE.com:443/e.css">
            <link rel=stylesheet href="  /f.css  ">
            <link rel=stylesheet href="?v=2">
            <link rel=stylesheet href="">
            </head>"#
        ),
        [
            style("/dir/a.css"),
            style("/b.css"),
            style("/c.css?v=1"),
            style("/d.css"),
            style("/e.css"),
            style("/f.css"),
            style("/dir/page?v=2"),
        ]
    );
}

#[test]
fn the_first_base_with_an_href_counts() {
    assert_eq!(
        scan(
            r#"<head><link rel=stylesheet href=before.css>
            <base target=_blank>
            <base href="/static/">
            <base href="/other/">
            <link rel=stylesheet href=a.css>
            <script src="js/app.js"></script>"#
        ),
        [
            style("/dir/before.css"),
            style("/static/a.css"),
            script("/static/js/app.js")
        ]
    );
    // A base on another origin makes relative references cross-origin.
    assert_eq!(
        scan(
            r#"<head><base href="https://cdn.example/assets/">
            <link rel=stylesheet href=a.css><link rel=stylesheet href=/b.css>"#
        ),
        ["<https://cdn.example>; rel=preconnect"]
    );
    // A javascript: or data: base, or one that does not parse, leaves the page's URL.
    for base in ["javascript:alert(1)", "data:text/html,x", "https://[::1"] {
        assert_eq!(
            scan(&format!(
                r#"<head><base href="{base}"><base href=/s/><link rel=stylesheet href=a.css>"#
            )),
            [style("/dir/a.css")],
            "{base}"
        );
    }
}

#[test]
fn alternate_print_and_disabled_stylesheets_are_not_hints() {
    assert_eq!(
        scan(
            r#"<head>
            <link rel="alternate stylesheet" href=/alt.css title=Alt>
            <link rel="stylesheet alternate" href=/alt2.css>
            <link rel=stylesheet href=/print.css media=print>
            <link rel=stylesheet href=/print2.css media="only print and (color)">
            <link rel=stylesheet href=/print3.css media=" PRINT , print">
            <link rel=stylesheet href=/disabled.css disabled>
            <link rel=stylesheet href=/screen.css media=screen>
            <link rel=stylesheet href=/all.css media=all>
            <link rel=stylesheet href=/both.css media="print, screen">
            <link rel=stylesheet href=/narrow.css media="(max-width: 600px)">
            <link rel=stylesheet href=/not-print.css media="not print">
            <link rel=stylesheet href=/empty.css media="">
            <link REL=StyleSheet href=/upper.css>"#
        ),
        [
            style("/screen.css"),
            style("/all.css"),
            style("/both.css"),
            style("/narrow.css"),
            style("/not-print.css"),
            style("/empty.css"),
            style("/upper.css"),
        ]
    );
}

#[test]
fn other_link_relations_are_not_hints() {
    assert_eq!(
        scan(
            r#"<head>
            <link rel=icon href=/favicon.ico>
            <link rel="shortcut icon" href=/favicon2.ico>
            <link rel=apple-touch-icon href=/touch.png>
            <link rel=manifest href=/site.webmanifest>
            <link rel=prefetch href=/next.html>
            <link rel=canonical href=/dir/page>
            <link rel=alternate type=application/rss+xml href=/feed>
            <link href=/no-rel.css>"#
        ),
        Vec::<String>::new()
    );
}

#[test]
fn scripts_classic_deferred_async_and_modules() {
    assert_eq!(
        scan(
            r#"<head>
            <script src=/classic.js></script>
            <script defer src=/deferred.js></script>
            <script async src=/async.js></script>
            <script type=module src=/app.mjs></script>
            <script type=MODULE src=/app2.mjs crossorigin=use-credentials></script>
            <script type=text/javascript src=/typed.js crossorigin></script>
            <script type="" src=/empty-type.js></script>
            <script language=javascript src=/language.js></script>
            <script src=/legacy.js nomodule></script>
            <script type=module src=/module-nomodule.mjs nomodule></script>
            <script type=text/template src=/template.html></script>
            <script type=application/ld+json src=/data.json></script>
            <script type=importmap src=/map.json></script>
            <script type="text/javascript; charset=utf-8" src=/params.js></script>
            <script>inline()</script>
            <script src=""></script>"#
        ),
        [
            script("/classic.js"),
            script("/deferred.js"),
            script("/async.js"),
            "</app.mjs>; rel=modulepreload".to_owned(),
            "</app2.mjs>; rel=modulepreload; crossorigin=use-credentials".to_owned(),
            "</typed.js>; rel=preload; as=script; crossorigin".to_owned(),
            script("/empty-type.js"),
            script("/language.js"),
            "</module-nomodule.mjs>; rel=modulepreload".to_owned(),
        ]
    );
}

#[test]
fn the_pages_own_preloads_and_preconnects() {
    assert_eq!(
        scan(
            r#"<head>
            <link rel=preload href=/font.woff2 as=font type=font/woff2 crossorigin>
            <link rel=preload href=/hero.webp as=IMAGE>
            <link rel=preload href=/no-as.js>
            <link rel=preload href=/doc.html as=document>
            <link rel=preload href=/bad-type.css as=style type='text/css"; x'>
            <link rel=modulepreload href=/lib.mjs>
            <link rel=modulepreload href=https://cdn.example/lib.mjs>
            <link rel=preconnect href=https://fonts.gstatic.com crossorigin>
            <link rel=preconnect href=https://api.example/v1/>
            <link rel=preconnect href=http://insecure.example>
            <link rel=preconnect href=/>
            <link rel=dns-prefetch href=https://dns.example>
            <link rel=preload href=https://cdn.example/x.js as=script>
            <link rel=preload href=https://nowhere.example/x as=bogus>"#
        ),
        [
            r#"</font.woff2>; rel=preload; as=font; crossorigin; type="font/woff2""#,
            "</hero.webp>; rel=preload; as=image",
            "</bad-type.css>; rel=preload; as=style",
            "</lib.mjs>; rel=modulepreload",
            "<https://cdn.example>; rel=preconnect",
            "<https://fonts.gstatic.com>; rel=preconnect; crossorigin",
            "<https://api.example>; rel=preconnect",
        ]
    );
}

#[test]
fn another_https_origin_is_a_preconnect_and_anything_else_is_dropped() {
    assert_eq!(
        scan(
            r#"<head>
            <link rel=stylesheet href="https://fonts.googleapis.com/css2?family=Roboto&amp;display=swap">
            <link rel=stylesheet href="https://fonts.googleapis.com/css2?family=Inter">
            <script src="https://cdn.example:8443/lib.js" crossorigin></script>
            <link rel=stylesheet href="http://insecure.example/a.css">
            <link rel=stylesheet href="http://example.com/downgraded.css">
            <link rel=stylesheet href="data:text/css,body{}">
            <script src="javascript:alert(1)"></script>
            <link rel=stylesheet href="https://user:pass@example.com/a.css">
            <link rel=stylesheet href="https://user@cdn.example/a.css">
            <link rel=stylesheet href="ftp://example.com/a.css">
            <script src=//"/h.js></script>"#
        ),
        [
            "<https://fonts.googleapis.com>; rel=preconnect",
            "<https://cdn.example:8443>; rel=preconnect; crossorigin",
        ]
    );
}

#[test]
fn malformed_html_is_read_as_a_browser_reads_it() {
    assert_eq!(
        scan(
            "<!DOCTYPE html><HTML><HEAD>\n\
             <title>a <link rel=stylesheet href=/in-title.css></title>\n\
             <!-- <link rel=stylesheet href=/commented.css> -->\n\
             <style>/* <link rel=stylesheet href=/in-style.css> */</style>\n\
             <LINK REL=STYLESHEET HREF=/a.css>\n\
             </foo></p></title></link>\n\
             <link rel = \"stylesheet\" href = '/b.css' >\n\
             <link rel=stylesheet href=/c.css/>\n\
             <link rel=stylesheet href=/d.css <link rel=stylesheet href=/e.css>\n\
             <link rel=stylesheet rel=icon href=/f.css href=/g.css>\n\
             <link rel=stylesheet href=\"/unclosed.css"
        ),
        [
            style("/a.css"),
            style("/b.css"),
            style("/c.css/"),
            style("/d.css"),
            style("/f.css")
        ]
    );
    assert_eq!(
        scan("<link rel=stylesheet href=/no-head.css><<<>>><link rel=stylesheet href=/x.css>"),
        [style("/no-head.css")],
        "`<<<` is text: the body has begun"
    );
    assert_eq!(scan("\u{0}\u{1}garbage"), Vec::<String>::new());
    assert_eq!(scan(""), Vec::<String>::new());
}

#[test]
fn noscript_and_template_contents_are_not_read() {
    assert_eq!(
        scan(
            r#"<head>
            <noscript><link rel=stylesheet href=/noscript.css></noscript>
            <template><link rel=stylesheet href=/template.css><div>x</div>
              <template><script src=/nested.js></script></template>
              <link rel=stylesheet href=/template2.css></template>
            <link rel=stylesheet href=/after.css>"#
        ),
        [style("/after.css")]
    );
}

#[test]
fn script_text_is_not_markup() {
    assert_eq!(
        scan(
            r#"<head>
            <script>document.write('<link rel=stylesheet href=x.css>')</script>
            <script>var s = "</scrip" + "t><link rel=stylesheet href=y.css>";</script>
            <script><!-- <script> </script> <link rel=stylesheet href=z.css> --></script>
            <link rel=stylesheet href=/real.css>"#
        ),
        [style("/real.css")]
    );
}

#[test]
fn the_scan_ends_with_the_head() {
    let after = |end: &str| {
        scan(&format!(
            "<head><link rel=stylesheet href=/a.css>{end}<link rel=stylesheet href=/late.css>"
        ))
    };
    for end in [
        "</head>",
        "<body>",
        "</head><body class=x>",
        "<div>",
        "<img src=/i.png>",
        "<p>",
        "hello",
        "&nbsp;",
        "<svg>",
        "<my-widget>",
    ] {
        assert_eq!(after(end), [style("/a.css")], "{end}");
    }
    // White space, comments, a doctype, meta and title keep it in the head.
    for kept in [
        "\n\t ",
        "<!-- x -->",
        "<meta charset=utf-8>",
        "<title>T</title>",
        "<style>p{}</style>",
        "\u{feff}",
    ] {
        assert_eq!(
            after(kept),
            [style("/a.css"), style("/late.css")],
            "{kept:?}"
        );
    }
    assert_eq!(
        scan(
            "<html><head><link rel=stylesheet href=/a.css></html><link rel=stylesheet href=/b.css>"
        ),
        [style("/a.css")]
    );
    let page = Url::parse(PAGE).unwrap();
    let mut scan = PageScan::new(&page, b"text/html", None).unwrap();
    assert!(scan.feed(b"<head><link rel=stylesheet href=/a.css></he"));
    assert!(!scan.feed(b"ad><link rel=stylesheet href=/b.css>"));
    assert!(!scan.feed(b"<link rel=stylesheet href=/c.css>"));
    assert_eq!(scan.finish()[0].as_str(), style("/a.css"));
}

#[test]
fn nothing_past_the_bound_is_read() {
    let mut html = String::from("<head><link rel=stylesheet href=/first.css><style>");
    while html.len() < MAX_SCANNED_LEN - 200 {
        html.push_str("p { color: red; }\n");
    }
    html.push_str("</style><link rel=stylesheet href=/within.css>");
    let at_bound = html.len();
    html.push_str(&" ".repeat(MAX_SCANNED_LEN - at_bound - 10));
    html.push_str("<link rel=stylesheet href=/straddles-the-bound.css>");
    html.push_str("<link rel=stylesheet href=/past.css>");
    assert_eq!(
        scan_bytes("text/html", html.as_bytes()),
        [style("/first.css"), style("/within.css")]
    );
    let page = Url::parse(PAGE).unwrap();
    let mut scan = PageScan::new(&page, b"text/html", None).unwrap();
    let (head, tail) = html.as_bytes().split_at(MAX_SCANNED_LEN - 1);
    assert!(scan.feed(head));
    assert!(!scan.feed(tail), "the bound ends the scan");
    assert!(!scan.feed(b"<link rel=stylesheet href=/more.css>"));
    assert_eq!(scan.finish().len(), 2);
}

#[test]
fn a_huge_tag_is_bounded_too() {
    // One tag longer than the bound, a byte at a time: the tokenizer's
    // buffer stays under its limit, and the scan ends.
    let mut html = String::from("<head><link rel=stylesheet href=/a.css><link title=\"");
    html.push_str(&"x".repeat(2 * MAX_SCANNED_LEN));
    html.push_str("\" rel=stylesheet href=/b.css>");
    assert_eq!(scan_bytes("text/html", html.as_bytes()), [style("/a.css")]);
}

#[test]
fn a_declared_charset_decodes_the_page() {
    // ISO-8859-1 is windows-1252 for the web: `é` is the byte 0xE9. The path is
    // always UTF-8 in a URL; the query is in the page's encoding.
    let html = b"<head><link rel=stylesheet href=\"/caf\xe9.css?n=\xe9\"></head>";
    assert_eq!(
        scan_bytes("text/html; charset=iso-8859-1", html),
        [style("/caf%C3%A9.css?n=%E9")]
    );
    assert_eq!(
        scan_bytes("text/html; charset=\"ISO-8859-1\"", html),
        [style("/caf%C3%A9.css?n=%E9")]
    );
    assert_eq!(
        scan("<head><link rel=stylesheet href=\"/caf\u{e9}.css?n=\u{e9}\">"),
        [style("/caf%C3%A9.css?n=%C3%A9")]
    );
    // A character the page's encoding has no byte for is written as HTML
    // writes it in a form, a numeric reference (then percent-encoded).
    assert_eq!(
        scan_bytes(
            "text/html; charset=windows-1252",
            b"<head><link rel=stylesheet href=\"/a.css?n=&#x4E2D;\">"
        ),
        [style("/a.css?n=&%2320013;")]
    );
}

#[test]
fn invalid_utf8_drops_only_the_reference_it_is_in() {
    assert_eq!(
        scan_bytes(
            "text/html",
            b"<head><title>\xff\xfe</title>\
              <link rel=stylesheet href=\"/bad\xc3.css\">\
              <link rel=stylesheet href=\"/\xed\xa0\x80.css\">\
              <link rel=stylesheet href=\"/good.css\" title=\"\xff\">\
              <link rel=stylesheet href=\"/caf\xc3\xa9.css\">"
        ),
        [style("/good.css"), style("/caf%C3%A9.css")]
    );
}

#[test]
fn what_cannot_be_scanned_says_why() {
    let page = Url::parse(PAGE).unwrap();
    let not = |content_type: &str, coding: Option<&str>| {
        PageScan::new(&page, content_type.as_bytes(), coding.map(str::as_bytes))
            .err()
            .map(NotScanned::as_str)
    };
    for ok in [
        ("text/html", None),
        ("TEXT/HTML; Charset=UTF-8", None),
        (" text/html ; charset=shift_jis", Some("identity")),
        ("text/html;charset=latin1", Some("GZIP")),
        ("text/html", Some(" x-gzip ")),
        ("text/html", Some("deflate")),
        ("text/html", Some("br")),
        ("text/html", Some("")),
    ] {
        assert_eq!(not(ok.0, ok.1), None, "{ok:?}");
    }
    for (content_type, coding, why) in [
        ("application/xhtml+xml", None, "not-html"),
        ("text/plain", None, "not-html"),
        ("", None, "not-html"),
        ("text/html\u{ff}", None, "not-html"),
        ("text/html; charset=utf-16le", None, "charset"),
        ("text/html; charset=iso-2022-jp", None, "charset"),
        ("text/html; charset=klingon", None, "charset"),
        ("text/html", Some("zstd"), "content-encoding"),
        ("text/html", Some("compress"), "content-encoding"),
        ("text/html", Some("gzip, br"), "content-encoding"),
        ("text/html", Some("bogus"), "content-encoding"),
    ] {
        assert_eq!(
            not(content_type, coding),
            Some(why),
            "{content_type} {coding:?}"
        );
    }
}

const HEAD: &str = "<!doctype html><head>\
    <link rel=stylesheet href=/a.css>\
    <script src=/b.js defer></script>\
    </head><body><link rel=stylesheet href=/body.css>";

fn expected_head() -> Vec<String> {
    vec![style("/a.css"), script("/b.js")]
}

/// Feeds `body` in every split into two chunks, and a byte at a time.
fn scan_coded(coding: &str, body: &[u8]) -> Vec<String> {
    let whole = scan_chunks("text/html", Some(coding), &[body]);
    let bytes: Vec<&[u8]> = body.chunks(1).collect();
    assert_eq!(scan_chunks("text/html", Some(coding), &bytes), whole);
    for at in 0..body.len() {
        let (a, b) = body.split_at(at);
        assert_eq!(
            scan_chunks("text/html", Some(coding), &[a, b]),
            whole,
            "{coding} split at {at}"
        );
    }
    whole
}

#[test]
fn gzip_and_deflate_bodies_split_anywhere() {
    let mut gzip = GzEncoder::new(Vec::new(), Compression::default());
    gzip.write_all(HEAD.as_bytes()).unwrap();
    let gzip = gzip.finish().unwrap();
    assert_eq!(scan_coded("gzip", &gzip), expected_head());
    assert_eq!(scan_coded("x-gzip", &gzip), expected_head());

    let mut zlib = ZlibEncoder::new(Vec::new(), Compression::best());
    zlib.write_all(HEAD.as_bytes()).unwrap();
    let zlib = zlib.finish().unwrap();
    assert_eq!(scan_coded("deflate", &zlib), expected_head());

    let mut raw = DeflateEncoder::new(Vec::new(), Compression::fast());
    raw.write_all(HEAD.as_bytes()).unwrap();
    let raw = raw.finish().unwrap();
    assert_eq!(scan_coded("deflate", &raw), expected_head());
}

/// A brotli stream (RFC 7932) of uncompressed meta-blocks of `data`, each
/// at most 64 KiB: a 64 KiB window (WBITS 0), then for each block ISLAST=0,
/// MNIBBLES=4, MLEN-1, ISUNCOMPRESSED=1, the bytes from the next byte
/// boundary; then an empty last meta-block (ISLAST=1, ISLASTEMPTY=1).
fn brotli_stored(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut bits: Vec<bool> = vec![false];
    let flush = |bits: &mut Vec<bool>, out: &mut Vec<u8>| {
        for byte in bits.chunks(8) {
            out.push(byte.iter().rev().fold(0, |b, &bit| b << 1 | u8::from(bit)));
        }
        bits.clear();
    };
    for block in data.chunks(1 << 16) {
        let mlen = block.len() - 1;
        bits.extend([false, false, false]);
        bits.extend((0..16).map(|i| mlen >> i & 1 == 1));
        bits.push(true);
        flush(&mut bits, &mut out);
        out.extend_from_slice(block);
    }
    bits.extend([true, true]);
    flush(&mut bits, &mut out);
    out
}

#[test]
fn brotli_bodies_split_anywhere() {
    assert_eq!(
        scan_coded("br", &brotli_stored(HEAD.as_bytes())),
        expected_head()
    );
}

#[test]
fn a_corrupt_body_ends_the_scan_with_what_it_had() {
    let mut gzip = GzEncoder::new(Vec::new(), Compression::default());
    gzip.write_all(HEAD.as_bytes()).unwrap();
    let gzip = gzip.finish().unwrap();
    assert_eq!(
        scan_chunks("text/html", Some("gzip"), &[b"not gzip at all"]),
        Vec::<String>::new()
    );
    assert_eq!(
        scan_chunks("text/html", Some("br"), &[b"\xff\xff\xff\xff"]),
        Vec::<String>::new()
    );
    // An identity body sent as deflate.
    assert_eq!(
        scan_chunks("text/html", Some("deflate"), &[HEAD.as_bytes()]),
        Vec::<String>::new()
    );
    // A gzip stream cut short: what was decoded counts.
    let cut = &gzip[..gzip.len() - 20];
    assert!(scan_chunks("text/html", Some("gzip"), &[cut]).len() <= 2);
}

#[test]
fn a_decompression_bomb_costs_no_more_than_the_bound() {
    // 8 MiB of white space after the head's start: about 8 KiB compressed.
    let mut gzip = GzEncoder::new(Vec::new(), Compression::best());
    gzip.write_all(b"<head><link rel=stylesheet href=/a.css>")
        .unwrap();
    let spaces = vec![b' '; 1 << 20];
    for _ in 0..8 {
        gzip.write_all(&spaces).unwrap();
    }
    gzip.write_all(b"<link rel=stylesheet href=/past.css>")
        .unwrap();
    let gzip = gzip.finish().unwrap();
    let page = Url::parse(PAGE).unwrap();
    let mut scan = PageScan::new(&page, b"text/html", Some(b"gzip")).unwrap();
    let mut fed = 0;
    for chunk in gzip.chunks(256) {
        fed += chunk.len();
        if !scan.feed(chunk) {
            break;
        }
    }
    assert!(fed < gzip.len() / 4, "read {fed} of {} bytes", gzip.len());
    assert_eq!(scan.finish().len(), 1);
    // Brotli, with 4 MiB of stored white space: the bound ends it too.
    let mut html = b"<head><link rel=stylesheet href=/a.css>".to_vec();
    html.resize(4 << 20, b' ');
    let mut scan = PageScan::new(&page, b"text/html", Some(b"br")).unwrap();
    assert!(!scan.feed(&brotli_stored(&html)));
    assert_eq!(scan.finish().len(), 1);
}

#[test]
fn a_link_header_cannot_be_smuggled_through_an_href() {
    assert_eq!(
        scan(
            r#"<head>
            <link rel=stylesheet href="/a.css>; rel=preload; as=script, </evil">
            <link rel=stylesheet href="/b.css&#x3e;, </evil2>; rel=preload; as=script">
            <link rel=stylesheet href="/c.css&#13;&#10;X-Injected: 1">
            <link rel=preload as="style; rel=preload" href=/d.css>
            <link rel=preload as=font type='font/woff2"; rel=preload' href=/e.woff2>
            <link rel=preconnect href="https://cdn.example>; rel=preload; as=script, <https://evil.example">"#
        ),
        [
            "</a.css%3E;%20rel=preload;%20as=script,%20%3C/evil>; rel=preload; as=style",
            "</b.css%3E,%20%3C/evil2%3E;%20rel=preload;%20as=script>; rel=preload; as=style",
            "</c.cssX-Injected:%201>; rel=preload; as=style",
            "</e.woff2>; rel=preload; as=font",
        ]
    );
}

#[test]
fn character_references_in_attributes() {
    assert_eq!(
        scan(
            r#"<head>
            <link rel=stylesheet href="/a.css?x=1&amp;y=2">
            <link rel=stylesheet href="/b.css?x=1&y=2&amp=3">
            <link rel=stylesheet href="/c.css?&#47;&#x2F;&AMP;&lt;">
            <link rel=stylesheet href="/d.css?a&copy;">
            <link rel=stylesheet href="/e.css?a&copy">
            <link rel=stylesheet href="/f.css?a&copyright">
            <link rel=stylesheet href="/g.css?a&#0;">
            <link rel=stylesheet href="/h.css?a&#x80;">
            <link rel=stylesheet href="/i.css?a&#;&;&#x;">
            <link rel=&#x73;tylesheet href=/j.css>"#
        ),
        [
            style("/a.css?x=1&y=2"),
            style("/b.css?x=1&y=2&amp=3"),
            style("/c.css?//&%3C"),
            style("/f.css?a&copyright"),
            style("/i.css?a&"),
            style("/j.css"),
        ]
    );
    assert_eq!(decode_references("&apos;&apos").as_deref(), Some("'&apos"));
    assert_eq!(decode_references("&eacute;"), None);
    assert_eq!(decode_references("&apos;x").as_deref(), Some("'x"));
    assert_eq!(decode_references("a&b").as_deref(), Some("a&b"));
    assert_eq!(decode_references("&amp").as_deref(), Some("&"));
    assert_eq!(decode_references("&ampx").as_deref(), Some("&ampx"));
}

#[test]
fn limits_of_one_record_hold() {
    let mut html = String::from("<head>");
    for i in 0..40 {
        html.push_str(&format!("<link rel=stylesheet href=/s{i}.css>"));
    }
    let hints = scan(&html);
    assert_eq!(hints.len(), MAX_HINTS);
    assert_eq!(hints[0], style("/s0.css"));

    let long = "x".repeat(1500);
    let mut html = String::from("<head>");
    for i in 0..4 {
        html.push_str(&format!("<link rel=stylesheet href=/{long}{i}.css>"));
    }
    html.push_str("<link rel=stylesheet href=/short.css>");
    let hints = scan_chunks("text/html", None, &[html.as_bytes()]);
    assert_eq!(hints.len(), 3, "two long ones do not fit beside the others");
    assert!(hints.iter().map(|h| h.len() + 2).sum::<usize>() - 2 <= MAX_HINTS_LEN);
    assert_eq!(hints[2], style("/short.css"));
    // Duplicates once.
    assert_eq!(
        scan("<head><link rel=stylesheet href=/a.css><link rel=preload as=style href=a.css?#x><link rel=stylesheet href=/a.css>"),
        [style("/a.css"), style("/dir/a.css?")]
    );
}

#[test]
fn a_django_admin_login_head() {
    let html = r#"<!DOCTYPE html>

<html lang="en-us" dir="ltr">
<head>
<title>Log in | Django site admin</title>
<link rel="stylesheet" href="/static/admin/css/base.css">

  <link rel="stylesheet" href="/static/admin/css/nav_sidebar.css">
  <script src="/static/admin/js/nav_sidebar.js" defer></script>

<link rel="stylesheet" href="/static/admin/css/login.css">
<script>window.__admin_media_prefix__ = "/static/admin/";</script>

<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="/static/admin/css/responsive.css">

<meta name="robots" content="NONE,NOARCHIVE">
</head>

<body class=" login"
  data-admin-utc-offset="0">
<link rel="stylesheet" href="/static/admin/css/widgets.css">
"#;
    assert_eq!(
        scan(html),
        [
            style("/static/admin/css/base.css"),
            style("/static/admin/css/nav_sidebar.css"),
            script("/static/admin/js/nav_sidebar.js"),
            style("/static/admin/css/login.css"),
            style("/static/admin/css/responsive.css"),
        ]
    );
}

#[test]
fn a_scan_can_move_between_threads() {
    fn send<T: Send>(_: &T) {}
    let page = Url::parse(PAGE).unwrap();
    let mut scan = PageScan::new(&page, b"text/html", None).unwrap();
    send(&scan);
    scan.feed(b"<head><link rel=stylesheet href=/a.css>");
    let hints = std::thread::spawn(move || {
        scan.feed(b"<link rel=stylesheet href=/b.css>");
        scan.finish()
    })
    .join()
    .unwrap();
    assert_eq!(hints.len(), 2);
}
