//! The call before the handler: the shim's snapshot of the request in, at
//! most one 103 out (`PushRedirectEarlyHintsAhead`).

use std::ffi::c_void;

use push_redirect_core::{ahead, Call};

use crate::answer::{answer_call, push_redirect_answer, write_early_hints};
use crate::exchange::{push_redirect_exchange, Fields};
use crate::pool::{push_redirect_alloc_fn, Pool};
use crate::push_redirect_result;
use crate::settings::push_redirect_settings;
use crate::store::{counts_of, push_redirect_store, with_store};

/// Decides the 103 to send before the handler runs, from what `store`
/// learned for the URL, and fills the early-hints side of `*answer` (the
/// 103's value, `PUSH_REDIRECT_EARLY_HINTS` or
/// `PUSH_REDIRECT_EARLY_HINTS_SKIPPED`, the log lines); nothing else is
/// set. `exchange` is the request alone: no status, no response fields.
/// Where `settings` do not turn it on (`ahead_on`), the answer is empty.
/// Unless `answer` is NULL it is always filled: a caught panic, a NULL
/// argument or an allocation failure is `internal-error`.
///
/// # Safety
/// As for `push_redirect_respond`.
#[no_mangle]
pub unsafe extern "C" fn push_redirect_ahead(
    settings: *const push_redirect_settings,
    exchange: *const push_redirect_exchange,
    store: *const push_redirect_store,
    alloc: push_redirect_alloc_fn,
    alloc_ctx: *mut c_void,
    answer: *mut push_redirect_answer,
) -> push_redirect_result {
    answer_call(
        Call::Ahead,
        settings,
        exchange,
        Pool::new(alloc, alloc_ctx),
        answer,
        counts_of(store),
        |settings, exchange, pool, answer, counts| {
            let mut fields = Fields::new();
            fields.read_all(exchange);
            let view = fields.view(exchange);
            let decided = with_store(store, |store| ahead(settings, &view, store));
            let Some(mut decision) = decided.decision() else {
                return;
            };
            write_early_hints(answer, pool, &mut decision);
            if let Some(counts) = counts {
                decision.count(Call::Ahead, counts);
            }
        },
    )
}

#[cfg(test)]
mod tests;
