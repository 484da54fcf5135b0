//! The `push-redirect-info` handler's questions (docs/operating.md): what
//! a URL of this virtual host leads to, as the core explains it, in a
//! structured answer the shim writes out as HTML or JSON; the keys of a
//! URL's records, for `?forget=`; and the core's JSON escaper for the page.
//! The URL is asked about as a request the filter reads
//! ([`push_redirect_exchange`]), with the same reading of its fields.

use std::ffi::{c_char, c_void};
use std::ptr;

use push_redirect_core::{explain_for_page, json_string, RecordKey, MAX_HINTS, MAX_HOPS};

use crate::exchange::{push_redirect_exchange, Fields};
use crate::handles::try_ref;
use crate::pool::{push_redirect_alloc_fn, Pool};
use crate::settings::{push_redirect_settings, settings_view};
use crate::store::{push_redirect_store, with_store};
use crate::{bytes, ffi_panic_boundary, push_redirect_result};

/// What the URL leads to. Strings are from the alloc function or static;
/// NULL means "none".
#[repr(C)]
pub struct push_redirect_info {
    /// The URL whose record was found: the URL, or its path without the
    /// query; NULL: nothing is learned for it.
    pub record_of: *const c_char,
    /// A page's record: its hints, each a `Link` value.
    pub hints: [*const c_char; PUSH_REDIRECT_INFO_HINTS],
    pub hint_count: usize,
    /// A redirect's record: its target.
    pub redirect_to: *const c_char,
    /// The targets of the chain the redirect leads to, in order.
    pub hops: [*const c_char; PUSH_REDIRECT_INFO_HOPS],
    pub hop_count: usize,
    /// How the chain ends: `page`, `unknown`, `loop`, `too-long` or the
    /// reason a hop does not resolve; NULL without a chain.
    pub chain_end: *const c_char,
    /// The 103's one `Link` value, the page it is for, how many hints it
    /// carries and how many of them are declared, and whether it goes out
    /// ahead of the handler (else at the redirect)...
    pub early_hints: *const c_char,
    pub early_hints_for: *const c_char,
    pub early_hints_count: usize,
    pub early_hints_declared: usize,
    pub early_hints_ahead: bool,
    /// ...or why none would go out.
    pub no_early_hints: *const c_char,
    /// The store as this child sees it: `ok`, `none` (nothing is learned
    /// here), `backed-off` (it failed lately), `unanswered` (a lookup got
    /// no answer in time).
    pub store: *const c_char,
}

const EMPTY: push_redirect_info = push_redirect_info {
    record_of: ptr::null(),
    hints: [ptr::null(); PUSH_REDIRECT_INFO_HINTS],
    hint_count: 0,
    redirect_to: ptr::null(),
    hops: [ptr::null(); PUSH_REDIRECT_INFO_HOPS],
    hop_count: 0,
    chain_end: ptr::null(),
    early_hints: ptr::null(),
    early_hints_for: ptr::null(),
    early_hints_count: 0,
    early_hints_declared: 0,
    early_hints_ahead: false,
    no_early_hints: ptr::null(),
    store: ptr::null(),
};

/// The most hints of a record, and hops of a chain, the page shows: all.
pub const PUSH_REDIRECT_INFO_HINTS: usize = 16;
pub const PUSH_REDIRECT_INFO_HOPS: usize = 4;
const _: () = assert!(PUSH_REDIRECT_INFO_HINTS == MAX_HINTS && PUSH_REDIRECT_INFO_HOPS == MAX_HOPS);

