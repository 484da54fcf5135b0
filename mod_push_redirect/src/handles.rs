//! The directives' values as the shim keeps them: opaque handles for what
//! is built once (patterns, declared hints, a child's write budget), plain `repr(C)` values for the rest.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr;

use push_redirect_core::{
    ConfigError, DeclaredHints, ExcludeSet, StatusSet, StoreHealth, Switch, WriteBudget,
};

use crate::counts::Counts;
use crate::pool::{push_redirect_alloc_fn, Pool};
use crate::{ffi_panic_boundary, push_redirect_result};

/// Ties an opaque C type to the Rust value behind its pointers (as
/// rustls-ffi's `Castable`), so that each conversion is checked by type.
pub(crate) trait Castable {
    type Rust;
}

macro_rules! castable {
    ($($c:ident => $rust:ty),* $(,)?) => {
        $(impl Castable for $c {
            type Rust = $rust;
        })*
    };
}

castable! {
    push_redirect_excludes => ExcludeSet,
    push_redirect_declared_hints => DeclaredHints,
    push_redirect_write_budget => ChildBudget,
}

/// What one child keeps about the shared store: its write budget, the
/// store's health as the child sees it (its back-off, and the child's
/// clock), and where it counts.
pub(crate) struct ChildBudget {
    pub(crate) writes: WriteBudget,
    pub(crate) health: StoreHealth,
    /// The child's counters for the status page; `None`: not counted.
    pub(crate) counts: Option<Counts>,
}

impl ChildBudget {
    /// The child's clock ([`StoreHealth::now_ms`]).
    pub(crate) fn now_ms(&self) -> u64 {
        self.health.now_ms()
    }

    /// Whether the shared store may be used now: false during a back-off.
    pub(crate) fn usable(&self) -> bool {
        self.health.usable()
    }
}

/// `StoreHealth::BACKOFF_SECS`: how long a store that failed is left
/// alone, at most (a provider called by the request's thread, shmcb or
/// dbm, this long after each failure).
pub const PUSH_REDIRECT_BACKOFF_SECS: c_int = 30;
const _: () = assert!(PUSH_REDIRECT_BACKOFF_SECS as u64 == StoreHealth::BACKOFF_SECS);

/// `StoreHealth::PROBE_MS`: when a store called by the store threads
/// (memcache, redis) that failed or hung is first probed.
pub const PUSH_REDIRECT_PROBE_MS: u64 = 1000;
const _: () = assert!(PUSH_REDIRECT_PROBE_MS == StoreHealth::PROBE_MS);

/// The body of every `_new`: boxes `value`; a panic gives NULL.
pub(crate) fn new_handle<C: Castable>(value: impl FnOnce() -> C::Rust) -> *mut C {
    ffi_panic_boundary!(ptr::null_mut(), { Box::into_raw(Box::new(value())).cast() })
}

/// The body of every `_free`; NULL is ignored.
pub(crate) unsafe fn free_handle<C: Castable>(handle: *mut C) {
    ffi_panic_boundary!((), {
        if !handle.is_null() {
            drop(Box::from_raw(handle.cast::<C::Rust>()));
        }
    })
}

/// The value behind a handle, or `None` for NULL.
pub(crate) unsafe fn try_ref<'a, C: Castable>(handle: *const C) -> Option<&'a C::Rust> {
    handle.cast::<C::Rust>().as_ref()
}

pub(crate) unsafe fn try_mut<'a, C: Castable>(handle: *mut C) -> Option<&'a mut C::Rust> {
    handle.cast::<C::Rust>().as_mut()
}

/// The `PushRedirectExclude` patterns of one scope (opaque).
pub struct push_redirect_excludes {
    _private: [u8; 0],
}

/// The `PushRedirectEarlyHint` lines of one scope (opaque).
pub struct push_redirect_declared_hints {
    _private: [u8; 0],
}

