//! Fuzzes `respond`, the module's entry point, on up to 6 responses in a row
//! against one model of the shared cache (core/tests/invariants/store.rs:
//! written through `Provider::put`, a page's body read), or none: arbitrary settings
//! (switches, status set, exclude patterns, declared hints), records in the
//! cache before the first response (generated or raw bytes), a visitor
//! with fixed answers, and for each response the request (its scheme as
//! Apache reports it or as a trusted proxy's `X-Forwarded-Proto` says,
//! `client_scheme`), its status, Location, Link, Set-Cookie and
//! Cache-Control fields, Fetch metadata, media type and body. Checks the
//! invariants of core/tests/invariants/respond.rs on every answer (shared
//! with the property tests): the push is `decide`'s, the further links and
//! the 103 keep the contract, and only what may teach is learned.
//!
//! The seeds in corpus/respond are written for this input's layout
//! (fuzz/respond_seeds.py): a field added here changes what every seed
//! means, so the script migrates them.
#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use push_redirect_core::{client_scheme, DeclaredHints, Exchange, RecordKey, Settings, Switch};

mod common;
#[path = "../../core/tests/invariants/mod.rs"]
mod invariants;

use common::{exclude_set, status_set, Text};
use invariants::respond::respond_and_check;
use invariants::store::{FixedVisitor, Model};

/// Request targets and Locations, so that responses meet each other's
/// records.
const TARGETS: [&str; 10] = [
    "/old",
    "/new",
    "/a",
    "/b",
    "/page",
    "/new?x=1",
    "/",
    "https://example.com/new",
    "new",
    "/dir/a%20b.html",
];

/// `Link` values of responses and hints of records: valid ones, as the
/// core writes them, and some it must drop.
const LINKS: [&str; 12] = [
    "</app.css>; rel=preload; as=style",
    "<rel.js>; rel=preload; as=script",
    "<https://cdn.example/lib.js>; rel=preload; as=script; crossorigin",
    "<https://fonts.example>; rel=preconnect",
    "</mod.js>; rel=modulepreload",
    "</f.woff2>; rel=preload; as=font; crossorigin; type=\"font/woff2\"",
    "</new>; rel=preload; nopush",
    "</s.css>; rel=stylesheet",
    "<http://cdn.example/x.js>; rel=preload; as=script",
    "<https://example.com>; rel=preconnect",
    "</api/visitor-secret.json>; rel=preload; as=fetch",
    "</new>; as=document; rel=preload",
];

/// `PushRedirectEarlyHint` lines, each value as a 103 carries it.
const DECLARED: [(&str, &str); 4] = [
    ("/new", "</d.css>; rel=preload; as=style"),
    ("/new", "</app.css>; rel=preload; as=style"),
    ("/page", "<https://cdn.example>; rel=preconnect"),
    ("/", "</mod.js>; rel=modulepreload"),
];

/// The declared hints of the lines whose bits `mask` has, built once.
fn declared(mask: u8) -> (&'static DeclaredHints, Vec<(&'static str, &'static str)>) {
    static SETS: OnceLock<Vec<DeclaredHints>> = OnceLock::new();
    let mask = usize::from(mask) % (1 << DECLARED.len());
    let lines = |mask: usize| {
        DECLARED
            .iter()
            .enumerate()
            .filter(move |(i, _)| mask & (1 << i) != 0)
            .map(|(_, line)| *line)
    };
    let sets = SETS.get_or_init(|| {
        (0..1 << DECLARED.len())
            .map(|mask| {
                let mut set = DeclaredHints::new();
                for (path, value) in lines(mask) {
                    set.add(path, value).expect("a fixed line parses");
                }
                set
            })
            .collect()
    });
    (&sets[mask], lines(mask).collect())
}

/// One of a table's values ([`TARGETS`], [`LINKS`]), or any bytes.
#[derive(Arbitrary, Debug)]
enum Pick<'a> {
    Known(u8),
    Raw(&'a [u8]),
}

impl<'a> Pick<'a> {
    fn from(&self, table: &[&'static str]) -> &'a [u8] {
        match self {
            Pick::Known(i) => table[usize::from(*i) % table.len()].as_bytes(),
            Pick::Raw(bytes) => bytes,
        }
    }

    fn target(&self) -> &'a [u8] {
        self.from(&TARGETS)
    }

    fn link(&self) -> &'a [u8] {
        self.from(&LINKS)
    }
}

/// A record in the cache before the first response, under a target's key
/// on example.com:443.
#[derive(Arbitrary, Debug)]
enum Seed<'a> {
    Page(Vec<Pick<'a>>),
    Redirect(Pick<'a>),
    Raw(&'a [u8]),
}

#[derive(Arbitrary, Debug)]
struct Cache<'a> {
    visitor: Option<(bool, bool, Option<bool>)>,
    lifetime_secs: Option<u16>,
    seeds: Vec<(Pick<'a>, Seed<'a>)>,
}

#[derive(Arbitrary, Debug)]
struct Response<'a> {
    status: u8,
    odd_status: Option<i32>,
    method: Text<'a>,
    scheme: Text<'a>,
    /// Apache took the client's address from a proxy it trusts, whose
    /// `X-Forwarded-Proto` then gives the scheme (read only then).
    trusted_proxy: bool,
    forwarded_proto: Option<Text<'a>>,
    host: Option<Text<'a>>,
    server_port: u16,
    request_target: Pick<'a>,
    flags: [bool; 8],
    http1_0: bool,
    opt_out_values: Vec<&'a [u8]>,
    locations: Vec<Pick<'a>>,
    links: Vec<Pick<'a>>,
    vhost: Text<'a>,
    set_cookies: Vec<&'a [u8]>,
    cache_control: Vec<Text<'a>>,
    content_type: Option<Text<'a>>,
    content_encoding: Option<Text<'a>>,
    sec_fetch_mode: Option<Text<'a>>,
    sec_fetch_dest: Option<Text<'a>>,
    body: Vec<&'a [u8]>,
    later_ms: u16,
}

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    switches: [u8; 7],
    statuses: Option<Vec<u8>>,
    exclude_mask: u8,
    declared_mask: u8,
    server_sends_hints: bool,
    cache: Option<Cache<'a>>,
    responses: Vec<Response<'a>>,
}

