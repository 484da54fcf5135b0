//! The one call per response: the shim's snapshot of the request and
//! response in, everything it must do out.

use std::ffi::{c_char, c_int, c_uint, c_void};
use std::ptr;

use push_redirect_core::{
    respond, Call, Decision, EarlyHintsDecision, EarlyHintsSkip, Exchange, Fetch, Learn, Reason,
    Response, Settings, Step, Store, Visitor, FETCH_BUF_LEN, KEY_LEN,
};

use crate::counts::Counts;
pub(crate) use crate::exchange::{push_redirect_exchange, Fields};
use crate::handles::{
    push_redirect_declared_hints, push_redirect_excludes, push_redirect_statuses,
    push_redirect_switch, push_redirect_write_budget, try_ref,
};
use crate::{ffi_panic_boundary, push_redirect_result};

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
    /// `PushRedirectEarlyHintsAhead`.
    pub ahead: push_redirect_switch,
    /// `PushRedirectEarlyHintsFromHTML`, which the shim reads itself.
    pub from_html: push_redirect_switch,
    /// `PushRedirectEarlyHintsHTTP1`, which the shim reads itself.
    pub early_hints_http1: push_redirect_switch,
    pub statuses: push_redirect_statuses,
    pub excludes: *mut push_redirect_excludes,
    pub declared_hints: *mut push_redirect_declared_hints,
    /// Some scope of this virtual host's server configuration turns
    /// `PushRedirectEarlyHints` on: the shim marks the server's defaults
    /// when it reads that line, and every scope merged from them is marked
    /// too.
    pub server_sends_hints: bool,
    /// Derived from the fields above by `push_redirect_settings_resolve`,
    /// so that the shim needs no call for most responses: whether the
    /// filter is wanted at all...
    pub active: bool,
    /// ...and the statuses that need `push_redirect_respond`: bit `n` (low
    /// word first) is status `PUSH_REDIRECT_RESPOND_FIRST + n`. Any other
    /// response only has the opt-out header stripped.
    pub respond_to: [u64; 4],
    /// ...and whether `push_redirect_ahead` is wanted before the handler.
    pub ahead_on: bool,
    /// ...and whether a 103 can go out here: the request fields that only
    /// the 103 reads (`Sec-Fetch-*`, the note of one sent ahead) are read
    /// only then.
    pub early_hints_on: bool,
}

/// The first status of `respond_to` in `push_redirect_settings`.
pub const PUSH_REDIRECT_RESPOND_FIRST: c_int = 200;

/// What a fetch found.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum push_redirect_fetched {
    /// Nothing under the key (or a value longer than the buffer).
    Miss = 0,
    /// The value, copied.
    Found = 1,
    /// No answer: the store is failing, hung, backed off or too busy to
    /// answer in time. Unlike a miss, it says nothing of what is stored.
    Unanswered = 2,
}

/// Copies the value stored under `key` (`key_len` bytes) into `buf`, at most
/// `*len` bytes, and sets `*len` to its length (counted as mod_socache
/// counts it).
pub type push_redirect_fetch_fn = Option<
    unsafe extern "C" fn(
        ctx: *mut c_void,
        key: *const u8,
        key_len: usize,
        buf: *mut u8,
        len: *mut c_uint,
    ) -> push_redirect_fetched,
>;

/// Stores the `record_len` bytes of `record` under `key` (`key_len` bytes)
/// for `lifetime_secs` seconds. Both live only during the call: the store
/// copies what it keeps. Nothing waits for the write, and nothing is told
/// of one dropped.
pub type push_redirect_put_fn = Option<
    unsafe extern "C" fn(
        ctx: *mut c_void,
        key: *const u8,
        key_len: usize,
        record: *const u8,
        record_len: usize,
        lifetime_secs: u64,
    ),
>;

