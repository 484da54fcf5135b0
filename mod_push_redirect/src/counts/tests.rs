//! The counters: what the calls of the C ABI count, by the names the
//! status page prints.

use std::ptr;

use super::*;
use crate::tests::{run_with, settings, store_of, text, Arena, Records, Request};
use crate::*;

/// A child's slot and a budget that counts into it.
struct Child {
    slot: &'static [u64; PUSH_REDIRECT_COUNTERS],
    budget: *mut push_redirect_write_budget,
}

impl Child {
    fn new() -> Child {
        let slot = Box::leak(Box::new([0u64; PUSH_REDIRECT_COUNTERS]));
        let budget = unsafe { push_redirect_write_budget_new(false, slot.as_mut_ptr()) };
        Child { slot, budget }
    }

    /// What is counted, by name, leaving out the zeros.
    fn counted(&self) -> Vec<(String, u64)> {
        // SAFETY: the slot is only changed by this thread's calls.
        let counts = unsafe { Counts::of(self.slot.as_ptr().cast_mut()) }.unwrap();
        (0..PUSH_REDIRECT_COUNTERS)
            .filter_map(|i| {
                let n = counts.get(i);
                let name = crate::tests::text(push_redirect_counter_describe(i).name);
                (n > 0).then(|| (name.unwrap(), n))
            })
            .collect()
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        unsafe { push_redirect_write_budget_release(ptr::addr_of_mut!(self.budget).cast()) };
    }
}

fn counted(pairs: &[(&str, u64)]) -> Vec<(String, u64)> {
    pairs
        .iter()
        .map(|(n, v)| (format!("PushRedirect{n}"), *v))
        .collect()
}

/// Push, Early Hints, and Early Hints ahead of the handler on.
fn all_on() -> push_redirect_settings {
    let mut all = settings(push_redirect_switch::On, push_redirect_switch::On);
    all.ahead = push_redirect_switch::On;
    unsafe { push_redirect_settings_resolve(&mut all) };
    all
}

#[test]
fn each_call_counts_what_it_decided_and_what_its_store_did() {
    let child = Child::new();
    let mut records = Records::new();
    let store = store_of(&mut records, child.budget);
    let both = all_on();
    let mut arena = Arena::default();
    let mut respond = |request: &mut Request| {
        let (rv, answer) = run_with(&both, &request.exchange(), &store, &mut arena);
        assert_eq!(rv, push_redirect_result::Ok);
        answer
    };
    let mut page = Request::redirect(200, None);
    page.target = "/new";
    page.field(0, "Link", "</s/app.css>; rel=preload; as=style");
    respond(&mut page);
    assert_eq!(
        child.counted(),
        counted(&[("LearnedPagesFromLink", 1), ("LookupsMissed", 1)])
    );
    // A pushed redirect with its 103: the page is found, the redirect's own
    // record is not, then written.
    let answer = respond(&mut Request::redirect(302, Some("/new")));
    assert_eq!(answer.link_count, 1);
    assert!(!answer.early_hints.is_null());
    let after_redirect = counted(&[
        ("Linked", 1),
        ("EarlyHintsAtRedirect", 1),
        ("LearnedRedirects", 1),
        ("LearnedPagesFromLink", 1),
        ("LookupsFound", 1),
        ("LookupsMissed", 2),
    ]);
    assert_eq!(child.counted(), after_redirect);
    // Ahead of the handler: the redirect's record and its page, found.
    let mut request = Request::redirect(0, None);
    request.target = "/old";
    let (_, answer) = crate::tests::call_with(
        push_redirect_ahead,
        &both,
        &request.exchange(),
        &store,
        &mut Arena::default(),
    );
    assert!(!answer.early_hints.is_null());
    let expected = counted(&[
        ("Linked", 1),
        ("EarlyHintsAhead", 1),
        ("EarlyHintsAtRedirect", 1),
        ("LearnedRedirects", 1),
        ("LearnedPagesFromLink", 1),
        ("LookupsFound", 3),
        ("LookupsMissed", 2),
    ]);
    assert_eq!(child.counted(), expected);
    // A redirect elsewhere: skipped on both sides, for the same reason.
    let before = child.counted();
    respond(&mut Request::redirect(
        302,
        Some("https://elsewhere.example/"),
    ));
    let skips: Vec<_> = child
        .counted()
        .into_iter()
        .filter(|pair| !before.contains(pair))
        .collect();
    assert_eq!(
        skips,
        counted(&[
            ("SkippedCrossOrigin", 1),
            ("EarlyHintsSkippedCrossOrigin", 1)
        ])
    );
}

