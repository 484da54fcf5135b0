//! From the body's bytes to the HTML the tokenizer reads, as the response's
//! `Content-Type` and `Content-Encoding` describe them.
//!
//! [`html_encoding`] reads the `Content-Type`: a response that is not
//! `text/html`, or whose `charset` the tokenizer cannot read, is not scanned.
//! [`Decoder`] undoes a backend's `gzip`, `deflate` or `br` for the scan only,
//! a chunk at a time, into a [`Bounded`] sink that takes no more than
//! [`MAX_SCANNED_LEN`] bytes: a decompression bomb costs no more than a page.
//!
//! Apart from the head scan (`head.rs`): nothing here knows HTML's tags, and
//! nothing there knows how the bytes came over the wire.

use std::io::Write;

use brotli_decompressor::DecompressorWriter;
use encoding_rs::{Encoding, UTF_8};
use flate2::write::{DeflateDecoder, GzDecoder, ZlibDecoder};

use super::{NotScanned, MAX_SCANNED_LEN};

/// The encoding of a `text/html` `Content-Type` (RFC 9110: a media type,
/// then `;`-separated parameters with optional white space around them).
pub(super) fn html_encoding(content_type: &[u8]) -> Result<&'static Encoding, NotScanned> {
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

/// The body's content coding, undone for the scan only.
pub(super) enum Decoder {
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
    pub(super) fn new(content_encoding: Option<&[u8]>) -> Result<Decoder, NotScanned> {
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
    pub(super) fn decode<'a>(&'a mut self, chunk: &'a [u8]) -> (&'a [u8], bool) {
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
pub(super) struct Bounded {
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