/// The shared store of learned records for one call: how to fetch from it
/// and put into it (NULL `fetch` or `put`: there is none), this child's
/// write budget (without one, or while its back-off runs, the store is not
/// used) and
/// `PushRedirectEarlyHintsLifetime` as parsed (0: not set). The time the
/// budget and the settled records run on is the budget's own clock, which
/// does not jump: the shim passes none. The core writes through `put`
/// during the call, only what it decided to write.
#[repr(C)]
pub struct push_redirect_store {
    pub fetch: push_redirect_fetch_fn,
    pub put: push_redirect_put_fn,
    /// The context of `fetch`, `put`...
    pub fetch_ctx: *mut c_void,
    /// ...and of these: whether the request is authenticated otherwise
    /// than by its headers (a verified client certificate, `r->user`)...
    pub authenticated: Option<unsafe extern "C" fn(ctx: *mut c_void) -> bool>,
    /// ...and whether it could fetch the path+query `target` (`len`
    /// bytes) of its virtual host, as Apache's access control decides.
    /// NULL: anonymous, and may fetch anything.
    pub may_fetch:
        Option<unsafe extern "C" fn(ctx: *mut c_void, target: *const c_char, len: usize) -> bool>,
    /// ...and whether a stranger could (no credentials, no header field
    /// but `Host`, an address no network is given): 1 yes, 0 no, -1 when
    /// Apache did not check the stranger's access to it. NULL: not known.
    pub stranger_may_fetch:
        Option<unsafe extern "C" fn(ctx: *mut c_void, target: *const c_char, len: usize) -> c_int>,
    pub budget: *const push_redirect_write_budget,
    pub lifetime: u64,
}

/// What the shim knows of the visitor ([`push_redirect_store`]).
struct CVisitor {
    authenticated: Option<unsafe extern "C" fn(*mut c_void) -> bool>,
    may_fetch: Option<unsafe extern "C" fn(*mut c_void, *const c_char, usize) -> bool>,
    stranger_may_fetch: Option<unsafe extern "C" fn(*mut c_void, *const c_char, usize) -> c_int>,
    ctx: *mut c_void,
}

impl Visitor for CVisitor {
    fn authenticated(&mut self) -> bool {
        // SAFETY: the shim's callback, with the context it gave for it.
        self.authenticated
            .is_some_and(|authenticated| unsafe { authenticated(self.ctx) })
    }

    fn may_fetch(&mut self, target: &str) -> bool {
        // SAFETY: as above; the callback reads `target.len()` bytes.
        self.may_fetch.map_or(true, |may_fetch| unsafe {
            may_fetch(self.ctx, target.as_ptr().cast(), target.len())
        })
    }

    fn stranger_may_fetch(&mut self, target: &str) -> Option<bool> {
        // SAFETY: as above.
        let answer = self.stranger_may_fetch.map_or(-1, |may_fetch| unsafe {
            may_fetch(self.ctx, target.as_ptr().cast(), target.len())
        });
        (answer >= 0).then_some(answer > 0)
    }
}

struct CFetch {
    fetch: unsafe extern "C" fn(
        *mut c_void,
        *const u8,
        usize,
        *mut u8,
        *mut c_uint,
    ) -> push_redirect_fetched,
    put: unsafe extern "C" fn(*mut c_void, *const u8, usize, *const u8, usize, u64),
    ctx: *mut c_void,
    /// A fetch of this call got no answer.
    unanswered: bool,
    /// Reused by every fetch of the call, and never zeroed: the callback
    /// writes what is read.
    buf: Vec<u8>,
}

impl Fetch for CFetch {
    fn fetch(&mut self, key: &[u8; KEY_LEN]) -> Option<&[u8]> {
        self.buf.clear();
        self.buf.reserve(FETCH_BUF_LEN);
        const CAPACITY: c_uint = FETCH_BUF_LEN as c_uint;
        let mut len = CAPACITY;
        // SAFETY: the shim's callback writes at most `len` bytes to the
        // buffer, whose capacity is at least that.
        let fetched = unsafe {
            (self.fetch)(
                self.ctx,
                key.as_ptr(),
                key.len(),
                self.buf.as_mut_ptr(),
                &mut len,
            )
        };
        self.unanswered |= fetched == push_redirect_fetched::Unanswered;
        if fetched != push_redirect_fetched::Found || len > CAPACITY {
            return None;
        }
        // SAFETY: the callback initialised the first `len` bytes, within
        // the capacity reserved above.
        unsafe { self.buf.set_len(len as usize) };
        Some(&self.buf)
    }

