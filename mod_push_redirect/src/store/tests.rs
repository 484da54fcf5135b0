//! The store as a call sees it: the child's clock, and a back-off that
//! turns it off until it answers again.

use std::ptr;

use crate::handles::try_ref;
use crate::tests::*;
use crate::*;

/// The core's time for one call is the child's clock
/// (`StoreHealth::now_ms`), read at its start: the shim passes none.
#[test]
fn a_calls_time_is_the_budgets_clock() {
    let mut budget = unsafe { push_redirect_write_budget_new(false, ptr::null_mut()) };
    let handle = unsafe { try_ref(budget) }.unwrap();
    let mut records = Records::new();
    let store = store_of(&mut records, budget);
    let early = handle.now_ms();
    let seen = unsafe { crate::store::with_store(&store, |store| store.map(|s| s.now_ms)) };
    let late = handle.now_ms();
    assert!(seen.is_some_and(|seen| early <= seen && seen <= late));
    unsafe { push_redirect_write_budget_release(ptr::addr_of_mut!(budget).cast()) };
}

#[test]
fn a_failing_store_starts_one_back_off_that_turns_it_off() {
    let mut budget = unsafe { push_redirect_write_budget_new(false, ptr::null_mut()) };
    let handle = unsafe { try_ref(budget) }.unwrap();
    assert!(handle.usable());
    unsafe {
        assert!(
            push_redirect_write_budget_fail(budget, 0),
            "the first failure logs"
        );
        assert!(
            !push_redirect_write_budget_fail(budget, 0),
            "one line per back-off"
        );
        assert!(!push_redirect_write_budget_fail(ptr::null(), 0));
    }
    assert!(!handle.usable());
    // Meanwhile the store is not asked at all.
    let mut records = Records::new();
    let store = store_of(&mut records, budget);
    let mut early = settings(push_redirect_switch::Unset, push_redirect_switch::On);
    early.early_hints = push_redirect_switch::On;
    let mut page = Request::redirect(200, None);
    page.field(0, "Link", "</l.js>; rel=preload; as=script");
    let (_, answer) = run_with(&early, &page.exchange(), &store, &mut Arena::default());
    assert!(!answer.taught && answer.learned == 0 && records.is_empty());
    unsafe { push_redirect_write_budget_release(ptr::addr_of_mut!(budget).cast()) };
}

/// The back-off and the probe are the core's (`StoreHealth`); the calls
/// reach them, and NULL is no budget.
#[test]
fn a_probed_store_is_turned_off_and_on_through_the_calls() {
    let mut budget = unsafe { push_redirect_write_budget_new(true, ptr::null_mut()) };
    unsafe {
        let epoch = push_redirect_write_budget_epoch(budget);
        assert!(push_redirect_write_budget_fail(budget, epoch));
        assert!(!push_redirect_write_budget_usable(budget));
        assert!(!push_redirect_write_budget_probe_due(budget), "not yet");
        assert!(push_redirect_write_budget_probed(budget, true));
        assert!(push_redirect_write_budget_usable(budget));
        assert_eq!(push_redirect_write_budget_epoch(budget), epoch + 1);
        assert!(!push_redirect_write_budget_probe_due(ptr::null()));
        assert!(!push_redirect_write_budget_probed(ptr::null(), true));
        assert!(!push_redirect_write_budget_usable(ptr::null()));
        assert_eq!(push_redirect_write_budget_epoch(ptr::null()), 0);
        push_redirect_write_budget_release(ptr::addr_of_mut!(budget).cast());
    }
}
