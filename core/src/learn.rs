//! What one response looks up in the shared store and what it teaches it
//! (docs/behaviour.md, "What is learned"). The shim fetches and stores bytes
//! by key ([`Provider`]); the records, their keys, every rule about them and
//! so what is written are here.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::chain::{learned, MAX_HOPS};
use crate::exchange::Exchange;
use crate::hints::{hints_of, Hint};
use crate::origin::requested_url;
use crate::page::PageScan;
use crate::record::{
    check_learnable, forbids_sharing_any, plan_write, without_query, Fingerprint, Held, LearnInput,
    Record, RecordKey, Settled, Write, WriteBudget, DEFAULT_LIFETIME_SECS, KEY_LEN,
};
use crate::tally::Event;

mod page;

use page::cookie_values;
pub use page::PageLearning;

/// The buffer one fetch is given: twice the longest record, so that an
/// over-long value someone else wrote reaches [`Record::parse`] and is
/// refused there (memcache's and redis's providers log an error for a
/// value longer than the buffer).
pub const FETCH_BUF_LEN: usize = 16384;

/// The most fetches one call makes: each hop of a learned chain and its
/// path without query, the first hop once more (a pushed redirect's
/// target is probed before its chain is followed), and the URL that
/// teaches, or ahead of the handler is asked for, its path, and a page's
/// hints not yet public.
pub const MAX_LOOKUPS: usize = 2 * MAX_HOPS + 5;

/// The shared store's provider as one call sees it (mod_socache's word
/// for what stores: shmcb, dbm, memcache, redis): read by [`fetch`], and
/// written by [`put`] when the response teaches.
///
/// [`fetch`]: Provider::fetch
/// [`put`]: Provider::put
pub trait Provider {
    /// The value stored under `key`, at most [`FETCH_BUF_LEN`] bytes, valid
    /// until the next fetch; `None` for a miss, a failing store, or a longer
    /// value. The store owns the buffer, so no fetch zeroes one.
    fn fetch(&mut self, key: &[u8; KEY_LEN]) -> Option<&[u8]>;

    /// Stores `record` under `key` for `lifetime_secs` seconds, copying what
    /// it keeps. Called only for a write this core decided on and the
    /// budget let through; nothing waits for it, so a write the store drops
    /// (it failed meanwhile, its queue is full) is not known here.
    fn put(&mut self, key: &[u8; KEY_LEN], record: &[u8], lifetime_secs: u64);

    /// Whether every fetch so far got an answer, a miss included: false
    /// once one did not (a store that is slow, busy or failing), after
    /// which a miss means nothing, and nothing is written or taken as
    /// settled on the strength of it.
    fn all_answered(&self) -> bool {
        true
    }

    /// Whether the last fetch got an answer (a miss is one): what a
    /// lookup is counted as ([`Tally`]).
    fn last_answered(&self) -> bool {
        self.all_answered()
    }
}

/// The shared store for one response: the provider it reads and writes
/// through, the writes left to this process, the lifetime of a record
/// (`None`: the default), and the time in milliseconds on the budget's
/// clock, one that does not jump (see [`WriteBudget`]).
pub struct Store<'a> {
    pub provider: &'a mut dyn Provider,
    pub budget: Option<&'a WriteBudget>,
    pub lifetime_secs: Option<u64>,
    pub now_ms: u64,
    /// What Apache knows of the visitor; `None`: an anonymous visitor who
    /// may fetch every URL (the core's own tests).
    pub visitor: Option<&'a mut dyn Visitor>,
    lookups: usize,
}

/// What the server knows of the visitor that the request's headers do not
/// say, asked only where an answer depends on it.
pub trait Visitor {
    /// The request is authenticated otherwise than by a `Cookie` or an
    /// `Authorization` header: a verified client certificate, a user that
    /// Apache's authentication set. Such a request teaches nothing.
    fn authenticated(&mut self) -> bool;

    /// This request could fetch `target`, a path+query of the same virtual
    /// host, as Apache's access control decides: a 103 carries a page's
    /// learned hints only to a visitor who may fetch that page.
    fn may_fetch(&mut self, target: &str) -> bool;

