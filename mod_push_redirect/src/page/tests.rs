//! A page read from its body, fed and finished through the C ABI.

use std::ptr;

use crate::tests::*;
use crate::*;

#[test]
fn a_page_read_from_its_body_is_written_through_put_when_finished() {
    let mut records = Records::new();
    let mut budget = unsafe { push_redirect_write_budget_new(false, ptr::null_mut()) };
    let store = store_of(&mut records, budget);
    let early = settings(push_redirect_switch::Unset, push_redirect_switch::On);
    let mut page = Request::redirect(200, None);
    page.target = "/new";
    let exchange = push_redirect_exchange {
        content_type: page.keep("text/html"),
        ..page.exchange()
    };
    let (_, answer) = run_with(&early, &exchange, &store, &mut Arena::default());
    assert!(!answer.page.is_null() && !answer.taught);
    assert!(records.is_empty(), "written before its body");
    let html = b"<head><link rel=stylesheet href=/s/h.css></head>";
    let mut finished = EMPTY_ANSWER;
    let rv = unsafe {
        push_redirect_page_feed(answer.page, html.as_ptr(), html.len());
        push_redirect_page_finish(answer.page, &store, &mut finished)
    };
    assert_eq!(rv, push_redirect_result::Ok);
    assert!(finished.taught && !finished.awaiting_confirmation);
    assert_eq!((finished.learned, finished.learned_from_html), (1, 1));
    assert_eq!(records.len(), 2, "the record and its lifetime");
    unsafe { push_redirect_write_budget_release(ptr::addr_of_mut!(budget).cast()) };
}
