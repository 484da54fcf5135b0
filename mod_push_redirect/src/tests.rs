//! The C ABI exercised as C would call it: raw pointers, C strings, an
//! allocator callback, NULLs.

use super::*;
use push_redirect_core::{Response, Settings, Store};
use std::collections::HashMap;
use std::ffi::{c_int, c_uint, c_void, CString};
use std::path::Path;

/// An arena standing in for an APR pool: allocations live as long as it does.
#[derive(Default)]
pub(crate) struct Arena {
    blocks: Vec<Box<[u8]>>,
}

pub(crate) unsafe extern "C" fn arena_alloc(ctx: *mut c_void, size: usize) -> *mut c_void {
    let arena = &mut *ctx.cast::<Arena>();
    arena.blocks.push(vec![0u8; size].into_boxed_slice());
    arena.blocks.last_mut().unwrap().as_mut_ptr().cast()
}

unsafe extern "C" fn failing_alloc(_: *mut c_void, _: usize) -> *mut c_void {
    ptr::null_mut()
}

pub(crate) fn text(p: *const c_char) -> Option<String> {
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned())
}

/// A GET over HTTP/2 with push on for https://localhost:8443/old.
pub(crate) struct Request {
    strings: Vec<CString>,
    /// `headers_out`, `err_headers_out` and the request's `headers_in`.
    fields: [Vec<push_redirect_field>; 3],
    status: c_int,
    pub(crate) target: &'static str,
}

impl Request {
    pub(crate) fn redirect(status: c_int, location: Option<&str>) -> Request {
        let mut request = Request {
            strings: Vec::new(),
            fields: [Vec::new(), Vec::new(), Vec::new()],
            status,
            target: "/old",
        };
        request.field(2, "Host", "localhost:8443");
        if let Some(location) = location {
            request.field(0, "Location", location);
        }
        request
    }

    pub(crate) fn keep(&mut self, s: &str) -> *const c_char {
        self.strings.push(CString::new(s).unwrap());
        self.strings.last().unwrap().as_ptr()
    }

    /// Adds a field to `headers_out` (0), `err_headers_out` (1) or the
    /// request's `headers_in` (2).
    pub(crate) fn field(&mut self, table: usize, key: &str, val: &str) {
        let field = push_redirect_field {
            key: self.keep(key),
            val: self.keep(val),
            key_checksum: 0,
        };
        self.fields[table].push(field);
    }

    pub(crate) fn exchange(&mut self) -> push_redirect_exchange {
        push_redirect_exchange {
            status: self.status,
            method: self.keep("GET"),
            scheme: self.keep("https"),
            trusted_proxy: false,
            headers_in: push_redirect_fields {
                items: self.fields[2].as_ptr(),
                count: self.fields[2].len(),
            },
            server_authority: Some(server_authority),
            request: ptr::null_mut(),
            content_type: ptr::null(),
            request_target: self.keep(self.target),
            uri: self.keep(self.target),
            is_http2: true,
            http1_0: false,
            h2_push: c"on".as_ptr(),
            h2_pushed: ptr::null(),
            opt_out_env: false,
            headers_out: push_redirect_fields {
                items: self.fields[0].as_ptr(),
                count: self.fields[0].len(),
            },
            err_headers_out: push_redirect_fields {
                items: self.fields[1].as_ptr(),
                count: self.fields[1].len(),
            },
            vhost: self.keep("localhost"),
            local_port: 8443,
            early_hints: true,
            early_hints_sent: false,
        }
    }
}

/// What the shim says for a request without `Host`.
unsafe extern "C" fn server_authority(_: *mut c_void, name: *mut *const c_char, port: *mut u16) {
    *name = c"localhost".as_ptr();
    *port = 8443;
}

/// A shared store standing in for mod_socache.
pub(crate) type Records = HashMap<Vec<u8>, Vec<u8>>;

pub(crate) unsafe extern "C" fn records_fetch(
    ctx: *mut c_void,
    key: *const u8,
    key_len: usize,
    buf: *mut u8,
    len: *mut c_uint,
) -> push_redirect_fetched {
    let records = &*ctx.cast::<Records>();
    match records.get(std::slice::from_raw_parts(key, key_len)) {
        Some(value) if value.len() <= *len as usize => {
            ptr::copy_nonoverlapping(value.as_ptr(), buf, value.len());
            *len = value.len() as c_uint;
            push_redirect_fetched::Found
        }
        _ => push_redirect_fetched::Miss,
    }
}

