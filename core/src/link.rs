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

/// The length of [`link_value`].
pub(crate) fn link_value_len(path_and_query: &str) -> usize {
    path_and_query.len() + 2 + LINK_PARAMS.len()
}

/// Writes [`link_value`] into `out`, which is [`link_value_len`] bytes long.
pub(crate) fn write_link_value(path_and_query: &str, out: &mut [u8]) {
    let (open, rest) = out.split_at_mut(1);
    let (target, rest) = rest.split_at_mut(path_and_query.len());
    let (close, params) = rest.split_at_mut(1);
    open[0] = b'<';
    target.copy_from_slice(path_and_query.as_bytes());
    close[0] = b'>';
    params.copy_from_slice(LINK_PARAMS.as_bytes());
}

/// The URI references (the text between `<` and `>`) of every link-value in
/// one `Link` field value. Parameters are skipped, honouring quoted strings
/// so that a `,` inside `title="a, b"` does not start a new link-value. A
/// malformed link-value is skipped up to the next top-level comma.
pub(crate) fn uri_references(field: &[u8]) -> impl Iterator<Item = &[u8]> {
    link_values(field).map(|(reference, _)| reference)
}

/// Every link-value of one `Link` field value as (URI reference, raw
/// parameters): the parameters are the bytes after the `>` up to the next
/// top-level comma, to be read with [`params`].
pub(crate) fn link_values(field: &[u8]) -> LinkValues<'_> {
    LinkValues { rest: field }
}

pub(crate) struct LinkValues<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for LinkValues<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let start = self
                .rest
                .iter()
                .position(|&b| !matches!(b, b' ' | b'\t' | b','))?;
            self.rest = &self.rest[start..];
            if self.rest[0] == b'<' {
                if let Some(end) = self.rest.iter().position(|&b| b == b'>') {
                    let reference = &self.rest[1..end];
                    let after = &self.rest[end + 1..];
                    self.rest = skip_params(after);
                    let params = &after[..after.len() - self.rest.len()];
                    let params = params.strip_suffix(b",").unwrap_or(params);
                    return Some((reference, params));
                }
                self.rest = &[];
                return None;
            }
            self.rest = skip_params(self.rest);
        }
    }
}

/// The parameters of one link-value (`; rel=preload; as="style"`) as
/// (name, value) pairs; a quoted value is unquoted, a bare name has the value
/// `None`. A parameter that is not `name[=value]` ends the list: the rest is
/// not trusted.
pub(crate) fn params(raw: &[u8]) -> Vec<(&[u8], Option<Vec<u8>>)> {
    let mut out = Vec::new();
    let mut rest = raw;
    loop {
        rest = trim_ows(rest);
        let Some(tail) = rest.strip_prefix(b";") else {
            return out; // the end, or garbage that is not a parameter
        };
        let Some((name, tail)) = split_token(trim_ows(tail)) else {
            return out;
        };
        rest = trim_ows(tail);
        let Some(tail) = rest.strip_prefix(b"=") else {
            out.push((name, None));
            continue;
        };
        rest = trim_ows(tail);
        if let Some(quoted) = rest.strip_prefix(b"\"") {
            let mut value = Vec::new();
            let mut bytes = quoted.iter();
            let mut closed = false;
            while let Some(&b) = bytes.next() {
                match b {
                    b'"' => {
                        closed = true;
                        break;
                    }
                    b'\\' => value.extend(bytes.next()),
                    _ => value.push(b),
                }
            }
            if !closed {
                return out;
            }
            rest = bytes.as_slice();
            out.push((name, Some(value)));
        } else {
            let Some((value, tail)) = split_token(rest) else {
                return out;
            };
            out.push((name, Some(value.to_vec())));
            rest = tail;
        }
    }
}

/// The token at the start of `bytes` and what follows it; `None` when
/// `bytes` does not start with a token.
fn split_token(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let len = bytes
        .iter()
        .position(|&b| !is_tchar(b))
        .unwrap_or(bytes.len());
    (len > 0).then(|| bytes.split_at(len))
}

/// Skips optional white space (RFC 9110 OWS: spaces and tabs, never CR or LF).
fn trim_ows(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(bytes.len());
    &bytes[start..]
}

/// RFC 9110 `tchar`: the bytes of a token.
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
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
    fn link_values_carry_their_raw_parameters() {
        let values: Vec<_> = link_values(br#"</a>; rel=preload; as=style, <b>;title="x, y" , <c>"#)
            .map(|(r, p)| (r.to_vec(), p.to_vec()))
            .collect();
        assert_eq!(
            values,
            [
                (b"/a".to_vec(), b"; rel=preload; as=style".to_vec()),
                (b"b".to_vec(), br#";title="x, y" "#.to_vec()),
                (b"c".to_vec(), b"".to_vec()),
            ]
        );
    }

    #[test]
    fn parameters_are_unquoted_and_garbage_ends_them() {
        let owned = |raw: &[u8]| {
            params(raw)
                .into_iter()
                .map(|(n, v)| {
                    (
                        String::from_utf8(n.to_vec()).unwrap(),
                        v.map(|v| String::from_utf8(v).unwrap()),
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            owned(br#" ; rel="pre\"load" ;as=style; crossorigin"#),
            [
                ("rel".into(), Some("pre\"load".into())),
                ("as".into(), Some("style".into())),
                ("crossorigin".into(), None)
            ]
        );
        assert_eq!(owned(b"; rel=preload x; as=style").len(), 1);
        assert_eq!(owned(br#"; rel="never closed"#), []);
        assert_eq!(owned(b"; =x"), []);
        assert_eq!(owned(b"junk; rel=preload"), []);
        assert_eq!(owned(b"; rel=\r\nX: y"), []);
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
