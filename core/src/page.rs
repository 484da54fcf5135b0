//! What a page's HTML says a browser will fetch first, read from the start of
//! its body as it streams past (docs/behaviour.md, "What is learned").
//!
//! [`PageScan`] is fed the body of a `200 text/html` response in the chunks
//! the server sends it, decodes a backend's `gzip`, `deflate` or `br` for
//! itself, and tokenizes the HTML with `lol_html`, a streaming rewriter that
//! follows the HTML standard's tokenizer: the text of a `<script>` is script
//! data, never tags, and a `<noscript>` in the head is raw text, as in a
//! browser with scripting on. Its output is thrown away: we only read.
//!
//! Learned, up to the end of the head (`</head>`, `<body>`, the first
//! element or text the HTML parser would put in the body) or
//! [`MAX_SCANNED_LEN`] bytes of HTML:
//! - `<link rel=stylesheet href>`, unless `rel` also has `alternate`, the
//!   element is `disabled`, or its `media` is for print only;
//! - `<script src>`: classic (also `defer`, `async`) as a preload of a
//!   script, `type=module` as a `modulepreload`; a `nomodule` script and a
//!   data block (`text/template`, `application/ld+json`, ...) are not;
//! - the page's own `<link rel=preload|modulepreload|preconnect>`, with their
//!   `as`, `crossorigin` and `type`.
//!
//! Nothing inside a `<template>` counts. References resolve against the page
//! URL and the first `<base href>`. A same-origin one becomes a preload (or
//! modulepreload) of its path; one to another `https` origin a preconnect to
//! that origin; anything else is dropped. Every hint is then read by
//! [`Hint::parse`], as a backend's `Link` field is, and gathered in a
//! [`HintList`]: a page can teach nothing that a `Link` field could not.

use std::borrow::Cow;
use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use brotli_decompressor::DecompressorWriter;
use encoding_rs::{Encoding, UTF_8};
use flate2::write::{DeflateDecoder, GzDecoder, ZlibDecoder};
use lol_html::html_content::{EndTag, TextType};
use lol_html::send::{Element, HtmlRewriter, Settings};
use lol_html::{
    AsciiCompatibleEncoding, DocumentContentHandlers, ElementContentHandlers, HandlerResult,
    MemorySettings, Selector,
};
use url::Url;

use crate::hints::{mime_type_text, Hint, HintList, PRELOAD_DESTINATIONS};
use crate::origin::same_origin;

/// The most HTML read from one page, after any content coding is undone.
/// A head is rarely past 20 KiB (a few inline styles and scripts); what a
/// browser fetches first is near its start. The bound also caps what a
/// decompression bomb can cost: decoding stops with it.
pub const MAX_SCANNED_LEN: usize = 64 * 1024;

/// Why a response is not scanned, with the token that is logged for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotScanned {
    /// The `Content-Type` is not `text/html`.
    NotHtml,
    /// A `charset` that is unknown, or not ASCII-compatible (UTF-16,
    /// ISO-2022-JP): the tokenizer reads markup as ASCII bytes.
    Charset,
    /// A `Content-Encoding` other than `gzip`, `x-gzip`, `deflate`, `br` and
    /// `identity` (`zstd`, `compress`, a list of codings, ...).
    ContentEncoding,
}

impl NotScanned {
    pub fn as_str(self) -> &'static str {
        match self {
            NotScanned::NotHtml => "not-html",
            NotScanned::Charset => "charset",
            NotScanned::ContentEncoding => "content-encoding",
        }
    }
}

/// The tokenizer, its output thrown away.
type Tokenizer = HtmlRewriter<'static, fn(&[u8])>;

/// A scan of one page's body; see the module's documentation.
///
/// It is `Send`: a request's output filter may run on different threads.
pub struct PageScan {
    /// `None` once the scan has ended: nothing more is read.
    html: Option<Tokenizer>,
    decoder: Decoder,
    /// Shared with the tokenizer's handlers, which run inside `feed`.
    state: Arc<Mutex<State>>,
    /// HTML bytes given to the tokenizer so far.
    scanned: usize,
}