/// Keeps what the core writes; the lifetime of the last write, under the
/// empty key.
pub(crate) unsafe extern "C" fn records_put(
    ctx: *mut c_void,
    key: *const u8,
    key_len: usize,
    record: *const u8,
    record_len: usize,
    lifetime_secs: u64,
) {
    let records = &mut *ctx.cast::<Records>();
    records.insert(
        std::slice::from_raw_parts(key, key_len).to_vec(),
        std::slice::from_raw_parts(record, record_len).to_vec(),
    );
    records.insert(Vec::new(), lifetime_secs.to_string().into_bytes());
}

/// A store over `records` with `budget` and the default lifetime.
pub(crate) fn store_of(
    records: &mut Records,
    budget: *const push_redirect_write_budget,
) -> push_redirect_store {
    push_redirect_store {
        fetch: Some(records_fetch),
        put: Some(records_put),
        fetch_ctx: (records as *mut Records).cast(),
        authenticated: None,
        may_fetch: None,
        stranger_may_fetch: None,
        budget,
        lifetime: 0,
    }
}

pub(crate) fn settings(
    push: push_redirect_switch,
    early_hints: push_redirect_switch,
) -> push_redirect_settings {
    push_redirect_settings {
        push,
        require_tls: push_redirect_switch::Unset,
        with_credentials: push_redirect_switch::Unset,
        early_hints,
        ahead: push_redirect_switch::Unset,
        from_html: push_redirect_switch::Unset,
        early_hints_http1: push_redirect_switch::Unset,
        statuses: push_redirect_statuses::default(),
        excludes: ptr::null_mut(),
        declared_hints: ptr::null_mut(),
        server_sends_hints: false,
        active: false,
        respond_to: [0; 4],
        ahead_on: false,
        early_hints_on: false,
    }
}

pub(crate) fn push_on() -> push_redirect_settings {
    settings(push_redirect_switch::On, push_redirect_switch::Unset)
}

/// [`push_redirect_respond`] or [`push_redirect_ahead`](crate::push_redirect_ahead).
pub(crate) type Call = unsafe extern "C" fn(
    *const push_redirect_settings,
    *const push_redirect_exchange,
    *const push_redirect_store,
    push_redirect_alloc_fn,
    *mut c_void,
    *mut push_redirect_answer,
) -> push_redirect_result;

/// Makes `call` as C would, the answer's strings in `arena`.
pub(crate) fn call_with(
    call: Call,
    settings: &push_redirect_settings,
    exchange: &push_redirect_exchange,
    store: *const push_redirect_store,
    arena: &mut Arena,
) -> (push_redirect_result, push_redirect_answer) {
    let mut answer = EMPTY_ANSWER;
    let result = unsafe {
        call(
            settings,
            exchange,
            store,
            Some(arena_alloc),
            (arena as *mut Arena).cast(),
            &mut answer,
        )
    };
    (result, answer)
}

