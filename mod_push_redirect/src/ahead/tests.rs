//! What is learned, through the C ABI: the hints at a redirect, the 103
//! before the handler, the further hops of a pushed chain.

use std::ffi::{c_char, CStr};
use std::ptr;

use crate::tests::{
    arena_alloc, call_with, push_on, run_with, settings, store_of, text, Arena, Records, Request,
};
use crate::*;

/// A store over `records`, this test's stand-in for mod_socache.
struct Shared {
    /// What `store` reads and writes, through a pointer: kept alive here.
    _records: Box<Records>,
    budget: *mut push_redirect_write_budget,
    store: push_redirect_store,
}

impl Shared {
    fn new() -> Shared {
        let mut records = Box::new(Records::new());
        let budget = unsafe { push_redirect_write_budget_new(false, ptr::null_mut()) };
        let store = store_of(&mut records, budget);
        Shared {
            _records: records,
            budget,
            store,
        }
    }

    /// Answers `request` with `settings`, which teaches the store.
    fn teach(&mut self, settings: &push_redirect_settings, request: &mut Request) {
        let mut arena = Arena::default();
        let (rv, answer) = run_with(settings, &request.exchange(), &self.store, &mut arena);
        assert_eq!(rv, push_redirect_result::Ok);
        assert!(answer.taught, "{}", request.target);
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        unsafe { push_redirect_write_budget_release(ptr::addr_of_mut!(self.budget).cast()) };
    }
}

fn ahead_settings() -> push_redirect_settings {
    let mut settings = settings(push_redirect_switch::Unset, push_redirect_switch::On);
    settings.ahead = push_redirect_switch::On;
    unsafe { push_redirect_settings_resolve(&mut settings) };
    settings
}

/// The answer's strings live in `arena`, a leaked one: the tests are short.
fn run_ahead(
    settings: &push_redirect_settings,
    exchange: &push_redirect_exchange,
    store: *const push_redirect_store,
) -> (push_redirect_result, push_redirect_answer) {
    call_with(
        push_redirect_ahead,
        settings,
        exchange,
        store,
        Box::leak(Box::default()),
    )
}

/// A GET of `target`, before any response.
fn request(target: &'static str) -> Request {
    let mut request = Request::redirect(0, None);
    request.target = target;
    request
}

fn page(target: &'static str, link: &str) -> Request {
    let mut page = Request::redirect(200, None);
    page.target = target;
    page.field(0, "Link", link);
    page
}

fn redirect(from: &'static str, to: &str) -> Request {
    let mut redirect = Request::redirect(302, Some(to));
    redirect.target = from;
    redirect
}

const CSS: &str = "</s/app.css>; rel=preload; as=style";

#[test]
fn ahead_on_needs_both_switches() {
    for (early_hints, ahead, on) in [
        (push_redirect_switch::On, push_redirect_switch::On, true),
        (push_redirect_switch::On, push_redirect_switch::Unset, false),
        (push_redirect_switch::Unset, push_redirect_switch::On, false),
        (push_redirect_switch::Off, push_redirect_switch::On, false),
    ] {
        let mut s = settings(push_redirect_switch::Unset, early_hints);
        s.ahead = ahead;
        unsafe { push_redirect_settings_resolve(&mut s) };
        assert_eq!(s.ahead_on, on, "{early_hints:?} {ahead:?}");
    }
}

#[test]
fn a_learned_page_and_a_learned_redirect_get_their_103_ahead() {
    let mut shared = Shared::new();
    let settings = ahead_settings();
    shared.teach(&settings, &mut page("/page", CSS));
    shared.teach(&settings, &mut redirect("/old", "/page"));
    for target in ["/page", "/old"] {
        let (rv, answer) = run_ahead(&settings, &request(target).exchange(), &shared.store);
        assert_eq!(rv, push_redirect_result::Ok);
        assert_eq!(text(answer.early_hints).as_deref(), Some(CSS), "{target}");
        assert_eq!(text(answer.early_hints_target).as_deref(), Some("/page"));
        assert!(answer.early_hints_skipped.is_null() && answer.link_count == 0);
    }
    let (_, answer) = run_ahead(&settings, &request("/never").exchange(), &shared.store);
    assert_eq!(
        text(answer.early_hints_skipped).as_deref(),
        Some("no-hints")
    );
    let (_, answer) = run_ahead(&settings, &request("/page").exchange(), ptr::null());
    assert_eq!(
        text(answer.early_hints_skipped).as_deref(),
        Some("no-hints")
    );
    // Off: an empty answer, nothing read.
    let (rv, answer) = run_ahead(&push_on(), &request("/page").exchange(), &shared.store);
    assert_eq!(rv, push_redirect_result::Ok);
    assert!(answer.early_hints.is_null() && answer.early_hints_skipped.is_null());
}

