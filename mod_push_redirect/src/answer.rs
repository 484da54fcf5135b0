//! What a call tells the shim to do ([`push_redirect_answer`]): the `Link`
//! values to add, the 103, the variables and the log's fields; the boundary
//! that always fills it, with `internal-error` where a call fails; and the
//! writers that fill it from the core's decisions.

use std::ffi::c_char;
use std::ptr;

use push_redirect_core::{
    Call, Decision, EarlyHintsDecision, EarlyHintsSkip, Failed, Learn, Reason, Response, Settings,
    MAX_HOPS,
};

use crate::counts::Counts;
use crate::exchange::push_redirect_exchange;
use crate::pool::Pool;
use crate::settings::{push_redirect_settings, settings_view};
use crate::{ffi_panic_boundary, push_redirect_result};

/// The most `Link` fields one answer adds: the push's and one per further
/// hop of its chain (`MAX_HOPS`).
pub const PUSH_REDIRECT_MAX_LINKS: usize = 4;
const _: () = assert!(PUSH_REDIRECT_MAX_LINKS == MAX_HOPS);

/// A page being read (opaque): from a `push_redirect_answer`, owned by
/// the shim until it is finished or freed (page.rs).
pub struct push_redirect_page {
    _private: [u8; 0],
}

/// Everything to do for one response. Strings are in memory from the alloc
/// function or static; NULL means "nothing".
#[repr(C)]
pub struct push_redirect_answer {
    /// `Link` field values to append, in order.
    pub links: [*const c_char; PUSH_REDIRECT_MAX_LINKS],
    pub link_count: usize,
    /// The one `Link` value of a 103 to send before the response.
    pub early_hints: *const c_char,
    /// The push side: the path+query its `Link` pushes (the variable
    /// `PUSH_REDIRECT`), or why the redirect gets none
    /// (`PUSH_REDIRECT_SKIPPED`, a token of docs/behaviour.md); both NULL
    /// when nothing was decided.
    pub pushed: *const c_char,
    pub skipped: *const c_char,
    /// The 103 side: the target path whose hints it carries
    /// (`PUSH_REDIRECT_EARLY_HINTS`), or why none goes out
    /// (`PUSH_REDIRECT_EARLY_HINTS_SKIPPED`); both NULL when nothing was
    /// decided.
    pub early_hints_target: *const c_char,
    pub early_hints_skipped: *const c_char,
    /// The response taught: the call wrote through the store's `put` (a
    /// record, a page's hints not yet public, or both), for the log...
    pub taught: bool,
    /// ...how many hints the record holds, and how many of them its page's
    /// HTML gave...
    pub learned: usize,
    pub learned_from_html: usize,
    /// ...and whether some wait for a second response to agree (the page
    /// may be one visitor's: docs/behaviour.md, "Pages that may be one
    /// visitor's").
    pub awaiting_confirmation: bool,
    /// A 200 whose body is read before it teaches: the shim feeds it the
    /// body (`push_redirect_page_feed`), then finishes it
    /// (`push_redirect_page_finish`) or frees it; NULL: none.
    pub page: *mut push_redirect_page,
    /// Remove `X-Push-Redirect` from the response: it has one (or, after
    /// a failure, may have).
    pub strip_opt_out: bool,
}

pub(crate) const EMPTY_ANSWER: push_redirect_answer = push_redirect_answer {
    links: [ptr::null(); PUSH_REDIRECT_MAX_LINKS],
    link_count: 0,
    early_hints: ptr::null(),
    pushed: ptr::null(),
    skipped: ptr::null(),
    early_hints_target: ptr::null(),
    early_hints_skipped: ptr::null(),
    taught: false,
    learned: 0,
    learned_from_html: 0,
    awaiting_confirmation: false,
    page: ptr::null_mut(),
    strip_opt_out: Call::Respond.strips_unread_opt_out(),
};

impl push_redirect_answer {
    /// The redirect gets no `Link`, for `reason`.
    fn skip(&mut self, reason: Reason) {
        self.skipped = reason.as_c_str().as_ptr();
    }

    /// The redirect gets no 103, for `skip`.
    fn skip_early_hints(&mut self, skip: EarlyHintsSkip) {
        self.early_hints_skipped = skip.as_c_str().as_ptr();
    }
}

