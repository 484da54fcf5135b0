//! The directives' values as the shim keeps them: opaque handles for what
//! is built once (patterns, declared hints, a child's write budget), plain `repr(C)` values for the rest.

use std::ffi::{c_char, c_int, c_void};
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use push_redirect_core::{
    parse_cache, parse_flag, parse_lifetime, ConfigError, DeclaredHints, ExcludeSet, StatusSet,
    Switch, WriteBudget,
};

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

/// What one child keeps about the shared store: its write budget, and when
/// a store that failed may be used again (milliseconds since `origin`, on
/// a clock that does not jump; 0: now).
pub(crate) struct ChildBudget {
    pub(crate) writes: WriteBudget,
    origin: Instant,
    resume_at_ms: AtomicU64,
}

impl ChildBudget {
    /// The child's clock: milliseconds since the budget was made, on
    /// `Instant` (`CLOCK_MONOTONIC` on Linux), so never going back. The
    /// write budget, the settled records' windows and the back-off all run
    /// on it: on a wall clock such as the request's start time
    /// (`r->request_time`), a step back of `D` seconds stopped every write
    /// for `D` seconds, and a step forward refilled the budget.
    pub(crate) fn now_ms(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Whether the shared store may be used now: false during a back-off.
    pub(crate) fn usable(&self) -> bool {
        // Without a back-off, as nearly always, the clock is not read.
        let resume_at_ms = self.resume_at_ms.load(Ordering::Acquire);
        resume_at_ms == 0 || resume_at_ms <= self.now_ms()
    }
}

/// How long a store that failed is left alone: its provider logs each
/// failure itself, so calling it on every request would fill the error log.
pub const PUSH_REDIRECT_BACKOFF_SECS: c_int = 30;

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

/// The writes to the shared store one child may still make (opaque,
/// thread-safe).
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

/// The body of every `_parse`: parses `value` with `parse` into `*out`, as
/// `into` converts it; on any failure, `err` says why.
unsafe fn parse_into<T, V>(
    value: *const c_char,
    out: *mut V,
    err: *mut c_char,
    err_len: usize,
    parse: impl FnOnce(&str) -> Result<T, ConfigError>,
    into: impl FnOnce(T) -> V,
) -> push_redirect_result {
    directive_boundary(value, err, err_len, || {
        if out.is_null() {
            return push_redirect_result::NullParameter;
        }
        match parse_directive(value, err, err_len, parse) {
            Ok(parsed) => {
                *out = into(parsed);
                push_redirect_result::Ok
            }
            Err(result) => result,
        }
    })
}

/// Parses the arguments of `PushRedirectStatus` (codes separated by white
/// space) into `*out`. On `InvalidValue`, `err` holds a NUL-terminated
/// message naming the value.
///
/// # Safety
/// `args` is a NUL-terminated string or NULL; `out` is writable or NULL;
/// `err` points to `err_len` writable bytes or is NULL.
pub(crate) unsafe fn push_redirect_statuses_parse(
    args: *const c_char,
    out: *mut push_redirect_statuses,
    err: *mut c_char,
    err_len: usize,
) -> push_redirect_result {
    parse_into(args, out, err, err_len, StatusSet::parse, |set| {
        let bits = set.bits();
        push_redirect_statuses {
            bits: [bits as u64, (bits >> 64) as u64],
        }
    })
}

/// Parses an `On|Off` argument (any case) into `*out`.
///
/// # Safety
/// As for [`push_redirect_statuses_parse`].
pub(crate) unsafe fn push_redirect_switch_parse(
    value: *const c_char,
    out: *mut push_redirect_switch,
    err: *mut c_char,
    err_len: usize,
) -> push_redirect_result {
    parse_into(value, out, err, err_len, parse_flag, |flag| {
        if flag {
            push_redirect_switch::On
        } else {
            push_redirect_switch::Off
        }
    })
}

/// A new, empty pattern set, to be released with [`push_redirect_excludes_free`].
pub(crate) fn push_redirect_excludes_new() -> *mut push_redirect_excludes {
    new_handle(ExcludeSet::new)
}

/// Compiles `pattern` and adds it to `set`. On `InvalidValue` the set is
/// unchanged and `err` names the pattern and the problem. Not thread-safe:
/// call it while reading the configuration only.
///
/// # Safety
/// `set` is from [`push_redirect_excludes_new`] or NULL; `pattern` is a
/// NUL-terminated string or NULL; `err` as for [`push_redirect_statuses_parse`].
pub(crate) unsafe fn push_redirect_excludes_add(
    set: *mut push_redirect_excludes,
    pattern: *const c_char,
    err: *mut c_char,
    err_len: usize,
) -> push_redirect_result {
    ffi_panic_boundary!(push_redirect_result::Panic, {
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
pub(crate) unsafe fn push_redirect_excludes_free(set: *mut push_redirect_excludes) {
    free_handle(set)
}

/// A new, empty set of declared hints, to be released with
/// [`push_redirect_declared_hints_free`].
pub(crate) fn push_redirect_declared_hints_new() -> *mut push_redirect_declared_hints {
    new_handle(DeclaredHints::new)
}

/// Adds one `PushRedirectEarlyHint <target_path> <link_value>` to `set`. On
/// `InvalidValue` the set is unchanged and `err` names the value. Not
/// thread-safe: call it while reading the configuration only.
///
/// # Safety
/// `set` is from [`push_redirect_declared_hints_new`] or NULL; the strings
/// are NUL-terminated or NULL; `err` as for [`push_redirect_statuses_parse`].
pub(crate) unsafe fn push_redirect_declared_hints_add(
    set: *mut push_redirect_declared_hints,
    target_path: *const c_char,
    link_value: *const c_char,
    err: *mut c_char,
    err_len: usize,
) -> push_redirect_result {
    ffi_panic_boundary!(push_redirect_result::Panic, {
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
pub(crate) unsafe fn push_redirect_declared_hints_free(set: *mut push_redirect_declared_hints) {
    free_handle(set)
}

/// Parses `PushRedirectEarlyHintsLifetime <seconds>` into `*out`.
///
/// # Safety
/// As for [`push_redirect_statuses_parse`].
#[no_mangle]
pub unsafe extern "C" fn push_redirect_lifetime_parse(
    value: *const c_char,
    out: *mut u64,
    err: *mut c_char,
    err_len: usize,
) -> push_redirect_result {
    parse_into(value, out, err, err_len, parse_lifetime, |secs| secs)
}

/// `PushRedirectEarlyHintsCache` as the shim uses it: the provider's name,
/// NUL-terminated (empty for `none`), and its arguments, `args_len` bytes
/// at `args` (inside the value parsed, or static), NULL for the
/// provider's own defaults.
#[repr(C)]
pub struct push_redirect_cache_spec {
    pub provider: [c_char; 32],
    pub args: *const c_char,
    pub args_len: usize,
}

/// Parses a `PushRedirectEarlyHintsCache` value into `*out`; `shmcb` alone
/// is the default store (and what the shim parses when the directive is
/// absent). The former `<entries> <seconds>` form is an error naming what
/// replaced it.
///
/// # Safety
/// As for [`push_redirect_statuses_parse`]; `out.args` points into `value`.
#[no_mangle]
pub unsafe extern "C" fn push_redirect_cache_spec_parse(
    value: *const c_char,
    out: *mut push_redirect_cache_spec,
    err: *mut c_char,
    err_len: usize,
) -> push_redirect_result {
    let to_c = |spec: push_redirect_core::CacheSpec<'_>| {
        let mut out = push_redirect_cache_spec {
            provider: [0; 32],
            args: ptr::null(),
            args_len: 0,
        };
        let name = spec.provider.unwrap_or_default().as_bytes();
        for (slot, &b) in out.provider.iter_mut().zip(&name[..name.len().min(31)]) {
            *slot = b as c_char;
        }
        if let Some(args) = spec.args {
            out.args = args.as_ptr().cast();
            out.args_len = args.len();
        }
        out
    };
    parse_into(
        value,
        out,
        err,
        err_len,
        |text| parse_cache(text).map(to_c),
        |spec| spec,
    )
}

/// A full write budget with its own clock, one per child, to be released
/// with [`push_redirect_write_budget_release`].
#[no_mangle]
pub extern "C" fn push_redirect_write_budget_new() -> *mut push_redirect_write_budget {
    new_handle(|| ChildBudget {
        writes: WriteBudget::default(),
        origin: Instant::now(),
        resume_at_ms: AtomicU64::new(0),
    })
}

/// Releases the budget `*slot` points to and clears `*slot`, with the
/// signature of an APR pool cleanup, so that the global that holds a
/// child's budget never outlives it. Returns 0 (`APR_SUCCESS`); a NULL
/// `slot` or `*slot` is ignored.
///
/// # Safety
/// `slot` is NULL or points to a `push_redirect_write_budget *` that is
/// NULL or from [`push_redirect_write_budget_new`], which no other thread
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

/// Notes that the shared store failed: unless a back-off is running, one of
/// [`PUSH_REDIRECT_BACKOFF_SECS`] starts, during which
/// [`push_redirect_respond`](crate::push_redirect_respond) neither fetches
/// nor learns. True for the one call, of all the threads that saw failures,
/// that started it (which logs it).
///
/// # Safety
/// `budget` is NULL or from [`push_redirect_write_budget_new`]; any thread.
#[no_mangle]
pub unsafe extern "C" fn push_redirect_write_budget_fail(
    budget: *const push_redirect_write_budget,
) -> bool {
    ffi_panic_boundary!(false, {
        let Some(budget) = try_ref(budget) else {
            return false;
        };
        let now_ms = budget.now_ms();
        let seen = budget.resume_at_ms.load(Ordering::Acquire);
        let resume_at = now_ms + PUSH_REDIRECT_BACKOFF_SECS as u64 * 1000;
        seen <= now_ms
            && budget
                .resume_at_ms
                .compare_exchange(seen, resume_at, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
    })
}
