//! The respond call as C makes it: the push and the 103 of a response,
//! the fields they read, and the answer when the call fails.

use std::ffi::{c_char, c_void, CStr};
use std::ptr;

use push_redirect_core::{Response, Settings, Store};

use super::*;
use crate::tests::*;
use crate::*;

unsafe extern "C" fn failing_alloc(_: *mut c_void, _: usize) -> *mut c_void {
    ptr::null_mut()
}

fn run(exchange: &push_redirect_exchange) -> push_redirect_answer {
    let (result, answer) = run_with(&push_on(), exchange, ptr::null(), &mut Arena::default());
    assert_eq!(result, push_redirect_result::Ok);
    answer
}

fn skip_reason(exchange: &push_redirect_exchange) -> String {
    text(run(exchange).skipped).expect("a skip")
}

fn push_target(exchange: &push_redirect_exchange) -> String {
    text(run(exchange).pushed).expect("a push")
}

#[test]
fn a_push_writes_link_value_and_target_into_one_allocation() {
    let mut arena = Arena::default();
    let mut request = Request::redirect(302, Some("https://localhost:8443/new?a=b"));
    let exchange = request.exchange();
    let (result, answer) = run_with(&push_on(), &exchange, ptr::null(), &mut arena);
    assert_eq!(result, push_redirect_result::Ok);
    assert_eq!(answer.link_count, 1);
    assert_eq!(
        text(answer.links[0]).unwrap(),
        "</new?a=b>; as=document; rel=preload"
    );
    assert_eq!(text(answer.pushed).unwrap(), "/new?a=b");
    assert!(answer.skipped.is_null() && answer.early_hints_skipped.is_null());
    assert!(answer.early_hints.is_null());
    assert!(!answer.strip_opt_out, "there is no opt-out header to strip");
    assert_eq!(arena.blocks.len(), 1, "one allocation holds both strings");
}

#[test]
fn a_skip_carries_the_contracts_token() {
    let mut arena = Arena::default();
    let mut request = Request::redirect(301, Some("https://elsewhere.example/"));
    let exchange = request.exchange();
    let (_, answer) = run_with(&push_on(), &exchange, ptr::null(), &mut arena);
    assert_eq!(text(answer.skipped).unwrap(), "cross-origin");
    assert!(answer.link_count == 0 && answer.pushed.is_null());
    assert!(arena.blocks.is_empty());
}

#[test]
fn not_a_redirect_reads_nothing_but_the_status() {
    // Every pointer but the status is garbage: a response that is neither a
    // redirect nor a 200 (which may teach the store) must not touch them.
    let exchange = push_redirect_exchange {
        status: 204,
        method: 1 as *const c_char,
        scheme: 1 as *const c_char,
        trusted_proxy: true,
        headers_in: push_redirect_fields {
            items: 8 as *const push_redirect_field,
            count: 1,
        },
        server_authority: None,
        request: ptr::null_mut(),
        content_type: 1 as *const c_char,
        request_target: 1 as *const c_char,
        uri: 1 as *const c_char,
        is_http2: true,
        http1_0: true,
        h2_push: 1 as *const c_char,
        h2_pushed: 1 as *const c_char,
        opt_out_env: false,
        headers_out: push_redirect_fields {
            items: 8 as *const push_redirect_field,
            count: 1,
        },
        err_headers_out: push_redirect_fields {
            items: 8 as *const push_redirect_field,
            count: 1,
        },
        vhost: 1 as *const c_char,
        local_port: 0,
        early_hints: true,
        early_hints_sent: false,
    };
    let answer = run(&exchange);
    assert!(answer.skipped.is_null() && answer.pushed.is_null() && answer.link_count == 0);
}

#[test]
fn statuses_and_excludes_from_directives_steer_the_decision() {
    let mut arena = Arena::default();
    let mut with = push_on();
    with.statuses = status_bits(&[303, 307]);
    let excludes = push_redirect_excludes_new();
    unsafe {
        let alloc_ctx = ptr::addr_of_mut!(arena).cast();
        let error =
            push_redirect_excludes_add(excludes, c"^/new".as_ptr(), Some(arena_alloc), alloc_ctx);
        assert!(error.is_null());
    }
    with.excludes = excludes;
    let answer_for = |status, location: &str, arena: &mut Arena| {
        let mut request = Request::redirect(status, Some(location));
        let exchange = request.exchange();
        run_with(&with, &exchange, ptr::null(), arena).1
    };
    let not_redirect = answer_for(302, "/new", &mut arena);
    assert!(not_redirect.skipped.is_null() && not_redirect.pushed.is_null());
    assert_eq!(
        text(answer_for(307, "/new", &mut arena).skipped).unwrap(),
        "excluded"
    );
    assert_eq!(
        text(answer_for(307, "/other", &mut arena).pushed).unwrap(),
        "/other"
    );
    unsafe { push_redirect_excludes_free(excludes) };
}

