//! A model of what the module gives `respond`: the shared cache
//! (mod_socache) as a map of keys to bytes behind a [`Provider`], one child's
//! [`WriteBudget`] and clock, and a [`Visitor`] with fixed answers. The
//! core writes to the map through [`Provider::put`] as it writes to the
//! shim's store, so later calls see what it wrote; what it reports as
//! written (`Response::learn`, and a page's once its body is read) is
//! checked to be exactly that.

use std::collections::HashMap;

use push_redirect_core::{
    early_hints, respond, EarlyHintsDecision, Exchange, Learn, Policy, Provider, Record, Response,
    Settings, Store, Visitor, WriteBudget, FETCH_BUF_LEN, KEY_LEN,
};

/// The shared cache: values by key. A value longer than a fetch's buffer
/// is a miss, as mod_socache's providers answer it.
#[derive(Clone, Debug, Default)]
pub struct Memory {
    pub values: HashMap<[u8; KEY_LEN], Vec<u8>>,
    pub fetches: usize,
    /// The writes of the current response, in order, with their lifetime.
    pub puts: Vec<([u8; KEY_LEN], Vec<u8>, u64)>,
}

impl Provider for Memory {
    fn fetch(&mut self, key: &[u8; KEY_LEN]) -> Option<&[u8]> {
        self.fetches += 1;
        self.values
            .get(key)
            .map(Vec::as_slice)
            .filter(|value| value.len() <= FETCH_BUF_LEN)
    }

    fn put(&mut self, key: &[u8; KEY_LEN], record: &[u8], lifetime_secs: u64) {
        self.values.insert(*key, record.to_vec());
        self.puts.push((*key, record.to_vec(), lifetime_secs));
    }
}

impl Memory {
    /// Checks that the writes of the response are what `learn` reports:
    /// the record, then a page's hints not yet public, for its lifetime;
    /// none without a `learn`.
    fn check_puts(&mut self, learn: Option<&Learn>) {
        let reported: Vec<_> = learn
            .into_iter()
            .flat_map(|learn| {
                let record = learn.record.clone().map(|record| (learn.key, record));
                record
                    .into_iter()
                    .chain(learn.unconfirmed.clone())
                    .map(|(key, record)| (key, record, learn.lifetime_secs))
            })
            .collect();
        assert_eq!(
            std::mem::take(&mut self.puts),
            reported,
            "written otherwise than reported"
        );
        assert!(learn.is_none() || !reported.is_empty(), "learned nothing");
    }

    /// The hints of every page record the cache holds that parses (a
    /// page's hints not yet public among them: they are pages too).
    pub fn page_hints(&self) -> Vec<Vec<String>> {
        self.values
            .values()
            .filter_map(|bytes| Record::parse(bytes))
            .filter_map(|record| {
                let hints = record.hints()?;
                Some(hints.iter().map(|h| h.as_str().to_owned()).collect())
            })
            .collect()
    }

    /// Whether the cache holds a redirect's record that parses: without
    /// one, no chain goes past a redirect's own target.
    pub fn holds_a_redirect(&self) -> bool {
        self.values.values().any(|bytes| {
            Record::parse(bytes).is_some_and(|record| record.redirect_target().is_some())
        })
    }
}

/// What Apache knows of the visitor, fixed for a whole model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FixedVisitor {
    /// A verified client certificate, or a user Apache's authentication set.
    pub authenticated: bool,
    /// Apache's access control lets this visitor fetch any page.
    pub may_fetch: bool,
    /// ... and a stranger (`None`: Apache does not say).
    pub stranger: Option<bool>,
}

impl FixedVisitor {
    /// Whether a 103 may carry a learned page's hints to this visitor: it
    /// may fetch the page, or a stranger may (docs/behaviour.md, "Only to
    /// a visitor who may fetch the page").
    pub fn may_fetch_pages(&self) -> bool {
        self.may_fetch || self.stranger == Some(true)
    }
}

impl Visitor for FixedVisitor {
    fn authenticated(&mut self) -> bool {
        self.authenticated
    }

    fn may_fetch(&mut self, _: &str) -> bool {
        self.may_fetch
    }

    fn stranger_may_fetch(&mut self, _: &str) -> Option<bool> {
        self.stranger
    }
}

/// One child of the module and the cache it shares: what it keeps between
/// responses, and its clock.
#[derive(Debug, Default)]
pub struct Model {
    pub memory: Memory,
    pub budget: WriteBudget,
    /// `None`: no visitor is asked about (an anonymous visitor who may
    /// fetch every page).
    pub visitor: Option<FixedVisitor>,
    /// `PushRedirectEarlyHintsLifetime`; `None`: the default.
    pub lifetime_secs: Option<u64>,
    /// Milliseconds on the child's clock.
    pub now_ms: u64,
}

impl Model {
    pub fn new(visitor: Option<FixedVisitor>) -> Model {
        Model {
            visitor,
            ..Model::default()
        }
    }

    /// One response as the module answers it: `respond` with a store over
    /// the cache; a page it reads gets `body`, chunk by chunk until it
    /// wants no more, and is finished through a store of its own (the
    /// shim's page filter), its `Learn` put in the answer. The writes are
    /// checked against the answer's `learn`. The clock moves on by a
    /// millisecond.
    pub fn respond<'a>(
        &mut self,
        settings: &Settings<'_>,
        ex: &Exchange<'a>,
        body: &[&[u8]],
    ) -> Response<'a> {
        let mut visitor = self.visitor;
        let mut response = respond(settings, ex, Some(&mut self.store(visitor.as_mut())));
        if let Some(mut page) = response.page.take() {
            assert!(response.learn.is_none(), "a page learned twice");
            assert!(page.reads_body(), "a page handed over with nothing to read");
            for chunk in body {
                if !page.feed(chunk) {
                    break;
                }
            }
            response.learn = page.finish(&mut self.store(visitor.as_mut()));
        }
        self.memory.check_puts(response.learn.as_ref());
        self.now_ms += 1;
        response
    }

    /// The store the shim gives a call now, with `visitor`.
    fn store<'s>(&'s mut self, visitor: Option<&'s mut FixedVisitor>) -> Store<'s> {
        let store = Store::new(
            &mut self.memory,
            Some(&self.budget),
            self.lifetime_secs,
            self.now_ms,
        );
        match visitor {
            Some(visitor) => store.with_visitor(visitor),
            None => store,
        }
    }

    /// The 103 the cache's records make for `ex` when every visitor may
    /// fetch every page, by the 103's own decision ([`early_hints`]),
    /// through a store that keeps nothing: no budget, so nothing this
    /// child remembers changes.
    pub fn early_hints(
        &mut self,
        policy: &Policy<'_>,
        settings: &Settings<'_>,
        ex: &Exchange<'_>,
    ) -> EarlyHintsDecision {
        let mut store = Store::new(&mut self.memory, None, self.lifetime_secs, self.now_ms);
        early_hints(policy, settings.declared, Some(&mut store), ex)
    }
}
