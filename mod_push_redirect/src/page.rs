//! A 200 whose body is read before it teaches (docs/behaviour.md, "What is
//! learned"): the answer hands the shim a [`push_redirect_page`], which it
//! feeds the body as it goes out and then finishes (or frees, when the
//! response is abandoned).

use push_redirect_core::PageLearning;

use crate::answer::{push_redirect_answer, push_redirect_page, write_learn, EMPTY_ANSWER};
use crate::store::{push_redirect_store, with_store};
use crate::{ffi_panic_boundary, push_redirect_result};

unsafe fn page_mut<'a>(page: *mut push_redirect_page) -> Option<&'a mut PageLearning> {
    page.cast::<PageLearning>().as_mut()
}

/// The next `len` bytes of the page's body, as they go out. Returns whether
/// more are wanted: false once the scan has ended (the end of the head, its
/// bound, a failure), and for a NULL page; then the shim stops feeding and
/// finishes it.
///
/// # Safety
/// `page` is NULL or from an answer and neither finished nor freed; `data`
/// is valid for `len` bytes (or `len` is 0).
#[no_mangle]
pub unsafe extern "C" fn push_redirect_page_feed(
    page: *mut push_redirect_page,
    data: *const u8,
    len: usize,
) -> bool {
    ffi_panic_boundary!(false, {
        let Some(page) = page_mut(page) else {
            return false;
        };
        let chunk = if len == 0 || data.is_null() {
            &[][..]
        } else {
            std::slice::from_raw_parts(data, len)
        };
        page.feed(chunk)
    })
}

/// Learns what the page teaches, its body read as far as it was fed, frees
/// it, writes the records through `store`'s `put` as a respond call does,
/// and fills the store's part of `*answer` (whether it taught and how many
/// hints; nothing else). A NULL page or store teaches nothing; a caught
/// panic leaves the answer empty.
///
/// # Safety
/// `page` is NULL or from an answer and neither finished nor freed (it is
/// not used after this call); `store` as for `push_redirect_respond`;
/// `answer` is writable.
#[no_mangle]
pub unsafe extern "C" fn push_redirect_page_finish(
    page: *mut push_redirect_page,
    store: *const push_redirect_store,
    answer: *mut push_redirect_answer,
) -> push_redirect_result {
    let Some(answer) = answer.as_mut() else {
        push_redirect_page_free(page);
        return push_redirect_result::NullParameter;
    };
    *answer = EMPTY_ANSWER;
    answer.strip_opt_out = false;
    ffi_panic_boundary!(push_redirect_result::Panic, {
        if page.is_null() {
            return push_redirect_result::NullParameter;
        }
        let page = Box::from_raw(page.cast::<PageLearning>());
        let learn = with_store(store, |store| page.finish(store?));
        if let Some(learn) = &learn {
            write_learn(answer, learn);
        }
        push_redirect_result::Ok
    })
}

/// Frees a page that will not be finished (its response was abandoned). A
/// NULL page is ignored.
///
/// # Safety
/// `page` is NULL or from an answer and neither finished nor freed.
#[no_mangle]
pub unsafe extern "C" fn push_redirect_page_free(page: *mut push_redirect_page) {
    ffi_panic_boundary!((), {
        if !page.is_null() {
            drop(Box::from_raw(page.cast::<PageLearning>()));
        }
    })
}

#[cfg(test)]
mod tests;
