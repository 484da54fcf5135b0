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
//! [`HintList`](crate::hints::HintList): a page can teach nothing that a
//! `Link` field could not.
//!
//! This file holds the public types and the scan that ties its parts, each
//! in its own file under `page/`: `decode.rs` turns the body's bytes into
//! HTML (the `Content-Type`'s charset, the `Content-Encoding`), `head.rs`
//! reads the head's tags into hints, `attribute.rs` decodes the character
//! references of an attribute's value for it.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use lol_html::send::{Element, HtmlRewriter, Settings};
use lol_html::{
    AsciiCompatibleEncoding, DocumentContentHandlers, ElementContentHandlers, MemorySettings,
    Selector,
};
use url::Url;

use crate::hints::Hint;
use decode::{html_encoding, Decoder};
use head::{lock, State};

mod attribute;
mod decode;
mod head;

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
        let state = Arc::new(Mutex::new(State::new(page_url, encoding)));
        let on_element = Arc::clone(&state);
        let on_text = Arc::clone(&state);
        let any: Selector = "*".parse().expect("a valid selector");
        let settings = Settings {
            element_content_handlers: vec![(
                Cow::Owned(any),
                ElementContentHandlers::default()
                    .element(move |el: &mut Element<'_, '_>| head::element(&on_element, el)),
            )],
            document_content_handlers: vec![DocumentContentHandlers::default().text(
                move |chunk: &mut lol_html::html_content::TextChunk<'_>| {
                    head::text(&on_text, chunk)
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

#[cfg(test)]
mod tests;