    fn put(&mut self, key: &[u8; KEY_LEN], record: &[u8], lifetime_secs: u64) {
        // SAFETY: the shim's callback reads `key.len()` and `record.len()`
        // bytes, during the call only.
        unsafe {
            (self.put)(
                self.ctx,
                key.as_ptr(),
                key.len(),
                record.as_ptr(),
                record.len(),
                lifetime_secs,
            );
        }
    }

    fn all_answered(&self) -> bool {
        !self.unanswered
    }
}

/// Allocates `size` bytes that live as long as the response (the shim passes
/// `apr_palloc` on the request pool). Returns NULL on failure.
pub type push_redirect_alloc_fn =
    Option<unsafe extern "C" fn(alloc_ctx: *mut c_void, size: usize) -> *mut c_void>;

/// A page being read (opaque): from a `push_redirect_answer`, owned by
/// the shim until it is finished or freed (page.rs).
pub struct push_redirect_page {
    _private: [u8; 0],
}

/// Everything to do for one response. Strings are in memory from the alloc
/// function or static; NULL means "nothing".
#[repr(C)]
pub struct push_redirect_answer {
    /// `Link` field values to append, in order.
    pub links: [*const c_char; PUSH_REDIRECT_MAX_LINKS],
    pub link_count: usize,
    /// The one `Link` value of a 103 to send before the response.
    pub early_hints: *const c_char,
    /// The push side: the path+query its `Link` pushes (the variable
    /// `PUSH_REDIRECT`), or why the redirect gets none
    /// (`PUSH_REDIRECT_SKIPPED`, a token of docs/behaviour.md); both NULL
    /// when nothing was decided.
    pub pushed: *const c_char,
    pub skipped: *const c_char,
    /// The 103 side: the target path whose hints it carries
    /// (`PUSH_REDIRECT_EARLY_HINTS`), or why none goes out
    /// (`PUSH_REDIRECT_EARLY_HINTS_SKIPPED`); both NULL when nothing was
    /// decided.
    pub early_hints_target: *const c_char,
    pub early_hints_skipped: *const c_char,
    /// The response taught: the call wrote through the store's `put` (a
    /// record, a page's hints not yet public, or both), for the log...
    pub taught: bool,
    /// ...how many hints the record holds, and how many of them its page's
    /// HTML gave...
    pub learned: usize,
    pub learned_from_html: usize,
    /// ...and whether some wait for a second response to agree (the page
    /// may be one visitor's: docs/behaviour.md, "Pages that may be one
    /// visitor's").
    pub awaiting_confirmation: bool,
    /// A 200 whose body is read before it teaches: the shim feeds it the
    /// body (`push_redirect_page_feed`), then finishes it
    /// (`push_redirect_page_finish`) or frees it; NULL: none.
    pub page: *mut push_redirect_page,
    /// Remove `X-Push-Redirect` from the response: it has one (or, after
    /// a failure, may have).
    pub strip_opt_out: bool,
}

impl push_redirect_answer {
    /// The redirect gets no `Link`, for `reason`.
    fn skip(&mut self, reason: Reason) {
        self.skipped = reason.as_c_str().as_ptr();
    }

    /// The redirect gets no 103, for `skip`.
    fn skip_early_hints(&mut self, skip: EarlyHintsSkip) {
        self.early_hints_skipped = skip.as_c_str().as_ptr();
    }
}

pub(crate) unsafe fn settings_view(settings: &push_redirect_settings) -> Settings<'_> {
    Settings {
        push: settings.push.into(),
        require_tls: settings.require_tls.into(),
        with_credentials: settings.with_credentials.into(),
        early_hints: settings.early_hints.into(),
        ahead: settings.ahead.into(),
        from_html: settings.from_html.into(),
        early_hints_http1: settings.early_hints_http1.into(),
        statuses: settings.statuses.set(),
        excludes: try_ref(settings.excludes),
        declared: try_ref(settings.declared_hints),
        server_sends_hints: settings.server_sends_hints,
    }
}

