//! The log lines of one response, written here so that the shim makes one
//! `ap_log_rerror` call per line. The text is httpd's as the module has
//! always logged it: the `Location` cut to [`LOCATION_MAX`] bytes and, like
//! every value a client or an application controls, escaped as
//! `ap_escape_logitem` does.

use std::ffi::c_char;

use crate::answer::{push_redirect_answer, Pool};
use crate::exchange::{push_redirect_exchange, Fields};
use crate::{push_redirect_result, reason_token};
use push_redirect_core::Reason;

/// The most lines one answer carries: the 103's, the push's, the learning's.
pub const PUSH_REDIRECT_MAX_LOG_LINES: usize = 3;

/// The bytes of a Location in a log line.
const LOCATION_MAX: usize = 256;

/// One line to log for this response: at `error` (with its `PRnnnn` tag)
/// or at `trace1`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct push_redirect_log_line {
    pub error: bool,
    pub message: *const c_char,
}

/// Appends `text` escaped as `ap_escape_logitem` does (httpd's util.c):
/// control characters, DEL and bytes above it, `"` and `\`.
pub(crate) fn escape_into(out: &mut Vec<u8>, text: &[u8]) {
    for &byte in text {
        let short = match byte {
            b'\x08' => Some(b'b'),
            b'\n' => Some(b'n'),
            b'\r' => Some(b'r'),
            b'\t' => Some(b't'),
            b'\x0b' => Some(b'v'),
            b'\\' | b'"' => Some(byte),
            _ => None,
        };
        match short {
            Some(short) => out.extend_from_slice(&[b'\\', short]),
            None if !(0x20..0x7f).contains(&byte) => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(&[
                    b'\\',
                    b'x',
                    HEX[usize::from(byte >> 4)],
                    HEX[usize::from(byte & 15)],
                ]);
            }
            None => out.push(byte),
        }
    }
}

/// What `%s` prints for a C string: its bytes, `(null)` for NULL.
unsafe fn text<'a>(text: *const c_char) -> &'a [u8] {
    if text.is_null() {
        b"(null)"
    } else {
        crate::bytes(text)
    }
}

/// The lines of one response, written into the pool.
struct Lines<'p> {
    answer: &'p mut push_redirect_answer,
    pool: &'p mut Pool,
}

impl Lines<'_> {
    /// Adds the line made of `parts`.
    fn add(&mut self, error: bool, parts: &[&[u8]]) {
        let message = parts.concat();
        if self.answer.log_count == PUSH_REDIRECT_MAX_LOG_LINES {
            return;
        }
        // SAFETY: the pool's allocator gives `len` writable bytes or NULL.
        let Some(buf) = (unsafe { self.pool.bytes(message.len() + 1) }) else {
            return;
        };
        buf[..message.len()].copy_from_slice(&message);
        buf[message.len()] = 0;
        self.answer.log[self.answer.log_count] = push_redirect_log_line {
            error,
            message: buf.as_ptr().cast(),
        };
        self.answer.log_count += 1;
    }
}

fn failed(result: push_redirect_result, token: *const c_char) -> bool {
    result != push_redirect_result::Ok || token == reason_token(Reason::InternalError).as_ptr()
}

/// The 103 side of an answer, which both calls log.
struct Hints {
    /// Why no 103 goes out, or NULL.
    skipped: *const c_char,
    /// Choosing it failed: logged whatever the level.
    failed: bool,
}

/// What both descriptions start from: the exchange (none, and nothing is
/// logged), the answer's 103 side, and the lines to add to it.
unsafe fn open<'a, 'e>(
    answer: &'a mut push_redirect_answer,
    exchange: *const push_redirect_exchange,
    result: push_redirect_result,
    pool: &'a mut Pool,
) -> Option<(&'e push_redirect_exchange, Hints, Lines<'a>)> {
    let exchange = exchange.as_ref()?;
    let skipped = answer.early_hints_skipped();
    let hints = Hints {
        skipped,
        failed: !skipped.is_null() && failed(result, skipped),
    };
    Some((exchange, hints, Lines { answer, pool }))
}

impl Lines<'_> {
    /// A 103 goes out.
    fn hints_go_out(&self) -> bool {
        !self.answer.early_hints.is_null()
    }

    /// The trace line of a 103 that goes out: `early hints for TARGET sent
    /// OCCASION SUBJECT: VALUE`.
    unsafe fn hints_sent(&mut self, [occasion, subject]: [&[u8]; 2]) {
        let mut value = Vec::new();
        escape_into(&mut value, text(self.answer.early_hints));
        let target = text(self.answer.early_hints_target());
        self.add(
            false,
            &[
                b"early hints for ",
                target,
                b" sent ",
                occasion,
                subject,
                b": ",
                &value,
            ],
        );
    }
}

