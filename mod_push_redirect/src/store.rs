//! The shared store of learned records, as the shim gives it for one call
//! ([`push_redirect_store`]): its fetch and put callbacks, what Apache
//! knows of the visitor, the child's write budget and counters; and the
//! core's view of it ([`with_store`]).

use std::ffi::{c_char, c_int, c_uint, c_void};

use push_redirect_core::{Provider, Store, Visitor, FETCH_BUF_LEN, KEY_LEN};

use crate::counts::Counts;
use crate::handles::{push_redirect_write_budget, try_ref};

/// The length of a record's key.
pub const PUSH_REDIRECT_KEY_LEN: usize = 32;
const _: () = assert!(PUSH_REDIRECT_KEY_LEN == KEY_LEN);

/// The buffer a fetch is given: a value longer than this is a miss. Also
/// the longest record a write carries (the core's are half of it).
pub const PUSH_REDIRECT_FETCH_BUF_LEN: usize = 16384;
const _: () = assert!(PUSH_REDIRECT_FETCH_BUF_LEN == FETCH_BUF_LEN);

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
    let mut provider = store.and_then(|(store, _)| {
        Some(CProvider {
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
    let mut core_store = store.zip(provider.as_mut()).zip(visitor.as_mut()).map(
        |(((store, budget), provider), visitor)| {
            let lifetime = (store.lifetime > 0).then_some(store.lifetime);
            Store::new(provider, Some(&budget.writes), lifetime, budget.now_ms())
                .with_visitor(visitor)
        },
    );
    call(core_store.as_mut())
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

/// The shim's provider (the `fetch` and `put` callbacks of a
/// [`push_redirect_store`]), as the core's [`Provider`].
struct CProvider {
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

impl Provider for CProvider {
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

#[cfg(test)]
mod tests;
