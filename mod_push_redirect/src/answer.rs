//! The one call per response: the shim's snapshot of the request and
//! response in, everything it must do out.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr;

use push_redirect_core::{
    respond, Decision, EarlyHintsDecision, EarlyHintsSkip, Exchange, Fetch, Reason, Response,
    Settings, Step, Store, FETCH_BUF_LEN, KEY_LEN,
};

use crate::handles::{
    push_redirect_declared_hints, push_redirect_excludes, push_redirect_statuses,
    push_redirect_switch, push_redirect_write_budget, try_ref,
};
use crate::{bytes, ffi_panic_boundary, push_redirect_result};

/// The most `Link` fields one answer adds.
pub const PUSH_REDIRECT_MAX_LINKS: usize = 4;

/// The directives of one scope, merged as written (inner if set, else
/// outer): zero or NULL is "not set", and the core applies the defaults.
/// The shim's per-directory configuration is this struct.
#[repr(C)]
pub struct push_redirect_settings {
    pub push: push_redirect_switch,
    pub require_tls: push_redirect_switch,
    pub with_credentials: push_redirect_switch,
    pub early_hints: push_redirect_switch,
    pub ahead: push_redirect_switch,
    pub statuses: push_redirect_statuses,
    pub excludes: *mut push_redirect_excludes,
    pub declared_hints: *mut push_redirect_declared_hints,
    /// Derived from the fields above by [`push_redirect_settings_resolve`],
    /// so that the shim needs no call for most responses: whether the
    /// filter is wanted at all, whether [`push_redirect_ahead`] may send a
    /// 103 before the handler...
    pub active: bool,
    pub ahead_on: bool,
    /// ...and the statuses that need [`push_redirect_respond`]: bit `n` (low
    /// word first) is status `PUSH_REDIRECT_RESPOND_FIRST + n`. Any other
    /// response only has the opt-out header stripped.
    pub respond_to: [u64; 4],
}

/// The first status of [`push_redirect_settings::respond_to`].
pub const PUSH_REDIRECT_RESPOND_FIRST: c_int = 200;

/// The request and response, borrowed from Apache for the duration of one
/// call. Strings are NUL-terminated; `host`, `server_name` (read only when
/// `host` is NULL) and `location` may be NULL; each array holds `*_count`
/// non-NULL strings (the array may be NULL when its count is 0).
#[repr(C)]
pub struct push_redirect_exchange {
    pub status: c_int,
    pub method: *const c_char,
    pub scheme: *const c_char,
    pub host: *const c_char,
    pub server_name: *const c_char,
    pub server_port: u16,
    pub request_target: *const c_char,
    pub is_http2: bool,
    pub h2_push_on: bool,
    pub is_pushed_stream: bool,
    pub has_cookie: bool,
    pub has_authorization: bool,
    /// `no-push-redirect` is set in a request of the chain of internal
    /// redirects, under its own name or a `REDIRECT_` one.
    pub opt_out_env: bool,
    /// The first `Location` field, and whether there is another.
    pub location: *const c_char,
    pub more_locations: bool,
    pub opt_out_values: *const *const c_char,
    pub opt_out_count: usize,
    pub links: *const *const c_char,
    pub link_count: usize,
    /// The answering virtual host's `ServerName` and the port the request
    /// came in on (the key of what is learned).
    pub vhost: *const c_char,
    pub local_port: u16,
    pub has_set_cookie: bool,
    pub cache_control: *const *const c_char,
    pub cache_control_count: usize,
    /// The request's `Sec-Fetch-Mode` and `Sec-Fetch-Dest`; NULL: absent.
    pub sec_fetch_mode: *const c_char,
    pub sec_fetch_dest: *const c_char,
    /// [`push_redirect_ahead`] sent this request's 103 already.
    pub early_hints_sent: bool,
}

