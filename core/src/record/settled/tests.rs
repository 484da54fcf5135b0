use super::*;

const WINDOW: u64 = 10_000;

fn page(settled: &Settled, target: &[u8], hints: &[u8]) -> Fingerprint {
    settled.fingerprint(b"example.com", 443, target, |h| h.write(hints))
}

fn url(settled: &Settled, target: &[u8]) -> u64 {
    settled.url_fingerprint(b"example.com", 443, target)
}

#[test]
fn a_settled_record_says_what_the_store_holds_for_its_window() {
    let settled = Settled::default();
    let fp = page(&settled, b"/page", b"a");
    assert_eq!(settled.held(url(&settled, b"/page"), 1_000), None);
    settled.settle(fp, Held::Page, 1_000, WINDOW);
    assert!(settled.is_settled(fp, 1_000 + WINDOW - 1));
    assert_eq!(
        settled.held(url(&settled, b"/page"), 1_000 + WINDOW - 1),
        Some(Held::Page)
    );
    assert_eq!(settled.held(url(&settled, b"/page"), 1_000 + WINDOW), None);
    assert_eq!(settled.held(url(&settled, b"/other"), 1_000), None);
}

#[test]
fn a_lookup_of_the_same_kind_keeps_what_was_settled() {
    let settled = Settled::default();
    let fp = page(&settled, b"/page", b"a");
    settled.settle(fp, Held::Page, 0, WINDOW);
    settled.saw(url(&settled, b"/page"), Held::Page, 5_000, WINDOW);
    assert!(settled.is_settled(fp, 9_999), "the window is not moved");
    assert!(!settled.is_settled(fp, WINDOW));
}

#[test]
fn a_lookup_that_finds_nothing_or_another_kind_forgets_what_was_settled() {
    let settled = Settled::default();
    for seen in [Held::Nothing, Held::Redirect] {
        let fp = page(&settled, b"/page", b"a");
        settled.settle(fp, Held::Page, 0, WINDOW);
        settled.saw(url(&settled, b"/page"), seen, 5_000, WINDOW);
        assert!(!settled.is_settled(fp, 5_000), "{seen:?}");
        assert_eq!(
            settled.held(url(&settled, b"/page"), 5_000 + WINDOW - 1),
            Some(seen),
            "what was seen is known for a window from then"
        );
    }
}

#[test]
fn a_lookup_after_the_window_does_not_settle_again() {
    let settled = Settled::default();
    let fp = page(&settled, b"/page", b"a");
    settled.settle(fp, Held::Page, 0, WINDOW);
    settled.saw(url(&settled, b"/page"), Held::Page, WINDOW, WINDOW);
    assert!(!settled.is_settled(fp, WINDOW + 1));
    assert_eq!(
        settled.held(url(&settled, b"/page"), WINDOW + 1),
        Some(Held::Page)
    );
}

#[test]
fn what_a_lookup_saw_settles_no_response() {
    let settled = Settled::default();
    let target = b"/page";
    settled.saw(url(&settled, target), Held::Page, 0, WINDOW);
    // Whatever a response teaches, its value is never the 0 of a slot that
    // only says what the store holds.
    for hints in [&b""[..], b"a", b"b"] {
        assert!(!settled.is_settled(page(&settled, target, hints), 1));
    }
}
