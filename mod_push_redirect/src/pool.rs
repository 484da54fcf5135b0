//! Memory from the shim's allocator (`apr_palloc` on an Apache pool):
//! where the strings of an answer, of the info page and of a directive's
//! error live.

use std::ffi::{c_char, c_void};
use std::ptr;

/// Allocates `size` bytes that live as long as the caller reads them (the
/// shim passes `apr_palloc` on the request pool, or on `cmd->pool` for a
/// directive). Returns NULL on failure.
pub type push_redirect_alloc_fn =
    Option<unsafe extern "C" fn(alloc_ctx: *mut c_void, size: usize) -> *mut c_void>;

/// Memory from the shim's allocator.
pub(crate) struct Pool {
    alloc: unsafe extern "C" fn(*mut c_void, usize) -> *mut c_void,
    alloc_ctx: *mut c_void,
}

impl Pool {
    /// The shim's allocator and its context; `None` for NULL.
    pub(crate) fn new(alloc: push_redirect_alloc_fn, alloc_ctx: *mut c_void) -> Option<Pool> {
        Some(Pool {
            alloc: alloc?,
            alloc_ctx,
        })
    }

    /// `len` bytes; `None` when the allocation fails.
    pub(crate) unsafe fn bytes(&mut self, len: usize) -> Option<&mut [u8]> {
        let buf = (self.alloc)(self.alloc_ctx, len).cast::<u8>();
        (!buf.is_null()).then(|| std::slice::from_raw_parts_mut(buf, len))
    }

    /// One allocation for a NUL-terminated value of `len` bytes, to be
    /// written by the caller, followed by a NUL-terminated copy of `tail`.
    pub(crate) unsafe fn strings(
        &mut self,
        len: usize,
        tail: &str,
    ) -> Option<(&mut [u8], *const c_char)> {
        let all = self.bytes(len + 1 + tail.len() + 1)?;
        let (value, rest) = all.split_at_mut(len);
        rest[0] = 0;
        rest[1..=tail.len()].copy_from_slice(tail.as_bytes());
        rest[tail.len() + 1] = 0;
        Some((value, rest[1..].as_ptr().cast()))
    }

    /// A NUL-terminated copy of `text`; NULL when the allocation fails.
    pub(crate) unsafe fn c_string(&mut self, text: &str) -> *const c_char {
        match self.bytes(text.len() + 1) {
            Some(buf) => {
                buf[..text.len()].copy_from_slice(text.as_bytes());
                buf[text.len()] = 0;
                buf.as_ptr().cast()
            }
            None => ptr::null(),
        }
    }
}