/// Copies the value stored under `key` (`key_len` bytes) into `buf`, at most
/// `*len` bytes, and sets `*len` to its length. Returns false for a miss, a
/// failing store or a value longer than `*len`.
pub type push_redirect_fetch_fn = Option<
    unsafe extern "C" fn(
        ctx: *mut c_void,
        key: *const u8,
        key_len: usize,
        buf: *mut u8,
        len: *mut usize,
    ) -> bool,
>;

/// The shared store of learned records for one call: how to fetch from it
/// (NULL `fetch`: there is none), this child's write budget,
/// `PushRedirectEarlyHintsLifetime` as parsed (0: not set) and the time in
/// milliseconds.
#[repr(C)]
pub struct push_redirect_store {
    pub fetch: push_redirect_fetch_fn,
    pub fetch_ctx: *mut c_void,
    pub budget: *const push_redirect_write_budget,
    pub lifetime: u64,
    pub now_ms: u64,
}

struct CFetch {
    fetch: unsafe extern "C" fn(*mut c_void, *const u8, usize, *mut u8, *mut usize) -> bool,
    ctx: *mut c_void,
    /// Reused by every fetch of the call, and never zeroed: the callback
    /// writes what is read.
    buf: Vec<u8>,
}

impl Fetch for CFetch {
    fn fetch(&mut self, key: &[u8; KEY_LEN]) -> Option<&[u8]> {
        self.buf.clear();
        self.buf.reserve(FETCH_BUF_LEN);
        let mut len = FETCH_BUF_LEN;
        // SAFETY: the shim's callback writes at most `len` bytes to the
        // buffer, whose capacity is at least that.
        let found = unsafe {
            (self.fetch)(
                self.ctx,
                key.as_ptr(),
                key.len(),
                self.buf.as_mut_ptr(),
                &mut len,
            )
        };
        if !found || len > FETCH_BUF_LEN {
            return None;
        }
        // SAFETY: the callback initialised the first `len` bytes, within
        // the capacity reserved above.
        unsafe { self.buf.set_len(len) };
        Some(&self.buf)
    }
}

/// Allocates `size` bytes that live as long as the response (the shim passes
/// `apr_palloc` on the request pool). Returns NULL on failure.
pub type push_redirect_alloc_fn =
    Option<unsafe extern "C" fn(alloc_ctx: *mut c_void, size: usize) -> *mut c_void>;

/// Everything to do for one response. Strings are in memory from the alloc
/// function or static; NULL means "nothing".
#[repr(C)]
pub struct push_redirect_answer {
    /// `Link` field values to append, in order.
    pub links: [*const c_char; PUSH_REDIRECT_MAX_LINKS],
    pub link_count: usize,
    /// `PUSH_REDIRECT`: the pushed path+query.
    pub pushed: *const c_char,
    /// `PUSH_REDIRECT_SKIPPED`: why a redirect gets no Link.
    pub skipped: *const c_char,
    /// The one `Link` value of a 103 to send before the response.
    pub early_hints: *const c_char,
    /// `PUSH_REDIRECT_EARLY_HINTS`: the target path the 103 is for.
    pub early_hints_target: *const c_char,
    /// `PUSH_REDIRECT_EARLY_HINTS_SKIPPED`: why no 103.
    pub early_hints_skipped: *const c_char,
    /// The record to store, `store_record_len` bytes under the
    /// `PUSH_REDIRECT_KEY_LEN` bytes of `store_key`, for `store_lifetime`
    /// seconds; NULL: nothing to store.
    pub store_key: *const u8,
    pub store_record: *const u8,
    pub store_record_len: usize,
    pub store_lifetime: u64,
    /// How many hints the record holds (for the log).
    pub learned: usize,
    /// Remove `X-Push-Redirect` from the response.
    pub strip_opt_out: bool,
}

pub(crate) unsafe fn settings_view(settings: &push_redirect_settings) -> Settings<'_> {
    Settings {
        push: settings.push.into(),
        require_tls: settings.require_tls.into(),
        with_credentials: settings.with_credentials.into(),
        early_hints: settings.early_hints.into(),
        ahead: settings.ahead.into(),
        statuses: settings.statuses.set(),
        excludes: try_ref(settings.excludes),
        declared: try_ref(settings.declared_hints),
    }
}