/// The writes to the shared store one child may still make, and whether
/// the store is healthy as this child sees it (opaque, thread-safe).
pub struct push_redirect_write_budget {
    _private: [u8; 0],
}

/// An `On|Off` directive in one scope; zero (`Unset`) inherits, and means
/// the directive's default where nothing sets it.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum push_redirect_switch {
    Unset = 0,
    Off = 1,
    On = 2,
}

impl From<push_redirect_switch> for Switch {
    fn from(switch: push_redirect_switch) -> Switch {
        match switch {
            push_redirect_switch::Unset => Switch::Unset,
            push_redirect_switch::Off => Switch::Off,
            push_redirect_switch::On => Switch::On,
        }
    }
}

/// `PushRedirectStatus` of one scope: bit `n` of `bits` (low word first) is
/// status 300 + n. All zero: not set here.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct push_redirect_statuses {
    pub bits: [u64; 2],
}

impl push_redirect_statuses {
    pub(crate) fn set(self) -> Option<StatusSet> {
        StatusSet::from_bits(u128::from(self.bits[0]) | u128::from(self.bits[1]) << 64)
    }
}

/// Why a directive's value was not added.
pub(crate) enum Refusal {
    /// The value's fault: the message names it and says why.
    Invalid(String),
    /// The shim's (a NULL argument) or ours (a panic).
    Internal(push_redirect_result),
}

impl Refusal {
    const NULL: Refusal = Refusal::Internal(push_redirect_result::NullParameter);
}

impl From<ConfigError> for Refusal {
    fn from(error: ConfigError) -> Refusal {
        Refusal::Invalid(error.to_string())
    }
}

/// A directive's argument as text.
unsafe fn argument<'a>(value: *const c_char) -> Result<&'a str, Refusal> {
    if value.is_null() {
        return Err(Refusal::NULL);
    }
    let raw = CStr::from_ptr(value);
    raw.to_str()
        .map_err(|_| Refusal::Invalid(format!("'{}' is not valid UTF-8", raw.to_string_lossy())))
}

/// The bytes of a message at most: what the shim's buffer held when it
/// had one, which bounds a message that names a huge value in full (one
/// that is not UTF-8, or an internal error).
const MESSAGE_MAX: usize = 511;

/// The message when the shim's allocator cannot give one: never NULL,
/// which Apache would read as success.
const NO_MESSAGE: &CStr = c"internal error: no memory for the message";

/// Runs `add` inside the panic boundary and answers as an Apache cmd_func:
/// NULL when it added the value, else the message, copied with `alloc`.
/// A failure that is not the value's is `internal error (N) reading
/// 'VALUE'`, N its [`push_redirect_result`].
pub(crate) unsafe fn directive(
    alloc: push_redirect_alloc_fn,
    alloc_ctx: *mut c_void,
    value: *const c_char,
    add: impl FnOnce() -> Result<(), Refusal>,
) -> *const c_char {
    ffi_panic_boundary!(NO_MESSAGE.as_ptr(), {
        let panicked = Err(Refusal::Internal(push_redirect_result::Panic));
        let message = match ffi_panic_boundary!(panicked, { add() }) {
            Ok(()) => return ptr::null(),
            Err(Refusal::Invalid(message)) => message,
            Err(Refusal::Internal(result)) => {
                let value = match value.as_ref() {
                    Some(value) => CStr::from_ptr(value).to_string_lossy(),
                    None => "(null)".into(),
                };
                format!("internal error ({}) reading '{value}'", result as i32)
            }
        };
        let mut len = message.len().min(MESSAGE_MAX);
        while !message.is_char_boundary(len) {
            len -= 1;
        }
        let copy = Pool::new(alloc, alloc_ctx)
            .map_or(ptr::null(), |mut pool| pool.c_string(&message[..len]));
        if copy.is_null() {
            NO_MESSAGE.as_ptr()
        } else {
            copy
        }
    })
}