pub(crate) fn run_with(
    settings: &push_redirect_settings,
    exchange: &push_redirect_exchange,
    store: *const push_redirect_store,
    arena: &mut Arena,
) -> (push_redirect_result, push_redirect_answer) {
    call_with(push_redirect_respond, settings, exchange, store, arena)
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

/// `PushRedirectStatus` with `codes`, as the shim reads it.
fn status_bits(codes: &[u32]) -> push_redirect_statuses {
    let mut statuses = push_redirect_statuses::default();
    for code in codes {
        statuses.bits[(code - 300) as usize / 64] |= 1 << ((code - 300) % 64);
    }
    statuses
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

/// Whether the shim calls for `status`, as it reads `respond_to`.
fn responds_to(settings: &push_redirect_settings, status: c_int) -> bool {
    let n = (status - PUSH_REDIRECT_RESPOND_FIRST) as usize;
    n < 256 && settings.respond_to[n / 64] >> (n % 64) & 1 == 1
}

#[test]
fn the_resolved_settings_come_from_the_raw_ones_and_the_cores_defaults() {
    let resolved = |mut settings: push_redirect_settings| {
        unsafe { push_redirect_settings_resolve(&mut settings) };
        settings
    };
    let unset = resolved(settings(
        push_redirect_switch::Unset,
        push_redirect_switch::Unset,
    ));
    assert!(!unset.active, "both default to Off");
    assert_eq!(unset.respond_to, [0; 4]);
    let on = resolved(push_on());
    assert!(on.active);
    let statuses: Vec<c_int> = (200..456).filter(|&s| responds_to(&on, s)).collect();
    assert_eq!(
        statuses,
        [301, 302, 303, 307, 308],
        "the default set; a 200 teaches nothing where no 103 can go out"
    );
    assert!(!on.early_hints_on);
    let early = resolved(settings(
        push_redirect_switch::Off,
        push_redirect_switch::On,
    ));
    assert!(
        early.active && early.early_hints_on && responds_to(&early, 200),
        "a 200 teaches"
    );
    // A push-only scope of a virtual host where some scope turns Early
    // Hints on (the shim marks the server's defaults): its 200s teach the
    // 103s sent there.
    let mut marked = push_on();
    marked.server_sends_hints = true;
    let marked = resolved(marked);
    assert!(responds_to(&marked, 200) && !marked.early_hints_on);
    let mut some = push_on();
    some.statuses = status_bits(&[300, 399]);
    let some = resolved(some);
    assert!(responds_to(&some, 300) && responds_to(&some, 399) && !responds_to(&some, 302));
    unsafe { push_redirect_settings_resolve(ptr::null_mut()) };
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
    let mut err = [0 as c_char; 256];
    let mut with = push_on();
    with.statuses = status_bits(&[303, 307]);
    let excludes = push_redirect_excludes_new();
    unsafe {
        assert_eq!(
            push_redirect_excludes_add(excludes, c"^/new".as_ptr(), err.as_mut_ptr(), err.len()),
            push_redirect_result::Ok
        );
    }
    with.excludes = excludes;
    let mut arena = Arena::default();
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
fn null_parameters_are_refused() {
    let mut request = Request::redirect(302, Some("/new"));
    let exchange = request.exchange();
    let mut answer = EMPTY_ANSWER;
    let mut arena = Arena::default();
    let arena: *mut Arena = &mut arena;
    unsafe {
        let respond = |settings: *const push_redirect_settings,
                       exchange: *const push_redirect_exchange,
                       alloc: push_redirect_alloc_fn,
                       answer: *mut push_redirect_answer| {
            push_redirect_respond(settings, exchange, ptr::null(), alloc, arena.cast(), answer)
        };
        assert_eq!(
            respond(&push_on(), &exchange, Some(arena_alloc), ptr::null_mut()),
            push_redirect_result::NullParameter
        );
        assert_eq!(
            respond(ptr::null(), &exchange, Some(arena_alloc), &mut answer),
            push_redirect_result::NullParameter
        );
        assert_eq!(text(answer.skipped).unwrap(), "internal-error");
        assert_eq!(text(answer.early_hints_skipped).unwrap(), "internal-error");
        assert_eq!(
            respond(&push_on(), ptr::null(), Some(arena_alloc), &mut answer),
            push_redirect_result::NullParameter
        );
        assert_eq!(text(answer.skipped).unwrap(), "internal-error");
        assert!(answer.early_hints_skipped.is_null(), "Early Hints are off");
        assert_eq!(
            respond(&push_on(), &exchange, None, &mut answer),
            push_redirect_result::NullParameter
        );
        assert_eq!(
            push_redirect_excludes_add(ptr::null_mut(), c"x".as_ptr(), ptr::null_mut(), 0),
            push_redirect_result::NullParameter
        );
        push_redirect_excludes_free(ptr::null_mut());
        push_redirect_declared_hints_free(ptr::null_mut());
        assert_eq!(push_redirect_write_budget_release(ptr::null_mut()), 0);
        let mut none: *mut push_redirect_write_budget = ptr::null_mut();
        assert_eq!(
            push_redirect_write_budget_release(ptr::addr_of_mut!(none).cast()),
            0
        );
    }
}

#[test]
fn config_errors_are_written_to_the_buffer_and_cut_to_fit() {
    let mut err = [0 as c_char; 256];
    unsafe {
        let excludes = push_redirect_excludes_new();
        assert_eq!(
            push_redirect_excludes_add(excludes, c"(".as_ptr(), err.as_mut_ptr(), err.len()),
            push_redirect_result::InvalidValue
        );
        assert_eq!(
            text(err.as_ptr()).unwrap(),
            "'(' is not a valid regular expression: unclosed group"
        );
        let latin1 = [b'\xe9', 0u8];
        assert_eq!(
            push_redirect_excludes_add(
                excludes,
                latin1.as_ptr().cast(),
                err.as_mut_ptr(),
                err.len()
            ),
            push_redirect_result::InvalidValue
        );
        assert_eq!(text(err.as_ptr()).unwrap(), "'\u{fffd}' is not valid UTF-8");

        let mut small = [0x7f as c_char; 8];
        assert_eq!(
            push_redirect_excludes_add(excludes, c"(".as_ptr(), small.as_mut_ptr(), small.len()),
            push_redirect_result::InvalidValue
        );
        assert_eq!(text(small.as_ptr()).unwrap(), "'(' is ");
        // A zero-length buffer is never written.
        assert_eq!(
            push_redirect_excludes_add(excludes, c"(".as_ptr(), small.as_mut_ptr(), 0),
            push_redirect_result::InvalidValue
        );
        push_redirect_excludes_free(excludes);
    }
}

/// Panics these tests cause on purpose are not printed; others still are.
/// Installed once, because the hook is process-wide and tests run in parallel.
pub(crate) fn silence_deliberate_panics() {
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let deliberate = info
                .payload()
                .downcast_ref::<&str>()
                .is_some_and(|m| m.starts_with("deliberate"));
            if !deliberate {
                default(info);
            }
        }));
    });
}

