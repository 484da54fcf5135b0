//! The C ABI exercised as C would call it: raw pointers, C strings, an
//! allocator callback, NULLs. Here the helpers the modules' tests share (an
//! arena for a pool, a request, a store over a map, the settings) and the
//! tests of the boundary itself; each module's own are beside it.

use super::*;
use std::collections::HashMap;
use std::ffi::{c_int, c_uint, c_void, CString};
use std::path::Path;

/// An arena standing in for an APR pool: allocations live as long as it does.
#[derive(Default)]
pub(crate) struct Arena {
    pub(crate) blocks: Vec<Box<[u8]>>,
}

pub(crate) unsafe extern "C" fn arena_alloc(ctx: *mut c_void, size: usize) -> *mut c_void {
    let arena = &mut *ctx.cast::<Arena>();
    arena.blocks.push(vec![0u8; size].into_boxed_slice());
    arena.blocks.last_mut().unwrap().as_mut_ptr().cast()
}

pub(crate) fn text(p: *const c_char) -> Option<String> {
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned())
}

/// A GET over HTTP/2 with push on for https://localhost:8443/old.
pub(crate) struct Request {
    strings: Vec<CString>,
    /// `headers_out`, `err_headers_out` and the request's `headers_in`.
    pub(crate) fields: [Vec<push_redirect_field>; 3],
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
pub(crate) unsafe extern "C" fn server_authority(
    _: *mut c_void,
    name: *mut *const c_char,
    port: *mut u16,
) {
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

/// `PushRedirectStatus` with `codes`, as the shim reads it.
pub(crate) fn status_bits(codes: &[u32]) -> push_redirect_statuses {
    let mut statuses = push_redirect_statuses::default();
    for code in codes {
        statuses.bits[(code - 300) as usize / 64] |= 1 << ((code - 300) % 64);
    }
    statuses
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
        let alloc = Some(arena_alloc as unsafe extern "C" fn(_, _) -> _);
        let excludes = push_redirect_excludes_new();
        let hints = push_redirect_declared_hints_new();
        for (message, naming) in [
            (
                push_redirect_excludes_add(ptr::null_mut(), c"x".as_ptr(), alloc, arena.cast()),
                "'x'",
            ),
            (
                push_redirect_excludes_add(excludes, ptr::null(), alloc, arena.cast()),
                "'(null)'",
            ),
            (
                push_redirect_declared_hints_add(
                    hints,
                    ptr::null(),
                    c"</a.css>".as_ptr(),
                    alloc,
                    arena.cast(),
                ),
                "'</a.css>'",
            ),
        ] {
            assert_eq!(
                text(message).unwrap(),
                format!("internal error (2) reading {naming}")
            );
        }
        push_redirect_excludes_free(excludes);
        push_redirect_declared_hints_free(hints);
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
fn config_errors_come_from_the_pool_cut_to_511_bytes() {
    let mut arena = Arena::default();
    let arena: *mut Arena = &mut arena;
    unsafe {
        let excludes = push_redirect_excludes_new();
        let add = |pattern: *const c_char| {
            text(push_redirect_excludes_add(
                excludes,
                pattern,
                Some(arena_alloc),
                arena.cast(),
            ))
        };
        assert_eq!(add(c"^/a".as_ptr()), None);
        assert_eq!(
            add(c"(".as_ptr()).unwrap(),
            "'(' is not a valid regular expression: unclosed group"
        );
        assert_eq!(
            add(c"\xe9".as_ptr()).unwrap(),
            "'\u{fffd}' is not valid UTF-8"
        );
        // Named in full, each byte 3 once replaced: cut after 170 of them.
        let long = [vec![b'\xe9'; 600], vec![0]].concat();
        let cut = add(long.as_ptr().cast()).unwrap();
        assert_eq!(cut, format!("'{}", "\u{fffd}".repeat(170)));
        // No allocator: still a message, never NULL (success).
        let message = push_redirect_excludes_add(excludes, c"(".as_ptr(), None, ptr::null_mut());
        assert_eq!(
            text(message).unwrap(),
            "internal error: no memory for the message"
        );
        push_redirect_excludes_free(excludes);
    }
}

#[test]
fn a_panic_adding_a_directive_is_an_internal_error_naming_the_value() {
    silence_deliberate_panics();
    let mut arena = Arena::default();
    let message = unsafe {
        handles::directive(
            Some(arena_alloc),
            ptr::addr_of_mut!(arena).cast(),
            c"</a.css>".as_ptr(),
            || panic!("deliberate"),
        )
    };
    assert_eq!(
        text(message).unwrap(),
        "internal error (3) reading '</a.css>'"
    );
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
fn the_version_is_the_crates() {
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
