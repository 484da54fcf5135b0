//! What one response looks up in the shared store and what it teaches it
//! (docs/behaviour.md, "What is learned"). The shim fetches bytes by key
//! ([`Fetch`]) and stores what the answer says ([`Learn`]); the records,
//! their keys and every rule about them are here.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::chain::{learned, MAX_HOPS};
use crate::exchange::Exchange;
use crate::hints::{hints_of, Hint};
use crate::origin::requested_url;
use crate::record::{
    check_learnable, plan_write, without_query, Held, LearnInput, Record, RecordKey, Settled,
    Write, WriteBudget, DEFAULT_LIFETIME_SECS, KEY_LEN,
};

/// The buffer one fetch is given: twice the longest record, so that an
/// over-long value someone else wrote reaches [`Record::parse`] and is
/// refused there (memcache's and redis's providers log an error for a
/// value longer than the buffer).
pub const FETCH_BUF_LEN: usize = 16384;

/// The most fetches one call makes: each hop of a learned chain and its
/// path without query, the first hop once more (a pushed redirect's
/// target is probed before its chain is followed), and the URL that
/// teaches, or ahead of the handler is asked for, and its path.
pub const MAX_LOOKUPS: usize = 2 * MAX_HOPS + 4;

/// The shared store as one call sees it.
pub trait Fetch {
    /// The value stored under `key`, at most [`FETCH_BUF_LEN`] bytes, valid
    /// until the next fetch; `None` for a miss, a failing store, or a longer
    /// value. The store owns the buffer, so no fetch zeroes one.
    fn fetch(&mut self, key: &[u8; KEY_LEN]) -> Option<&[u8]>;

    /// Whether every fetch so far got an answer, a miss included: false
    /// once one did not (a store that is slow, busy or failing), after
    /// which a miss means nothing, and nothing is written or taken as
    /// settled on the strength of it.
    fn all_answered(&self) -> bool {
        true
    }
}

/// The shared store for one response: what it fetches through, the writes
/// left to this process, the lifetime of a record (`None`: the default),
/// and the time in milliseconds on the budget's clock, one that does not
/// jump (see [`WriteBudget`]).
pub struct Store<'a> {
    pub fetch: &'a mut dyn Fetch,
    pub budget: Option<&'a WriteBudget>,
    pub lifetime_secs: Option<u64>,
    pub now_ms: u64,
    lookups: usize,
}