#[test]
fn the_boundary_turns_a_panic_into_its_fallback() {
    silence_deliberate_panics();
    fn boundary(fail: bool) -> push_redirect_result {
        ffi_panic_boundary!(push_redirect_result::Panic, {
            if fail {
                panic!("deliberate");
            }
            push_redirect_result::Ok
        })
    }
    assert_eq!(
        (boundary(false), boundary(true)),
        (push_redirect_result::Ok, push_redirect_result::Panic)
    );
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
    let mut err = [0 as c_char; 256];
    let add = |value: &CStr, err: &mut [c_char; 256]| unsafe {
        push_redirect_declared_hints_add(
            declared,
            c"/new".as_ptr(),
            value.as_ptr(),
            err.as_mut_ptr(),
            err.len(),
        )
    };
    assert_eq!(
        add(c"</d.css>; rel=preload; as=style", &mut err),
        push_redirect_result::Ok
    );
    assert_eq!(
        add(c"</d.css>; rel=stylesheet", &mut err),
        push_redirect_result::InvalidValue
    );
    assert!(text(err.as_ptr())
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
fn the_loaded_line_names_the_crates_version() {
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        text(push_redirect_loaded_message(true)).unwrap(),
        format!("PR0002: mod_push_redirect {version} loaded")
    );
    assert_eq!(
        text(push_redirect_loaded_message(false)).unwrap(),
        format!(
            "PR0002: mod_push_redirect {version} loaded; mod_http2 is not loaded, so nothing \
             can be pushed (HTTP/1.1 still gets the Link)"
        )
    );
}

/// The checked-in header is what cbindgen makes of this crate now. Run with
/// `PUSH_REDIRECT_BLESS=1` to rewrite it.
#[test]
fn header_matches_cbindgen() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).unwrap();
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut generated);
    let path = crate_dir.join("include/push_redirect.h");
    if std::env::var_os("PUSH_REDIRECT_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let checked_in = std::fs::read(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "{} is out of date: run `make header` and commit it",
        path.display()
    );
}

/// The core's time for one call is the child's clock
/// (`StoreHealth::now_ms`), read at its start: the shim passes none.
#[test]
fn a_calls_time_is_the_budgets_clock() {
    let mut budget = unsafe { push_redirect_write_budget_new(false, ptr::null_mut()) };
    let handle = unsafe { try_ref(budget) }.unwrap();
    let mut records = Records::new();
    let store = store_of(&mut records, budget);
    let early = handle.now_ms();
    let seen = unsafe { crate::store::with_store(&store, |store| store.map(|s| s.now_ms)) };
    let late = handle.now_ms();
    assert!(seen.is_some_and(|seen| early <= seen && seen <= late));
    unsafe { push_redirect_write_budget_release(ptr::addr_of_mut!(budget).cast()) };
}

