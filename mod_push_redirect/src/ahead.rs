//! The call before the handler: the shim's snapshot of the request in, at
//! most one 103 out (`PushRedirectEarlyHintsAhead`).

use std::ffi::c_void;

use push_redirect_core::{ahead, Ahead, EarlyHintsDecision, Reason};

use crate::answer::{
    answer_call, push_redirect_alloc_fn, push_redirect_answer, push_redirect_exchange,
    push_redirect_settings, push_redirect_store, reason_token, with_store, write_early_hints,
    ExchangeStrings, EMPTY_ANSWER,
};
use crate::push_redirect_result;

/// Decides the 103 to send before the handler runs, from what `store`
/// learned for the URL, and fills the early-hints fields of `*answer`
/// (`early_hints`, `early_hints_target`, `early_hints_skipped`); nothing
/// else is set. `exchange` is the request alone: no status, no response
/// fields. Where `settings` do not turn it on (`ahead_on`), the answer is
/// empty. Unless `answer` is NULL it is always filled: a caught panic, a
/// NULL argument or an allocation failure is `internal-error`.
///
/// # Safety
/// As for [`push_redirect_respond`](crate::push_redirect_respond).
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
        settings,
        exchange,
        alloc,
        alloc_ctx,
        answer,
        fail,
        |settings, exchange, mut pool, answer| {
            let strings = ExchangeStrings::new(exchange);
            let view = strings.view(exchange);
            let decision = match with_store(store, |store| ahead(settings, &view, store)) {
                Ahead::Off => return push_redirect_result::Ok,
                Ahead::Send(hints) => EarlyHintsDecision::Send(hints),
                Ahead::Skip(skip) => EarlyHintsDecision::Skip(skip),
            };
            write_early_hints(answer, &mut pool, decision);
            push_redirect_result::Ok
        },
    )
}

/// The answer to a call that failed: no 103, and `internal-error`.
unsafe fn fail(answer: &mut push_redirect_answer, _: *const push_redirect_settings) {
    *answer = EMPTY_ANSWER;
    answer.early_hints_skipped = reason_token(Reason::InternalError).as_ptr();
}

#[cfg(test)]
mod tests;