/// Writes the log lines for `answer` into it: a failure always, the trace
/// lines when the exchange says `trace1` is on.
///
/// # Safety
/// `exchange` as for `push_redirect_respond`, or NULL; the answer's strings
/// are NUL-terminated or NULL.
pub(crate) unsafe fn describe(
    answer: &mut push_redirect_answer,
    exchange: *const push_redirect_exchange,
    result: push_redirect_result,
    pool: &mut Pool,
) {
    let Some((exchange, hints, mut lines)) = open(answer, exchange, result, pool) else {
        return;
    };
    let trace = exchange.log_trace;
    let skipped = lines.answer.skipped();
    let push_failed = !skipped.is_null() && failed(result, skipped);
    if !trace && !hints.failed && !push_failed {
        return;
    }
    let mut fields = Fields::new();
    fields.read_all(exchange);
    let mut location = Vec::new();
    match fields.location() {
        Some(value) => escape_into(&mut location, &value[..value.len().min(LOCATION_MAX)]),
        None => location.extend_from_slice(b"(none)"),
    }
    let at = [b" (Location: ", &location[..], b")"].concat();
    let status = exchange.status.to_string();
    let status = status.as_bytes();
    let rv = (result as i32).to_string();
    let rv = rv.as_bytes();
    let target = text(exchange.request_target);
    let request = [text(exchange.method), b" ", target].concat();
    let (pushed, learned) = (lines.answer.pushed(), lines.answer.learned);
    if lines.hints_go_out() {
        if trace {
            lines.hints_sent([b"before the ", status]);
        }
    } else if hints.failed {
        lines.add(
            true,
            &[
                b"PR0003: internal error (",
                rv,
                b") choosing early hints for the ",
                status,
                b" response; none sent",
                &at,
            ],
        );
    } else if trace && !hints.skipped.is_null() {
        lines.add(
            false,
            &[
                b"no early hints (",
                text(hints.skipped),
                b") for ",
                status,
                &at,
            ],
        );
    }
    if !pushed.is_null() {
        if trace {
            lines.add(
                false,
                &[
                    b"push ",
                    text(pushed),
                    b" for ",
                    status,
                    b" to ",
                    &request,
                    &at,
                ],
            );
        }
    } else if push_failed {
        lines.add(
            true,
            &[
                b"PR0001: internal error (",
                rv,
                b") deciding on the ",
                status,
                b" response to ",
                target,
                b"; sent unchanged",
                &at,
            ],
        );
    } else if trace && !skipped.is_null() {
        lines.add(
            false,
            &[
                b"skip (",
                text(skipped),
                b") for ",
                status,
                b" to ",
                &request,
                &at,
            ],
        );
    }
    if trace && learned > 0 {
        let count = learned.to_string();
        lines.add(
            false,
            &[
                b"learned ",
                count.as_bytes(),
                b" early hints for ",
                text(exchange.uri),
            ],
        );
    }
}

/// Writes the log lines for the answer of the call before the handler: a
/// failure (`PR0005`) always, the trace line when `trace1` is on.
///
/// # Safety
/// As for [`describe`].
pub(crate) unsafe fn describe_ahead(
    answer: &mut push_redirect_answer,
    exchange: *const push_redirect_exchange,
    result: push_redirect_result,
    pool: &mut Pool,
) {
    let Some((exchange, hints, mut lines)) = open(answer, exchange, result, pool) else {
        return;
    };
    let uri = text(exchange.uri);
    if hints.failed {
        let rv = (result as i32).to_string();
        lines.add(
            true,
            &[
                b"PR0005: internal error (",
                rv.as_bytes(),
                b") choosing early hints ahead of the handler for ",
                uri,
                b"; none sent",
            ],
        );
        return;
    }
    if !exchange.log_trace {
        return;
    }
    if lines.hints_go_out() {
        lines.hints_sent([b"ahead of the handler for ", uri]);
    } else if !hints.skipped.is_null() {
        lines.add(
            false,
            &[
                b"no early hints ahead (",
                text(hints.skipped),
                b") for ",
                uri,
            ],
        );
    }
}

#[cfg(test)]
mod tests;