    /// Whether a stranger could fetch `target`: a request with nothing of
    /// this visitor's (no credentials, no header field but `Host`, an
    /// address no network's `Require ip` names). `None` when Apache's
    /// answer would not be the stranger's (it checks access again only
    /// where a target's configuration differs from the request's own).
    /// What a stranger may fetch, every visitor may
    /// ([`Strangers`](crate::record::Strangers)).
    fn stranger_may_fetch(&mut self, target: &str) -> Option<bool>;
}

impl<'a> Store<'a> {
    pub fn new(
        provider: &'a mut dyn Provider,
        budget: Option<&'a WriteBudget>,
        lifetime_secs: Option<u64>,
        now_ms: u64,
    ) -> Store<'a> {
        Store {
            provider,
            budget,
            lifetime_secs,
            now_ms,
            visitor: None,
            lookups: 0,
        }
    }

    /// Counts `event` where the budget does ([`WriteBudget::with_tally`]).
    fn count(&self, event: Event) {
        if let Some(budget) = self.budget {
            budget.count(event);
        }
    }

    /// The store with what Apache knows of the visitor.
    pub fn with_visitor(mut self, visitor: &'a mut dyn Visitor) -> Store<'a> {
        self.visitor = Some(visitor);
        self
    }

    /// Whether the visitor may fetch `target` ([`Visitor::may_fetch`]),
    /// a page of this virtual host: yes, without asking, when Apache said
    /// lately that a stranger may ([`Strangers`](crate::record::Strangers)).
    pub(crate) fn may_fetch(&mut self, ex: &Exchange<'_>, target: &str) -> bool {
        let strangers = self
            .budget
            .zip(self.key(ex, target.as_bytes()))
            .map(|(budget, key)| (budget.strangers(), key));
        let Some(visitor) = self.visitor.as_deref_mut() else {
            return true;
        };
        if let Some((strangers, key)) = strangers {
            let stranger_may = strangers.may_fetch(&key, self.now_ms).or_else(|| {
                let answer = visitor.stranger_may_fetch(target)?;
                strangers.answered(&key, answer, self.now_ms);
                Some(answer)
            });
            if stranger_may == Some(true) {
                return true;
            }
        }
        visitor.may_fetch(target)
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
        let Some(bytes) = self.provider.fetch(key.as_bytes()) else {
            self.count(match self.provider.last_answered() {
                true => Event::LookupMissed,
                false => Event::LookupUnanswered,
            });
            return None;
        };
        let record = match self.budget {
            Some(budget) => budget.validated().record(bytes),
            None => Record::parse(bytes).map(Arc::new),
        };
        self.count(match record {
            Some(_) => Event::LookupFound,
            None => Event::LookupMissed,
        });
        record
    }

    /// The key of `target` on this virtual host, hashed once per process
    /// while it is looked up often ([`Keys`](crate::record::Keys)).
    fn key(&self, ex: &Exchange<'_>, target: &[u8]) -> Option<RecordKey> {
        match self.budget {
            Some(budget) => budget.keys().key(ex.vhost, ex.local_port, target),
            None => RecordKey::new(ex.vhost, ex.local_port, target),
        }
    }

    /// The record of `target` on this virtual host, for a lookup (what a
    /// learned chain is followed through). What it finds is noted in the
    /// settled table: a miss or a record that does not parse also tells
    /// this process that what it had settled for the URL is no longer
    /// there.
    pub(crate) fn looked_up(&mut self, ex: &Exchange<'_>, target: &[u8]) -> Option<Arc<Record>> {
        let key = self.key(ex, target)?;
        let record = self.record(&key);
        if let (Some(budget), true) = (self.budget, self.provider.all_answered()) {
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

    /// What a redirect to the same-origin path+query `target` teaches, if
    /// anything: checked against what is never learned, planned against
    /// what the store holds, and within this process's write budget.
    pub(crate) fn learn_redirect(&mut self, ex: &Exchange<'_>, target: &str) -> Option<Learn> {
        // A redirect that sets a cookie, or is private, may send each
        // visitor to a URL of their own: `check_learnable` refuses it,
        // unlike a page (see `page`).
        let lesson = self.lesson(ex, Taught::Redirect(target))?;
        let record = Record::redirect(target)?;
        let (current, fallback) = self.records(&lesson);
        let learn = self.teach(&lesson, record, current, fallback, None)?;
        if learn.record.is_some() {
            self.count(Event::LearnedRedirect);
        }
        Some(learn)
    }

    /// What a 200 teaches: its `Link` hints at once; with `html`, the
    /// page's hints are read from its body first (see [`PageLearning`]),
    /// when it is HTML this core can read.
    pub(crate) fn learn_page(&mut self, ex: &Exchange<'_>, html: bool) -> Option<Lesson> {
        let lesson = self.lesson(ex, Taught::Page)?;
        let url = requested_url(ex)?;
        let header_hints = hints_of(ex.links, &url);
        let scan = if html {
            PageScan::new(
                &url,
                ex.content_type.unwrap_or_default(),
                ex.content_encoding,
            )
            .ok()
        } else {
            None
        };
        let learning = PageLearning::new(lesson, header_hints, scan);
        if learning.reads_body() {
            return Some(Lesson::Reading(Box::new(learning)));
        }
        learning.finish(self).map(Lesson::Learned)
    }

    /// Whether `ex` may teach anything, and what is needed to write what it
    /// teaches: `None` when it may not, when this process settled the same
    /// lately, or without a budget (nothing is written without one).
    fn lesson(&mut self, ex: &Exchange<'_>, taught: Taught<'_>) -> Option<LessonPlan> {
        check_learnable(&LearnInput {
            method: ex.method,
            has_cookie: ex.has_cookie,
            has_authorization: ex.has_authorization,
            pushed_stream: ex.pushed_stream,
            has_set_cookie: !ex.set_cookies.is_empty(),
            cache_control: ex.cache_control,
            page: matches!(taught, Taught::Page),
        })
        .ok()?;
        let budget = self.budget?;
        if !RecordKey::is_keyable(ex.vhost, ex.request_target) {
            return None;
        }
        let settled = budget.settled();
        let (vhost, port, target) = (ex.vhost, ex.local_port, ex.request_target);
        let fingerprint = settled.fingerprint(vhost, port, target, |hasher| {
            match taught {
                Taught::Redirect(target) => {
                    hasher.write_u8(b'r');
                    hasher.write(target.as_bytes());
                }
                // A 200 without Link fields teaches no hints from them,
                // whatever URL the client asked for.
                Taught::Page if ex.links.is_empty() => hasher.write_u8(b'p'),
                // Else its hints are its Link values read against that URL.
                Taught::Page => (
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
        // A bucket that is empty now will most likely refuse the write: the
        // store is not read for it. A flood of distinct query URLs would
        // otherwise keep the store busy with lookups for writes it cannot
        // make, and the pages without a query answered meanwhile wait for
        // the store, or go without what it holds (docs/behaviour.md,
        // "Bounded writes").
        if !budget.has_left(target, self.now_ms) {
            self.count(Event::WriteRefused);
            return None;
        }
        // Asked last, as it may cost the shim a lookup: the request
        // authenticated otherwise than by its headers (a verified client
        // certificate, a user Apache knows) teaches nothing either.
        if self
            .visitor
            .as_deref_mut()
            .is_some_and(|v| v.authenticated())
        {
            return None;
        }
        let personal = (!ex.set_cookies.is_empty() || forbids_sharing_any(ex.cache_control))
            .then(|| cookie_values(ex.set_cookies));
        let key = self.key(ex, target)?;
        Some(LessonPlan {
            key,
            path_key: without_query(target).and_then(|path| self.key(ex, path)),
            unconfirmed_key: key.unconfirmed(),
            target: target.to_vec(),
            fingerprint,
            held: match taught {
                Taught::Redirect(_) => Held::Redirect,
                Taught::Page => Held::Page,
            },
            personal,
        })
    }

    /// The records under `lesson`'s key and its path's.
    fn records(&mut self, lesson: &LessonPlan) -> (Option<Arc<Record>>, Option<Arc<Record>>) {
        let own = self.record(&lesson.key);
        let path = lesson.path_key.and_then(|key| self.record(&key));
        (own, path)
    }

    /// Writes `record` (and a page's hints not yet public, `unconfirmed`)
    /// through [`Provider::put`] when the store would not say the same without
    /// the write, within the budget; settles what needs no write.
    fn teach(
        &mut self,
        lesson: &LessonPlan,
        record: Record,
        current: Option<Arc<Record>>,
        fallback: Option<Arc<Record>>,
        unconfirmed: Option<Record>,
    ) -> Option<Learn> {
        let budget = self.budget?;
        // What the store holds is not known: no write, nothing settled.
        if !self.provider.all_answered() {
            return None;
        }
        let settled = budget.settled();
        let window_ms = self.window_ms();
        let write = plan_write(&record, current.as_deref(), fallback.as_deref());
        if write == Write::Keep && unconfirmed.is_none() {
            settled.settle(lesson.fingerprint, lesson.held, self.now_ms, window_ms);
            return None;
        }
        // Storing what a lookup would find without the key says the same
        // as removing it, and the shim needs no remove.
        if !budget.take(&lesson.target, self.now_ms) {
            self.count(Event::WriteRefused);
            return None;
        }
        // A page whose hints are not all public yet is not settled: the
        // next response may confirm them.
        if unconfirmed.is_none() {
            settled.settle(lesson.fingerprint, lesson.held, self.now_ms, window_ms);
        }
        let hints = record.hints().map_or(0, <[Hint]>::len);
        let learn = Learn {
            key: *lesson.key.as_bytes(),
            record: (write != Write::Keep).then(|| record.to_bytes()),
            unconfirmed: unconfirmed
                .map(|record| (*lesson.unconfirmed_key.as_bytes(), record.to_bytes())),
            lifetime_secs: self.lifetime_secs.unwrap_or(DEFAULT_LIFETIME_SECS),
            hints,
            from_html: 0,
        };
        // The public record first: a store with room for one write more
        // (a queue of the shim's) keeps that one.
        let record = learn.record.as_deref().map(|record| (&learn.key, record));
        let unconfirmed = learn.unconfirmed.as_ref().map(|(key, r)| (key, &r[..]));
        for (key, bytes) in record.into_iter().chain(unconfirmed) {
            self.provider.put(key, bytes, learn.lifetime_secs);
        }
        Some(learn)
    }
}

/// What one response wrote to the store ([`Provider::put`], once the budget
/// let it through): what the log, the counters and the tests read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Learn {
    pub key: [u8; KEY_LEN],
    /// The record written under `key`; `None`: it is there already (only
    /// `unconfirmed` is written).
    pub record: Option<Vec<u8>>,
    /// A page's hints that only a response with a cookie or
    /// `Cache-Control: private`/`no-store` carried, under their own key
    /// (see `page`): never sent, kept for the next such response to
    /// confirm.
    pub unconfirmed: Option<([u8; KEY_LEN], Vec<u8>)>,
    pub lifetime_secs: u64,
    /// How many hints the record holds (for the log)...
    pub hints: usize,
    /// ...and how many of them came from the page's HTML.
    pub from_html: usize,
}

/// What a 200 taught: written at once, or once its body has been read.
pub enum Lesson {
    Learned(Learn),
    Reading(Box<PageLearning>),
}

/// What a response teaches, by kind.
#[derive(Clone, Copy)]
enum Taught<'a> {
    Redirect(&'a str),
    Page,
}

/// What a response that may teach needs for the write, owned so that a
/// page's can wait for its body.
pub(crate) struct LessonPlan {
    key: RecordKey,
    /// The key of the target's path, for a target with a query.
    path_key: Option<RecordKey>,
    /// Where a page's hints not yet public are kept.
    unconfirmed_key: RecordKey,
    target: Vec<u8>,
    fingerprint: Fingerprint,
    held: Held,
    /// For a page that may be one visitor's (it sets a cookie, or says
    /// `Cache-Control: private` or `no-store`): the values of the cookies
    /// it sets, which no hint may contain.
    personal: Option<Vec<Vec<u8>>>,
}