/// Fills `active`, `ahead_on` and `respond_to` from the directives of `settings`, with
/// the core's defaults for what is not set. The shim calls it whenever it
/// changes or merges a scope's settings. NULL is ignored.
///
/// # Safety
/// `settings` is NULL or valid for reads and writes, its handles from their
/// constructors.
#[no_mangle]
pub unsafe extern "C" fn push_redirect_settings_resolve(settings: *mut push_redirect_settings) {
    ffi_panic_boundary!((), {
        let Some(settings) = settings.as_mut() else {
            return;
        };
        let view = settings_view(settings);
        let (respond_to, ahead_on) = (view.respond_to(), view.ahead_on());
        settings.active = view.step(None) != Step::Inactive;
        settings.ahead_on = ahead_on;
        settings.respond_to = respond_to;
    })
}

/// The length of a record's key.
pub const PUSH_REDIRECT_KEY_LEN: usize = 32;
const _: () = assert!(PUSH_REDIRECT_KEY_LEN == KEY_LEN);

/// Decides everything for one response and fills `*answer`: the push, the
/// 103 (with the hints learned in `store`), the record a 200 or a redirect
/// teaches. Unless `answer` is NULL it is always filled: a caught panic, a
/// NULL argument or an allocation failure is the skip reason
/// `internal-error` on each side that is on.
///
/// # Safety
/// `settings` and `exchange` are valid for reads as documented on their
/// types (their pointers borrowed for the call only); `store` is NULL or
/// valid for reads, its budget from `push_redirect_write_budget_new` or
/// NULL; `answer` is writable.
#[no_mangle]
pub unsafe extern "C" fn push_redirect_respond(
    settings: *const push_redirect_settings,
    exchange: *const push_redirect_exchange,
    store: *const push_redirect_store,
    alloc: push_redirect_alloc_fn,
    alloc_ctx: *mut c_void,
    answer: *mut push_redirect_answer,
) -> push_redirect_result {
    respond_with(respond, settings, exchange, store, alloc, alloc_ctx, answer)
}

/// [`push_redirect_respond`] with the decision as a parameter, so that a
/// test can make it panic and watch the boundary at work.
pub(crate) unsafe fn respond_with(
    respond: impl for<'a> FnOnce(&Settings<'_>, &Exchange<'a>, Option<&mut Store<'_>>) -> Response<'a>,
    settings: *const push_redirect_settings,
    exchange: *const push_redirect_exchange,
    store: *const push_redirect_store,
    alloc: push_redirect_alloc_fn,
    alloc_ctx: *mut c_void,
    answer: *mut push_redirect_answer,
) -> push_redirect_result {
    answer_call(
        settings,
        exchange,
        alloc,
        alloc_ctx,
        answer,
        fail,
        |settings, exchange, mut pool, answer| {
            // Nothing but the status is read for a response nothing is decided for.
            if settings.step(Some(exchange.status)) != Step::Respond {
                return push_redirect_result::Ok;
            }
            let strings = ExchangeStrings::new(exchange);
            let view = strings.view(exchange);
            let response = with_store(store, |store| respond(settings, &view, store));
            answer.strip_opt_out = true;
            if let Some(learn) = &response.learn {
                if let Some(buf) = pool.bytes(KEY_LEN + learn.record.len()) {
                    let (key, record) = buf.split_at_mut(KEY_LEN);
                    key.copy_from_slice(&learn.key);
                    record.copy_from_slice(&learn.record);
                    answer.store_key = key.as_ptr();
                    answer.store_record = record.as_ptr();
                    answer.store_record_len = record.len();
                    answer.store_lifetime = learn.lifetime_secs;
                    answer.learned = learn.hints;
                }
            }
            match response.push {
                Some(Decision::Push(push)) => {
                    let target = push.path_and_query();
                    let len = push.link_value_len();
                    match pool.strings(len, target) {
                        Some((link, target)) => {
                            push.write_link_value(&mut *link);
                            answer.links[0] = link.as_ptr().cast();
                            answer.link_count = 1;
                            answer.pushed = target;
                            for hop in response
                                .further_links
                                .iter()
                                .take(PUSH_REDIRECT_MAX_LINKS - 1)
                            {
                                if let Some((link, _)) = pool.strings(hop.len(), "") {
                                    link.copy_from_slice(hop.as_bytes());
                                    answer.links[answer.link_count] = link.as_ptr().cast();
                                    answer.link_count += 1;
                                }
                            }
                        }
                        None => answer.skipped = reason_token(Reason::InternalError).as_ptr(),
                    }
                }
                Some(Decision::Skip(reason)) => answer.skipped = reason_token(reason).as_ptr(),
                Some(Decision::NotRedirect) | None => {}
            }
            if let Some(decision) = response.early_hints {
                write_early_hints(answer, &mut pool, decision);
            }
            push_redirect_result::Ok
        },
    )
}