impl PageScan {
    /// A scan of the body of the page at `page_url`, or why there is none.
    /// `content_type` is the response's `Content-Type` (the `charset`
    /// parameter names the encoding, UTF-8 when absent), `content_encoding`
    /// its `Content-Encoding`.
    pub fn new(
        page_url: &Url,
        content_type: &[u8],
        content_encoding: Option<&[u8]>,
    ) -> Result<PageScan, NotScanned> {
        let encoding = html_encoding(content_type)?;
        let decoder = Decoder::new(content_encoding)?;
        let state = Arc::new(Mutex::new(State {
            page: page_url.clone(),
            base: Base::Page,
            encoding,
            template_depth: 0,
            hints: HintList::default(),
        }));
        let on_element = Arc::clone(&state);
        let on_text = Arc::clone(&state);
        let any: Selector = "*".parse().expect("a valid selector");
        let settings = Settings {
            element_content_handlers: vec![(
                Cow::Owned(any),
                ElementContentHandlers::default()
                    .element(move |el: &mut Element<'_, '_>| element(&on_element, el)),
            )],
            document_content_handlers: vec![DocumentContentHandlers::default().text(
                move |text: &mut lol_html::html_content::TextChunk<'_>| {
                    // Text outside any element the head can hold starts the
                    // body, as in the HTML parser's "in head" mode. A BOM
                    // comes through as U+FEFF: the tokenizer does not strip it.
                    let starts_body = text.text_type() == TextType::Data
                        && !text
                            .as_str()
                            .chars()
                            .all(|c| is_html_space(c) || c == '\u{feff}');
                    if starts_body && lock(&on_text).template_depth == 0 {
                        return Err(End.into());
                    }
                    Ok(())
                },
            )],
            encoding: AsciiCompatibleEncoding::new(encoding).expect("checked by html_encoding"),
            memory_settings: MemorySettings {
                preallocated_parsing_buffer_size: 1024,
                // What the tokenizer buffers (a tag split across chunks)
                // is part of what it reads: never more than the bound.
                max_allowed_memory_usage: MAX_SCANNED_LEN,
            },
            // Markup the tokenizer cannot place without a tree ends the
            // scan rather than being guessed at.
            strict: true,
            ..Settings::new_send()
        };
        let discard: fn(&[u8]) = |_| {};
        Ok(PageScan {
            html: Some(HtmlRewriter::new(settings, discard)),
            decoder,
            state,
            scanned: 0,
        })
    }

    /// Reads the next bytes of the body, split anywhere (inside a tag, a
    /// character or a compressed stream). Returns whether more is wanted:
    /// `false` once the scan has reached its end (the end of the head, the
    /// bound, a decoding or tokenizing error), and then the caller stops
    /// feeding it.
    pub fn feed(&mut self, chunk: &[u8]) -> bool {
        if self.html.is_none() {
            return false;
        }
        let (html, more) = self.decoder.decode(chunk);
        if !html.is_empty() {
            let Some(rewriter) = self.html.as_mut() else {
                return false;
            };
            let html = &html[..html.len().min(MAX_SCANNED_LEN - self.scanned)];
            self.scanned += html.len();
            if rewriter.write(html).is_err() || self.scanned == MAX_SCANNED_LEN {
                self.html = None;
            }
        }
        if !more {
            self.html = None;
        }
        self.html.is_some()
    }

    /// The hints found, in document order, without duplicates, within
    /// [`MAX_HINTS`](crate::MAX_HINTS) and [`MAX_HINTS_LEN`](crate::MAX_HINTS_LEN).
    pub fn finish(mut self) -> Vec<Hint> {
        if let Some(rewriter) = self.html.take() {
            // A tag cut off by the end of the body is no element: nothing
            // the end can add matters, nor can its error.
            let _ = rewriter.end();
        }
        std::mem::take(&mut lock(&self.state).hints).hints
    }
}