#[test]
fn values_arrays_reach_the_rules() {
    let mut request = Request::redirect(302, Some("/new"));
    request.field(1, "link", "</new>; rel=preload; nopush");
    assert_eq!(skip_reason(&request.exchange()), "already-linked");

    let mut request = Request::redirect(302, Some("/new"));
    for value in ["a", "b", "c", "d", " OFF "] {
        request.field(0, "X-Push-Redirect", value);
    }
    assert_eq!(
        skip_reason(&request.exchange()),
        "opt-out",
        "past the inline four"
    );
    assert!(run(&request.exchange()).strip_opt_out);

    let mut request = Request::redirect(302, Some("/a"));
    request.field(1, "location", "/b");
    assert_eq!(skip_reason(&request.exchange()), "bad-location");

    let mut request = Request::redirect(302, None);
    assert_eq!(skip_reason(&request.exchange()), "no-location");

    let mut request = Request::redirect(302, Some("/new"));
    let mut exchange = request.exchange();
    exchange.opt_out_env = true;
    assert_eq!(skip_reason(&exchange), "opt-out");
}

#[test]
fn a_pushed_stream_is_push_disabled() {
    let mut request = Request::redirect(302, Some("/new"));
    let mut exchange = request.exchange();
    exchange.h2_pushed = c"PUSHED".as_ptr();
    assert_eq!(skip_reason(&exchange), "push-disabled");
}

#[test]
fn a_null_host_falls_back_to_the_server_name() {
    let mut request = Request::redirect(302, Some("https://localhost:8443/new"));
    request.fields[2].clear();
    assert_eq!(push_target(&request.exchange()), "/new");
}

#[test]
fn allocation_failure_is_an_internal_error_not_a_crash() {
    let mut request = Request::redirect(302, Some("/new"));
    let exchange = request.exchange();
    let mut answer = EMPTY_ANSWER;
    let result = unsafe {
        push_redirect_respond(
            &push_on(),
            &exchange,
            ptr::null(),
            Some(failing_alloc),
            ptr::null_mut(),
            &mut answer,
        )
    };
    assert_eq!(result, push_redirect_result::Ok);
    assert_eq!(text(answer.skipped).unwrap(), "internal-error");
    assert!(answer.link_count == 0 && answer.pushed.is_null());
}

#[test]
fn a_panic_while_deciding_is_an_internal_error_on_both_sides() {
    silence_deliberate_panics();
    let mut arena = Arena::default();
    let mut request = Request::redirect(302, Some("/new"));
    let exchange = request.exchange();
    let both = settings(push_redirect_switch::On, push_redirect_switch::On);
    let mut answer = EMPTY_ANSWER;
    let result = unsafe {
        respond_with(
            |_: &Settings<'_>,
             _: &push_redirect_core::Exchange<'_>,
             _: Option<&mut Store<'_>>|
             -> Response<'_> { panic!("deliberate: a bug in the core") },
            &both,
            &exchange,
            ptr::null(),
            Some(arena_alloc),
            (&mut arena as *mut Arena).cast(),
            &mut answer,
        )
    };
    assert_eq!(result, push_redirect_result::Panic);
    assert_eq!(text(answer.skipped).unwrap(), "internal-error");
    assert_eq!(text(answer.early_hints_skipped).unwrap(), "internal-error");
    assert!(answer.link_count == 0 && answer.early_hints.is_null());
}