/// Explains what the navigation `exchange` leads to with its URL's
/// `settings`, from what `store` holds, into `*info`. `exchange` is read
/// as the filter's request is (no status, no response fields): its request
/// target is the URL asked about, and the core makes it a fresh anonymous
/// GET over HTTP/2 (`push_redirect_core::explain`). The lookups are not
/// counted, nor noted among what the child settled
/// (`push_redirect_core::explain_for_page`). A NULL argument or a caught
/// panic is an error, with `*info` empty.
///
/// # Safety
/// `settings` and `exchange` as for `push_redirect_respond`; `store` too;
/// `info` is writable.
#[no_mangle]
pub unsafe extern "C" fn push_redirect_explain(
    settings: *const push_redirect_settings,
    exchange: *const push_redirect_exchange,
    store: *const push_redirect_store,
    alloc: push_redirect_alloc_fn,
    alloc_ctx: *mut c_void,
    info: *mut push_redirect_info,
) -> push_redirect_result {
    let Some(info) = info.as_mut() else {
        return push_redirect_result::NullParameter;
    };
    *info = EMPTY;
    ffi_panic_boundary!(push_redirect_result::Panic, {
        let (Some(settings), Some(exchange), Some(mut pool)) = (
            settings.as_ref(),
            exchange.as_ref(),
            Pool::new(alloc, alloc_ctx),
        ) else {
            return push_redirect_result::NullParameter;
        };
        let mut fields = Fields::new();
        fields.read_all(exchange);
        let asked = fields.view(exchange);
        let backed_off = store
            .as_ref()
            .and_then(|store| try_ref(store.budget))
            .is_some_and(|budget| !budget.usable());
        let (explanation, state) = with_store(store, |store| {
            explain_for_page(&settings_view(settings), &asked, store, backed_off)
        });
        info.store = state.as_c_str().as_ptr();
        if let Some(record) = &explanation.record {
            info.record_of = pool.c_string(explanation.record_of.as_deref().unwrap_or_default());
            for hint in record.hints().unwrap_or_default().iter().take(MAX_HINTS) {
                info.hints[info.hint_count] = pool.c_string(hint.as_str());
                info.hint_count += 1;
            }
            if let Some(target) = record.redirect_target() {
                info.redirect_to = pool.c_string(target);
            }
        }
        for hop in explanation.hops.iter().take(MAX_HOPS) {
            info.hops[info.hop_count] = pool.c_string(hop);
            info.hop_count += 1;
        }
        if let Some(end) = explanation.chain_end {
            info.chain_end = pool.c_string(end.as_str());
        }
        match &explanation.early_hints {
            Ok(preview) => {
                info.early_hints = pool.c_string(preview.hints.link_value());
                info.early_hints_for = pool.c_string(preview.hints.target_path());
                info.early_hints_count = preview.hints.count();
                info.early_hints_declared = preview.hints.declared();
                info.early_hints_ahead = preview.ahead;
            }
            Err(none) => info.no_early_hints = pool.c_string(none.as_str()),
        }
        push_redirect_result::Ok
    })
}

/// Writes the keys of the records of the URL `exchange` asks for (its
/// request target, on its virtual host and port): its record's into
/// `key`, that of its page's hints not yet public into `unconfirmed`
/// (`PUSH_REDIRECT_KEY_LEN` bytes each). False, and nothing written, when
/// the URL has no key (not a path, too long).
///
/// # Safety
/// `exchange` as for `push_redirect_respond`; `key` and `unconfirmed` are
/// writable for `PUSH_REDIRECT_KEY_LEN` bytes.
#[no_mangle]
pub unsafe extern "C" fn push_redirect_record_keys(
    exchange: *const push_redirect_exchange,
    key: *mut u8,
    unconfirmed: *mut u8,
) -> bool {
    ffi_panic_boundary!(false, {
        let Some(ex) = exchange.as_ref() else {
            return false;
        };
        if key.is_null() || unconfirmed.is_null() {
            return false;
        }
        let target = bytes(ex.request_target);
        let Some(record_key) = RecordKey::new(bytes(ex.vhost), ex.local_port, target) else {
            return false;
        };
        let n = record_key.as_bytes().len();
        ptr::copy_nonoverlapping(record_key.as_bytes().as_ptr(), key, n);
        ptr::copy_nonoverlapping(record_key.unconfirmed().as_bytes().as_ptr(), unconfirmed, n);
        true
    })
}

/// `text` as a JSON string, quotes included, escaped as the core's
/// `json_string` escapes it (so that it can stand in HTML or JavaScript),
/// from the alloc function; bytes that are not UTF-8 become U+FFFD. NULL
/// becomes `null`; NULL on a failure.
///
/// # Safety
/// `text` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn push_redirect_json_string(
    text: *const c_char,
    alloc: push_redirect_alloc_fn,
    alloc_ctx: *mut c_void,
) -> *const c_char {
    ffi_panic_boundary!(ptr::null(), {
        let Some(mut pool) = Pool::new(alloc, alloc_ctx) else {
            return ptr::null();
        };
        let json = if text.is_null() {
            "null".to_owned()
        } else {
            json_string(&String::from_utf8_lossy(bytes(text)))
        };
        pool.c_string(&json)
    })
}

#[cfg(test)]
mod tests;
