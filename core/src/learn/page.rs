//! What a 200 teaches: the hints of its `Link` fields, then those its HTML
//! says a browser fetches first ([`PageScan`]), read from its body as it
//! streams past; and when the page may be one visitor's, only what two
//! responses agree on (docs/behaviour.md, "What is learned").
//!
//! A page that sets a cookie (a CSRF token, a fresh anonymous session) or
//! says `Cache-Control: private` or `no-store` is what real login pages
//! are (Django's sets `csrftoken` and `no-store, private` for every
//! anonymous visitor), so it may teach; but a hint of it reaches other
//! visitors only when it cannot be one visitor's:
//! - never a hint that contains the value of a cookie the response sets
//!   (values of [`MIN_COOKIE_VALUE_LEN`] bytes or more: shorter ones, such
//!   as `1` or `en`, are the same for many visitors and would match half
//!   of a site's URLs);
//! - a hint goes into the record that 103s read only once two such
//!   responses carried it: each response's hints are kept under a key of
//!   their own ([`RecordKey::unconfirmed`](crate::RecordKey::unconfirmed))
//!   that nothing sends, and the next response's hints that are there too
//!   (or in the record already) become public. A hint that embeds a
//!   freshly minted session differs from one response to the next and
//!   never does; a page's stylesheets do on the second visit.
//!
//! A request with credentials still teaches nothing at all
//! ([`crate::record::check_learnable`], [`crate::learn::Visitor`]).

use super::{Learn, LessonPlan, Store};
use crate::hints::{Hint, HintList};
use crate::page::PageScan;
use crate::record::Record;
use crate::tally::learned_page;

/// The shortest cookie value that no hint may contain.
pub const MIN_COOKIE_VALUE_LEN: usize = 4;

/// A 200 being learned from: what its headers said, and the scan of its
/// body, if it is read. Owned, so that it outlives the call that made it
/// and goes with the response's body.
pub struct PageLearning {
    lesson: LessonPlan,
    header_hints: Vec<Hint>,
    scan: Option<PageScan>,
    /// Whether the scan still wants the body.
    reading: bool,
}

impl std::fmt::Debug for PageLearning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageLearning")
            .field("header_hints", &self.header_hints)
            .field("reading", &self.reading)
            .finish_non_exhaustive()
    }
}

impl PageLearning {
    pub(crate) fn new(
        lesson: LessonPlan,
        header_hints: Vec<Hint>,
        scan: Option<PageScan>,
    ) -> PageLearning {
        let reading = scan.is_some();
        PageLearning {
            lesson,
            header_hints,
            scan,
            reading,
        }
    }

    /// Whether the body is to be read ([`PageLearning::feed`]) before
    /// [`PageLearning::finish`].
    pub fn reads_body(&self) -> bool {
        self.reading
    }

    /// The next bytes of the body, as they go out. Returns whether more
    /// are wanted: false once the scan has reached the end of the head, its
    /// bound, or an error; then the caller stops feeding.
    pub fn feed(&mut self, chunk: &[u8]) -> bool {
        if self.reading {
            self.reading = self.scan.as_mut().is_some_and(|scan| scan.feed(chunk));
        }
        self.reading
    }

    /// What the page teaches, the body read as far as it went (all of it,
    /// or part when the response ended or failed first): its `Link` hints
    /// first, then its HTML's, within one 103's bounds; written through
    /// `store` as any record is.
    pub fn finish(self, store: &mut Store<'_>) -> Option<Learn> {
        let PageLearning {
            lesson,
            header_hints,
            scan,
            ..
        } = self;
        let mut list = HintList::default();
        for hint in header_hints
            .iter()
            .cloned()
            .chain(scan.map(PageScan::finish).unwrap_or_default())
        {
            if let Some(values) = &lesson.personal {
                if mentions_any(&hint, values) {
                    continue;
                }
            }
            list.push(hint);
        }
        let hints = list.hints;
        let (current, fallback) = store.records(&lesson);
        let (public, unconfirmed) = match &lesson.personal {
            None => (hints, None),
            Some(_) => {
                let seen = store.record(&lesson.unconfirmed_key);
                let confirmed = |hint: &Hint| {
                    [&current, &seen]
                        .into_iter()
                        .flatten()
                        .any(|record| record.hints().is_some_and(|h| h.contains(hint)))
                };
                let public = hints.iter().filter(|h| confirmed(h)).cloned().collect();
                let unconfirmed = Record::page(hints)?;
                (
                    public,
                    (seen.as_deref() != Some(&unconfirmed)).then_some(unconfirmed),
                )
            }
        };
        let record = Record::page(public)?;
        // Of the record's hints (a personal page's public ones), those its
        // Link fields did not give.
        let from_html = record
            .hints()
            .unwrap_or_default()
            .iter()
            .filter(|hint| !header_hints.contains(hint))
            .count();
        let mut learn = store.teach(&lesson, record, current, fallback, unconfirmed)?;
        learn.from_html = from_html;
        if learn.record.is_some() {
            store.count(learned_page(learn.hints, from_html));
        }
        Some(learn)
    }
}

/// The values of the cookies that `Set-Cookie` fields set, of at least
/// [`MIN_COOKIE_VALUE_LEN`] bytes, without the quotes a value may have.
pub(crate) fn cookie_values(fields: &[&[u8]]) -> Vec<Vec<u8>> {
    fields
        .iter()
        .filter_map(|field| {
            let pair = field.split(|&b| b == b';').next()?;
            let at = pair.iter().position(|&b| b == b'=')?;
            let value = pair[at + 1..].trim_ascii();
            let value = value
                .strip_prefix(b"\"")
                .and_then(|v| v.strip_suffix(b"\""))
                .unwrap_or(value);
            (value.len() >= MIN_COOKIE_VALUE_LEN).then(|| value.to_vec())
        })
        .collect()
}

/// Whether `hint` contains one of `values`, as sent or percent-decoded.
fn mentions_any(hint: &Hint, values: &[Vec<u8>]) -> bool {
    let text = hint.as_str().as_bytes();
    let decoded: Vec<u8> = percent_encoding::percent_decode(text).collect();
    values.iter().any(|value| {
        let found = |haystack: &[u8]| haystack.windows(value.len()).any(|w| w == &value[..]);
        found(text) || found(&decoded)
    })
}

#[cfg(test)]
mod tests;