#[test]
fn a_call_without_counters_counts_nowhere_and_a_failure_counts_as_internal_error() {
    let child = Child::new();
    let mut records = Records::new();
    let store = store_of(&mut records, child.budget);
    let both = settings(push_redirect_switch::On, push_redirect_switch::On);
    let mut arena = Arena::default();
    let mut redirect = Request::redirect(302, Some("/new"));
    let request = redirect.exchange();
    // NULL alloc: the call fails, and says so on both sides.
    let mut answer = EMPTY_ANSWER;
    let rv = unsafe {
        push_redirect_respond(&both, &request, &store, None, ptr::null_mut(), &mut answer)
    };
    assert_eq!(rv, push_redirect_result::NullParameter);
    assert_eq!(
        child.counted(),
        counted(&[
            ("SkippedInternalError", 1),
            ("EarlyHintsSkippedInternalError", 1)
        ])
    );
    // No budget, or a budget made without a slot: nothing is counted.
    let (rv, _) = run_with(&both, &request, ptr::null(), &mut arena);
    assert_eq!(rv, push_redirect_result::Ok);
    let mut uncounted = unsafe { push_redirect_write_budget_new(false, ptr::null_mut()) };
    let store = store_of(&mut records, uncounted);
    let (rv, _) = run_with(&both, &request, &store, &mut arena);
    assert_eq!(rv, push_redirect_result::Ok);
    assert_eq!(child.counted().len(), 2);
    unsafe { push_redirect_write_budget_release(ptr::addr_of_mut!(uncounted).cast()) };
}

#[test]
fn a_failure_counts_once_per_back_off_it_starts() {
    let child = Child::new();
    unsafe {
        assert!(push_redirect_write_budget_fail(child.budget, 0));
        assert!(!push_redirect_write_budget_fail(child.budget, 0));
    }
    assert_eq!(child.counted(), counted(&[("StoreFailures", 1)]));
}

/// An arena that gives `left` allocations more, then fails.
struct Scarce {
    arena: Arena,
    left: usize,
}

unsafe extern "C" fn scarce_alloc(
    ctx: *mut std::ffi::c_void,
    size: usize,
) -> *mut std::ffi::c_void {
    let scarce = &mut *ctx.cast::<Scarce>();
    if scarce.left == 0 {
        return ptr::null_mut();
    }
    scarce.left -= 1;
    crate::tests::arena_alloc(ptr::addr_of_mut!(scarce.arena).cast(), size)
}

/// What the calls added to the counters of decisions (not the store's)
/// since `before`.
fn decided_since(child: &Child, before: &[(String, u64)]) -> Vec<(String, u64)> {
    child
        .counted()
        .into_iter()
        .filter(|(name, _)| {
            !["Lookups", "Learned", "Writes"]
                .iter()
                .any(|s| name[12..].starts_with(s))
        })
        .filter_map(|(name, n)| {
            let was = before
                .iter()
                .find(|(b, _)| *b == name)
                .map_or(0, |(_, n)| *n);
            (n > was).then(|| (name, n - was))
        })
        .collect()
}