/// The encoding of a `text/html` `Content-Type` (RFC 9110: a media type,
/// then `;`-separated parameters with optional white space around them).
fn html_encoding(content_type: &[u8]) -> Result<&'static Encoding, NotScanned> {
    let mut parts = content_type.split(|&b| b == b';');
    let essence = parts.next().unwrap_or_default().trim_ascii();
    if !essence.eq_ignore_ascii_case(b"text/html") {
        return Err(NotScanned::NotHtml);
    }
    // The first `charset` counts (a parameter named again is ignored).
    let charset = parts.find_map(|param| {
        let at = param.iter().position(|&b| b == b'=')?;
        let (name, value) = (&param[..at], param[at + 1..].trim_ascii());
        name.trim_ascii().eq_ignore_ascii_case(b"charset").then(|| {
            value
                .strip_prefix(b"\"")
                .and_then(|v| v.strip_suffix(b"\""))
                .unwrap_or(value)
        })
    });
    match charset {
        None => Ok(UTF_8),
        // The Encoding standard's labels: `latin1` and `iso-8859-1` are
        // windows-1252, as in a browser.
        Some(label) => Encoding::for_label(label)
            .filter(|encoding| encoding.is_ascii_compatible())
            .ok_or(NotScanned::Charset),
    }
}

/// The error a handler returns to end the scan.
#[derive(Debug)]
struct End;

impl std::fmt::Display for End {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("end of the scan")
    }
}

