//! Hints declared in the configuration (`PushRedirectEarlyHint`).

use url::Url;

use crate::config::{quoted, ConfigError};
use crate::hints::Hint;
use crate::link::link_values;
use crate::origin::same_origin;

/// The base that declared hints are read against: a path-absolute reference
/// becomes a path, an https URL stays a URL. `.invalid` is never a real host.
const DECLARED_BASE: &str = "https://declared-hint.invalid/";

/// `PushRedirectEarlyHint` lines of one scope: hints by target path.
#[derive(Clone, Debug, Default)]
pub struct DeclaredHints {
    pub(crate) by_path: Vec<(String, Hint)>,
}

impl DeclaredHints {
    pub fn new() -> DeclaredHints {
        DeclaredHints::default()
    }

    /// Adds the hint of one `PushRedirectEarlyHint <target-path> "<link-value>"`.
    /// The target path is a path (`/new`), compared with the redirect
    /// target's path without its query; the link-value is one preload,
    /// modulepreload or preconnect whose reference is path-absolute or an
    /// https URL.
    pub fn add(&mut self, target_path: &str, link_value: &str) -> Result<(), ConfigError> {
        let base = Url::parse(DECLARED_BASE).expect("a valid base");
        let bad = |value: &str, reason| ConfigError::BadEarlyHints {
            value: quoted(value),
            reason,
        };
        let path = base
            .join(target_path)
            .ok()
            .filter(|url| {
                target_path.starts_with('/')
                    && !target_path.starts_with("//")
                    && same_origin(&base, url)
                    && url.query().is_none()
                    && url.fragment().is_none()
            })
            .ok_or_else(|| bad(target_path, "is not a path (expected e.g. /new)"))?;
        let mut values = link_values(link_value.as_bytes());
        let (Some((reference, raw_params)), None) = (values.next(), values.next()) else {
            return Err(bad(
                link_value,
                "is not one link-value (expected e.g. \"</app.css>; rel=preload; as=style\")",
            ));
        };
        let absolute = reference.starts_with(b"/") && !reference.starts_with(b"//")
            || reference.starts_with(b"https://");
        let hint = Hint::parse(reference, raw_params, &base)
            .filter(|_| absolute)
            .ok_or_else(|| {
                bad(
                    link_value,
                    "is not a hint: expected <path-or-https-URL> with rel=preload and an as \
                     (audio, fetch, font, image, script, style, track, video, worker), \
                     a path with rel=modulepreload, or an https URL with rel=preconnect",
                )
            })?;
        self.by_path.push((path.path().to_owned(), hint));
        Ok(())
    }

    pub(crate) fn for_path<'a>(&'a self, path: &'a str) -> impl Iterator<Item = &'a Hint> + 'a {
        self.by_path
            .iter()
            .filter(move |(declared, _)| declared == path)
            .map(|(_, hint)| hint)
    }

    pub fn len(&self) -> usize {
        self.by_path.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_path.is_empty()
    }
}