#[test]
fn fetch_metadata_and_a_103_already_sent_reach_the_core() {
    let mut shared = Shared::new();
    let settings = ahead_settings();
    shared.teach(&settings, &mut page("/page", CSS));
    let mut cors = request("/page");
    cors.field(2, "sec-fetch-mode", "cors");
    let (_, answer) = run_ahead(&settings, &cors.exchange(), &shared.store);
    assert_eq!(
        text(answer.early_hints_skipped).as_deref(),
        Some("not-navigation")
    );
    let mut navigate = request("/page");
    navigate.field(2, "Sec-Fetch-Mode", "navigate");
    navigate.field(2, "Sec-Fetch-Dest", "document");
    let (_, answer) = run_ahead(&settings, &navigate.exchange(), &shared.store);
    assert_eq!(text(answer.early_hints).as_deref(), Some(CSS));
    let mut at_redirect = redirect("/old", "/page");
    let sent = push_redirect_exchange {
        early_hints_sent: true,
        ..at_redirect.exchange()
    };
    let mut arena = Arena::default();
    let (_, answer) = run_with(&settings, &sent, &shared.store, &mut arena);
    assert_eq!(
        text(answer.early_hints_skipped).as_deref(),
        Some("sent-ahead")
    );
}

#[test]
fn a_pushed_redirect_links_its_learned_chain() {
    let mut shared = Shared::new();
    let both = push_redirect_settings {
        push: push_redirect_switch::On,
        ..ahead_settings()
    };
    shared.teach(&both, &mut page("/page.html", CSS));
    shared.teach(&both, &mut redirect("/c2", "/page.html"));
    let mut c1 = redirect("/c1", "/c2");
    let mut arena = Arena::default();
    let (_, answer) = run_with(&push_on(), &c1.exchange(), &shared.store, &mut arena);
    let links: Vec<String> = answer.links[..answer.link_count]
        .iter()
        .map(|&l| text(l).unwrap())
        .collect();
    assert_eq!(
        links,
        [
            "</c2>; as=document; rel=preload",
            "</page.html>; as=document; rel=preload"
        ]
    );
    assert_eq!(text(answer.pushed).as_deref(), Some("/c2"));
    let (_, answer) = run_with(&both, &c1.exchange(), &shared.store, &mut arena);
    assert_eq!(text(answer.early_hints).as_deref(), Some(CSS));
    assert_eq!(
        text(answer.early_hints_target).as_deref(),
        Some("/page.html")
    );
}

#[test]
fn null_parameters_and_panics_are_internal_errors() {
    let settings = ahead_settings();
    let mut get = request("/page");
    let exchange = get.exchange();
    let mut answer = EMPTY_ANSWER;
    let mut arena = Arena::default();
    let ctx = (&mut arena as *mut Arena).cast();
    let rv = unsafe {
        push_redirect_ahead(
            ptr::null(),
            &exchange,
            ptr::null(),
            Some(arena_alloc),
            ctx,
            &mut answer,
        )
    };
    assert_eq!(rv, push_redirect_result::NullParameter);
    assert_eq!(
        text(answer.early_hints_skipped).as_deref(),
        Some("internal-error")
    );
    let rv = unsafe {
        push_redirect_ahead(
            &settings,
            &exchange,
            ptr::null(),
            None,
            ptr::null_mut(),
            &mut answer,
        )
    };
    assert_eq!(rv, push_redirect_result::NullParameter);
    let rv = unsafe {
        push_redirect_ahead(
            &settings,
            &exchange,
            ptr::null(),
            Some(arena_alloc),
            ctx,
            ptr::null_mut(),
        )
    };
    assert_eq!(rv, push_redirect_result::NullParameter);
    // A request target that is not UTF-8 cannot panic the core.
    let odd: &CStr = c"/\xff\xfe";
    let bad = push_redirect_exchange {
        request_target: odd.as_ptr() as *const c_char,
        ..exchange
    };
    let rv = unsafe {
        push_redirect_ahead(
            &settings,
            &bad,
            ptr::null(),
            Some(arena_alloc),
            ctx,
            &mut answer,
        )
    };
    assert_eq!(rv, push_redirect_result::Ok);
    assert!(answer.early_hints.is_null());
}