/// A new, empty pattern set, to be released with [`push_redirect_excludes_free`].
#[no_mangle]
pub extern "C" fn push_redirect_excludes_new() -> *mut push_redirect_excludes {
    new_handle(ExcludeSet::new)
}

/// Compiles `pattern` and adds it to `set`, as an Apache cmd_func: NULL
/// when it was added, else (the set unchanged) the message, from `alloc`
/// (static when that fails). Not thread-safe: call it while reading the configuration only.
///
/// # Safety
/// `set` is from [`push_redirect_excludes_new`] or NULL; `pattern` is a
/// NUL-terminated string or NULL; `alloc` is NULL or takes `alloc_ctx`.
#[no_mangle]
pub unsafe extern "C" fn push_redirect_excludes_add(
    set: *mut push_redirect_excludes,
    pattern: *const c_char,
    alloc: push_redirect_alloc_fn,
    alloc_ctx: *mut c_void,
) -> *const c_char {
    directive(alloc, alloc_ctx, pattern, || {
        let set = try_mut(set).ok_or(Refusal::NULL)?;
        Ok(set.add(argument(pattern)?)?)
    })
}

/// Releases a set from [`push_redirect_excludes_new`]; NULL is ignored.
///
/// # Safety
/// `set` is NULL or was returned by `push_redirect_excludes_new` and is not used again.
#[no_mangle]
pub unsafe extern "C" fn push_redirect_excludes_free(set: *mut push_redirect_excludes) {
    free_handle(set)
}

/// A new, empty set of declared hints, to be released with
/// [`push_redirect_declared_hints_free`].
#[no_mangle]
pub extern "C" fn push_redirect_declared_hints_new() -> *mut push_redirect_declared_hints {
    new_handle(DeclaredHints::new)
}

/// Adds one `PushRedirectEarlyHint <target_path> <link_value>` to `set`,
/// as [`push_redirect_excludes_add`] adds a pattern.
///
/// # Safety
/// `set` is from [`push_redirect_declared_hints_new`] or NULL; the strings
/// are NUL-terminated or NULL; `alloc` is NULL or takes `alloc_ctx`.
#[no_mangle]
pub unsafe extern "C" fn push_redirect_declared_hints_add(
    set: *mut push_redirect_declared_hints,
    target_path: *const c_char,
    link_value: *const c_char,
    alloc: push_redirect_alloc_fn,
    alloc_ctx: *mut c_void,
) -> *const c_char {
    directive(alloc, alloc_ctx, link_value, || {
        let set = try_mut(set).ok_or(Refusal::NULL)?;
        let path = argument(target_path)?;
        Ok(set.add(path, argument(link_value)?)?)
    })
}

/// Releases a set from [`push_redirect_declared_hints_new`]; NULL is ignored.
///
/// # Safety
/// `set` is NULL or was returned by `push_redirect_declared_hints_new` and is not used again.
#[no_mangle]
pub unsafe extern "C" fn push_redirect_declared_hints_free(set: *mut push_redirect_declared_hints) {
    free_handle(set)
}

/// A full write budget with its own clock, one per child, to be released
/// with `push_redirect_write_budget_release`. `probed`: the store is
/// called by the child's store threads, and a back-off ends only when a
/// probe finds it answering (`push_redirect_write_budget_probed`).
/// `counts`: the child's slot of `PUSH_REDIRECT_COUNTERS` counters, where
/// every call with this budget counts what it decided (NULL: nowhere).
///
/// # Safety
/// `counts` is NULL or points to `PUSH_REDIRECT_COUNTERS` 64-bit counters,
/// 8-byte aligned, that live as long as the process and that every
/// process changes only with atomic operations.
#[no_mangle]
pub unsafe extern "C" fn push_redirect_write_budget_new(
    probed: bool,
    counts: *mut u64,
) -> *mut push_redirect_write_budget {
    let counts = Counts::of(counts);
    new_handle(|| ChildBudget {
        writes: match counts {
            Some(counts) => WriteBudget::default().with_tally(Box::new(counts)),
            None => WriteBudget::default(),
        },
        health: match counts {
            Some(counts) => StoreHealth::new(probed).with_tally(Box::new(counts)),
            None => StoreHealth::new(probed),
        },
        counts,
    })
}