impl std::error::Error for End {}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // Handlers do not panic while holding it; if one did, what it held is
    // still a list of validated hints.
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Every start tag, in document order.
fn element(state: &Arc<Mutex<State>>, el: &mut Element<'_, '_>) -> HandlerResult {
    let name = el.tag_name();
    let mut st = lock(state);
    if st.template_depth > 0 {
        // A template's contents are inert, whatever they hold.
        if name == "template" {
            open_template(state, &mut st, el);
        }
        return Ok(());
    }
    match name.as_str() {
        "meta" | "title" | "style" | "noscript" => {}
        // `</head>` ends the head; so does `</html>` (HTML's "in head"
        // insertion mode closes the head for it and starts a body).
        "html" | "head" => {
            if let Some(handlers) = el.end_tag_handlers() {
                handlers.push(Box::new(|_: &mut EndTag<'_>| Err(End.into())));
            }
        }
        "base" => st.base(el),
        "link" => st.link(el),
        "script" => st.script(el),
        "template" => open_template(state, &mut st, el),
        // `body`, or any element the HTML parser puts in the body (its "in
        // head" insertion mode closes the head for it).
        _ => return Err(End.into()),
    }
    Ok(())
}

fn open_template(state: &Arc<Mutex<State>>, st: &mut State, el: &mut Element<'_, '_>) {
    if let Some(handlers) = el.end_tag_handlers() {
        st.template_depth += 1;
        let state = Arc::clone(state);
        handlers.push(Box::new(move |_: &mut EndTag<'_>| {
            let mut st = lock(&state);
            st.template_depth = st.template_depth.saturating_sub(1);
            Ok(())
        }));
    }
}

/// What the page's references resolve against (HTML's document base URL).
enum Base {
    /// No `<base href>` yet: the page's URL.
    Page,
    /// A first `<base href>` that leaves the page's URL as the base.
    Fallback,
    /// The first `<base href>`, resolved.
    Set(Url),
    /// The first `<base href>` could not be read (see [`attribute`]):
    /// nothing after it can be resolved for sure.
    Unknown,
}

struct State {
    page: Url,
    base: Base,
    /// The page's encoding: a reference's query is encoded in it.
    encoding: &'static Encoding,
    /// How many `<template>` elements are open.
    template_depth: usize,
    hints: HintList,
}

/// What an element asks the browser to fetch.
#[derive(Clone, Copy)]
enum Fetch<'a> {
    Style,
    Script,
    Module,
    /// A `<link rel=preload>` with this `as`.
    Preload(&'a str),
    Preconnect,
}

impl State {
    /// HTML: only the first `base` element with an `href` counts.
    fn base(&mut self, el: &Element<'_, '_>) {
        if !matches!(self.base, Base::Page) || !el.has_attribute("href") {
            return;
        }
        self.base = match attribute(el, "href").map(|href| self.resolve_against(&self.page, &href))
        {
            Some(Some(url)) if !matches!(url.scheme(), "data" | "javascript") => Base::Set(url),
            // HTML: a base URL that does not parse, or is data: or
            // javascript:, leaves the page's URL as the base.
            Some(_) => Base::Fallback,
            None => Base::Unknown,
        };
    }

    fn link(&mut self, el: &Element<'_, '_>) {
        let Some(rel) = attribute(el, "rel") else {
            return;
        };
        let has = |wanted: &str| {
            rel.split(is_html_space)
                .any(|token| token.eq_ignore_ascii_case(wanted))
        };
        if attribute(el, "media").is_some_and(|media| is_print_only(&media)) {
            return;
        }
        let destination;
        let fetch = if has("stylesheet") && !has("alternate") {
            if el.has_attribute("disabled") {
                return;
            }
            Fetch::Style
        } else if has("preload") {
            // A preload whose `as` is not one we send is not fetched by a
            // browser either: no preconnect for it.
            destination = attribute(el, "as").map(|d| d.to_ascii_lowercase());
            match destination.as_deref() {
                Some(d) if PRELOAD_DESTINATIONS.contains(&d) => Fetch::Preload(d),
                _ => return,
            }
        } else if has("modulepreload") {
            Fetch::Module
        } else if has("preconnect") {
            Fetch::Preconnect
        } else {
            return;
        };
        let mime_type = match fetch {
            Fetch::Preload(_) => attribute(el, "type"),
            _ => None,
        };
        self.add(el, "href", fetch, mime_type.as_deref());
    }

    fn script(&mut self, el: &Element<'_, '_>) {
        let fetch = match script_type(el) {
            // HTML: a classic script with `nomodule` is not fetched.
            Some(Fetch::Script) if el.has_attribute("nomodule") => return,
            Some(fetch) => fetch,
            None => return,
        };
        self.add(el, "src", fetch, None);
    }

    /// Reads the reference in `el`'s attribute `name` as a hint for `fetch`.
    fn add(&mut self, el: &Element<'_, '_>, name: &str, fetch: Fetch<'_>, mime_type: Option<&str>) {
        let base = match &self.base {
            Base::Page | Base::Fallback => &self.page,
            Base::Set(url) => url,
            Base::Unknown => return,
        };
        let Some(url) = attribute(el, name).and_then(|r| self.resolve_against(base, &r)) else {
            return;
        };
        if !url.username().is_empty() || url.password().is_some() {
            return;
        }
        let origin;
        let (reference, mut params) =
            if matches!(fetch, Fetch::Preconnect) || !same_origin(&self.page, &url) {
                // Another origin's resource is fetched from there: what a 103
                // can do for it is open the connection (https only, as
                // `Hint::parse` checks).
                origin = url.origin().ascii_serialization();
                (origin.as_str(), String::from("; rel=preconnect"))
            } else {
                let params = match fetch {
                    Fetch::Style => String::from("; rel=preload; as=style"),
                    Fetch::Script => String::from("; rel=preload; as=script"),
                    Fetch::Module => String::from("; rel=modulepreload"),
                    Fetch::Preload(destination) => format!("; rel=preload; as={destination}"),
                    Fetch::Preconnect => unreachable!("taken above"),
                };
                (url.as_str(), params)
            };
        match attribute(el, "crossorigin") {
            None => {}
            // HTML: any other value, or none, is the anonymous state.
            Some(value) if value.eq_ignore_ascii_case("use-credentials") => {
                params.push_str("; crossorigin=use-credentials")
            }
            Some(_) => params.push_str("; crossorigin"),
        }
        // Only a plain `type/subtype` of tokens: nothing that could end the
        // parameter (Hint::parse checks it again).
        if let Some(mime) = mime_type.filter(|m| mime_type_text(m.as_bytes()).is_some()) {
            params.push_str("; type=\"");
            params.push_str(mime);
            params.push('"');
        }
        if let Some(hint) = Hint::parse(reference.as_bytes(), params.as_bytes(), &self.page) {
            self.hints.push(hint);
        }
    }

    /// HTML's "encoding-parsing a URL": the reference, stripped of leading
    /// and trailing ASCII white space by the URL parser, against `base`, its
    /// query encoded in the page's encoding. An empty reference fetches
    /// nothing (HTML: no stylesheet, a script error), and a U+FFFD is a byte
    /// the page's encoding could not decode: the URL would not be the one
    /// the page's bytes spell.
    fn resolve_against(&self, base: &Url, reference: &str) -> Option<Url> {
        if reference.trim_matches(is_html_space).is_empty() || reference.contains('\u{fffd}') {
            return None;
        }
        let encoding = self.encoding;
        let encode: &dyn Fn(&str) -> Cow<'_, [u8]> = &|text| encoding.encode(text).0;
        let options = Url::options().base_url(Some(base));
        let options = if encoding == UTF_8 {
            options
        } else {
            options.encoding_override(Some(encode))
        };
        options.parse(reference).ok()
    }
}

/// HTML's "prepare the script element": what a `<script>` fetches, if
/// anything: `Script` (classic), `Module`, or `None` for a data block.
fn script_type(el: &Element<'_, '_>) -> Option<Fetch<'static>> {
    let kind = match (attribute(el, "type"), attribute(el, "language")) {
        (Some(kind), _) if kind.is_empty() => return Some(Fetch::Script),
        (Some(kind), _) => kind.trim_matches(is_html_space).to_ascii_lowercase(),
        (None, Some(language)) if !language.is_empty() => format!("text/{language}"),
        // `type` or `language` unreadable, when present, is not a script we know.
        (None, _) if el.has_attribute("type") || el.has_attribute("language") => return None,
        (None, _) => return Some(Fetch::Script),
    };
    if JAVASCRIPT_TYPES.contains(&kind.to_ascii_lowercase().as_str()) {
        Some(Fetch::Script)
    } else if kind.eq_ignore_ascii_case("module") {
        Some(Fetch::Module)
    } else {
        None
    }
}

