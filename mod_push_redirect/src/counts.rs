//! The counters of the module's `server-status` section (docs/operating.md):
//! one slot of [`PUSH_REDIRECT_COUNTERS`] 64-bit counters per child, in
//! shared memory the shim makes; each child adds to its own with relaxed
//! atomic additions, and the status page sums the slots. Which counters
//! there are, their names and labels and what each counts are the core's
//! ([`Counter`]).

use std::ffi::c_char;
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};

use push_redirect_core::{Counter, Tally};

use crate::ffi_panic_boundary;

/// The counters of one slot.
pub const PUSH_REDIRECT_COUNTERS: usize = 41;
const _: () = assert!(PUSH_REDIRECT_COUNTERS == Counter::COUNT);

/// What the status page prints for a counter: its `server-status?auto`
/// key, its label, and the heading of its group (static strings).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct push_redirect_counter_text {
    pub name: *const c_char,
    pub label: *const c_char,
    pub group: *const c_char,
}

/// The text of counter `counter`; all NULL past the last.
#[no_mangle]
pub extern "C" fn push_redirect_counter_describe(counter: usize) -> push_redirect_counter_text {
    const NONE: push_redirect_counter_text = push_redirect_counter_text {
        name: ptr::null(),
        label: ptr::null(),
        group: ptr::null(),
    };
    ffi_panic_boundary!(NONE, {
        Counter::text(counter).map_or(NONE, |text| push_redirect_counter_text {
            name: text.name.as_ptr(),
            label: text.label.as_ptr(),
            group: text.group.as_ptr(),
        })
    })
}

/// One child's slot.
#[derive(Clone, Copy)]
pub(crate) struct Counts(&'static [AtomicU64; PUSH_REDIRECT_COUNTERS]);

impl Counts {
    /// The slot at `slot`; `None` for NULL.
    ///
    /// # Safety
    /// `slot` is NULL or points to [`PUSH_REDIRECT_COUNTERS`] counters,
    /// 8-byte aligned, that live as long as the process and are only
    /// ever changed atomically.
    pub(crate) unsafe fn of(slot: *mut u64) -> Option<Counts> {
        // SAFETY: AtomicU64 has the size of u64; the caller vouches for
        // the rest.
        slot.cast::<[AtomicU64; PUSH_REDIRECT_COUNTERS]>()
            .as_ref()
            .map(Counts)
    }

    /// The counter at `index`.
    #[cfg(test)]
    pub(crate) fn get(&self, index: usize) -> u64 {
        self.0[index].load(Ordering::Relaxed)
    }
}

impl Tally for Counts {
    #[inline]
    fn add(&self, counter: Counter, n: u64) {
        self.0[counter as usize].fetch_add(n, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests;
