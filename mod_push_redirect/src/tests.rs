//! The C ABI exercised as C would call it: raw pointers, C strings, an
//! allocator callback, NULLs.

use super::*;
use std::ffi::CString;
use std::path::Path;

/// An arena standing in for an APR pool: allocations live as long as it does.
#[derive(Default)]
struct Arena {
    blocks: Vec<Box<[u8]>>,
}

unsafe extern "C" fn arena_alloc(ctx: *mut c_void, size: usize) -> *mut c_void {
    let arena = &mut *ctx.cast::<Arena>();
    arena.blocks.push(vec![0u8; size].into_boxed_slice());
    arena.blocks.last_mut().unwrap().as_mut_ptr().cast()
}

unsafe extern "C" fn failing_alloc(_: *mut c_void, _: usize) -> *mut c_void {
    ptr::null_mut()
}

fn text(p: *const c_char) -> Option<String> {
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned())
}

/// A GET over HTTP/2 with push on for https://localhost:8443/old.
struct Request {
    strings: Vec<CString>,
    locations: Vec<*const c_char>,
    links: Vec<*const c_char>,
    opt_outs: Vec<*const c_char>,
    status: c_int,
}

impl Request {
    fn redirect(status: c_int, locations: &[&str]) -> Request {
        let mut request = Request {
            strings: Vec::new(),
            locations: Vec::new(),
            links: Vec::new(),
            opt_outs: Vec::new(),
            status,
        };
        for location in locations {
            let ptr = request.keep(location);
            request.locations.push(ptr);
        }
        request
    }

    /// `exchange()` for a request to `target` instead of `/old`.
    fn exchange_for(&mut self, target: &str) -> push_redirect_exchange {
        push_redirect_exchange {
            request_target: self.keep(target),
            ..self.exchange()
        }
    }

    fn keep(&mut self, s: &str) -> *const c_char {
        self.strings.push(CString::new(s).unwrap());
        self.strings.last().unwrap().as_ptr()
    }

    fn exchange(&mut self) -> push_redirect_exchange {
        push_redirect_exchange {
            status: self.status,
            method: self.keep("GET"),
            scheme: self.keep("https"),
            host: self.keep("localhost:8443"),
            server_name: self.keep("localhost"),
            server_port: 8443,
            request_target: self.keep("/old"),
            is_http2: true,
            h2_push_on: true,
            is_pushed_stream: false,
            has_cookie: false,
            has_authorization: false,
            opt_out_env: false,
            opt_out_values: self.opt_outs.as_ptr(),
            opt_out_count: self.opt_outs.len(),
            locations: self.locations.as_ptr(),
            location_count: self.locations.len(),
            links: self.links.as_ptr(),
            link_count: self.links.len(),
        }
    }
}

fn default_policy() -> push_redirect_policy {
    push_redirect_policy {
        statuses: ptr::null(),
        excludes: ptr::null(),
        require_tls: true,
        with_credentials: false,
    }
}

fn empty_verdict() -> push_redirect_verdict {
    push_redirect_verdict {
        outcome: push_redirect_outcome::NotRedirect,
        reason: c"sentinel".as_ptr(),
        link_value: c"sentinel".as_ptr(),
        target: c"sentinel".as_ptr(),
    }
}

fn run(
    policy: &push_redirect_policy,
    exchange: &push_redirect_exchange,
    arena: &mut Arena,
) -> (push_redirect_result, push_redirect_verdict) {
    let mut verdict = empty_verdict();
    let result = unsafe {
        push_redirect_decide(
            policy,
            exchange,
            Some(arena_alloc),
            (arena as *mut Arena).cast(),
            &mut verdict,
        )
    };
    (result, verdict)
}

/// The skip reason for `exchange` under the default policy.
fn skip_reason(exchange: &push_redirect_exchange) -> String {
    let (_, verdict) = run(&default_policy(), exchange, &mut Arena::default());
    text(verdict.reason).expect("a skip")
}

/// The pushed target for `exchange` under the default policy.
fn push_target(exchange: &push_redirect_exchange) -> String {
    let (_, verdict) = run(&default_policy(), exchange, &mut Arena::default());
    text(verdict.target).expect("a push")
}

#[test]
fn a_push_fills_link_value_and_target_from_the_allocator() {
    let mut arena = Arena::default();
    let mut request = Request::redirect(302, &["https://localhost:8443/new?a=b"]);
    let exchange = request.exchange();
    let (result, verdict) = run(&default_policy(), &exchange, &mut arena);
    assert_eq!(result, push_redirect_result::Ok);
    assert_eq!(verdict.outcome, push_redirect_outcome::Push);
    assert!(verdict.reason.is_null());
    assert_eq!(
        text(verdict.link_value).unwrap(),
        "</new?a=b>; as=document; rel=preload"
    );
    assert_eq!(text(verdict.target).unwrap(), "/new?a=b");
    assert_eq!(arena.blocks.len(), 1, "one allocation holds both strings");
}