/// Fills the derived fields (`active`, `respond_to`, ...) from the directives of `settings`, with
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
        let (respond_to, active, ahead_on, early_hints_on) = (
            view.respond_to(),
            view.step(None) != Step::Inactive,
            view.ahead_on(),
            view.early_hints_on(),
        );
        settings.active = active;
        settings.respond_to = respond_to;
        settings.ahead_on = ahead_on;
        settings.early_hints_on = early_hints_on;
    })
}

/// The length of a record's key.
pub const PUSH_REDIRECT_KEY_LEN: usize = 32;
const _: () = assert!(PUSH_REDIRECT_KEY_LEN == KEY_LEN);

/// The buffer a fetch is given: a value longer than this is a miss. Also
/// the longest record a write carries (the core's are half of it).
pub const PUSH_REDIRECT_FETCH_BUF_LEN: usize = 16384;
const _: () = assert!(PUSH_REDIRECT_FETCH_BUF_LEN == FETCH_BUF_LEN);

/// Decides everything for one response and fills `*answer`: the push, the
/// 103 (with the hints learned in `store`); the record a 200 or a redirect
/// teaches is written through `store`'s `put` during the call, and the
/// answer says how many hints it holds. Unless `answer` is NULL it is
/// always filled: a caught panic, a NULL argument or an allocation failure
/// is the skip reason `internal-error` on each side that is on.
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
        Call::Respond,
        settings,
        exchange,
        Pool::new(alloc, alloc_ctx),
        answer,
        counts_of(store),
        |settings, exchange, pool, answer, counts| {
            // Nothing but the status is read for a response nothing is decided for.
            if settings.step(Some(exchange.status)) != Step::Respond {
                return;
            }
            let mut fields = Fields::new();
            fields.read_all(exchange);
            let view = fields.view(exchange);
            let mut response = with_store(store, |store| respond(settings, &view, store));
            answer.strip_opt_out = !fields.opt_out_values().is_empty();
            if let Some(learn) = &response.learn {
                write_learn(answer, learn);
            }
            if let Some(page) = response.page.take() {
                answer.page = Box::into_raw(page).cast();
            }
            write_push(answer, pool, &mut response);
            if let Some(decision) = &mut response.early_hints {
                write_early_hints(answer, pool, decision);
            }
            if let Some(counts) = counts {
                response.count(counts);
            }
        },
    )
}

/// The push side of an answer: the `Link` values of the push and of the
/// further hops of its learned chain, and the pushed target, or why none.
/// Where the pool fails, the push becomes the skip `internal-error`, and a
/// further hop is left out: `response` becomes what the answer carries.
unsafe fn write_push(
    answer: &mut push_redirect_answer,
    pool: &mut Pool,
    response: &mut Response<'_>,
) {
    if let Some(Decision::Push(push)) = &response.push {
        let target = push.path_and_query();
        match pool.strings(push.link_value_len(), target) {
            Some((link, target)) => {
                push.write_link_value(&mut *link);
                answer.links[0] = link.as_ptr().cast();
                answer.link_count = 1;
                answer.pushed = target;
                // Each further learned hop, for mod_http2 to push the whole
                // chain.
                let further = &mut response.further_links;
                further.truncate(PUSH_REDIRECT_MAX_LINKS - 1);
                further.retain(|hop| {
                    let Some((link, _)) = pool.strings(hop.len(), "") else {
                        return false;
                    };
                    link.copy_from_slice(hop.as_bytes());
                    answer.links[answer.link_count] = link.as_ptr().cast();
                    answer.link_count += 1;
                    true
                });
            }
            None => {
                response.push = Some(Decision::Skip(Reason::InternalError));
                response.further_links.clear();
            }
        }
    }
    if let Some(Decision::Skip(reason)) = response.push {
        answer.skip(reason);
    }
}