/// The boundary both calls that fill an answer share (`call`: the push and
/// the 103 of a response, [`push_redirect_respond`](crate::push_redirect_respond), or the 103 alone
/// before there is a response, [`push_redirect_ahead`](crate::push_redirect_ahead)):
/// `*answer` is emptied first, then filled by `body` (inside the panic
/// boundary, with the settings' view, the exchange, the shim's pool and
/// the child's counters, to which it adds what it answered), or as
/// [`fail`] says when an argument is NULL or `body` panics. Unless
/// `answer` is NULL it is always filled; the shim logs it.
///
/// Inlined into each entry point, so that the respond call, which every
/// redirect makes, pays for no indirection: `call` is a constant there.
///
/// # Safety
/// As for [`push_redirect_respond`](crate::push_redirect_respond).
#[inline(always)]
pub(crate) unsafe fn answer_call(
    call: Call,
    settings: *const push_redirect_settings,
    exchange: *const push_redirect_exchange,
    pool: Option<Pool>,
    answer: *mut push_redirect_answer,
    counts: Option<&Counts>,
    body: impl FnOnce(
        &Settings<'_>,
        &push_redirect_exchange,
        &mut Pool,
        &mut push_redirect_answer,
        Option<&Counts>,
    ),
) -> push_redirect_result {
    if answer.is_null() {
        return push_redirect_result::NullParameter;
    }
    empty(answer, call);
    let answer = &mut *answer;
    let failed = |answer: &mut push_redirect_answer, result| {
        fail(answer, settings, call, counts);
        result
    };
    ffi_panic_boundary!(failed(answer, push_redirect_result::Panic), {
        let (Some(settings), Some(exchange), Some(mut pool)) =
            (settings.as_ref(), exchange.as_ref(), pool)
        else {
            return failed(answer, push_redirect_result::NullParameter);
        };
        body(
            &settings_view(settings),
            exchange,
            &mut pool,
            answer,
            counts,
        );
        push_redirect_result::Ok
    })
}

/// Makes `*answer` the empty answer of `call`: [`EMPTY_ANSWER`] for the
/// respond call, without copying it from memory (all zero bytes are valid
/// for every field), but for `strip_opt_out`, as the core says for `call`
/// ([`Call::strips_unread_opt_out`]).
unsafe fn empty(answer: *mut push_redirect_answer, call: Call) {
    answer.write_bytes(0, 1);
    (*answer).strip_opt_out = call.strips_unread_opt_out();
}

/// The answer to a call that failed, as the core says ([`Failed`]) with
/// the settings (`None` where they cannot be read), counted in `counts`.
unsafe fn fail(
    answer: &mut push_redirect_answer,
    settings: *const push_redirect_settings,
    call: Call,
    counts: Option<&Counts>,
) {
    empty(answer, call);
    let view = settings.as_ref().map(|settings| settings_view(settings));
    let failed = Failed::new(call, view.as_ref());
    if let Some(reason) = failed.push {
        answer.skip(reason);
    }
    if let Some(skip) = failed.early_hints {
        answer.skip_early_hints(skip);
    }
    if let Some(counts) = counts {
        failed.count(counts);
    }
}

/// The push side of an answer: the `Link` values of the push and of the
/// further hops of its learned chain (at most `MAX_HOPS - 1`, as the core
/// guarantees), and the pushed target, or why none. Where the pool fails,
/// `response` becomes what the answer carries, as the core says
/// ([`Response::push_not_written`], [`Response::keep_written_links`]).
pub(crate) unsafe fn write_push(
    answer: &mut push_redirect_answer,
    pool: &mut Pool,
    response: &mut Response<'_>,
) {
    if let Some(Decision::Push(push)) = &response.push {
        let Some((link, target)) = pool.strings(push.link_value_len(), push.path_and_query())
        else {
            response.push_not_written();
            return write_skip(answer, response);
        };
        push.write_link_value(&mut *link);
        answer.links[0] = link.as_ptr().cast();
        answer.link_count = 1;
        answer.pushed = target;
        // Each further learned hop, for mod_http2 to push the whole chain.
        response.keep_written_links(|hop| {
            let Some((link, _)) = pool.strings(hop.len(), "") else {
                return false;
            };
            link.copy_from_slice(hop.as_bytes());
            answer.links[answer.link_count] = link.as_ptr().cast();
            answer.link_count += 1;
            true
        });
    }
    write_skip(answer, response);
}

/// The push's skip reason, if it has one.
fn write_skip(answer: &mut push_redirect_answer, response: &Response<'_>) {
    if let Some(Decision::Skip(reason)) = response.push {
        answer.skip(reason);
    }
}

/// The 103 side of an answer: its `Link` value and page, or why none.
/// Where the pool fails, `decision` becomes what the answer carries, as
/// the core says ([`EarlyHintsDecision::not_written`]).
pub(crate) unsafe fn write_early_hints(
    answer: &mut push_redirect_answer,
    pool: &mut Pool,
    decision: &mut EarlyHintsDecision,
) {
    if let EarlyHintsDecision::Send(hints) = decision {
        let value = hints.link_value();
        match pool.strings(value.len(), hints.target_path()) {
            Some((link, target)) => {
                link.copy_from_slice(value.as_bytes());
                answer.early_hints = link.as_ptr().cast();
                answer.early_hints_target = target;
            }
            None => decision.not_written(),
        }
    }
    if let EarlyHintsDecision::Skip(skip) = *decision {
        answer.skip_early_hints(skip);
    }
}

/// What `learn` wrote, for the log (the writes went through the store's
/// `put`).
pub(crate) fn write_learn(answer: &mut push_redirect_answer, learn: &Learn) {
    answer.taught = true;
    answer.learned = learn.hints;
    answer.learned_from_html = learn.from_html;
    answer.awaiting_confirmation = learn.unconfirmed.is_some();
}
