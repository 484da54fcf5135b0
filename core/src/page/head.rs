//! The head scan: what the start tags of a page's head ask a browser to
//! fetch first, as hints, and where the head ends (the rules are in the
//! documentation of `page.rs`).
//!
//! The tokenizer calls [`element`] for every start tag and [`text`] for every
//! chunk of text, in document order; they share a [`State`]: the page's URL
//! and `<base href>`, its encoding, the open `<template>`s and the hints
//! found. Each handler ends the scan (an [`End`] error) where HTML's parser
//! would leave the head. A `<link>` or `<script>` reference is resolved
//! against the document's base URL and read by [`Hint::parse`], as a
//! backend's `Link` field is.
//!
//! Apart from how the body's bytes become HTML (`decode.rs`): what is here
//! reads tags and their attributes, never bytes on the wire.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use encoding_rs::{Encoding, UTF_8};
use lol_html::html_content::{EndTag, TextChunk, TextType};
use lol_html::send::Element;
use lol_html::HandlerResult;
use url::Url;

use super::attribute::attribute;
use crate::hints::{mime_type_text, Hint, HintList, PRELOAD_DESTINATIONS};
use crate::origin::same_origin;

/// The error a handler returns to end the scan.
#[derive(Debug)]
struct End;

impl std::fmt::Display for End {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("end of the scan")
    }
}

impl std::error::Error for End {}

pub(super) fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // Handlers do not panic while holding it; if one did, what it held is
    // still a list of validated hints.
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Every start tag, in document order.
pub(super) fn element(state: &Arc<Mutex<State>>, el: &mut Element<'_, '_>) -> HandlerResult {
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

/// Every chunk of text, in document order.
pub(super) fn text(state: &Mutex<State>, text: &TextChunk<'_>) -> HandlerResult {
    // Text outside any element the head can hold starts the body, as in the
    // HTML parser's "in head" mode. A BOM comes through as U+FEFF: the
    // tokenizer does not strip it.
    let starts_body = text.text_type() == TextType::Data
        && !text
            .as_str()
            .chars()
            .all(|c| is_html_space(c) || c == '\u{feff}');
    if starts_body && lock(state).template_depth == 0 {
        return Err(End.into());
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

pub(super) struct State {
    page: Url,
    base: Base,
    /// The page's encoding: a reference's query is encoded in it.
    encoding: &'static Encoding,
    /// How many `<template>` elements are open.
    template_depth: usize,
    pub(super) hints: HintList,
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
    /// The state of a scan of the page at `page`, in `encoding`, before its
    /// first tag.
    pub(super) fn new(page: &Url, encoding: &'static Encoding) -> State {
        State {
            page: page.clone(),
            base: Base::Page,
            encoding,
            template_depth: 0,
            hints: HintList::default(),
        }
    }

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