/// The frame of a call that fills an answer: `answer` emptied, NULL
/// arguments refused, `call` run inside the panic boundary with the
/// settings' view and the shim's pool. A NULL or a panic leaves the answer
/// `fail` writes.
pub(crate) unsafe fn answer_call(
    settings: *const push_redirect_settings,
    exchange: *const push_redirect_exchange,
    alloc: push_redirect_alloc_fn,
    alloc_ctx: *mut c_void,
    answer: *mut push_redirect_answer,
    fail: unsafe fn(&mut push_redirect_answer, *const push_redirect_settings),
    call: impl FnOnce(
        &Settings<'_>,
        &push_redirect_exchange,
        Pool,
        &mut push_redirect_answer,
    ) -> push_redirect_result,
) -> push_redirect_result {
    if answer.is_null() {
        return push_redirect_result::NullParameter;
    }
    answer.write(EMPTY_ANSWER);
    let answer = &mut *answer;
    let failed = |answer: &mut push_redirect_answer, result| {
        fail(answer, settings);
        result
    };
    ffi_panic_boundary!(failed(answer, push_redirect_result::Panic), {
        let (Some(settings), Some(exchange), Some(alloc)) =
            (settings.as_ref(), exchange.as_ref(), alloc)
        else {
            return failed(answer, push_redirect_result::NullParameter);
        };
        call(
            &settings_view(settings),
            exchange,
            Pool { alloc, alloc_ctx },
            answer,
        )
    })
}

