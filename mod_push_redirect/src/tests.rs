//! The C ABI exercised as C would call it: raw pointers, C strings, an
//! allocator callback, NULLs.

use super::*;
use push_redirect_core::{Reason, Response, Settings, Store};
use std::collections::HashMap;
use std::ffi::{c_int, c_void, CString};
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
    location: *const c_char,
    more_locations: bool,
    pub(crate) links: Vec<*const c_char>,
    opt_outs: Vec<*const c_char>,
    status: c_int,
    pub(crate) target: &'static str,
}

impl Request {
    pub(crate) fn redirect(status: c_int, location: Option<&str>) -> Request {
        let mut request = Request {
            strings: Vec::new(),
            location: ptr::null(),
            more_locations: false,
            links: Vec::new(),
            opt_outs: Vec::new(),
            status,
            target: "/old",
        };
        if let Some(location) = location {
            request.location = request.keep(location);
        }
        request
    }

    pub(crate) fn keep(&mut self, s: &str) -> *const c_char {
        self.strings.push(CString::new(s).unwrap());
        self.strings.last().unwrap().as_ptr()
    }

    pub(crate) fn exchange(&mut self) -> push_redirect_exchange {
        push_redirect_exchange {
            status: self.status,
            method: self.keep("GET"),
            scheme: self.keep("https"),
            host: self.keep("localhost:8443"),
            server_name: self.keep("localhost"),
            server_port: 8443,
            request_target: self.keep(self.target),
            is_http2: true,
            h2_push_on: true,
            is_pushed_stream: false,
            has_cookie: false,
            has_authorization: false,
            opt_out_env: false,
            location: self.location,
            more_locations: self.more_locations,
            opt_out_values: self.opt_outs.as_ptr(),
            opt_out_count: self.opt_outs.len(),
            links: self.links.as_ptr(),
            link_count: self.links.len(),
            vhost: self.keep("localhost"),
            local_port: 8443,
            has_set_cookie: false,
            cache_control: ptr::null(),
            cache_control_count: 0,
            sec_fetch_mode: ptr::null(),
            sec_fetch_dest: ptr::null(),
            early_hints_sent: false,
        }
    }
}

/// A shared store standing in for mod_socache.
pub(crate) type Records = HashMap<Vec<u8>, Vec<u8>>;

pub(crate) unsafe extern "C" fn records_fetch(
    ctx: *mut c_void,
    key: *const u8,
    key_len: usize,
    buf: *mut u8,
    len: *mut usize,
) -> bool {
    let records = &*ctx.cast::<Records>();
    match records.get(std::slice::from_raw_parts(key, key_len)) {
        Some(value) if value.len() <= *len => {
            ptr::copy_nonoverlapping(value.as_ptr(), buf, value.len());
            *len = value.len();
            true
        }
        _ => false,
    }
}

/// Applies what an answer says to store.
pub(crate) unsafe fn store_answer(records: &mut Records, answer: &push_redirect_answer) {
    if !answer.store_record.is_null() {
        records.insert(
            std::slice::from_raw_parts(answer.store_key, PUSH_REDIRECT_KEY_LEN).to_vec(),
            std::slice::from_raw_parts(answer.store_record, answer.store_record_len).to_vec(),
        );
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
        statuses: push_redirect_statuses::default(),
        excludes: ptr::null_mut(),
        declared_hints: ptr::null_mut(),
        active: false,
        ahead_on: false,
        respond_to: [0; 4],
    }
}

pub(crate) fn push_on() -> push_redirect_settings {
    settings(push_redirect_switch::On, push_redirect_switch::Unset)
}

