//! Reading the URI references out of existing `Link` fields (RFC 8288), and
//! writing the one we add.

/// The parameters of the field value we add; `as=document` tells a cache or
/// CDN what the preload is for, `rel=preload` is what mod_http2 pushes on.
pub(crate) const LINK_PARAMS: &str = "; as=document; rel=preload";

/// The `Link` field value for a target path+query.
pub(crate) fn link_value(path_and_query: &str) -> String {
    let mut value = String::with_capacity(path_and_query.len() + 2 + LINK_PARAMS.len());
    value.push('<');
    value.push_str(path_and_query);
    value.push('>');
    value.push_str(LINK_PARAMS);
    value
}

/// The URI references (the text between `<` and `>`) of every link-value in
/// one `Link` field value. Parameters are skipped, honouring quoted strings
/// so that a `,` inside `title="a, b"` does not start a new link-value. A
/// malformed link-value is skipped up to the next top-level comma.
pub(crate) fn uri_references(field: &[u8]) -> UriReferences<'_> {
    UriReferences { rest: field }
}

pub(crate) struct UriReferences<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for UriReferences<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        loop {
            let start = self
                .rest
                .iter()
                .position(|&b| !matches!(b, b' ' | b'\t' | b','))?;
            self.rest = &self.rest[start..];
            if self.rest[0] == b'<' {
                if let Some(end) = self.rest.iter().position(|&b| b == b'>') {
                    let reference = &self.rest[1..end];
                    self.rest = skip_params(&self.rest[end + 1..]);
                    return Some(reference);
                }
                self.rest = &[];
                return None;
            }
            self.rest = skip_params(self.rest);
        }
    }
}

/// Skips to just after the next comma that is outside a quoted string.
fn skip_params(mut rest: &[u8]) -> &[u8] {
    let mut in_quotes = false;
    while let Some((&b, tail)) = rest.split_first() {
        rest = tail;
        match b {
            b'\\' if in_quotes => rest = rest.split_first().map_or(rest, |(_, t)| t),
            b'"' => in_quotes = !in_quotes,
            b',' if !in_quotes => return rest,
            _ => {}
        }
    }
    rest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(field: &str) -> Vec<&str> {
        uri_references(field.as_bytes())
            .map(|r| std::str::from_utf8(r).unwrap())
            .collect()
    }

    #[test]
    fn link_value_is_the_specs_format() {
        assert_eq!(
            link_value("/new?q=1"),
            "</new?q=1>; as=document; rel=preload"
        );
    }

    #[test]
    fn one_reference() {
        assert_eq!(refs("</a>; rel=preload"), ["/a"]);
        assert_eq!(refs("<https://h/a>"), ["https://h/a"]);
    }

    #[test]
    fn several_link_values_in_one_field() {
        assert_eq!(
            refs(r#"</a>; rel=preload; as=style, <b.js>;rel="preload"; nopush ,</c>"#),
            ["/a", "b.js", "/c"]
        );
    }

    #[test]
    fn commas_inside_references_and_quoted_params_do_not_split() {
        assert_eq!(refs(r#"</a,b>; title="x, <y>", </c>"#), ["/a,b", "/c"]);
        assert_eq!(refs(r#"</a>; title="q\", <z>", </c>"#), ["/a", "/c"]);
    }

    #[test]
    fn malformed_values_are_skipped() {
        assert_eq!(refs("garbage; x=y, </ok>"), ["/ok"]);
        assert_eq!(refs("</unterminated"), Vec::<&str>::new());
        assert_eq!(refs(""), Vec::<&str>::new());
        assert_eq!(refs(" , ,"), Vec::<&str>::new());
        assert_eq!(refs(r#"</a>; title="never closed, </b>"#), ["/a"]);
    }
}