/// The MIME type essences the MIME Sniffing standard calls JavaScript.
const JAVASCRIPT_TYPES: [&str; 16] = [
    "application/ecmascript",
    "application/javascript",
    "application/x-ecmascript",
    "application/x-javascript",
    "text/ecmascript",
    "text/javascript",
    "text/javascript1.0",
    "text/javascript1.1",
    "text/javascript1.2",
    "text/javascript1.3",
    "text/javascript1.4",
    "text/javascript1.5",
    "text/jscript",
    "text/livescript",
    "text/x-ecmascript",
    "text/x-javascript",
];

/// Whether every query of a media query list is for the `print` type, so
/// that a screen never matches it (`print`, `only print and (color)`).
fn is_print_only(media: &str) -> bool {
    let mut queries = media.split(',').map(|query| {
        let query = query.trim_matches(is_html_space).to_ascii_lowercase();
        let mut words = query.split(|c: char| is_html_space(c) || c == '(');
        let first = words.next().unwrap_or_default();
        let media_type = if first == "only" {
            words.next().unwrap_or_default()
        } else {
            first
        };
        media_type == "print"
    });
    !media.trim_matches(is_html_space).is_empty() && queries.all(|print| print)
}

/// HTML's ASCII white space.
fn is_html_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\x0c' | '\r' | ' ')
}

/// An attribute's value with its character references decoded, as the HTML
/// tokenizer does (the tokenizer used here leaves them as written). `None`
/// when absent, or when it holds a reference that this short decoder does
/// not know: a guessed URL would be worse than none. It knows `&amp;`,
/// `&lt;`, `&gt;`, `&quot;`, `&apos;` and numeric references, which is what
/// URLs in real pages hold (`?a=1&amp;b=2`).
fn attribute(el: &Element<'_, '_>, name: &str) -> Option<String> {
    let raw = el.get_attribute(name)?;
    if !raw.contains('&') {
        return Some(raw);
    }
    decode_references(&raw)
}