/// The boundary both calls that fill an answer share (`call`: the push and
/// the 103 of a response, [`push_redirect_respond`], or the 103 alone
/// before there is a response, [`push_redirect_ahead`](crate::push_redirect_ahead)):
/// `*answer` is emptied first, then filled by `body` (inside the panic
/// boundary, with the settings' view, the exchange, the shim's pool and
/// the child's counters, to which it adds what it answered), or as
/// [`fail`] says when an argument is NULL or `body` panics. Unless
/// `answer` is NULL it is always filled; the shim logs it.
///
/// Inlined into each entry point, so that the respond call, which every
/// redirect makes, pays for no indirection: `call` is a constant there.
///
/// # Safety
/// As for [`push_redirect_respond`].
#[inline(always)]
pub(crate) unsafe fn answer_call(
    call: Call,
    settings: *const push_redirect_settings,
    exchange: *const push_redirect_exchange,
    pool: Option<Pool>,
    answer: *mut push_redirect_answer,
    counts: Option<&Counts>,
    body: impl FnOnce(
        &Settings<'_>,
        &push_redirect_exchange,
        &mut Pool,
        &mut push_redirect_answer,
        Option<&Counts>,
    ),
) -> push_redirect_result {
    if answer.is_null() {
        return push_redirect_result::NullParameter;
    }
    empty(answer, call);
    let answer = &mut *answer;
    let failed = |answer: &mut push_redirect_answer, result| {
        fail(answer, settings, call, counts);
        result
    };
    ffi_panic_boundary!(failed(answer, push_redirect_result::Panic), {
        let (Some(settings), Some(exchange), Some(mut pool)) =
            (settings.as_ref(), exchange.as_ref(), pool)
        else {
            return failed(answer, push_redirect_result::NullParameter);
        };
        body(
            &settings_view(settings),
            exchange,
            &mut pool,
            answer,
            counts,
        );
        push_redirect_result::Ok
    })
}

/// Makes `*answer` the empty answer of `call`: [`EMPTY_ANSWER`] for the
/// respond call, without copying it from memory (all zero bytes are valid
/// for every field). `strip_opt_out` is the one field of an empty answer
/// that is not zero: a response may carry `X-Push-Redirect` even when the
/// call fails; ahead of the handler there is no response to strip it from.
unsafe fn empty(answer: *mut push_redirect_answer, call: Call) {
    answer.write_bytes(0, 1);
    (*answer).strip_opt_out = match call {
        Call::Respond => EMPTY_ANSWER.strip_opt_out,
        Call::Ahead => false,
    };
}

/// The 103 side of an answer: its `Link` value and page, or why none.
/// Where the pool fails, `decision` becomes the skip `internal-error`:
/// what the answer carries.
pub(crate) unsafe fn write_early_hints(
    answer: &mut push_redirect_answer,
    pool: &mut Pool,
    decision: &mut EarlyHintsDecision,
) {
    if let EarlyHintsDecision::Send(hints) = decision {
        let value = hints.link_value();
        match pool.strings(value.len(), hints.target_path()) {
            Some((link, target)) => {
                link.copy_from_slice(value.as_bytes());
                answer.early_hints = link.as_ptr().cast();
                answer.early_hints_target = target;
            }
            None => *decision = EarlyHintsDecision::Skip(INTERNAL_ERROR),
        }
    }
    if let EarlyHintsDecision::Skip(skip) = *decision {
        answer.skip_early_hints(skip);
    }
}

/// The 103's `internal-error`.
const INTERNAL_ERROR: EarlyHintsSkip = EarlyHintsSkip::Rule(Reason::InternalError);

/// What `learn` wrote, for the log (the writes went through the store's
/// `put`).
pub(crate) fn write_learn(answer: &mut push_redirect_answer, learn: &Learn) {
    answer.taught = true;
    answer.learned = learn.hints;
    answer.learned_from_html = learn.from_html;
    answer.awaiting_confirmation = learn.unconfirmed.is_some();
}

/// The child's counters, from the budget of `store`; `None` for NULL.
#[inline]
pub(crate) unsafe fn counts_of<'s>(store: *const push_redirect_store) -> Option<&'s Counts> {
    try_ref(store.as_ref()?.budget)?.counts.as_ref()
}

