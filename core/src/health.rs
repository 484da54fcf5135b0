//! Whether the shared store is healthy, as one process sees it (the
//! Apache module keeps one [`StoreHealth`] per child, beside its
//! [`WriteBudget`](crate::WriteBudget)): a store that failed or hung is
//! backed off, and neither read nor written, until `resume_at_ms`
//! (milliseconds on the process's clock, [`StoreHealth::now_ms`]; 0:
//! healthy).
//!
//! How a back-off ends depends on who calls the store. A provider called
//! by the request's own thread (shmcb, dbm; `probed` false) is used again
//! once its back-off of [`StoreHealth::BACKOFF_SECS`] is over. A provider called by the
//! child's store threads (memcache, redis; `probed` true) can hang: it
//! stays unused until a probe, which one store thread makes when the
//! back-off is over, finds it answering; each probe that fails doubles the
//! back-off, from [`StoreHealth::PROBE_MS`] up to [`StoreHealth::BACKOFF_SECS`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::tally::{Counted, Event, Tally};

/// One process's view of the store's health, and its clock (thread-safe).
#[derive(Debug)]
pub struct StoreHealth {
    origin: Instant,
    probed: bool,
    resume_at_ms: AtomicU64,
    backoff_ms: AtomicU64,
    /// How many times the store became healthy again: a call begun before
    /// that (one abandoned to a hang that fails at last) says nothing of
    /// the store as it is now.
    epoch: AtomicU64,
    /// Where each back-off started is counted ([`Event::BackedOff`], the
    /// module's server-status); `None`: nowhere.
    tally: Counted,
}

impl StoreHealth {
    /// How long a store that failed is left alone, at most: its provider logs
    /// each failure itself, so calling it on every request would fill the
    /// error log. A provider called by the request's thread (shmcb, dbm) is
    /// left alone this long after each failure.
    pub const BACKOFF_SECS: u64 = 30;

    /// When a store called by the store threads (memcache, redis) that failed
    /// or hung is first probed: a hang that ends (a redis paused, then resumed)
    /// costs a few seconds of learning, not half a minute.
    pub const PROBE_MS: u64 = 1000;

    /// A healthy store, its clock starting now. `probed`: the store is
    /// called by the process's store threads, and a back-off ends only
    /// when a probe finds it answering ([`StoreHealth::probed`]).
    pub fn new(probed: bool) -> StoreHealth {
        StoreHealth {
            origin: Instant::now(),
            probed,
            resume_at_ms: AtomicU64::new(0),
            backoff_ms: AtomicU64::new(0),
            epoch: AtomicU64::new(0),
            tally: Counted::default(),
        }
    }

    /// The store's health, counting each back-off it starts in `tally`.
    pub fn with_tally(mut self, tally: Box<dyn Tally>) -> StoreHealth {
        self.tally = Counted(Some(tally));
        self
    }

    /// The process's clock: milliseconds since this was made, on `Instant`
    /// (`CLOCK_MONOTONIC` on Linux), so never going back. The write
    /// budget, the settled records' windows and the back-off all run on
    /// it: on a wall clock such as the request's start time
    /// (`r->request_time`), a step back of `D` seconds stopped every write
    /// for `D` seconds, and a step forward refilled the budget.
    pub fn now_ms(&self) -> u64 {
        // Never 0, which means "healthy" in `resume_at_ms`.
        // Seconds and milliseconds apart rather than `as_millis`, a u128,
        // on the path of every response the store is used for: a process
        // runs for less than 584 million years.
        let elapsed = self.origin.elapsed();
        (elapsed.as_secs() * 1000 + u64::from(elapsed.subsec_millis())).max(1)
    }

    /// Whether the shared store may be used now: false during a back-off.
    pub fn usable(&self) -> bool {
        // Without a back-off, as nearly always, the clock is not read.
        let resume_at_ms = self.resume_at_ms.load(Ordering::Acquire);
        resume_at_ms == 0 || (!self.probed && resume_at_ms <= self.now_ms())
    }

    /// The store's epoch, to be passed to [`StoreHealth::fail`] for a call
    /// begun now.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// A call begun at `epoch` failed or hung at `now_ms`: unless a
    /// back-off is running, or the store became healthy again since the
    /// call began, one starts, and is counted ([`Event::BackedOff`]). True
    /// for the one call, of all the threads that saw failures, that
    /// started it.
    pub fn fail(&self, epoch: u64, now_ms: u64) -> bool {
        let seen = self.resume_at_ms.load(Ordering::Acquire);
        let over = seen == 0 || (!self.probed && seen <= now_ms);
        if !over || epoch != self.epoch.load(Ordering::Acquire) {
            return false;
        }
        let backoff_ms = if self.probed {
            Self::PROBE_MS
        } else {
            Self::BACKOFF_SECS * 1000
        };
        let started = self
            .resume_at_ms
            .compare_exchange(
                seen,
                now_ms + backoff_ms,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok();
        if started {
            self.backoff_ms.store(backoff_ms, Ordering::Release);
            self.tally.count(Event::BackedOff);
        }
        started
    }

    /// Whether a probe of the store is due at `now_ms`: it is backed off,
    /// probed, and its back-off is over.
    pub fn probe_due(&self, now_ms: u64) -> bool {
        let resume_at_ms = self.resume_at_ms.load(Ordering::Acquire);
        self.probed && resume_at_ms != 0 && resume_at_ms <= now_ms
    }

    /// A probe ended at `now_ms`: `answered`, the store is healthy again
    /// (true when this made it so); else its back-off doubles, up to
    /// [`StoreHealth::BACKOFF_SECS`].
    pub fn probed(&self, answered: bool, now_ms: u64) -> bool {
        if answered {
            // The epoch first: a call begun before this probe answered,
            // and failing later, must not start a back-off.
            self.epoch.fetch_add(1, Ordering::AcqRel);
            return self.resume_at_ms.swap(0, Ordering::AcqRel) != 0;
        }
        let max_ms = Self::BACKOFF_SECS * 1000;
        let backoff_ms =
            (self.backoff_ms.load(Ordering::Acquire) * 2).clamp(Self::PROBE_MS, max_ms);
        self.backoff_ms.store(backoff_ms, Ordering::Release);
        self.resume_at_ms
            .store(now_ms + backoff_ms, Ordering::Release);
        false
    }
}

#[cfg(test)]
mod tests;