/// HTML's character reference state, for an attribute value.
fn decode_references(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        if let Some(numeric) = rest.strip_prefix('#') {
            let (digits, radix) = match numeric.strip_prefix(['x', 'X']) {
                Some(hex) => (hex, 16),
                None => (numeric, 10),
            };
            let len = digits
                .bytes()
                .take_while(|b| (*b as char).is_digit(radix))
                .count();
            if len == 0 {
                // `&#` without digits stays as it is.
                out.push('&');
                continue;
            }
            // Past the last code point, or a control or surrogate that HTML
            // maps to something else: not worth a table here.
            let value = u32::from_str_radix(&digits[..len.min(8)], radix).ok()?;
            let c = char::from_u32(value)
                .filter(|c| !matches!(c, '\0' | '\u{80}'..='\u{9f}') && len <= 8)?;
            out.push(c);
            rest = &digits[len..];
            rest = rest.strip_prefix(';').unwrap_or(rest);
            continue;
        }
        let len = rest.bytes().take_while(u8::is_ascii_alphanumeric).count();
        if len == 0 {
            out.push('&');
            continue;
        }
        let (name, after) = rest.split_at(len);
        let known = match name {
            "amp" | "AMP" => Some('&'),
            "lt" | "LT" => Some('<'),
            "gt" | "GT" => Some('>'),
            "quot" | "QUOT" => Some('"'),
            "apos" => Some('\''),
            _ => None,
        };
        if let Some(tail) = after.strip_prefix(';') {
            out.push(known?);
            rest = tail;
        } else if after.starts_with('=') || !LEGACY_REFERENCES.contains(&name) {
            // In an attribute, `&name=` and a name that no reference
            // without a semicolon spells stay as written (`?a=1&b=2`).
            out.push('&');
        } else if let Some(c) = known {
            // (`apos` is not among them: it needs its semicolon.)
            out.push(c);
            rest = after;
        } else {
            return None;
        }
    }
    out.push_str(rest);
    Some(out)
}

/// The named character references that HTML also decodes without their
/// semicolon (its named character references table).
const LEGACY_REFERENCES: [&str; 106] = [
    "AElig", "AMP", "Aacute", "Acirc", "Agrave", "Aring", "Atilde", "Auml", "COPY", "Ccedil",
    "ETH", "Eacute", "Ecirc", "Egrave", "Euml", "GT", "Iacute", "Icirc", "Igrave", "Iuml", "LT",
    "Ntilde", "Oacute", "Ocirc", "Ograve", "Oslash", "Otilde", "Ouml", "QUOT", "REG", "THORN",
    "Uacute", "Ucirc", "Ugrave", "Uuml", "Yacute", "aacute", "acirc", "acute", "aelig", "agrave",
    "amp", "aring", "atilde", "auml", "brvbar", "ccedil", "cedil", "cent", "copy", "curren", "deg",
    "divide", "eacute", "ecirc", "egrave", "eth", "euml", "frac12", "frac14", "frac34", "gt",
    "iacute", "icirc", "iexcl", "igrave", "iquest", "iuml", "laquo", "lt", "macr", "micro",
    "middot", "nbsp", "not", "ntilde", "oacute", "ocirc", "ograve", "ordf", "ordm", "oslash",
    "otilde", "ouml", "para", "plusmn", "pound", "quot", "raquo", "reg", "sect", "shy", "sup1",
    "sup2", "sup3", "szlig", "thorn", "times", "uacute", "ucirc", "ugrave", "uml", "uuml",
    "yacute", "yen", "yuml",
];

/// The body's content coding, undone for the scan only.
enum Decoder {
    Identity,
    /// `deflate` before its first two bytes tell which it is: RFC 9110 says
    /// zlib (RFC 1950), but some servers send raw deflate (RFC 1951), and
    /// browsers read both.
    Deflate(Vec<u8>),
    Zlib(ZlibDecoder<Bounded>),
    RawDeflate(DeflateDecoder<Bounded>),
    Gzip(GzDecoder<Bounded>),
    /// Boxed: its state is many times the size of the others'.
    Brotli(Box<DecompressorWriter<Bounded>>),
}

