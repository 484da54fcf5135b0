//! The one call per response: the shim's snapshot of the request and
//! response in, everything it must do out.

use std::ffi::c_void;

use push_redirect_core::{respond, Call, Exchange, Response, Settings, Step, Store};

use crate::answer::{
    answer_call, push_redirect_answer, write_early_hints, write_learn, write_push,
};
use crate::exchange::{push_redirect_exchange, Fields};
use crate::pool::{push_redirect_alloc_fn, Pool};
use crate::push_redirect_result;
use crate::settings::push_redirect_settings;
use crate::store::{counts_of, push_redirect_store, with_store};

/// Decides everything for one response and fills `*answer`: the push, the
/// 103 (with the hints learned in `store`); the record a 200 or a redirect
/// teaches is written through `store`'s `put` during the call, and the
/// answer says how many hints it holds. Unless `answer` is NULL it is
/// always filled: a caught panic, a NULL argument or an allocation failure
/// is the skip reason `internal-error` on each side that is on.
///
/// # Safety
/// `settings` and `exchange` are valid for reads as documented on their
/// types (their pointers borrowed for the call only); `store` is NULL or
/// valid for reads, its budget from `push_redirect_write_budget_new` or
/// NULL; `answer` is writable.
#[no_mangle]
pub unsafe extern "C" fn push_redirect_respond(
    settings: *const push_redirect_settings,
    exchange: *const push_redirect_exchange,
    store: *const push_redirect_store,
    alloc: push_redirect_alloc_fn,
    alloc_ctx: *mut c_void,
    answer: *mut push_redirect_answer,
) -> push_redirect_result {
    respond_with(respond, settings, exchange, store, alloc, alloc_ctx, answer)
}

/// [`push_redirect_respond`] with the decision as a parameter, so that a
/// test can make it panic and watch the boundary at work.
pub(crate) unsafe fn respond_with(
    respond: impl for<'a> FnOnce(&Settings<'_>, &Exchange<'a>, Option<&mut Store<'_>>) -> Response<'a>,
    settings: *const push_redirect_settings,
    exchange: *const push_redirect_exchange,
    store: *const push_redirect_store,
    alloc: push_redirect_alloc_fn,
    alloc_ctx: *mut c_void,
    answer: *mut push_redirect_answer,
) -> push_redirect_result {
    answer_call(
        Call::Respond,
        settings,
        exchange,
        Pool::new(alloc, alloc_ctx),
        answer,
        counts_of(store),
        |settings, exchange, pool, answer, counts| {
            // Nothing but the status is read for a response nothing is decided for.
            if settings.step(Some(exchange.status)) != Step::Respond {
                return;
            }
            let mut fields = Fields::new();
            fields.read_all(exchange);
            let view = fields.view(exchange);
            let mut response = with_store(store, |store| respond(settings, &view, store));
            answer.strip_opt_out = !fields.opt_out_values().is_empty();
            if let Some(learn) = &response.learn {
                write_learn(answer, learn);
            }
            if let Some(page) = response.page.take() {
                answer.page = Box::into_raw(page).cast();
            }
            write_push(answer, pool, &mut response);
            if let Some(decision) = &mut response.early_hints {
                write_early_hints(answer, pool, decision);
            }
            if let Some(counts) = counts {
                response.count(counts);
            }
        },
    )
}

#[cfg(test)]
mod tests;
