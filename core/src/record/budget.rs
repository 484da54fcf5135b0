//! The writes one process may make to the store ([`WriteBudget`]), and the
//! tables of what it knows of the store that the budget holds for the
//! process's threads.

use std::sync::Mutex;

#[cfg(doc)]
use super::{plan_write, KEY_LEN, MAX_RECORD_LEN};
use super::{without_query, Keys, Settled, Strangers, Validated};
use crate::tally::{Counted, Event, Tally};

/// The writes one process may make to the cache: two token buckets, one
/// for the records of URLs without a query ([`WriteBudget::PATHS`]) and one
/// for those with a query ([`WriteBudget::QUERIES`]). The Apache module
/// keeps one per child; the core keeps none.
///
/// A client can make any number of distinct query URLs to any page, each
/// worth a write when it teaches what its path does not (see
/// [`plan_write`]); a flood of them spends the query bucket only, and URLs
/// without a query are learned at their own rate whatever the flood. The
/// query bucket is a quarter of the other: a query URL is stored only when
/// its record differs from its path's, which few pages need. (A site that
/// answers any path with a 200 or a redirect lets a client multiply paths
/// too; those share the other bucket.)
///
/// In `t` seconds one child writes at most `64 + 8 t` records of URLs
/// without a query and `16 + 2 t` of URLs with one, so with a lifetime of
/// `L` seconds at most `80 + 10 L` of its records are alive at once (6,080
/// at the default 600 s, each at most [`MAX_RECORD_LEN`] bytes under a key
/// of [`KEY_LEN`]): about 50 MB per child in the worst case in redis or
/// memcache. shmcb and dbm have their own size.
///
/// Times are milliseconds since the budget was made, on a clock that does
/// not jump (the module's is the child's `Instant`): a wall clock stepped
/// back would stop every write for as long as the step.
///
/// It also keeps what the process has [`Settled`]: the records it knows the
/// store to hold, which it neither reads nor writes again for a while; and
/// the records it has [`Validated`], which it does not parse again, the
/// [`Keys`] it has hashed, which it does not hash again, and which pages
/// [`Strangers`] may fetch, which it does not ask Apache again.
#[derive(Debug)]
pub struct WriteBudget {
    paths: TokenBucket,
    queries: TokenBucket,
    settled: Settled,
    validated: Validated,
    keys: Keys,
    strangers: Strangers,
    /// Where the store's events are counted (the module's server-status);
    /// `None`: nowhere.
    tally: Counted,
}

#[derive(Debug)]
struct Bucket {
    /// In thousandths of a write.
    tokens: u64,
    last_ms: u64,
}

impl WriteBudget {
    /// The bucket of URLs without a query.
    pub const PATHS: WriteRate = WriteRate {
        burst: 64,
        per_second: 8,
    };
    /// The bucket of URLs with a query (`?`, even an empty one).
    pub const QUERIES: WriteRate = WriteRate {
        burst: 16,
        per_second: 2,
    };

    /// Full buckets at time 0.
    pub fn new(paths: WriteRate, queries: WriteRate) -> WriteBudget {
        WriteBudget {
            paths: TokenBucket::new(paths),
            queries: TokenBucket::new(queries),
            settled: Settled::default(),
            validated: Validated::default(),
            keys: Keys::default(),
            strangers: Strangers::default(),
            tally: Counted::default(),
        }
    }

    /// The budget, counting the events of every store that uses it in
    /// `tally`.
    pub fn with_tally(mut self, tally: Box<dyn Tally>) -> WriteBudget {
        self.tally = Counted(Some(tally));
        self
    }

    /// Counts `event`, if this budget counts.
    pub(crate) fn count(&self, event: Event) {
        self.tally.count(event);
    }

    /// What this process has settled with the store.
    pub fn settled(&self) -> &Settled {
        &self.settled
    }

    /// The records this process has read back and validated.
    pub fn validated(&self) -> &Validated {
        &self.validated
    }

    /// The keys this process has hashed lately.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// The pages this process heard lately whether a stranger may fetch.
    pub fn strangers(&self) -> &Strangers {
        &self.strangers
    }

    /// Takes one write of the record of `target` (the request's path and
    /// query, the URL of its key) from its bucket, if there is one left
    /// at `now_ms`.
    pub fn take(&self, target: &[u8], now_ms: u64) -> bool {
        self.bucket(target).take(now_ms)
    }

    /// Whether the bucket of `target` has a write left at `now_ms`, taking
    /// none: a response whose bucket is empty is refused before the store
    /// is read for it (learn.rs).
    pub fn has_left(&self, target: &[u8], now_ms: u64) -> bool {
        self.bucket(target).has_left(now_ms)
    }

    fn bucket(&self, target: &[u8]) -> &TokenBucket {
        match without_query(target) {
            Some(_) => &self.queries,
            None => &self.paths,
        }
    }
}

impl Default for WriteBudget {
    fn default() -> Self {
        WriteBudget::new(Self::PATHS, Self::QUERIES)
    }
}

/// How fast one of a [`WriteBudget`]'s buckets lets writes through:
/// `burst` at once, then `per_second`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteRate {
    pub burst: u32,
    pub per_second: u32,
}

/// One of a [`WriteBudget`]'s buckets.
#[derive(Debug)]
struct TokenBucket {
    per_second: u64,
    burst: u64,
    state: Mutex<Bucket>,
}

impl TokenBucket {
    fn new(rate: WriteRate) -> TokenBucket {
        TokenBucket {
            per_second: u64::from(rate.per_second),
            burst: u64::from(rate.burst),
            state: Mutex::new(Bucket {
                tokens: u64::from(rate.burst) * 1000,
                last_ms: 0,
            }),
        }
    }

    /// Takes one write if there is one left at `now_ms`. A time before the
    /// latest one seen refills nothing and is not remembered: threads read
    /// the clock when their call starts and take later, so their times
    /// arrive out of order, and remembering an earlier one would refill the
    /// same milliseconds again on the next later one (a flood then wrote
    /// ten times the budget).
    fn take(&self, now_ms: u64) -> bool {
        let mut bucket = self.state.lock().unwrap_or_else(|e| e.into_inner());
        bucket.tokens = self.refilled(&bucket, now_ms);
        bucket.last_ms = bucket.last_ms.max(now_ms);
        if bucket.tokens >= 1000 {
            bucket.tokens -= 1000;
            true
        } else {
            false
        }
    }

    /// Whether a write is left at `now_ms`, as [`TokenBucket::take`]
    /// would find, taking none.
    fn has_left(&self, now_ms: u64) -> bool {
        let bucket = self.state.lock().unwrap_or_else(|e| e.into_inner());
        self.refilled(&bucket, now_ms) >= 1000
    }

    /// `bucket`'s tokens refilled up to `now_ms`.
    fn refilled(&self, bucket: &Bucket, now_ms: u64) -> u64 {
        let elapsed = now_ms.saturating_sub(bucket.last_ms);
        bucket
            .tokens
            .saturating_add(elapsed.saturating_mul(self.per_second))
            .min(self.burst * 1000)
    }
}