impl<'a> Store<'a> {
    pub fn new(
        fetch: &'a mut dyn Fetch,
        budget: Option<&'a WriteBudget>,
        lifetime_secs: Option<u64>,
        now_ms: u64,
    ) -> Store<'a> {
        Store {
            fetch,
            budget,
            lifetime_secs,
            now_ms,
            lookups: 0,
        }
    }

    /// The record under `key`, read back as untrusted; `None` for a miss,
    /// anything that does not parse, or past [`MAX_LOOKUPS`]. Bytes this
    /// process validated before are not parsed again
    /// ([`Validated`](crate::record::Validated)).
    fn record(&mut self, key: &RecordKey) -> Option<Arc<Record>> {
        if self.lookups == MAX_LOOKUPS {
            return None;
        }
        self.lookups += 1;
        let bytes = self.fetch.fetch(key.as_bytes())?;
        match self.budget {
            Some(budget) => budget.validated().record(bytes),
            None => Record::parse(bytes).map(Arc::new),
        }
    }

    /// The key of `target` on this virtual host, hashed once per process
    /// while it is looked up often ([`Keys`](crate::record::Keys)).
    fn key(&self, ex: &Exchange<'_>, target: &[u8]) -> Option<RecordKey> {
        match self.budget {
            Some(budget) => budget.keys().key(ex.vhost, ex.local_port, target),
            None => RecordKey::new(ex.vhost, ex.local_port, target),
        }
    }

    /// The records of `target` and of its path without query, which a
    /// lookup of a query URL falls back to.
    fn records(
        &mut self,
        ex: &Exchange<'_>,
        key: &RecordKey,
        target: &[u8],
    ) -> (Option<Arc<Record>>, Option<Arc<Record>>) {
        let own = self.record(key);
        let path = without_query(target)
            .and_then(|path| self.key(ex, path))
            .and_then(|k| self.record(&k));
        (own, path)
    }

    /// The record of `target` on this virtual host, for a lookup (what a
    /// learned chain is followed through). What it finds is noted in the
    /// settled table: a miss or a record that does not parse also tells
    /// this process that what it had settled for the URL is no longer
    /// there.
    pub(crate) fn looked_up(&mut self, ex: &Exchange<'_>, target: &[u8]) -> Option<Arc<Record>> {
        let key = self.key(ex, target)?;
        let record = self.record(&key);
        if let (Some(budget), true) = (self.budget, self.fetch.all_answered()) {
            let held = match &record {
                None => Held::Nothing,
                Some(record) if record.redirect_target().is_some() => Held::Redirect,
                Some(_) => Held::Page,
            };
            let settled = budget.settled();
            let url = settled.url_fingerprint(ex.vhost, ex.local_port, target);
            settled.saw(url, held, self.now_ms, self.window_ms());
        }
        record
    }

    /// Whether `target` (a path+query) is learned to redirect: what a
    /// pushed redirect's target is probed for before its chain is
    /// followed. A target without a query that this process saw within
    /// the window ([`Settled::held`]) is not looked up again; a query
    /// target is, since its path's record stands in for its own.
    pub(crate) fn redirects(&mut self, ex: &Exchange<'_>, target: &str) -> bool {
        let bytes = target.as_bytes();
        if let (Some(budget), None) = (self.budget, without_query(bytes)) {
            let settled = budget.settled();
            let url = settled.url_fingerprint(ex.vhost, ex.local_port, bytes);
            if let Some(held) = settled.held(url, self.now_ms) {
                return held == Held::Redirect;
            }
        }
        learned(target, &mut |target| self.looked_up(ex, target))
            .is_some_and(|record| record.redirect_target().is_some())
    }

    fn window_ms(&self) -> u64 {
        Settled::window_ms(self.lifetime_secs.unwrap_or(DEFAULT_LIFETIME_SECS))
    }

    /// What a 200 (`redirect_target` `None`) or a redirect to that
    /// same-origin path+query teaches, if anything: checked against what
    /// is never learned, planned against what the store holds, and within
    /// this process's write budget.
    pub(crate) fn learn(
        &mut self,
        ex: &Exchange<'_>,
        redirect_target: Option<&str>,
    ) -> Option<Learn> {
        check_learnable(&LearnInput {
            method: ex.method,
            has_cookie: ex.has_cookie,
            has_authorization: ex.has_authorization,
            pushed_stream: ex.pushed_stream,
            has_set_cookie: ex.has_set_cookie,
            cache_control: ex.cache_control,
        })
        .ok()?;
        // Nothing is written without a budget: nothing need be read.
        let budget = self.budget?;
        if !RecordKey::is_keyable(ex.vhost, ex.request_target) {
            return None;
        }
        let settled = budget.settled();
        let (vhost, port, target) = (ex.vhost, ex.local_port, ex.request_target);
        let fingerprint = settled.fingerprint(vhost, port, target, |hasher| {
            match redirect_target {
                Some(target) => {
                    hasher.write_u8(b'r');
                    hasher.write(target.as_bytes());
                }
                // A 200 without Link fields teaches no hints, whatever URL
                // the client asked for.
                None if ex.links.is_empty() => hasher.write_u8(b'p'),
                // Else its hints are its Link values read against that URL.
                None => (
                    b'h',
                    ex.scheme,
                    ex.host,
                    ex.server_name,
                    ex.server_port,
                    ex.links,
                )
                    .hash(hasher),
            }
        });
        if settled.is_settled(fingerprint, self.now_ms) {
            return None;
        }
        let key = self.key(ex, ex.request_target)?;
        let record = match redirect_target {
            Some(target) => Record::redirect(target)?,
            None => Record::page(hints_of(ex.links, &requested_url(ex)?))?,
        };
        let (current, fallback) = self.records(ex, &key, ex.request_target);
        // What the store holds is not known: no write, nothing settled.
        if !self.fetch.all_answered() {
            return None;
        }
        let lifetime_secs = self.lifetime_secs.unwrap_or(DEFAULT_LIFETIME_SECS);
        let window_ms = self.window_ms();
        let held = match redirect_target {
            Some(_) => Held::Redirect,
            None => Held::Page,
        };
        match plan_write(&record, current.as_deref(), fallback.as_deref()) {
            Write::Keep => {
                settled.settle(fingerprint, held, self.now_ms, window_ms);
                return None;
            }
            // Storing what a lookup would find without the key says the same
            // as removing it, and the shim needs no remove.
            Write::Store | Write::Remove => {}
        }
        if !budget.take(ex.request_target, self.now_ms) {
            return None;
        }
        settled.settle(fingerprint, held, self.now_ms, window_ms);
        Some(Learn {
            key: *key.as_bytes(),
            hints: record.hints().map_or(0, <[Hint]>::len),
            record: record.to_bytes(),
            lifetime_secs,
        })
    }
}

/// A record to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Learn {
    pub key: [u8; KEY_LEN],
    pub record: Vec<u8>,
    pub lifetime_secs: u64,
    /// How many hints it holds (for the log).
    pub hints: usize,
}