/// Releases the budget `*slot` points to and clears `*slot`, with the
/// signature of an APR pool cleanup, so that the global that holds a
/// child's budget never outlives it. Returns 0 (`APR_SUCCESS`); a NULL
/// `slot` or `*slot` is ignored.
///
/// # Safety
/// `slot` is NULL or points to a `push_redirect_write_budget *` that is
/// NULL or from `push_redirect_write_budget_new`, which no other thread
/// uses any more.
#[no_mangle]
pub unsafe extern "C" fn push_redirect_write_budget_release(slot: *mut c_void) -> c_int {
    ffi_panic_boundary!(0, {
        if let Some(slot) = slot.cast::<*mut push_redirect_write_budget>().as_mut() {
            free_handle(std::mem::replace(slot, ptr::null_mut()));
        }
        0
    })
}

/// Whether the shared store may be used now: false while it is backed
/// off. For a call about to be made, or a write about to be queued.
///
/// # Safety
/// `budget` is NULL or from `push_redirect_write_budget_new`; any thread.
#[no_mangle]
pub unsafe extern "C" fn push_redirect_write_budget_usable(
    budget: *const push_redirect_write_budget,
) -> bool {
    ffi_panic_boundary!(false, { try_ref(budget).is_some_and(ChildBudget::usable) })
}

/// The store's epoch, to be passed to `push_redirect_write_budget_fail`
/// for a call begun now.
///
/// # Safety
/// As for `push_redirect_write_budget_usable`.
#[no_mangle]
pub unsafe extern "C" fn push_redirect_write_budget_epoch(
    budget: *const push_redirect_write_budget,
) -> u64 {
    ffi_panic_boundary!(0, {
        try_ref(budget).map_or(0, |budget| budget.health.epoch())
    })
}

/// Notes that a call of the shared store begun at `epoch` failed or hung:
/// unless a back-off is running, or the store became healthy again since
/// the call began, one starts, during which `push_redirect_respond`
/// neither fetches nor learns. True for the one call, of all the threads
/// that saw failures, that started it (which logs it).
///
/// # Safety
/// As for `push_redirect_write_budget_usable`.
#[no_mangle]
pub unsafe extern "C" fn push_redirect_write_budget_fail(
    budget: *const push_redirect_write_budget,
    epoch: u64,
) -> bool {
    ffi_panic_boundary!(false, {
        try_ref(budget).is_some_and(|budget| budget.health.fail(epoch, budget.now_ms()))
    })
}

/// Whether a probe of the store is due: it is backed off, probed, and its
/// back-off is over. The caller makes one probe at a time.
///
/// # Safety
/// As for `push_redirect_write_budget_usable`.
#[no_mangle]
pub unsafe extern "C" fn push_redirect_write_budget_probe_due(
    budget: *const push_redirect_write_budget,
) -> bool {
    ffi_panic_boundary!(false, {
        try_ref(budget).is_some_and(|budget| budget.health.probe_due(budget.now_ms()))
    })
}

/// The result of a probe: `answered`, the store is healthy again (true
/// for the call that made it so, which logs it); else its back-off
/// doubles, up to `PUSH_REDIRECT_BACKOFF_SECS`.
///
/// # Safety
/// As for `push_redirect_write_budget_usable`.
#[no_mangle]
pub unsafe extern "C" fn push_redirect_write_budget_probed(
    budget: *const push_redirect_write_budget,
    answered: bool,
) -> bool {
    ffi_panic_boundary!(false, {
        try_ref(budget).is_some_and(|budget| budget.health.probed(answered, budget.now_ms()))
    })
}
