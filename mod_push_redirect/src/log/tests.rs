//! The log lines as httpd has always printed them.

use super::*;
use crate::tests::{push_on, run_with, Arena, Request};
use std::ffi::CStr;

/// The lines of the answer to `request`, as (error, message).
fn log_lines(request: &mut Request, trace: bool) -> Vec<(bool, String)> {
    let mut exchange = request.exchange();
    exchange.log_trace = trace;
    let mut arena = Arena::default();
    let (_, answer) = run_with(&push_on(), &exchange, std::ptr::null(), &mut arena);
    answer.log[..answer.log_count]
        .iter()
        .map(|line| {
            let message = unsafe { CStr::from_ptr(line.message) };
            (line.error, message.to_str().unwrap().to_owned())
        })
        .collect()
}

fn escaped(text: &[u8]) -> String {
    let mut out = Vec::new();
    escape_into(&mut out, text);
    String::from_utf8(out).unwrap()
}

#[test]
fn escaping_is_ap_escape_logitems() {
    assert_eq!(escaped(b"/plain?a=1&b=<x>"), "/plain?a=1&b=<x>");
    assert_eq!(escaped(b"\x08\n\r\t\x0b"), r"\b\n\r\t\v");
    assert_eq!(escaped(b"\"\\"), r#"\"\\"#);
    assert_eq!(escaped(b"\x01\x1b\x7f\x80\xff"), r"\x01\x1b\x7f\x80\xff");
    assert_eq!(escaped("é".as_bytes()), r"\xc3\xa9");
}

#[test]
fn a_skip_is_one_trace_line_naming_reason_request_and_location() {
    let mut request = Request::redirect(302, Some("https://elsewhere.example/x\"y"));
    let lines = log_lines(&mut request, true);
    assert_eq!(
        lines,
        [(
            false,
            r#"skip (cross-origin) for 302 to GET /old (Location: https://elsewhere.example/x\"y)"#
                .to_owned()
        )]
    );
}

#[test]
fn a_push_is_one_trace_line() {
    let mut request = Request::redirect(301, Some("/new"));
    assert_eq!(
        log_lines(&mut request, true),
        [(
            false,
            "push /new for 301 to GET /old (Location: /new)".to_owned()
        )]
    );
}

#[test]
fn without_trace_nothing_is_written() {
    let mut request = Request::redirect(302, Some("/new"));
    assert!(log_lines(&mut request, false).is_empty());
}

#[test]
fn the_location_is_cut_to_256_bytes_before_it_is_escaped() {
    let location = format!("/{}", "\x01".repeat(300));
    let mut request = Request::redirect(302, Some(&location));
    let lines = log_lines(&mut request, true);
    let logged = format!("/{}", r"\x01".repeat(255));
    assert_eq!(lines.len(), 1);
    assert!(
        lines[0].1.ends_with(&format!(" (Location: {logged})")),
        "{lines:?}"
    );
}

#[test]
fn no_location_reads_none() {
    let mut request = Request::redirect(302, None);
    assert_eq!(
        log_lines(&mut request, true),
        [(
            false,
            "skip (no-location) for 302 to GET /old (Location: (none))".to_owned()
        )]
    );
}