pub(crate) fn run_with(
    settings: &push_redirect_settings,
    exchange: &push_redirect_exchange,
    store: *const push_redirect_store,
    arena: &mut Arena,
) -> (push_redirect_result, push_redirect_answer) {
    let mut answer = EMPTY_ANSWER;
    let result = unsafe {
        push_redirect_respond(
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
    assert!(answer.early_hints.is_null() && answer.strip_opt_out);
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
fn every_reason_has_its_core_token() {
    for reason in Reason::ALL {
        assert_eq!(reason_token(reason).to_str().unwrap(), reason.as_str());
    }
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
        [200, 301, 302, 303, 307, 308],
        "a 200 teaches, and the default set"
    );
    let early = resolved(settings(
        push_redirect_switch::Off,
        push_redirect_switch::On,
    ));
    assert!(early.active && responds_to(&early, 200), "a 200 teaches");
    let mut some = push_on();
    unsafe {
        push_redirect_statuses_parse(c"300 399".as_ptr(), &mut some.statuses, ptr::null_mut(), 0);
    }
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
        host: 1 as *const c_char,
        server_name: 1 as *const c_char,
        server_port: 0,
        request_target: 1 as *const c_char,
        is_http2: true,
        h2_push_on: true,
        is_pushed_stream: false,
        has_cookie: false,
        has_authorization: false,
        opt_out_env: false,
        location: 1 as *const c_char,
        more_locations: true,
        opt_out_values: 1 as *const *const c_char,
        opt_out_count: 0,
        links: 1 as *const *const c_char,
        link_count: 0,
        vhost: 1 as *const c_char,
        local_port: 0,
        has_set_cookie: false,
        cache_control: 1 as *const *const c_char,
        cache_control_count: 0,
        sec_fetch_mode: 1 as *const c_char,
        sec_fetch_dest: 1 as *const c_char,
        early_hints_sent: false,
    };
    let answer = run(&exchange);
    assert!(answer.skipped.is_null() && answer.pushed.is_null() && answer.link_count == 0);
}

#[test]
fn statuses_and_excludes_from_directives_steer_the_decision() {
    let mut err = [0 as c_char; 256];
    let mut with = push_on();
    let excludes = push_redirect_excludes_new();
    unsafe {
        assert_eq!(
            push_redirect_statuses_parse(
                c"303 307".as_ptr(),
                &mut with.statuses,
                err.as_mut_ptr(),
                err.len()
            ),
            push_redirect_result::Ok
        );
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
    let link = request.keep("</new>; rel=preload; nopush");
    request.links.push(link);
    assert_eq!(skip_reason(&request.exchange()), "already-linked");

    let mut request = Request::redirect(302, Some("/new"));
    for value in ["a", "b", "c", "d", " OFF "] {
        let value = request.keep(value);
        request.opt_outs.push(value);
    }
    assert_eq!(
        skip_reason(&request.exchange()),
        "opt-out",
        "past the inline four"
    );

    let mut request = Request::redirect(302, Some("/a"));
    request.more_locations = true;
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
    exchange.is_pushed_stream = true;
    assert_eq!(skip_reason(&exchange), "push-disabled");
}

#[test]
fn a_null_host_falls_back_to_the_server_name() {
    let mut request = Request::redirect(302, Some("https://localhost:8443/new"));
    let mut exchange = request.exchange();
    exchange.host = ptr::null();
    assert_eq!(push_target(&exchange), "/new");
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
    unsafe {
        let respond = |settings: *const push_redirect_settings,
                       exchange: *const push_redirect_exchange,
                       alloc: push_redirect_alloc_fn,
                       answer: *mut push_redirect_answer| {
            push_redirect_respond(
                settings,
                exchange,
                ptr::null(),
                alloc,
                ptr::null_mut(),
                answer,
            )
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
        let mut statuses = push_redirect_statuses::default();
        assert_eq!(
            push_redirect_statuses_parse(ptr::null(), &mut statuses, ptr::null_mut(), 0),
            push_redirect_result::NullParameter
        );
        assert_eq!(
            push_redirect_statuses_parse(c"301".as_ptr(), ptr::null_mut(), ptr::null_mut(), 0),
            push_redirect_result::NullParameter
        );
        assert_eq!(
            push_redirect_excludes_add(ptr::null_mut(), c"x".as_ptr(), ptr::null_mut(), 0),
            push_redirect_result::NullParameter
        );
        assert_eq!(
            push_redirect_switch_parse(c"on".as_ptr(), ptr::null_mut(), ptr::null_mut(), 0),
            push_redirect_result::NullParameter
        );
        push_redirect_excludes_free(ptr::null_mut());
        push_redirect_declared_hints_free(ptr::null_mut());
        push_redirect_write_budget_free(ptr::null_mut());
    }
}

#[test]
fn config_errors_are_written_to_the_buffer_and_cut_to_fit() {
    let mut err = [0 as c_char; 256];
    let mut statuses = push_redirect_statuses::default();
    let mut flag = push_redirect_switch::Unset;
    unsafe {
        assert_eq!(
            push_redirect_statuses_parse(
                c"301 299".as_ptr(),
                &mut statuses,
                err.as_mut_ptr(),
                err.len()
            ),
            push_redirect_result::InvalidValue
        );
        assert_eq!(statuses, push_redirect_statuses::default());
        assert_eq!(
            text(err.as_ptr()).unwrap(),
            "'299' is not a redirect status (expected 300 to 399)"
        );
        assert_eq!(
            push_redirect_switch_parse(c"maybe".as_ptr(), &mut flag, err.as_mut_ptr(), err.len()),
            push_redirect_result::InvalidValue
        );
        assert_eq!(text(err.as_ptr()).unwrap(), "'maybe' is not On or Off");
        assert_eq!(
            push_redirect_switch_parse(c"ON".as_ptr(), &mut flag, err.as_mut_ptr(), err.len()),
            push_redirect_result::Ok
        );
        assert_eq!(flag, push_redirect_switch::On);
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
        push_redirect_excludes_free(excludes);

        let mut small = [0x7f as c_char; 8];
        assert_eq!(
            push_redirect_switch_parse(
                c"maybe".as_ptr(),
                &mut flag,
                small.as_mut_ptr(),
                small.len()
            ),
            push_redirect_result::InvalidValue
        );
        assert_eq!(text(small.as_ptr()).unwrap(), "'maybe'");
        // A zero-length buffer is never written.
        assert_eq!(
            push_redirect_switch_parse(c"maybe".as_ptr(), &mut flag, small.as_mut_ptr(), 0),
            push_redirect_result::InvalidValue
        );
    }
}

/// Panics these tests cause on purpose are not printed; others still are.
/// Installed once, because the hook is process-wide and tests run in parallel.
fn silence_deliberate_panics() {
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
fn version_is_the_crates() {
    assert_eq!(
        text(push_redirect_version()).unwrap(),
        env!("CARGO_PKG_VERSION")
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
