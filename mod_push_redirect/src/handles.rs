//! The directives' values as the shim keeps them: opaque handles for what
//! is built once (patterns, declared hints, a child's write budget), plain `repr(C)` values for the rest.

use std::ffi::{c_char, c_int, c_void};
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use push_redirect_core::{Counter, DeclaredHints, ExcludeSet, StatusSet, Switch, WriteBudget};

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

/// What one child keeps about the shared store: its write budget, and
/// whether the store is healthy: a store that failed or hung is backed off
/// until `resume_at_ms` (milliseconds since `origin`, on a clock that does
/// not jump; 0: healthy).
///
/// How a back-off ends depends on who calls the store. A provider called
/// by the request's own thread (shmcb, dbm, `probed` false) is used again
/// once its back-off of [`PUSH_REDIRECT_BACKOFF_SECS`] is over. A provider
/// called by the child's store threads (memcache, redis, `probed` true) can
/// hang: it stays unused until a probe, which one store thread makes when
/// the back-off is over, finds it answering; each probe that fails doubles
/// the back-off, from [`PUSH_REDIRECT_PROBE_MS`] up to
/// [`PUSH_REDIRECT_BACKOFF_SECS`].
pub(crate) struct ChildBudget {
    pub(crate) writes: WriteBudget,
    origin: Instant,
    probed: bool,
    resume_at_ms: AtomicU64,
    backoff_ms: AtomicU64,
    /// How many times the store became healthy again: a call begun before
    /// that (one abandoned to a hang that fails at last) says nothing of
    /// the store as it is now.
    epoch: AtomicU64,
    /// The child's counters for the status page; `None`: not counted.
    pub(crate) counts: Option<Counts>,
}

impl ChildBudget {
    /// The child's clock: milliseconds since the budget was made, on
    /// `Instant` (`CLOCK_MONOTONIC` on Linux), so never going back. The
    /// write budget, the settled records' windows and the back-off all run
    /// on it: on a wall clock such as the request's start time
    /// (`r->request_time`), a step back of `D` seconds stopped every write
    /// for `D` seconds, and a step forward refilled the budget.
    pub(crate) fn now_ms(&self) -> u64 {
        // Never 0, which means "healthy" in `resume_at_ms`.
        u64::try_from(self.origin.elapsed().as_millis()).map_or(u64::MAX, |ms| ms.max(1))
    }

    /// Whether the shared store may be used now: false during a back-off.
    pub(crate) fn usable(&self) -> bool {
        // Without a back-off, as nearly always, the clock is not read.
        let resume_at_ms = self.resume_at_ms.load(Ordering::Acquire);
        resume_at_ms == 0 || (!self.probed && resume_at_ms <= self.now_ms())
    }

    /// A call begun at `epoch` failed or hung at `now_ms`; true when that
    /// started a back-off.
    pub(crate) fn fail(&self, epoch: u64, now_ms: u64) -> bool {
        let seen = self.resume_at_ms.load(Ordering::Acquire);
        let over = seen == 0 || (!self.probed && seen <= now_ms);
        if !over || epoch != self.epoch.load(Ordering::Acquire) {
            return false;
        }
        let backoff_ms = if self.probed {
            PUSH_REDIRECT_PROBE_MS
        } else {
            PUSH_REDIRECT_BACKOFF_SECS as u64 * 1000
        };
        let started = self
            .resume_at_ms
            .compare_exchange(
                seen,
                now_ms + backoff_ms,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok();
        if started {
            self.backoff_ms.store(backoff_ms, Ordering::Release);
            if let Some(counts) = &self.counts {
                counts.add(Counter::StoreFailures, 1);
            }
        }
        started
    }

    pub(crate) fn probe_due(&self, now_ms: u64) -> bool {
        let resume_at_ms = self.resume_at_ms.load(Ordering::Acquire);
        self.probed && resume_at_ms != 0 && resume_at_ms <= now_ms
    }

    /// A probe ended at `now_ms`; true when its answer made the store
    /// healthy again.
    pub(crate) fn probed(&self, answered: bool, now_ms: u64) -> bool {
        if answered {
            // The epoch first: a call begun before this probe answered,
            // and failing later, must not start a back-off.
            self.epoch.fetch_add(1, Ordering::AcqRel);
            return self.resume_at_ms.swap(0, Ordering::AcqRel) != 0;
        }
        let max_ms = PUSH_REDIRECT_BACKOFF_SECS as u64 * 1000;
        let backoff_ms =
            (self.backoff_ms.load(Ordering::Acquire) * 2).clamp(PUSH_REDIRECT_PROBE_MS, max_ms);
        self.backoff_ms.store(backoff_ms, Ordering::Release);
        self.resume_at_ms
            .store(now_ms + backoff_ms, Ordering::Release);
        false
    }
}

/// How long a store that failed is left alone, at most: its provider logs
/// each failure itself, so calling it on every request would fill the
/// error log. A provider called by the request's thread (shmcb, dbm) is
/// left alone this long after each failure.
pub const PUSH_REDIRECT_BACKOFF_SECS: c_int = 30;

/// When a store called by the store threads (memcache, redis) that failed
/// or hung is first probed: a hang that ends (a redis paused, then resumed)
/// costs a few seconds of learning, not half a minute.
pub const PUSH_REDIRECT_PROBE_MS: u64 = 1000;

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
        origin: Instant::now(),
        probed,
        resume_at_ms: AtomicU64::new(0),
        backoff_ms: AtomicU64::new(0),
        epoch: AtomicU64::new(0),
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
        try_ref(budget).map_or(0, |budget| budget.epoch.load(Ordering::Acquire))
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
        try_ref(budget).is_some_and(|budget| budget.fail(epoch, budget.now_ms()))
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
        try_ref(budget).is_some_and(|budget| budget.probe_due(budget.now_ms()))
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
        try_ref(budget).is_some_and(|budget| budget.probed(answered, budget.now_ms()))
    })
}