#[test]
fn a_skip_carries_the_specs_token() {
    let mut arena = Arena::default();
    let mut request = Request::redirect(301, &["https://elsewhere.example/"]);
    let exchange = request.exchange();
    let (result, verdict) = run(&default_policy(), &exchange, &mut arena);
    assert_eq!(result, push_redirect_result::Ok);
    assert_eq!(verdict.outcome, push_redirect_outcome::Skip);
    assert_eq!(text(verdict.reason).unwrap(), "cross-origin");
    assert!(verdict.link_value.is_null() && verdict.target.is_null());
    assert!(arena.blocks.is_empty());
}

#[test]
fn every_reason_has_its_core_token() {
    for reason in Reason::ALL {
        assert_eq!(reason_token(reason).to_str().unwrap(), reason.as_str());
    }
}

#[test]
fn not_a_redirect_reads_nothing_but_the_status() {
    // Every pointer but the status is garbage: a non-redirect must not touch them.
    let exchange = push_redirect_exchange {
        status: 200,
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
        opt_out_values: 1 as *const *const c_char,
        opt_out_count: 5,
        locations: 1 as *const *const c_char,
        location_count: 5,
        links: 1 as *const *const c_char,
        link_count: 5,
    };
    let mut arena = Arena::default();
    let (result, verdict) = run(&default_policy(), &exchange, &mut arena);
    assert_eq!(result, push_redirect_result::Ok);
    assert_eq!(verdict.outcome, push_redirect_outcome::NotRedirect);
    assert!(verdict.reason.is_null() && verdict.link_value.is_null() && verdict.target.is_null());
}

#[test]
fn statuses_and_excludes_from_directives_steer_the_decision() {
    let mut statuses = ptr::null_mut();
    let mut err = [0 as c_char; 256];
    let args = CString::new("303 307").unwrap();
    unsafe {
        assert_eq!(
            push_redirect_statuses_parse(args.as_ptr(), &mut statuses, err.as_mut_ptr(), err.len()),
            push_redirect_result::Ok
        );
        assert!(push_redirect_statuses_contain(statuses, 303));
        assert!(!push_redirect_statuses_contain(statuses, 302));
        assert!(
            push_redirect_statuses_contain(ptr::null(), 302),
            "NULL is the default set"
        );
    }
    let excludes = push_redirect_excludes_new();
    let pattern = CString::new("^/new").unwrap();
    unsafe {
        assert_eq!(
            push_redirect_excludes_add(excludes, pattern.as_ptr(), err.as_mut_ptr(), err.len()),
            push_redirect_result::Ok
        );
    }
    let policy = push_redirect_policy {
        statuses,
        excludes,
        ..default_policy()
    };
    let mut arena = Arena::default();
    let mut request = Request::redirect(302, &["/new"]);
    let exchange = request.exchange();
    assert_eq!(
        run(&policy, &exchange, &mut arena).1.outcome,
        push_redirect_outcome::NotRedirect
    );
    let mut request = Request::redirect(307, &["/new"]);
    let exchange = request.exchange();
    assert_eq!(
        text(run(&policy, &exchange, &mut arena).1.reason).unwrap(),
        "excluded"
    );
    let mut request = Request::redirect(307, &["/other"]);
    let exchange = request.exchange();
    assert_eq!(
        text(run(&policy, &exchange, &mut arena).1.target).unwrap(),
        "/other"
    );
    unsafe {
        push_redirect_statuses_free(statuses);
        push_redirect_excludes_free(excludes);
    }
}

#[test]
fn values_arrays_reach_the_rules() {
    let mut request = Request::redirect(302, &["/new"]);
    let link = request.keep("</new>; rel=preload; nopush");
    request.links.push(link);
    let exchange = request.exchange();
    assert_eq!(skip_reason(&exchange), "already-linked");

    let mut request = Request::redirect(302, &["/new"]);
    let off = request.keep(" OFF ");
    request.opt_outs.push(off);
    let exchange = request.exchange();
    assert_eq!(skip_reason(&exchange), "opt-out");

    let mut request = Request::redirect(302, &["/a", "/b"]);
    let exchange = request.exchange();
    assert_eq!(skip_reason(&exchange), "bad-location");

    let mut request = Request::redirect(302, &[]);
    let mut exchange = request.exchange();
    exchange.locations = ptr::null();
    exchange.location_count = 3;
    assert_eq!(skip_reason(&exchange), "no-location");
}

#[test]
fn a_pushed_stream_is_push_disabled() {
    let mut request = Request::redirect(302, &["/new"]);
    let mut exchange = request.exchange();
    exchange.is_pushed_stream = true;
    assert_eq!(skip_reason(&exchange), "push-disabled");
}