/// Runs `call` with the core's view of `store` (NULL, or no fetch: none).
pub(crate) unsafe fn with_store<T>(
    store: *const push_redirect_store,
    call: impl FnOnce(Option<&mut Store<'_>>) -> T,
) -> T {
    let store = store.as_ref();
    let mut fetch = store.and_then(|store| {
        Some(CFetch {
            fetch: store.fetch?,
            ctx: store.fetch_ctx,
            buf: Vec::new(),
        })
    });
    let mut core_store = store.zip(fetch.as_mut()).map(|(store, fetch)| {
        let lifetime = (store.lifetime > 0).then_some(store.lifetime);
        Store::new(fetch, try_ref(store.budget), lifetime, store.now_ms)
    });
    call(core_store.as_mut())
}

/// The 103 side of an answer: its `Link` value and page, or why none.
pub(crate) unsafe fn write_early_hints(
    answer: &mut push_redirect_answer,
    pool: &mut Pool,
    decision: EarlyHintsDecision,
) {
    match decision {
        EarlyHintsDecision::Send(hints) => {
            let value = hints.link_value();
            match pool.strings(value.len(), hints.target_path()) {
                Some((link, target)) => {
                    link.copy_from_slice(value.as_bytes());
                    answer.early_hints = link.as_ptr().cast();
                    answer.early_hints_target = target;
                }
                None => answer.early_hints_skipped = reason_token(Reason::InternalError).as_ptr(),
            }
        }
        EarlyHintsDecision::Skip(skip) => {
            answer.early_hints_skipped = early_hints_skip_token(skip).as_ptr()
        }
        EarlyHintsDecision::NotRedirect => {}
    }
}

pub(crate) const EMPTY_ANSWER: push_redirect_answer = push_redirect_answer {
    links: [ptr::null(); PUSH_REDIRECT_MAX_LINKS],
    link_count: 0,
    pushed: ptr::null(),
    skipped: ptr::null(),
    early_hints: ptr::null(),
    early_hints_target: ptr::null(),
    early_hints_skipped: ptr::null(),
    store_key: ptr::null(),
    store_record: ptr::null(),
    store_record_len: 0,
    store_lifetime: 0,
    learned: 0,
    strip_opt_out: true,
};

/// The answer to a call that failed: nothing to add or send, and
/// `internal-error` on each side the settings turn on (both when they
/// cannot be read).
pub(crate) unsafe fn fail(
    answer: &mut push_redirect_answer,
    settings: *const push_redirect_settings,
) {
    *answer = EMPTY_ANSWER;
    let (push, early_hints) = match settings.as_ref() {
        Some(settings) => {
            let view = settings_view(settings);
            (view.push_on(), view.early_hints_on())
        }
        None => (true, true),
    };
    let token = reason_token(Reason::InternalError).as_ptr();
    if push {
        answer.skipped = token;
    }
    if early_hints {
        answer.early_hints_skipped = token;
    }
}

/// Memory from the shim's allocator.
pub(crate) struct Pool {
    pub(crate) alloc: unsafe extern "C" fn(*mut c_void, usize) -> *mut c_void,
    pub(crate) alloc_ctx: *mut c_void,
}

impl Pool {
    unsafe fn bytes(&mut self, len: usize) -> Option<&mut [u8]> {
        let buf = (self.alloc)(self.alloc_ctx, len).cast::<u8>();
        (!buf.is_null()).then(|| std::slice::from_raw_parts_mut(buf, len))
    }

    /// One allocation for a NUL-terminated value of `len` bytes, to be
    /// written by the caller, followed by a NUL-terminated copy of `tail`.
    unsafe fn strings(&mut self, len: usize, tail: &str) -> Option<(&mut [u8], *const c_char)> {
        let size = len + 1 + tail.len() + 1;
        let buf = (self.alloc)(self.alloc_ctx, size).cast::<u8>();
        if buf.is_null() {
            return None;
        }
        let all = std::slice::from_raw_parts_mut(buf, size);
        let (value, rest) = all.split_at_mut(len);
        rest[0] = 0;
        rest[1..=tail.len()].copy_from_slice(tail.as_bytes());
        rest[tail.len() + 1] = 0;
        Some((value, rest[1..].as_ptr().cast()))
    }
}

/// The contract's tokens as C strings in static storage.
pub(crate) fn reason_token(reason: Reason) -> &'static CStr {
    match reason {
        Reason::OptOut => c"opt-out",
        Reason::Method => c"method",
        Reason::Insecure => c"insecure",
        Reason::PushDisabled => c"push-disabled",
        Reason::Credentials => c"credentials",
        Reason::NoLocation => c"no-location",
        Reason::BadLocation => c"bad-location",
        Reason::CrossOrigin => c"cross-origin",
        Reason::SelfRedirect => c"self",
        Reason::Excluded => c"excluded",
        Reason::AlreadyLinked => c"already-linked",
        Reason::InternalError => c"internal-error",
    }
}

/// The C strings of an [`EarlyHintsSkip`], in static storage.
fn early_hints_skip_token(skip: EarlyHintsSkip) -> &'static CStr {
    match skip {
        EarlyHintsSkip::Rule(reason) => reason_token(reason),
        EarlyHintsSkip::NotHttp2 => c"not-http2",
        EarlyHintsSkip::PushedStream => c"pushed-stream",
        EarlyHintsSkip::NotNavigation => c"not-navigation",
        EarlyHintsSkip::NoHints => c"no-hints",
        EarlyHintsSkip::SentAhead => c"sent-ahead",
    }
}

