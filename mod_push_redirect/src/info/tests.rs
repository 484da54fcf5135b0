//! The handler's questions through the C ABI.

use std::ffi::{c_char, c_void, CStr};
use std::ptr;

use super::*;
use crate::tests::{arena_alloc, run_with, settings, store_of, text, Arena, Records, Request};
use crate::*;

const CSS: &str = "</s/app.css>; rel=preload; as=style";

/// The store after a page /new with one hint and a redirect /old -> /new.
fn learned(records: &mut Records, budget: *mut push_redirect_write_budget) {
    let store = store_of(records, budget);
    let on = settings(push_redirect_switch::Unset, push_redirect_switch::On);
    let mut page = Request::redirect(200, None);
    page.target = "/new";
    page.field(0, "Link", CSS);
    for mut request in [page, Request::redirect(302, Some("/new"))] {
        let mut arena = Arena::default();
        let (_, answer) = run_with(&on, &request.exchange(), &store, &mut arena);
        assert!(answer.taught);
    }
}

fn info_of(
    settings: &push_redirect_settings,
    target: &'static str,
    store: *const push_redirect_store,
    arena: &mut Arena,
) -> push_redirect_info {
    info_through(settings, target, store, arena, (c"https", false, None))
}

/// What info.c asks: a navigation to `target` with the `Host` of the
/// request that asks; with this scheme, through a trusted proxy or not,
/// with this `X-Forwarded-Proto`.
fn info_through(
    settings: &push_redirect_settings,
    target: &'static str,
    store: *const push_redirect_store,
    arena: &mut Arena,
    (scheme, trusted_proxy, forwarded_proto): (&CStr, bool, Option<&str>),
) -> push_redirect_info {
    let mut request = Request::redirect(0, None);
    request.target = target;
    if let Some(proto) = forwarded_proto {
        request.field(2, "X-Forwarded-Proto", proto);
    }
    let exchange = push_redirect_exchange {
        scheme: scheme.as_ptr(),
        trusted_proxy,
        ..request.exchange()
    };
    let mut info = EMPTY;
    let rv = unsafe {
        push_redirect_explain(
            settings,
            &exchange,
            store,
            Some(arena_alloc),
            (arena as *mut Arena).cast(),
            &mut info,
        )
    };
    assert_eq!(rv, push_redirect_result::Ok);
    info
}

fn texts(items: &[*const c_char]) -> Vec<String> {
    items.iter().map(|&p| text(p).unwrap()).collect()
}

#[test]
fn a_learned_redirect_shows_its_record_chain_and_103_and_an_unknown_url_nothing() {
    let mut records = Records::new();
    let mut budget = unsafe { push_redirect_write_budget_new(false, ptr::null_mut()) };
    learned(&mut records, budget);
    let store = store_of(&mut records, budget);
    let on = settings(push_redirect_switch::Unset, push_redirect_switch::On);
    let mut arena = Arena::default();

    let info = info_of(&on, "/old?utm=x", &store, &mut arena);
    assert_eq!(text(info.record_of).as_deref(), Some("/old"));
    assert_eq!(text(info.redirect_to).as_deref(), Some("/new"));
    assert_eq!(info.hint_count, 0);
    assert_eq!(texts(&info.hops[..info.hop_count]), ["/new"]);
    assert_eq!(text(info.chain_end).as_deref(), Some("page"));
    assert_eq!(text(info.early_hints).as_deref(), Some(CSS));
    assert_eq!(text(info.early_hints_for).as_deref(), Some("/new"));
    assert_eq!((info.early_hints_count, info.early_hints_declared), (1, 0));
    assert!(!info.early_hints_ahead && info.no_early_hints.is_null());
    assert_eq!(text(info.store).as_deref(), Some("ok"));

    let info = info_of(&on, "/new", &store, &mut arena);
    assert_eq!(texts(&info.hints[..info.hint_count]), [CSS]);
    assert!(info.redirect_to.is_null() && info.chain_end.is_null());
    assert_eq!(text(info.no_early_hints).as_deref(), Some("not-redirect"));

    let info = info_of(&on, "/unknown", &store, &mut arena);
    assert!(info.record_of.is_null() && info.hop_count == 0 && info.early_hints.is_null());
    assert_eq!(text(info.no_early_hints).as_deref(), Some("not-learned"));

    let off = settings(push_redirect_switch::On, push_redirect_switch::Unset);
    let info = info_of(&off, "/old", &store, &mut arena);
    assert_eq!(text(info.no_early_hints).as_deref(), Some("off"));
    assert_eq!(info.hop_count, 1, "the chain is shown all the same");

    // Asked over plain HTTP: a navigation so would get none, unless a
    // proxy Apache trusts says the client used https.
    let http = (c"http", false, Some("https"));
    let info = info_through(&on, "/old", &store, &mut arena, http);
    assert_eq!(text(info.no_early_hints).as_deref(), Some("insecure"));
    let proxied = (c"http", true, Some("https"));
    let info = info_through(&on, "/old", &store, &mut arena, proxied);
    assert_eq!(text(info.early_hints).as_deref(), Some(CSS));

    // Without a store, and while it is backed off.
    let info = info_of(&on, "/old", ptr::null(), &mut arena);
    assert_eq!(text(info.store).as_deref(), Some("none"));
    assert!(info.record_of.is_null());
    unsafe { push_redirect_write_budget_fail(budget, 0) };
    let info = info_of(&on, "/old", &store, &mut arena);
    assert_eq!(text(info.store).as_deref(), Some("backed-off"));
    assert!(info.record_of.is_null());
    unsafe { push_redirect_write_budget_release(ptr::addr_of_mut!(budget).cast()) };
}

#[test]
fn a_urls_keys_are_those_its_records_are_stored_under() {
    let mut records = Records::new();
    let mut budget = unsafe { push_redirect_write_budget_new(false, ptr::null_mut()) };
    learned(&mut records, budget);
    let keys_of = |target| {
        let mut request = Request::redirect(0, None);
        request.target = target;
        let (mut key, mut unconfirmed) = ([0u8; 32], [0u8; 32]);
        let (key_at, unconfirmed_at) = (key.as_mut_ptr(), unconfirmed.as_mut_ptr());
        let found =
            unsafe { push_redirect_record_keys(&request.exchange(), key_at, unconfirmed_at) };
        found.then_some((key, unconfirmed))
    };
    let (key, unconfirmed) = keys_of("/old").expect("a path has keys");
    assert_eq!(
        records.get(&key[..]).map(Vec::as_slice),
        Some(&b"pr1 r\n/new\n"[..])
    );
    assert_ne!(key, unconfirmed);
    assert!(keys_of("*").is_none(), "not a path");
    unsafe { push_redirect_write_budget_release(ptr::addr_of_mut!(budget).cast()) };
}

#[test]
fn a_json_string_is_the_cores_escape_of_the_text_as_utf_8() {
    let mut arena = Arena::default();
    let ctx: *mut c_void = (&mut arena as *mut Arena).cast();
    let json = |text: *const c_char| unsafe {
        crate::tests::text(push_redirect_json_string(text, Some(arena_alloc), ctx))
    };
    assert_eq!(json(ptr::null()).as_deref(), Some("null"));
    assert_eq!(
        json(c"\xff&".as_ptr()).as_deref(),
        Some("\"\u{fffd}\\u0026\"")
    );
}