impl Decoder {
    fn new(content_encoding: Option<&[u8]>) -> Result<Decoder, NotScanned> {
        let coding = content_encoding
            .unwrap_or_default()
            .trim_ascii()
            .to_ascii_lowercase();
        Ok(match coding.as_slice() {
            b"" | b"identity" => Decoder::Identity,
            b"gzip" | b"x-gzip" => Decoder::Gzip(GzDecoder::new(Bounded::default())),
            b"deflate" => Decoder::Deflate(Vec::with_capacity(2)),
            // The window the stream asks for (up to 16 MiB) is reserved,
            // zeroed, but only what is decoded is ever touched.
            b"br" => Decoder::Brotli(Box::new(DecompressorWriter::new(Bounded::default(), 4096))),
            _ => return Err(NotScanned::ContentEncoding),
        })
    }

    /// The HTML in `chunk`, and whether the stream can go on (not corrupt,
    /// not past [`MAX_SCANNED_LEN`]).
    fn decode<'a>(&'a mut self, chunk: &'a [u8]) -> (&'a [u8], bool) {
        if let Decoder::Identity = self {
            return (chunk, true);
        }
        let more = self.write(chunk);
        (self.output(), more)
    }

    /// Writes `chunk` to the decoder; whether it can go on.
    fn write(&mut self, chunk: &[u8]) -> bool {
        if let Decoder::Deflate(start) = self {
            start.extend_from_slice(chunk);
            if start.len() < 2 {
                return true;
            }
            let start = std::mem::take(start);
            // RFC 1950: method 8, a window of at most 32 KiB, and a check
            // that makes the first two bytes a multiple of 31.
            let zlib = start[0] & 0x0f == 8
                && start[0] >> 4 <= 7
                && (u16::from(start[0]) << 8 | u16::from(start[1])) % 31 == 0;
            *self = if zlib {
                Decoder::Zlib(ZlibDecoder::new(Bounded::default()))
            } else {
                Decoder::RawDeflate(DeflateDecoder::new(Bounded::default()))
            };
            return self.write(&start);
        }
        let writer: &mut dyn Write = match self {
            Decoder::Identity | Decoder::Deflate(_) => return true,
            Decoder::Zlib(d) => d,
            Decoder::RawDeflate(d) => d,
            Decoder::Gzip(d) => d,
            Decoder::Brotli(d) => d,
        };
        // `flush` hands on what the decoder holds back.
        writer
            .write_all(chunk)
            .and_then(|()| writer.flush())
            .is_ok()
    }

    /// What the last `decode` wrote, taken from the decoder's sink.
    fn output(&mut self) -> &[u8] {
        let sink = match self {
            Decoder::Identity | Decoder::Deflate(_) => return &[],
            Decoder::Zlib(d) => d.get_mut(),
            Decoder::RawDeflate(d) => d.get_mut(),
            Decoder::Gzip(d) => d.get_mut(),
            Decoder::Brotli(d) => d.get_mut(),
        };
        sink.take()
    }
}

/// Where a decoder writes: it takes [`MAX_SCANNED_LEN`] bytes in all, then
/// fails the decoder's write, so a bomb costs no more than a page.
#[derive(Default)]
struct Bounded {
    out: Vec<u8>,
    /// How much of `out` was taken by [`Bounded::take`].
    taken: usize,
    written: usize,
}

impl Bounded {
    /// What was written since the last call: it stays in `out` (whose
    /// memory is kept) until the next write.
    fn take(&mut self) -> &[u8] {
        let start = std::mem::replace(&mut self.taken, self.out.len());
        &self.out[start..]
    }
}

impl Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let len = buf.len().min(MAX_SCANNED_LEN - self.written);
        if len == 0 && !buf.is_empty() {
            return Err(std::io::Error::other("the scan's bound"));
        }
        if self.taken > 0 {
            self.out.clear();
            self.taken = 0;
        }
        self.out.extend_from_slice(&buf[..len]);
        self.written += len;
        Ok(len)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