#[test]
fn what_the_pool_could_not_hold_counts_as_what_the_answer_says() {
    let child = Child::new();
    let mut records = Records::new();
    let store = store_of(&mut records, child.budget);
    let both = all_on();
    let mut page = Request::redirect(200, None);
    page.target = "/page.html";
    page.field(0, "Link", "</s/app.css>; rel=preload; as=style");
    let mut c2 = Request::redirect(302, Some("/page.html"));
    c2.target = "/c2";
    let mut c1 = Request::redirect(302, Some("/c2"));
    c1.target = "/c1";
    for request in [&mut page, &mut c2, &mut c1] {
        let (_, answer) = run_with(&both, &request.exchange(), &store, &mut Arena::default());
        assert!(answer.taught);
    }
    let call = |call: crate::tests::Call, exchange: &push_redirect_exchange, left: usize| {
        let mut scarce = Scarce {
            arena: Arena::default(),
            left,
        };
        let mut answer = EMPTY_ANSWER;
        let ctx = ptr::addr_of_mut!(scarce).cast();
        let rv = unsafe {
            call(
                &both,
                exchange,
                &store,
                Some(scarce_alloc),
                ctx,
                &mut answer,
            )
        };
        assert_eq!(rv, push_redirect_result::Ok);
        (
            text(answer.skipped),
            answer.link_count,
            text(answer.early_hints_skipped),
        )
    };
    let internal = Some("internal-error".to_owned());
    // Enough for everything: the push, its further hop and the 103.
    let before = child.counted();
    assert_eq!(
        call(push_redirect_respond, &c1.exchange(), 3),
        (None, 2, None)
    );
    let everything = counted(&[
        ("Linked", 1),
        ("FurtherHopsLinked", 1),
        ("EarlyHintsAtRedirect", 1),
    ]);
    assert_eq!(decided_since(&child, &before), everything);
    // The push alone: its hop is left out and the 103 is an internal error.
    let before = child.counted();
    assert_eq!(
        call(push_redirect_respond, &c1.exchange(), 1),
        (None, 1, internal.clone())
    );
    let linked = counted(&[("Linked", 1), ("EarlyHintsSkippedInternalError", 1)]);
    assert_eq!(decided_since(&child, &before), linked);
    // Nothing: both sides are internal errors.
    let before = child.counted();
    let nothing = (internal.clone(), 0, internal.clone());
    assert_eq!(call(push_redirect_respond, &c1.exchange(), 0), nothing);
    let both_sides = counted(&[
        ("SkippedInternalError", 1),
        ("EarlyHintsSkippedInternalError", 1),
    ]);
    assert_eq!(decided_since(&child, &before), both_sides);
    // Ahead of the handler, a 103 that could not go out is not counted:
    // the response's decision is.
    let mut ahead = Request::redirect(0, None);
    ahead.target = "/c1";
    let before = child.counted();
    assert_eq!(
        call(push_redirect_ahead, &ahead.exchange(), 0),
        (None, 0, internal)
    );
    assert_eq!(decided_since(&child, &before), []);
    assert_eq!(
        call(push_redirect_ahead, &ahead.exchange(), 1),
        (None, 0, None)
    );
    assert_eq!(
        decided_since(&child, &before),
        counted(&[("EarlyHintsAhead", 1)])
    );
}

#[test]
fn a_panic_counts_as_internal_error_on_each_side_that_is_on() {
    crate::tests::silence_deliberate_panics();
    let child = Child::new();
    let mut records = Records::new();
    let store = store_of(&mut records, child.budget);
    let mut arena = Arena::default();
    let mut request = Request::redirect(302, Some("/new"));
    let exchange = request.exchange();
    for (push, early_hints, expected) in [
        (
            push_redirect_switch::On,
            push_redirect_switch::On,
            &[
                ("SkippedInternalError", 1),
                ("EarlyHintsSkippedInternalError", 1),
            ][..],
        ),
        (
            push_redirect_switch::On,
            push_redirect_switch::Off,
            &[("SkippedInternalError", 1)][..],
        ),
        (
            push_redirect_switch::Off,
            push_redirect_switch::On,
            &[("EarlyHintsSkippedInternalError", 1)][..],
        ),
    ] {
        let before = child.counted();
        let mut answer = EMPTY_ANSWER;
        let rv = unsafe {
            crate::respond::respond_with(
                |_: &push_redirect_core::Settings<'_>,
                 _: &push_redirect_core::Exchange<'_>,
                 _: Option<&mut push_redirect_core::Store<'_>>|
                 -> push_redirect_core::Response<'_> {
                    panic!("deliberate: a bug in the core")
                },
                &settings(push, early_hints),
                &exchange,
                &store,
                Some(crate::tests::arena_alloc),
                ptr::addr_of_mut!(arena).cast(),
                &mut answer,
            )
        };
        assert_eq!(rv, push_redirect_result::Panic);
        assert_eq!(decided_since(&child, &before), counted(expected));
    }
}