/// The strings of a C array, on the stack when there are few (a redirect
/// rarely has more than one opt-out header or Link field).
struct Strings<'a> {
    inline: [&'a [u8]; 4],
    heap: Vec<&'a [u8]>,
    len: usize,
}

impl<'a> Strings<'a> {
    const NONE: Strings<'static> = Strings {
        inline: [b""; 4],
        heap: Vec::new(),
        len: 0,
    };

    #[inline]
    unsafe fn new(array: *const *const c_char, count: usize) -> Strings<'a> {
        if array.is_null() || count == 0 {
            return Strings::NONE;
        }
        let mut strings = Strings::NONE;
        let items = std::slice::from_raw_parts(array, count);
        let items = items.iter().filter(|text| !text.is_null());
        if count <= strings.inline.len() {
            for &text in items {
                strings.inline[strings.len] = bytes(text);
                strings.len += 1;
            }
        } else {
            strings.heap = items.map(|&text| bytes(text)).collect();
        }
        strings
    }

    fn as_slice(&self) -> &[&'a [u8]] {
        if self.heap.is_empty() {
            &self.inline[..self.len]
        } else {
            &self.heap
        }
    }
}

/// The string arrays of a [`push_redirect_exchange`], read once so that
/// [`ExchangeStrings::view`] can borrow them.
pub(crate) struct ExchangeStrings<'a> {
    opt_out_values: Strings<'a>,
    /// The first Location and, when there is another, a stand-in for it:
    /// the rules only count the others.
    locations: [&'a [u8]; 2],
    location_count: usize,
    links: Strings<'a>,
    cache_control: Strings<'a>,
}

impl<'a> ExchangeStrings<'a> {
    pub(crate) unsafe fn new(exchange: &'a push_redirect_exchange) -> Self {
        let location_count = match (exchange.location.is_null(), exchange.more_locations) {
            (true, _) => 0,
            (false, false) => 1,
            (false, true) => 2,
        };
        ExchangeStrings {
            opt_out_values: Strings::new(exchange.opt_out_values, exchange.opt_out_count),
            locations: [bytes(exchange.location), b""],
            location_count,
            links: Strings::new(exchange.links, exchange.link_count),
            cache_control: Strings::new(exchange.cache_control, exchange.cache_control_count),
        }
    }

    pub(crate) unsafe fn view(&'a self, exchange: &'a push_redirect_exchange) -> Exchange<'a> {
        let host = (!exchange.host.is_null()).then(|| bytes(exchange.host));
        Exchange {
            status: exchange.status,
            method: bytes(exchange.method),
            scheme: bytes(exchange.scheme),
            host,
            server_name: bytes(exchange.server_name),
            server_port: exchange.server_port,
            request_target: bytes(exchange.request_target),
            http2: exchange.is_http2,
            h2_push: exchange.h2_push_on,
            pushed_stream: exchange.is_pushed_stream,
            has_cookie: exchange.has_cookie,
            has_authorization: exchange.has_authorization,
            opt_out_env: exchange.opt_out_env,
            opt_out_values: self.opt_out_values.as_slice(),
            locations: &self.locations[..self.location_count],
            links: self.links.as_slice(),
            vhost: bytes(exchange.vhost),
            local_port: exchange.local_port,
            has_set_cookie: exchange.has_set_cookie,
            cache_control: self.cache_control.as_slice(),
            sec_fetch_mode: (!exchange.sec_fetch_mode.is_null())
                .then(|| bytes(exchange.sec_fetch_mode)),
            sec_fetch_dest: (!exchange.sec_fetch_dest.is_null())
                .then(|| bytes(exchange.sec_fetch_dest)),
            early_hints_sent: exchange.early_hints_sent,
        }
    }
}