#[test]
fn a_null_host_falls_back_to_the_server_name() {
    let mut request = Request::redirect(302, &["https://localhost:8443/new"]);
    let mut exchange = request.exchange();
    exchange.host = ptr::null();
    assert_eq!(push_target(&exchange), "/new");
}

#[test]
fn allocation_failure_is_an_internal_error_not_a_crash() {
    let mut request = Request::redirect(302, &["/new"]);
    let exchange = request.exchange();
    let mut verdict = empty_verdict();
    let result = unsafe {
        push_redirect_decide(
            &default_policy(),
            &exchange,
            Some(failing_alloc),
            ptr::null_mut(),
            &mut verdict,
        )
    };
    assert_eq!(result, push_redirect_result::Ok);
    assert_eq!(verdict.outcome, push_redirect_outcome::Skip);
    assert_eq!(text(verdict.reason).unwrap(), "internal-error");
}

#[test]
fn null_parameters_are_refused() {
    let mut request = Request::redirect(302, &["/new"]);
    let exchange = request.exchange();
    let mut verdict = empty_verdict();
    unsafe {
        assert_eq!(
            push_redirect_decide(
                &default_policy(),
                &exchange,
                Some(arena_alloc),
                ptr::null_mut(),
                ptr::null_mut()
            ),
            push_redirect_result::NullParameter
        );
        assert_eq!(
            push_redirect_decide(
                ptr::null(),
                &exchange,
                Some(arena_alloc),
                ptr::null_mut(),
                &mut verdict
            ),
            push_redirect_result::NullParameter
        );
        assert_eq!(text(verdict.reason).unwrap(), "internal-error");
        assert_eq!(
            push_redirect_decide(
                &default_policy(),
                &exchange,
                None,
                ptr::null_mut(),
                &mut verdict
            ),
            push_redirect_result::NullParameter
        );
        let mut statuses = ptr::null_mut();
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
            push_redirect_flag_parse(c"on".as_ptr(), ptr::null_mut(), ptr::null_mut(), 0),
            push_redirect_result::NullParameter
        );
        push_redirect_statuses_free(ptr::null_mut());
        push_redirect_excludes_free(ptr::null_mut());
    }
}