/// Runs `call` with the core's view of `store`: none for NULL, no fetch,
/// no put, no budget, or a store that failed lately (no fetch, nothing
/// learned).
/// The time is read once, from the budget's clock: every step of the call
/// sees the same.
pub(crate) unsafe fn with_store<T>(
    store: *const push_redirect_store,
    call: impl FnOnce(Option<&mut Store<'_>>) -> T,
) -> T {
    let store = store.as_ref().and_then(|store| {
        let budget = try_ref(store.budget).filter(|budget| budget.usable())?;
        Some((store, budget))
    });
    let mut fetch = store.and_then(|(store, _)| {
        Some(CFetch {
            fetch: store.fetch?,
            put: store.put?,
            ctx: store.fetch_ctx,
            unanswered: false,
            buf: Vec::new(),
        })
    });
    let mut visitor = store.map(|(store, _)| CVisitor {
        authenticated: store.authenticated,
        may_fetch: store.may_fetch,
        stranger_may_fetch: store.stranger_may_fetch,
        ctx: store.fetch_ctx,
    });
    let mut core_store = store.zip(fetch.as_mut()).zip(visitor.as_mut()).map(
        |(((store, budget), fetch), visitor)| {
            let lifetime = (store.lifetime > 0).then_some(store.lifetime);
            Store::new(fetch, Some(&budget.writes), lifetime, budget.now_ms()).with_visitor(visitor)
        },
    );
    call(core_store.as_mut())
}

pub(crate) const EMPTY_ANSWER: push_redirect_answer = push_redirect_answer {
    links: [ptr::null(); PUSH_REDIRECT_MAX_LINKS],
    link_count: 0,
    early_hints: ptr::null(),
    pushed: ptr::null(),
    skipped: ptr::null(),
    early_hints_target: ptr::null(),
    early_hints_skipped: ptr::null(),
    taught: false,
    learned: 0,
    learned_from_html: 0,
    awaiting_confirmation: false,
    page: ptr::null_mut(),
    strip_opt_out: true,
};

/// The answer to a call that failed: nothing to add or send, and
/// `internal-error` on each side of `call` that the settings turn on (both
/// when they cannot be read); ahead of the handler there is only the 103.
/// Counted in `counts` as the call's decisions are.
unsafe fn fail(
    answer: &mut push_redirect_answer,
    settings: *const push_redirect_settings,
    call: Call,
    counts: Option<&Counts>,
) {
    empty(answer, call);
    let (push, early_hints) = match (call, settings.as_ref()) {
        (Call::Ahead, _) => (false, true),
        (Call::Respond, Some(settings)) => {
            let view = settings_view(settings);
            (view.push_on(), view.early_hints_on())
        }
        (Call::Respond, None) => (true, true),
    };
    if push {
        answer.skip(Reason::InternalError);
    }
    if early_hints {
        answer.skip_early_hints(INTERNAL_ERROR);
    }
    let failed = EarlyHintsDecision::Skip(INTERNAL_ERROR);
    match (counts, call) {
        (Some(counts), Call::Respond) => Response {
            push: push.then_some(Decision::Skip(Reason::InternalError)),
            further_links: Vec::new(),
            early_hints: early_hints.then_some(failed),
            learn: None,
            page: None,
        }
        .count(counts),
        (Some(counts), Call::Ahead) => failed.count(Call::Ahead, counts),
        (None, _) => {}
    }
}

/// Memory from the shim's allocator.
pub(crate) struct Pool {
    pub(crate) alloc: unsafe extern "C" fn(*mut c_void, usize) -> *mut c_void,
    pub(crate) alloc_ctx: *mut c_void,
}

impl Pool {
    /// The shim's allocator and its context; `None` for NULL.
    pub(crate) fn new(alloc: push_redirect_alloc_fn, alloc_ctx: *mut c_void) -> Option<Pool> {
        Some(Pool {
            alloc: alloc?,
            alloc_ctx,
        })
    }

    pub(crate) unsafe fn bytes(&mut self, len: usize) -> Option<&mut [u8]> {
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
