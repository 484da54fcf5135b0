//! The directives' values as the shim keeps them: opaque handles for what
//! is built once (patterns, declared hints, a child's write budget), plain `repr(C)` values for the rest.

use std::ffi::{c_char, c_int, c_void};
use std::ptr;

use push_redirect_core::{
    Counter, DeclaredHints, ExcludeSet, StatusSet, StoreHealth, Switch, Tally, WriteBudget,
};

use crate::counts::Counts;
use crate::{directive_boundary, ffi_panic_boundary, parse_directive, push_redirect_result};

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

/// A new, empty pattern set, to be released with [`push_redirect_excludes_free`].
#[no_mangle]
pub extern "C" fn push_redirect_excludes_new() -> *mut push_redirect_excludes {
    new_handle(ExcludeSet::new)
}

/// Compiles `pattern` and adds it to `set`. On `InvalidValue` the set is
/// unchanged and `err` names the pattern and the problem. Not thread-safe:
/// call it while reading the configuration only.
///
/// # Safety
/// `set` is from [`push_redirect_excludes_new`] or NULL; `pattern` is a
/// NUL-terminated string or NULL; `err` points to `err_len` writable bytes or is NULL.
#[no_mangle]
pub unsafe extern "C" fn push_redirect_excludes_add(
    set: *mut push_redirect_excludes,
    pattern: *const c_char,
    err: *mut c_char,
    err_len: usize,
) -> push_redirect_result {
    directive_boundary(pattern, err, err_len, || {
        let Some(set) = try_mut(set) else {
            return push_redirect_result::NullParameter;
        };
        match parse_directive(pattern, err, err_len, |text| set.add(text)) {
            Ok(()) => push_redirect_result::Ok,
            Err(result) => result,
        }
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

/// Adds one `PushRedirectEarlyHint <target_path> <link_value>` to `set`. On
/// `InvalidValue` the set is unchanged and `err` names the value. Not
/// thread-safe: call it while reading the configuration only.
///
/// # Safety
/// `set` is from [`push_redirect_declared_hints_new`] or NULL; the strings
/// are NUL-terminated or NULL; `err` points to `err_len` writable bytes or is NULL.
#[no_mangle]
pub unsafe extern "C" fn push_redirect_declared_hints_add(
    set: *mut push_redirect_declared_hints,
    target_path: *const c_char,
    link_value: *const c_char,
    err: *mut c_char,
    err_len: usize,
) -> push_redirect_result {
    directive_boundary(link_value, err, err_len, || {
        let Some(set) = try_mut(set) else {
            return push_redirect_result::NullParameter;
        };
        let paths = parse_directive(target_path, err, err_len, |path| Ok(path.to_owned()));
        let added = paths.and_then(|path| {
            parse_directive(link_value, err, err_len, |value| set.add(&path, value))
        });
        match added {
            Ok(()) => push_redirect_result::Ok,
            Err(result) => result,
        }
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
        health: StoreHealth::new(probed),
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
        try_ref(budget).is_some_and(|budget| {
            let started = budget.health.fail(epoch, budget.now_ms());
            if let (true, Some(counts)) = (started, &budget.counts) {
                counts.add(Counter::StoreFailures, 1);
            }
            started
        })
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