/// A field the response may have: [`Text::pick`] when it has.
fn maybe<'a>(
    text: &Option<Text<'a>>,
    common: &'static [u8],
    other: &'static [u8],
) -> Option<&'a [u8]> {
    text.as_ref().map(|text| text.pick(common, other))
}

fn switch(byte: u8) -> Switch {
    [Switch::Unset, Switch::Off, Switch::On][usize::from(byte % 3)]
}

/// The cache with the seeds' records.
fn model(cache: &Cache<'_>) -> Model {
    let mut model =
        Model::new(
            cache
                .visitor
                .map(|(authenticated, may_fetch, stranger)| FixedVisitor {
                    authenticated,
                    may_fetch,
                    stranger,
                }),
        );
    model.lifetime_secs = cache.lifetime_secs.map(|s| u64::from(s.max(1)));
    for (target, seed) in &cache.seeds {
        let Some(key) = RecordKey::new(b"example.com", 443, target.target()) else {
            continue;
        };
        let bytes = match seed {
            Seed::Page(hints) => hints.iter().fold(b"pr1 h\n".to_vec(), |mut bytes, hint| {
                bytes.extend_from_slice(hint.link());
                bytes.push(b'\n');
                bytes
            }),
            Seed::Redirect(target) => [b"pr1 r\n", target.target(), b"\n"].concat(),
            Seed::Raw(bytes) => bytes.to_vec(),
        };
        model.memory.values.insert(*key.as_bytes(), bytes);
    }
    model
}

fuzz_target!(|input: Input<'_>| {
    let [push, require_tls, with_credentials, early_hints, ahead, from_html, early_hints_http1] =
        input.switches;
    let (declared_hints, declared_lines) = declared(input.declared_mask);
    let settings = Settings {
        push: switch(push),
        require_tls: switch(require_tls),
        with_credentials: switch(with_credentials),
        early_hints: switch(early_hints),
        ahead: switch(ahead),
        from_html: switch(from_html),
        early_hints_http1: switch(early_hints_http1),
        statuses: status_set(input.statuses.as_deref()),
        excludes: exclude_set(input.exclude_mask),
        declared: (!declared_lines.is_empty()).then_some(declared_hints),
        server_sends_hints: input.server_sends_hints,
    };
    let mut model = input.cache.as_ref().map(model);
    for response in input.responses.iter().take(6) {
        let [http2, h2_push, pushed_stream, has_cookie, has_authorization, opt_out_env, early_hints_sent, other_port] =
            response.flags;
        let locations: Vec<&[u8]> = response.locations.iter().map(Pick::target).collect();
        let links: Vec<&[u8]> = response.links.iter().map(Pick::link).collect();
        let cache_control: Vec<&[u8]> = response
            .cache_control
            .iter()
            .map(|value| value.pick(b"max-age=60", b"no-store, private"))
            .collect();
        let status = [200, 301, 302, 303, 307, 308, 300, 200][usize::from(response.status % 8)];
        let apaches = response.scheme.pick(b"https", b"http");
        let forwarded_proto = maybe(&response.forwarded_proto, b"https", b"http");
        let scheme = client_scheme(apaches, response.trusted_proxy, forwarded_proto);
        assert!(
            scheme == apaches
                || (response.trusted_proxy && [&b"https"[..], b"http"].contains(&scheme)),
            "the scheme is Apache's or a trusted proxy's"
        );
        let ex = Exchange {
            status: response.odd_status.unwrap_or(status),
            method: response.method.pick(b"GET", b"HEAD"),
            scheme,
            host: maybe(&response.host, b"example.com", b"example.com:8443"),
            server_name: b"example.com",
            server_port: response.server_port,
            request_target: response.request_target.target(),
            http2,
            h2_push,
            pushed_stream,
            has_cookie,
            has_authorization,
            opt_out_env,
            opt_out_values: &response.opt_out_values,
            locations: &locations,
            links: &links,
            vhost: response.vhost.pick(b"example.com", b"other.example"),
            local_port: if other_port { 8443 } else { 443 },
            set_cookies: &response.set_cookies,
            cache_control: &cache_control,
            content_type: maybe(
                &response.content_type,
                b"text/html; charset=utf-8",
                b"text/html",
            ),
            content_encoding: maybe(&response.content_encoding, b"gzip", b"br"),
            sec_fetch_mode: maybe(&response.sec_fetch_mode, b"navigate", b"cors"),
            sec_fetch_dest: maybe(&response.sec_fetch_dest, b"document", b"empty"),
            early_hints_sent,
            http1_0: response.http1_0,
        };
        if let Some(model) = model.as_mut() {
            model.now_ms += u64::from(response.later_ms);
        }
        respond_and_check(
            &settings,
            &declared_lines,
            &ex,
            model.as_mut(),
            &response.body,
        );
    }
});