#[test]
fn a_failing_store_starts_one_back_off_that_turns_it_off() {
    let mut budget = unsafe { push_redirect_write_budget_new(false, ptr::null_mut()) };
    let handle = unsafe { try_ref(budget) }.unwrap();
    assert!(handle.usable());
    unsafe {
        assert!(
            push_redirect_write_budget_fail(budget, 0),
            "the first failure logs"
        );
        assert!(
            !push_redirect_write_budget_fail(budget, 0),
            "one line per back-off"
        );
        assert!(!push_redirect_write_budget_fail(ptr::null(), 0));
    }
    assert!(!handle.usable());
    // Meanwhile the store is not asked at all.
    let mut records = Records::new();
    let store = store_of(&mut records, budget);
    let mut early = settings(push_redirect_switch::Unset, push_redirect_switch::On);
    early.early_hints = push_redirect_switch::On;
    let mut page = Request::redirect(200, None);
    page.field(0, "Link", "</l.js>; rel=preload; as=script");
    let (_, answer) = run_with(&early, &page.exchange(), &store, &mut Arena::default());
    assert!(!answer.taught && answer.learned == 0 && records.is_empty());
    unsafe { push_redirect_write_budget_release(ptr::addr_of_mut!(budget).cast()) };
}

#[test]
fn a_page_read_from_its_body_is_written_through_put_when_finished() {
    let mut records = Records::new();
    let mut budget = unsafe { push_redirect_write_budget_new(false, ptr::null_mut()) };
    let store = store_of(&mut records, budget);
    let early = settings(push_redirect_switch::Unset, push_redirect_switch::On);
    let mut page = Request::redirect(200, None);
    page.target = "/new";
    let exchange = push_redirect_exchange {
        content_type: page.keep("text/html"),
        ..page.exchange()
    };
    let (_, answer) = run_with(&early, &exchange, &store, &mut Arena::default());
    assert!(!answer.page.is_null() && !answer.taught);
    assert!(records.is_empty(), "written before its body");
    let html = b"<head><link rel=stylesheet href=/s/h.css></head>";
    let mut finished = EMPTY_ANSWER;
    let rv = unsafe {
        push_redirect_page_feed(answer.page, html.as_ptr(), html.len());
        push_redirect_page_finish(answer.page, &store, &mut finished)
    };
    assert_eq!(rv, push_redirect_result::Ok);
    assert!(finished.taught && !finished.awaiting_confirmation);
    assert_eq!((finished.learned, finished.learned_from_html), (1, 1));
    assert_eq!(records.len(), 2, "the record and its lifetime");
    unsafe { push_redirect_write_budget_release(ptr::addr_of_mut!(budget).cast()) };
}

/// The back-off and the probe are the core's (`StoreHealth`); the calls
/// reach them, and NULL is no budget.
#[test]
fn a_probed_store_is_turned_off_and_on_through_the_calls() {
    let mut budget = unsafe { push_redirect_write_budget_new(true, ptr::null_mut()) };
    unsafe {
        let epoch = push_redirect_write_budget_epoch(budget);
        assert!(push_redirect_write_budget_fail(budget, epoch));
        assert!(!push_redirect_write_budget_usable(budget));
        assert!(!push_redirect_write_budget_probe_due(budget), "not yet");
        assert!(push_redirect_write_budget_probed(budget, true));
        assert!(push_redirect_write_budget_usable(budget));
        assert_eq!(push_redirect_write_budget_epoch(budget), epoch + 1);
        assert!(!push_redirect_write_budget_probe_due(ptr::null()));
        assert!(!push_redirect_write_budget_probed(ptr::null(), true));
        assert!(!push_redirect_write_budget_usable(ptr::null()));
        assert_eq!(push_redirect_write_budget_epoch(ptr::null()), 0);
        push_redirect_write_budget_release(ptr::addr_of_mut!(budget).cast());
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
