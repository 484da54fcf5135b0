//! The back-off of a store that failed, and the probe of one that hung.

use super::*;
use crate::tally::tests::Recorded;
use crate::tally::Counter;

#[test]
fn the_clock_never_goes_back_and_follows_real_time() {
    let health = StoreHealth::new(false);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                let mut last = 0;
                for _ in 0..100_000 {
                    let now = health.now_ms();
                    assert!(now >= last, "{now} ms after {last} ms");
                    last = now;
                }
            });
        }
    });
    let before = health.now_ms();
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert!(health.now_ms() >= before + 20);
}

#[test]
fn a_failing_store_starts_one_back_off_that_turns_it_off() {
    let health = StoreHealth::new(false);
    assert!(health.usable());
    let now = health.now_ms();
    assert!(health.fail(0, now), "the first failure logs");
    assert!(!health.fail(0, now), "one line per back-off");
    assert!(!health.usable());
}

#[test]
fn each_back_off_started_is_counted_once() {
    let recorded = std::sync::Arc::new(Recorded::default());
    let health = StoreHealth::new(true).with_tally(Box::new(recorded.clone()));
    assert!(health.fail(0, 10));
    assert!(!health.fail(0, 11), "one back-off, however many failures");
    assert_eq!(recorded.events(), [Event::BackedOff]);
    // A failing probe doubles the back-off, and starts none.
    assert!(!health.probed(false, 10 + StoreHealth::PROBE_MS));
    assert!(health.probed(true, 10 + 3 * StoreHealth::PROBE_MS));
    assert_eq!(recorded.events(), [Event::BackedOff]);
    assert!(health.fail(1, 10 + 3 * StoreHealth::PROBE_MS));
    assert_eq!(recorded.events(), [Event::BackedOff, Event::BackedOff]);
    assert_eq!(Counter::from(Event::BackedOff), Counter::StoreFailures);
}

#[test]
fn a_store_called_by_the_request_thread_is_used_again_when_its_back_off_ends() {
    let health = StoreHealth::new(false);
    let backoff_ms = StoreHealth::BACKOFF_SECS * 1000;
    assert!(health.fail(0, 10));
    assert!(
        !health.probe_due(10 + backoff_ms),
        "no store thread probes it"
    );
    // Its next failure after the back-off starts another, logged again.
    assert!(!health.fail(0, 10 + backoff_ms - 1));
    assert!(health.fail(0, 10 + backoff_ms));
}

#[test]
fn a_probed_store_stays_off_until_a_probe_answers() {
    let health = StoreHealth::new(true);
    let epoch = health.epoch();
    assert!(health.usable() && !health.probe_due(u64::MAX));
    assert!(health.fail(epoch, 100), "the hang that turns it off logs");
    assert!(!health.fail(epoch, 101), "one line per hang");
    assert!(!health.usable());
    // The first probe a second later; each that fails doubles the wait,
    // up to StoreHealth::BACKOFF_SECS.
    let mut at = 100 + StoreHealth::PROBE_MS;
    assert!(!health.probe_due(at - 1) && health.probe_due(at));
    let mut waits = Vec::new();
    for _ in 0..7 {
        assert!(!health.probed(false, at));
        let next = (at..).find(|&t| health.probe_due(t)).unwrap();
        waits.push(next - at);
        at = next;
    }
    assert_eq!(waits, [2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    assert!(
        !health.usable(),
        "a due probe does not let requests through"
    );
    assert!(health.probed(true, at), "the probe that answers logs");
    assert!(health.usable() && !health.probe_due(u64::MAX));
    // A call begun before it answered, failing at last, says nothing.
    assert!(!health.fail(epoch, at + 1));
    assert!(health.usable());
    let epoch = health.epoch();
    assert!(health.fail(epoch, at + 2));
    assert!(
        health.probe_due(at + 2 + StoreHealth::PROBE_MS),
        "the back-off starts short again"
    );
}
