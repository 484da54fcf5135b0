//! Property tests of the learned record (what a shared cache holds) and its
//! key: whatever bytes the cache returns, parsing never panics, and every
//! record it accepts serialises back to exactly those bytes, holds only
//! hints that re-validate and stays within one 103's bounds; keys of
//! different (name, port, target) differ.

use proptest::prelude::*;
use push_redirect_core::{
    plan_write, Record, RecordKey, Write, MAX_HINTS, MAX_HINTS_LEN, MAX_RECORD_LEN,
};

/// Pieces of hint lines: valid ones, near misses, and bytes that try to
/// break a line or a field.
const HINT_PIECES: &[&str] = &[
    "</a.css>; rel=preload; as=style",
    "</s/app.js>; rel=preload; as=script",
    "</f.woff2>; rel=preload; as=font; crossorigin",
    "<https://cdn.example/x.png>; rel=preload; as=image; crossorigin=use-credentials",
    "<https://cdn.example>; rel=preconnect",
    "</t.css>; rel=preload; as=style; type=\"text/css\"",
    "<",
    ">",
    "; rel=preload",
    "; as=style",
    "; as=document",
    "rel=preconnect",
    "http://evil.example",
    "https://",
    "//",
    "/",
    "\\",
    "\r",
    "\n",
    "\0",
    "\t",
    " ",
    ",",
    "\"",
    "%",
    "%0d%0a",
    "é",
    "?",
    "#",
    "pr1 h\n",
    "pr1 r\n",
];

const TARGET_PIECES: &[&str] = &[
    "/",
    "//",
    "a",
    "new",
    "?",
    "q=1",
    "&",
    "#",
    "%20",
    "%zz",
    "%00",
    "..",
    ".",
    "\\",
    " ",
    "\r\n",
    "\0",
    "http:",
    "https://evil.example",
    "é",
    "<",
    "\"",
    ":",
    "@",
];

fn record_bytes() -> impl Strategy<Value = Vec<u8>> {
    let hint_line = prop::collection::vec(prop::sample::select(HINT_PIECES), 1..4)
        .prop_map(|pieces| pieces.concat());
    let target = prop::collection::vec(prop::sample::select(TARGET_PIECES), 0..8)
        .prop_map(|pieces| pieces.concat());
    prop_oneof![
        4 => prop::collection::vec(hint_line, 0..20).prop_map(|lines| {
            let mut out = b"pr1 h\n".to_vec();
            for line in lines {
                out.extend_from_slice(line.as_bytes());
                out.push(b'\n');
            }
            out
        }),
        2 => target.prop_map(|t| format!("pr1 r\n{t}\n").into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..200),
        1 => (prop::sample::select(HINT_PIECES), 4000usize..9000).prop_map(|(piece, len)| {
            let mut out = format!("pr1 h\n{piece}").into_bytes();
            out.resize(len, b'x');
            out.push(b'\n');
            out
        }),
    ]
}

/// A valid record (a page of distinct hints from the valid pieces, or a
/// redirect to a plain path) built through the public constructors' only
/// door for hints, the parser.
fn record() -> impl Strategy<Value = Record> {
    prop_oneof![
        prop::collection::btree_set(0usize..6, 0..6).prop_map(|set| {
            let mut bytes = b"pr1 h\n".to_vec();
            for i in set {
                bytes.extend_from_slice(HINT_PIECES[i].as_bytes());
                bytes.push(b'\n');
            }
            Record::parse(&bytes).expect("valid hints")
        }),
        "(/[a-z0-9._~-]{0,12}){1,4}(\\?[a-z0-9=&%]{0,20})?"
            .prop_filter_map("a normalised path", |t| Record::redirect(&t),),
    ]
}

fn key_part() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => prop::collection::vec(prop::sample::select(&[":", "1", "4", "a", "/", "?"][..]), 0..8)
            .prop_map(|p| p.concat().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..300),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4_000, ..ProptestConfig::default() })]

    #[test]
    fn parse_never_panics_and_what_it_accepts_is_canonical(bytes in record_bytes()) {
        if let Some(record) = Record::parse(&bytes) {
            prop_assert_eq!(record.to_bytes(), bytes.clone());
            prop_assert!(bytes.len() <= MAX_RECORD_LEN);
            prop_assert!(bytes.iter().all(|&b| b == b'\n' || (b' '..=b'~').contains(&b)));
            if let Some(hints) = record.hints() {
                prop_assert!(hints.len() <= MAX_HINTS);
                let joined: usize = hints.iter().map(|h| h.as_str().len() + 2).sum();
                prop_assert!(joined.saturating_sub(2) <= MAX_HINTS_LEN);
                for hint in hints {
                    let text = hint.as_str();
                    prop_assert!(text.starts_with("</") || text.starts_with("<https://"));
                    prop_assert!(!text.starts_with("<//"));
                    prop_assert_eq!(text.matches('<').count(), 1);
                }
            }
            if let Some(target) = record.redirect_target() {
                prop_assert!(target.starts_with('/') && !target.starts_with("//"));
                prop_assert!(!target.contains(['#', ' ', '<', '>', '"']));
                // A backslash in the path would be a slash to a browser;
                // in the query the URL standard keeps it as it is, as it
                // does for a backend's Location.
                let path = target.split('?').next().unwrap_or_default();
                prop_assert!(!path.contains('\\'));
            }
        }
    }

    #[test]
    fn parse_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2_000)) {
        if let Some(record) = Record::parse(&bytes) {
            prop_assert_eq!(record.to_bytes(), bytes);
        }
    }

    #[test]
    fn parse_inverts_serialise(record in record()) {
        prop_assert_eq!(Record::parse(&record.to_bytes()), Some(record));
    }

    #[test]
    fn a_written_record_is_what_a_lookup_then_finds(
        new in record(),
        current in prop::option::of(record()),
        fallback in prop::option::of(record()),
    ) {
        // What a lookup of the URL says: its own record, else the path's.
        let empty = Record::page(Vec::new()).unwrap();
        let says = |own: Option<&Record>| own.or(fallback.as_ref()).unwrap_or(&empty).clone();
        let after = match plan_write(&new, current.as_ref(), fallback.as_ref()) {
            Write::Store => says(Some(&new)),
            Write::Remove => says(None),
            Write::Keep => says(current.as_ref()),
        };
        prop_assert_eq!(after, says(Some(&new)));
    }

    #[test]
    fn keys_differ_for_different_urls(
        a in (key_part(), any::<u16>(), key_part()),
        b in (key_part(), any::<u16>(), key_part()),
    ) {
        let key = |(name, port, target): &(Vec<u8>, u16, Vec<u8>)| {
            let mut path = b"/".to_vec();
            path.extend_from_slice(target);
            RecordKey::new(name, *port, &path)
        };
        if let (Some(ka), Some(kb)) = (key(&a), key(&b)) {
            prop_assert_eq!(ka == kb, a == b);
        }
    }
}