#[test]
fn config_errors_are_written_to_the_buffer_and_cut_to_fit() {
    let mut err = [0 as c_char; 256];
    let mut statuses = ptr::null_mut();
    let mut flag = false;
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
        assert!(statuses.is_null());
        assert_eq!(
            text(err.as_ptr()).unwrap(),
            "'299' is not a redirect status (expected 300 to 399)"
        );
        assert_eq!(
            push_redirect_flag_parse(c"maybe".as_ptr(), &mut flag, err.as_mut_ptr(), err.len()),
            push_redirect_result::InvalidValue
        );
        assert_eq!(text(err.as_ptr()).unwrap(), "'maybe' is not On or Off");
        assert_eq!(
            push_redirect_flag_parse(c"ON".as_ptr(), &mut flag, err.as_mut_ptr(), err.len()),
            push_redirect_result::Ok
        );
        assert!(flag);
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
            push_redirect_flag_parse(
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
            push_redirect_flag_parse(c"maybe".as_ptr(), &mut flag, small.as_mut_ptr(), 0),
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
fn a_panic_while_deciding_is_an_internal_error_skip() {
    silence_deliberate_panics();
    let mut arena = Arena::default();
    let mut request = Request::redirect(302, &["/new"]);
    let exchange = request.exchange();
    let mut verdict = empty_verdict();
    let result = unsafe {
        decide_with(
            |_: &Policy<'_>, _: &Exchange<'_>| -> Decision {
                panic!("deliberate: a bug in the core")
            },
            &default_policy(),
            &exchange,
            Some(arena_alloc),
            (&mut arena as *mut Arena).cast(),
            &mut verdict,
        )
    };
    assert_eq!(result, push_redirect_result::Panic);
    assert_eq!(verdict.outcome, push_redirect_outcome::Skip);
    assert_eq!(text(verdict.reason).unwrap(), "internal-error");
    assert!(verdict.link_value.is_null() && verdict.target.is_null());
}

fn early_hints_of(
    declared: *const push_redirect_declared_hints,
    cache: *const push_redirect_hint_cache,
    exchange: &push_redirect_exchange,
    arena: &mut Arena,
) -> (push_redirect_result, push_redirect_verdict) {
    let mut verdict = empty_verdict();
    let result = unsafe {
        push_redirect_early_hints(
            &default_policy(),
            declared,
            cache,
            exchange,
            0,
            Some(arena_alloc),
            (arena as *mut Arena).cast(),
            &mut verdict,
        )
    };
    (result, verdict)
}

#[test]
fn declared_and_learned_hints_come_back_as_one_link_value() {
    let mut arena = Arena::default();
    let declared = push_redirect_declared_hints_new();
    let mut err = [0 as c_char; 256];
    let rv = unsafe {
        push_redirect_declared_hints_add(
            declared,
            c"/new".as_ptr(),
            c"</d.css>; rel=preload; as=style".as_ptr(),
            err.as_mut_ptr(),
            err.len(),
        )
    };
    assert_eq!(rv, push_redirect_result::Ok);
    let rv = unsafe {
        push_redirect_declared_hints_add(
            declared,
            c"/new".as_ptr(),
            c"</d.css>; rel=stylesheet".as_ptr(),
            err.as_mut_ptr(),
            err.len(),
        )
    };
    assert_eq!(rv, push_redirect_result::InvalidValue);
    assert!(text(err.as_ptr())
        .unwrap()
        .starts_with("'</d.css>; rel=stylesheet' is not a hint"));

    let (mut entries, mut seconds) = (0usize, 0u64);
    let rv = unsafe {
        push_redirect_hint_cache_parse(
            c"8 60".as_ptr(),
            &mut entries,
            &mut seconds,
            err.as_mut_ptr(),
            err.len(),
        )
    };
    assert_eq!((rv, entries, seconds), (push_redirect_result::Ok, 8, 60));
    let cache = push_redirect_hint_cache_new(entries, seconds);
    let mut page = Request::redirect(200, &[]);
    let link = page.keep("</l.js>; rel=preload; as=script");
    page.links.push(link);
    let learned = unsafe {
        push_redirect_hint_cache_learn(cache, &default_policy(), &page.exchange_for("/new"), 0)
    };
    assert_eq!(learned, 1);

    let mut request = Request::redirect(302, &["/new"]);
    let exchange = request.exchange();
    let (rv, verdict) = early_hints_of(declared, cache, &exchange, &mut arena);
    assert_eq!(rv, push_redirect_result::Ok);
    assert_eq!(verdict.outcome, push_redirect_outcome::Push);
    assert_eq!(
        text(verdict.link_value).unwrap(),
        "</d.css>; rel=preload; as=style, </l.js>; rel=preload; as=script"
    );
    assert_eq!(text(verdict.target).unwrap(), "/new");

    let (_, verdict) = early_hints_of(ptr::null(), ptr::null(), &exchange, &mut arena);
    assert_eq!(verdict.outcome, push_redirect_outcome::Skip);
    assert_eq!(text(verdict.reason).unwrap(), "no-hints");
    let http1 = push_redirect_exchange {
        is_http2: false,
        ..request.exchange()
    };
    let (_, verdict) = early_hints_of(declared, cache, &http1, &mut arena);
    assert_eq!(text(verdict.reason).unwrap(), "not-http2");

    unsafe {
        push_redirect_declared_hints_free(declared);
        push_redirect_hint_cache_free(cache);
    }
}

#[test]
fn early_hints_exports_tolerate_null() {
    let mut arena = Arena::default();
    let mut request = Request::redirect(302, &["/new"]);
    let exchange = request.exchange();
    let mut verdict = empty_verdict();
    let rv = unsafe {
        push_redirect_early_hints(
            ptr::null(),
            ptr::null(),
            ptr::null(),
            &exchange,
            0,
            Some(arena_alloc),
            (&mut arena as *mut Arena).cast(),
            &mut verdict,
        )
    };
    assert_eq!(rv, push_redirect_result::NullParameter);
    assert_eq!(text(verdict.reason).unwrap(), "internal-error");
    let mut err = [0 as c_char; 64];
    unsafe {
        assert_eq!(
            push_redirect_declared_hints_add(
                ptr::null_mut(),
                c"/a".as_ptr(),
                c"</b>".as_ptr(),
                err.as_mut_ptr(),
                err.len()
            ),
            push_redirect_result::NullParameter
        );
        let set = push_redirect_declared_hints_new();
        assert_eq!(
            push_redirect_declared_hints_add(
                set,
                ptr::null(),
                c"</b>".as_ptr(),
                err.as_mut_ptr(),
                64
            ),
            push_redirect_result::NullParameter
        );
        push_redirect_declared_hints_free(set);
        assert_eq!(
            push_redirect_hint_cache_learn(ptr::null(), &default_policy(), &exchange, 0),
            0
        );
        assert_eq!(
            push_redirect_hint_cache_parse(
                c"1 1".as_ptr(),
                ptr::null_mut(),
                ptr::null_mut(),
                err.as_mut_ptr(),
                64
            ),
            push_redirect_result::NullParameter
        );
        push_redirect_declared_hints_free(ptr::null_mut());
        push_redirect_hint_cache_free(ptr::null_mut());
    }
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