#[test]
fn declared_and_learned_hints_come_back_as_one_link_value() {
    let mut arena = Arena::default();
    let declared = push_redirect_declared_hints_new();
    let mut add = |value: &CStr| unsafe {
        text(push_redirect_declared_hints_add(
            declared,
            c"/new".as_ptr(),
            value.as_ptr(),
            Some(arena_alloc),
            ptr::addr_of_mut!(arena).cast(),
        ))
    };
    assert_eq!(add(c"</d.css>; rel=preload; as=style"), None);
    assert!(add(c"</d.css>; rel=stylesheet")
        .unwrap()
        .starts_with("'</d.css>; rel=stylesheet' is not a hint"));

    let mut records = Records::new();
    let mut budget = unsafe { push_redirect_write_budget_new(false, ptr::null_mut()) };
    let store = store_of(&mut records, budget);
    let cache: *const push_redirect_store = &store;

    let mut early = settings(push_redirect_switch::Unset, push_redirect_switch::On);
    early.declared_hints = declared;
    let mut page = Request::redirect(200, None);
    page.target = "/new";
    page.field(0, "Link", "</l.js>; rel=preload; as=script");
    let (_, answer) = run_with(&early, &page.exchange(), cache, &mut arena);
    assert!(answer.taught && !answer.awaiting_confirmation);
    assert_eq!(answer.learned, 1);
    let records = unsafe { &*store.fetch_ctx.cast::<Records>() };
    assert_eq!(records.len(), 2, "the record and its lifetime");
    assert_eq!(records[&Vec::new()], b"600", "the default is the core's");
    assert!(answer.skipped.is_null() && answer.early_hints_skipped.is_null());

    let mut request = Request::redirect(302, Some("/new"));
    let (rv, answer) = run_with(&early, &request.exchange(), cache, &mut arena);
    assert_eq!(rv, push_redirect_result::Ok);
    assert_eq!(
        text(answer.early_hints).unwrap(),
        "</d.css>; rel=preload; as=style, </l.js>; rel=preload; as=script"
    );
    assert_eq!(text(answer.early_hints_target).unwrap(), "/new");
    assert!(
        answer.skipped.is_null() && answer.link_count == 0,
        "PushRedirect is off"
    );

    let (_, answer) = run_with(&push_on(), &request.exchange(), cache, &mut arena);
    assert!(answer.early_hints.is_null() && answer.early_hints_skipped.is_null());
    let both = push_redirect_settings {
        push: push_redirect_switch::On,
        declared_hints: ptr::null_mut(),
        ..early
    };
    let (_, answer) = run_with(&both, &request.exchange(), ptr::null(), &mut arena);
    assert_eq!(text(answer.early_hints_skipped).unwrap(), "no-hints");
    assert_eq!(text(answer.pushed).unwrap(), "/new");
    let http1 = push_redirect_exchange {
        is_http2: false,
        ..request.exchange()
    };
    let (_, answer) = run_with(&both, &http1, cache, &mut arena);
    assert_eq!(text(answer.early_hints_skipped).unwrap(), "not-http2");
    assert_eq!(text(answer.pushed).unwrap(), "/new");

    unsafe {
        push_redirect_declared_hints_free(declared);
        assert_eq!(
            push_redirect_write_budget_release(ptr::addr_of_mut!(budget).cast()),
            0
        );
        assert!(budget.is_null(), "the release clears the global");
    }
}

#[test]
fn the_request_fields_are_read_from_headers_in_in_any_case() {
    for (name, value) in [("cookie", "a=b"), ("AUTHORIZATION", "Basic eDp5")] {
        let mut request = Request::redirect(302, Some("/new"));
        request.field(2, name, value);
        assert_eq!(skip_reason(&request.exchange()), "credentials", "{name}");
    }
    // The first Host is the one read, as apr_table_get reads it.
    let mut request = Request::redirect(302, Some("https://localhost:8443/new"));
    request.field(2, "host", "elsewhere.example");
    assert_eq!(push_target(&request.exchange()), "/new");
    request.fields[2].reverse();
    assert_eq!(skip_reason(&request.exchange()), "cross-origin");
}

#[test]
fn a_trusted_proxys_forwarded_proto_is_the_scheme_and_no_one_elses() {
    let mut request = Request::redirect(302, Some("https://localhost:8443/new"));
    request.field(2, "x-forwarded-proto", "https");
    let from = |request: &mut Request, trusted_proxy| push_redirect_exchange {
        scheme: c"http".as_ptr(),
        trusted_proxy,
        ..request.exchange()
    };
    assert_eq!(push_target(&from(&mut request, true)), "/new");
    assert_eq!(skip_reason(&from(&mut request, false)), "insecure");
    // A trusted proxy's http: the client's scheme, another origin.
    let mut plain = Request::redirect(302, Some("https://localhost:8443/new"));
    plain.field(2, "X-Forwarded-Proto", "http");
    let https = push_redirect_exchange {
        trusted_proxy: true,
        ..plain.exchange()
    };
    assert_eq!(skip_reason(&https), "insecure");
}

#[test]
fn early_hints_http1_and_http1_0_reach_the_core() {
    let set = |switch| push_redirect_settings {
        early_hints_http1: switch,
        ..settings(push_redirect_switch::Unset, push_redirect_switch::On)
    };
    let mut request = Request::redirect(302, Some("/new"));
    let skipped = |settings: &push_redirect_settings, exchange: &push_redirect_exchange| {
        let (_, answer) = run_with(settings, exchange, ptr::null(), &mut Arena::default());
        text(answer.early_hints_skipped).unwrap()
    };
    let h1_1 = push_redirect_exchange {
        is_http2: false,
        ..request.exchange()
    };
    let h1_0 = push_redirect_exchange {
        http1_0: true,
        ..request.exchange()
    };
    assert_eq!(
        skipped(&set(push_redirect_switch::Unset), &h1_1),
        "not-http2"
    );
    assert_eq!(skipped(&set(push_redirect_switch::On), &h1_1), "no-hints");
    let h1_0 = push_redirect_exchange {
        is_http2: false,
        ..h1_0
    };
    assert_eq!(skipped(&set(push_redirect_switch::On), &h1_0), "http1.0");
}
