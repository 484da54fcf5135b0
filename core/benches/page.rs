//! Scan cost: ns per page for `PageScan` over the start of a page whose
//! head is about 3 KB (the Django admin's login head with the meta tags,
//! inline script and style of a typical site), as it comes from the
//! backend and gzip-compressed. Each call is a whole scan: `new`, the
//! body's first 16 KiB in two chunks (the scan ends at `</head>`), `finish`.
//!
//! std only, as core/benches/decide.rs: batches timed with `Instant`, the
//! median batch is the figure, min and max its spread.
//!
//! Output: one tab-separated line per case:
//!     page <case> <median ns> <min ns> <max ns> <batches> <calls per batch>
//! BENCH_SMOKE=1 runs a few short batches (it checks that the bench works).

use std::hint::black_box;
use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;
use push_redirect_core::PageScan;
use url::Url;

mod timing;

const HEAD: &str = r##"<!DOCTYPE html>
<html lang="en-us" dir="ltr">
<head>
<meta charset="utf-8">
<title>Log in | Example site administration</title>
<meta name="description" content="The administration site of example.com: log in with your staff account to manage articles, comments and users.">
<meta property="og:title" content="Example administration">
<meta property="og:image" content="https://www.example.com/static/img/og-card.png">
<meta property="og:url" content="https://www.example.com/admin/login/">
<meta property="og:site_name" content="Example">
<meta name="twitter:card" content="summary_large_image">
<meta name="twitter:site" content="@example">
<meta name="theme-color" content="#417690" media="(prefers-color-scheme: light)">
<meta name="theme-color" content="#264b5d" media="(prefers-color-scheme: dark)">
<link rel="canonical" href="https://www.example.com/admin/login/">
<link rel="apple-touch-icon" sizes="180x180" href="/static/img/apple-touch-icon.png">
<link rel="manifest" href="/static/site.webmanifest">
<link rel="icon" href="/static/img/favicon.ico">
<link rel="preconnect" href="https://fonts.gstatic.com" crossorigin>
<link rel="stylesheet" href="https://fonts.googleapis.com/css2?family=Inter:wght@400;600&amp;display=swap">
<link rel="stylesheet" href="/static/admin/css/base.css">
<link rel="stylesheet" href="/static/admin/css/dark_mode.css">
<script src="/static/admin/js/theme.js" defer></script>
<link rel="stylesheet" href="/static/admin/css/nav_sidebar.css">
<script src="/static/admin/js/nav_sidebar.js" defer></script>
<link rel="stylesheet" href="/static/admin/css/login.css">
<script>window.__admin_media_prefix__ = "\/static\/admin\/"; window.dataLayer = window.dataLayer || []; function gtag(){dataLayer.push(arguments);} gtag('js', new Date()); gtag('config', 'G-XXXXXXXXXX', {'anonymize_ip': true, 'cookie_flags': 'SameSite=None;Secure'});</script>
<style>
  :root { --primary: #79aec8; --secondary: #417690; --accent: #f5dd5d; --primary-fg: #fff; }
  .login #container { background: var(--body-bg); border: 1px solid var(--hairline-color); border-radius: 4px; overflow: hidden; width: 28em; min-width: 300px; margin: 100px auto; height: auto; }
  .login #header { min-height: auto; padding: 10px 20px; justify-content: center; }
  .login #content { padding: 20px 20px 0; } .login .form-row { padding: 4px 0; }
  .login .submit-row { padding: 1em 0 0 0; margin: 0; text-align: center; }
  .login .password-reset-link { text-align: center; } .login #content-main { width: 100%; }
  .login .form-row label { display: block; line-height: 2em; } .login .form-row #id_username, .login .form-row #id_password { padding: 8px; width: 100%; box-sizing: border-box; }
</style>
<script type="application/ld+json">{"@context": "https://schema.org", "@type": "WebSite", "name": "Example", "url": "https://www.example.com/"}</script>
<script type="module" src="/static/js/app.mjs"></script>
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="/static/admin/css/responsive.css">
<meta name="robots" content="NONE,NOARCHIVE">
<meta name="csrf-token" content="hLx3Q0tYv6Ue7xJdPqZkWm2fN9rTs4cBaG8yVwE1iKoPjR5nMlD0uHqXzCbSgYtF">
</head>
<body class=" login" data-admin-utc-offset="0">
"##;

struct Case {
    name: &'static str,
    coding: Option<&'static [u8]>,
    /// Whether the page comes with it (without: `new` and `finish` alone).
    body: bool,
    /// Calls per batch: enough for a batch to last a few milliseconds.
    calls: u32,
}

const CASES: [Case; 3] = [
    Case {
        name: "no body (new + finish)",
        coding: None,
        body: false,
        calls: 2000,
    },
    Case {
        name: "3 KB head",
        coding: None,
        body: true,
        calls: 500,
    },
    Case {
        name: "3 KB head, gzip",
        coding: Some(b"gzip"),
        body: true,
        calls: 500,
    },
];

fn main() {
    let smoke = std::env::var_os("BENCH_SMOKE").is_some_and(|v| v == "1");
    let (batches, scale) = if smoke { (3, 100) } else { (31, 1) };
    let page = Url::parse("https://www.example.com/admin/login/?next=/admin/").unwrap();
    let mut html = HEAD.as_bytes().to_vec();
    while html.len() < 16 * 1024 {
        html.extend_from_slice(b"<div class=\"form-row\"><label>Username:</label></div>\n");
    }
    let mut gzip = GzEncoder::new(Vec::new(), Compression::default());
    gzip.write_all(&html).unwrap();
    let gzip = gzip.finish().unwrap();
    assert!(HEAD.len() > 3000 && HEAD.len() < 3500, "{}", HEAD.len());
    for case in &CASES {
        let body: &[u8] = match (case.body, case.coding) {
            (false, _) => b"",
            (true, Some(_)) => &gzip,
            (true, None) => &html,
        };
        let run = || {
            let mut scan = PageScan::new(&page, b"text/html; charset=utf-8", case.coding).unwrap();
            let (first, second) = body.split_at(body.len() / 2);
            if scan.feed(black_box(first)) {
                scan.feed(black_box(second));
            }
            scan.finish()
        };
        let hints = run();
        let expected = if case.body { 10 } else { 0 };
        assert_eq!(hints.len(), expected, "{}: {hints:?}", case.name);
        let calls = (case.calls / scale).max(1);
        let per_call = timing::per_call_ns(batches, calls, || {
            black_box(run());
        });
        let median = per_call[per_call.len() / 2];
        println!(
            "page\t{}\t{median:.0}\t{:.0}\t{:.0}\t{}\t{calls}",
            case.name,
            per_call[0],
            per_call[per_call.len() - 1],
            per_call.len(),
        );
    }
}
