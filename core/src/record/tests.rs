use super::*;

fn hint(line: &str) -> Hint {
    stored_hint(line.as_bytes()).unwrap_or_else(|| panic!("not a stored hint: {line:?}"))
}

fn page(lines: &[&str]) -> Record {
    Record::page(lines.iter().map(|l| hint(l)).collect()).expect("within bounds")
}

fn parsed(bytes: &[u8]) -> Option<Record> {
    let record = Record::parse(bytes);
    if let Some(record) = &record {
        assert_eq!(record.to_bytes(), bytes, "re-serialised");
    }
    record
}

#[test]
fn a_page_and_its_bytes() {
    let record = page(&[
        "</s/app.css>; rel=preload; as=style",
        "<https://cdn.example>; rel=preconnect",
        r#"<https://cdn.example/f.woff2>; rel=preload; as=font; crossorigin; type="font/woff2""#,
    ]);
    let bytes = record.to_bytes();
    assert_eq!(
        bytes,
        b"pr1 h\n</s/app.css>; rel=preload; as=style\n<https://cdn.example>; rel=preconnect\n\
          <https://cdn.example/f.woff2>; rel=preload; as=font; crossorigin; type=\"font/woff2\"\n"
    );
    assert_eq!(parsed(&bytes), Some(record.clone()));
    assert_eq!(record.hints().map(<[Hint]>::len), Some(3));
    assert_eq!(record.redirect_target(), None);
    assert!(!record.is_empty_page());
}

#[test]
fn a_page_without_hints() {
    let record = Record::page(Vec::new()).unwrap();
    assert_eq!(record.to_bytes(), b"pr1 h\n");
    assert!(record.is_empty_page());
    assert_eq!(parsed(b"pr1 h\n"), Some(record));
}

#[test]
fn a_redirect_and_its_bytes() {
    let record = Record::redirect("/new?from=old&x=%20").unwrap();
    assert_eq!(record.to_bytes(), b"pr1 r\n/new?from=old&x=%20\n");
    assert_eq!(parsed(&record.to_bytes()), Some(record.clone()));
    assert_eq!(record.redirect_target(), Some("/new?from=old&x=%20"));
    assert_eq!(record.hints(), None);
    let longest = format!("/{}", "a".repeat(MAX_LOCATION_LEN - 1));
    let record = Record::redirect(&longest).unwrap();
    assert_eq!(record.to_bytes().len(), MAX_RECORD_LEN);
    assert_eq!(parsed(&record.to_bytes()), Some(record));
}

#[test]
fn targets_that_are_not_a_same_origin_path() {
    for target in [
        "",
        "new",
        "//evil.example/x",
        "/\\evil.example/x",
        "https://evil.example/x",
        "http:/x",
        "/a#frag",
        "/a b",
        "/a\tb",
        "/a\r\nSet-Cookie: x=1",
        "/a\0",
        "/a\u{7f}",
        "/caf\u{e9}",
        "/a/../b",
        "/a/./b",
        "/%zz",
        "/%00",
        "/a<b",
        "/a\"b",
        "/.//evil.example/x",
        "/../x",
    ] {
        assert_eq!(Record::redirect(target), None, "{target:?}");
        let bytes = format!("pr1 r\n{target}\n");
        assert_eq!(parsed(bytes.as_bytes()), None, "{target:?}");
    }
    let too_long = format!("/{}", "a".repeat(MAX_LOCATION_LEN));
    assert_eq!(Record::redirect(&too_long), None);
}

#[test]
fn stored_hints_must_revalidate_to_themselves() {
    for line in [
        // Not what the learning writes: another spelling of a valid hint.
        "</a.css>; as=style; rel=preload",
        "</a.css>;rel=preload;as=style",
        "</a.css>; rel=Preload; as=style",
        "</a.css>; rel=preload; as=style; title=x",
        "<https://cdn.example/a.css#x>; rel=preload; as=style",
        "<https://cdn.example/path>; rel=preconnect",
        "<https://CDN.example/a.css>; rel=preload; as=style",
        // Not a hint at all.
        "</a.css>; rel=stylesheet",
        "</a.css>; rel=preload",
        "</a.css>; rel=preload; as=document",
        "<http://cdn.example/a.css>; rel=preload; as=style",
        "<http://cdn.example>; rel=preconnect",
        "<//evil.example/a.css>; rel=preload; as=style",
        "<a.css>; rel=preload; as=style",
        "<javascript:alert(1)>; rel=preload; as=script",
        "<https://u:p@cdn.example/a.css>; rel=preload; as=style",
        "</a.css>; rel=preload; as=style, </b.css>; rel=preload; as=style",
        "</a.css>; rel=preload; as=style\r",
        "</a\0.css>; rel=preload; as=style",
        "</caf\u{e9}.css>; rel=preload; as=style",
        "<https://record.invalid/a.css>; rel=preload; as=style",
        "",
        " ",
    ] {
        assert_eq!(stored_hint(line.as_bytes()), None, "{line:?}");
        let bytes = format!("pr1 h\n{line}\n");
        assert_eq!(parsed(bytes.as_bytes()), None, "{line:?}");
    }
}

#[test]
fn malformed_records_are_no_records() {
    let good = "</a.css>; rel=preload; as=style";
    for bytes in [
        &b""[..],
        b"pr1",
        b"pr1 h",
        b"pr1 r\n",
        b"pr1 x\n",
        b"pr2 h\n",
        b"PR1 h\n",
        b"pr1  h\n",
        b"pr1 h\r\n",
        b"pr1 h\n\n",
        b"\npr1 h\n",
        b"pr1 h\n</a.css>; rel=preload; as=style",
        b"pr1 h\n</a.css>; rel=preload; as=style\n\n",
        b"pr1 h\n</a.css>; rel=preload; as=style\r\n",
        b"pr1 r\n/a\n/b\n",
        b"pr1 r\n/a",
        b"pr1 r\n/a\n\n",
        b"pr1 h\n</a.css>; rel=preload; as=style\n</a.css>; rel=preload; as=style\n",
        b"\xff\xfe",
        b"pr1 h\n\xff\n",
    ] {
        assert_eq!(parsed(bytes), None, "{:?}", String::from_utf8_lossy(bytes));
    }
    assert!(parsed(format!("pr1 h\n{good}\n").as_bytes()).is_some());
}

#[test]
fn records_are_bounded_as_one_103() {
    let lines: Vec<String> = (0..=MAX_HINTS)
        .map(|i| format!("</s{i}.css>; rel=preload; as=style"))
        .collect();
    let hints: Vec<Hint> = lines.iter().map(|l| hint(l)).collect();
    assert!(Record::page(hints[..MAX_HINTS].to_vec()).is_some());
    assert_eq!(Record::page(hints.clone()), None);
    let bytes = format!("pr1 h\n{}\n", lines.join("\n"));
    assert_eq!(parsed(bytes.as_bytes()), None, "17 hints");
    let sixteen = format!("pr1 h\n{}\n", lines[..MAX_HINTS].join("\n"));
    assert!(parsed(sixteen.as_bytes()).is_some());

    // 4 KB of hints joined by ", " as in the 103.
    let long = |i: usize, n: usize| format!("</{i}{}>; rel=preload; as=image", "x".repeat(n));
    let one = long(0, 0).len() - 1; // the length without the x's, minus the digit
    let per = (MAX_HINTS_LEN - 2 * 7) / 8; // eight hints filling the budget exactly
    let mut fitting: Vec<String> = (0..8).map(|i| long(i, per - one - 1)).collect();
    let total = |v: &[String]| v.iter().map(String::len).sum::<usize>() + 2 * (v.len() - 1);
    fitting[7] = long(7, per - one - 1 + MAX_HINTS_LEN - total(&fitting));
    assert_eq!(total(&fitting), MAX_HINTS_LEN);
    let record = parsed(format!("pr1 h\n{}\n", fitting.join("\n")).as_bytes());
    assert!(record.is_some(), "exactly {MAX_HINTS_LEN} bytes");
    fitting[7].insert(2, 'y');
    assert_eq!(
        parsed(format!("pr1 h\n{}\n", fitting.join("\n")).as_bytes()),
        None,
        "one byte over"
    );
    let mut over = vec![0u8; MAX_RECORD_LEN + 1];
    over[..6].copy_from_slice(b"pr1 r\n");
    assert_eq!(parsed(&over), None);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn a_key_is_the_sha256_of_its_text() {
    // printf 'pr1:15:www.example.com:443:/learn/new.html?a=1' | sha256sum,
    // as the integration tests compute it to find a record in redis
    // (tests/harness/caches.py).
    let key = RecordKey::new(b"www.example.com", 443, b"/learn/new.html?a=1").unwrap();
    assert_eq!(
        hex(key.as_bytes()),
        "3cfa8043d613fb599351fa08768d93655f9910d3f31ae4a4c5917bd1daac6e17"
    );
    // printf 'pr1:1:h:8443:/' | sha256sum
    assert_eq!(
        hex(RecordKey::new(b"h", 8443, b"/").unwrap().as_bytes()),
        "a3c233b06b3a37fff6a20f9e966ab02daf6cc376c2b70551d68ef7a86b0b472d"
    );
    // Over two blocks with the longest port; then the longest name and the
    // shortest port.
    let target = format!("/{}?q=1", "x".repeat(100));
    let name = b"a-rather-long-virtual-host-name.example.org";
    assert_eq!(
        hex(RecordKey::new(name, 65535, target.as_bytes())
            .unwrap()
            .as_bytes()),
        "799f71d0809e5f85771e19adbb3f2de305273d604fda3fc1428e7dcaebbf5ff0"
    );
    assert_eq!(
        hex(RecordKey::new(&[b'n'; 255], 0, b"/").unwrap().as_bytes()),
        "0fbb0145428212f75197e4564d7e8c2121dd6514d82c29ba5967402408dbf916"
    );
}

#[test]
fn keys_of_any_bytes_are_stable() {
    let long = format!("/{}", "a".repeat(MAX_KEY_TARGET_LEN - 1));
    for (name, target) in [
        (&b"www.example.com"[..], long.as_bytes()),
        (b"www.example.com", b"/a b"),
        (b"www.example.com", b"/a\r\nb"),
        (b"www.example.com", b"/caf\xc3\xa9"),
        (b"www.example.com", b"/\xff"),
        (b"www example com", b"/"),
    ] {
        let key = RecordKey::new(name, 443, target).unwrap();
        assert_eq!(key, RecordKey::new(name, 443, target).unwrap());
        assert_ne!(key, RecordKey::new(name, 444, target).unwrap());
    }
}

#[test]
fn keys_separate_virtual_hosts() {
    // Names, ports and targets that run into one another if simply joined.
    let cases: [(&[u8], u16, &[u8]); 8] = [
        (b"a.example", 443, b"/x"),
        (b"a.example", 8443, b"/x"),
        (b"a.example:443", 443, b"/x"),
        (b"a.example:4", 43, b"/x"),
        (b"a.example:443:", 443, b"/x"),
        (b"a.exampl", 443, b"/e:443:/x"),
        (b"b.example", 443, b"/x"),
        (b"9:a.example", 443, b"/x"),
    ];
    let keys: Vec<RecordKey> = cases
        .iter()
        .map(|(name, port, target)| RecordKey::new(name, *port, target).unwrap())
        .collect();
    for (i, key) in keys.iter().enumerate() {
        for (j, other) in keys.iter().enumerate().skip(i + 1) {
            assert_ne!(key, other, "{:?} and {:?}", cases[i], cases[j]);
        }
    }
}

#[test]
fn keys_are_bounded() {
    assert!(RecordKey::new(b"", 443, b"/").is_none());
    assert!(RecordKey::new(b"h", 443, b"").is_none());
    assert!(RecordKey::new(b"h", 443, b"*").is_none());
    assert!(RecordKey::new(b"h", 443, b"https://h/x").is_none());
    let name = vec![b'n'; MAX_KEY_SERVER_NAME_LEN];
    assert!(RecordKey::new(&name, 443, b"/").is_some());
    assert!(RecordKey::new(&[b'n'; MAX_KEY_SERVER_NAME_LEN + 1], 443, b"/").is_none());
    let target = format!("/{}", "t".repeat(MAX_KEY_TARGET_LEN - 1));
    assert!(RecordKey::new(b"h", 443, target.as_bytes()).is_some());
    let target = format!("{target}t");
    assert!(RecordKey::new(b"h", 443, target.as_bytes()).is_none());
}

#[test]
fn the_path_of_a_query_url() {
    assert_eq!(without_query(b"/p?q=1"), Some(&b"/p"[..]));
    assert_eq!(without_query(b"/p?"), Some(&b"/p"[..]));
    assert_eq!(without_query(b"/p?a?b"), Some(&b"/p"[..]));
    assert_eq!(without_query(b"/p"), None);
}

fn get() -> LearnInput<'static> {
    LearnInput {
        method: b"GET",
        ..LearnInput::default()
    }
}

#[test]
fn what_is_never_learned_from() {
    assert_eq!(check_learnable(&get()), Ok(()));
    let cases: [(LearnInput<'static>, NotLearned); 11] = [
        (
            LearnInput {
                method: b"HEAD",
                ..get()
            },
            NotLearned::Method,
        ),
        (
            LearnInput {
                method: b"get",
                ..get()
            },
            NotLearned::Method,
        ),
        (
            LearnInput {
                method: b"POST",
                ..get()
            },
            NotLearned::Method,
        ),
        (
            LearnInput {
                has_cookie: true,
                ..get()
            },
            NotLearned::Credentials,
        ),
        (
            LearnInput {
                has_authorization: true,
                ..get()
            },
            NotLearned::Credentials,
        ),
        (
            LearnInput {
                pushed_stream: true,
                ..get()
            },
            NotLearned::PushedStream,
        ),
        (
            LearnInput {
                has_set_cookie: true,
                ..get()
            },
            NotLearned::SetCookie,
        ),
        (
            LearnInput {
                cache_control: &[b"private"],
                ..get()
            },
            NotLearned::CacheControl,
        ),
        (
            LearnInput {
                cache_control: &[b"max-age=60", b" No-Store "],
                ..get()
            },
            NotLearned::CacheControl,
        ),
        (
            LearnInput {
                cache_control: &[b"public, PRIVATE=\"Set-Cookie\""],
                ..get()
            },
            NotLearned::CacheControl,
        ),
        (
            LearnInput {
                cache_control: &[b"max-age=0,private"],
                ..get()
            },
            NotLearned::CacheControl,
        ),
    ];
    for (input, reason) in cases {
        assert_eq!(check_learnable(&input), Err(reason), "{input:?}");
    }
    for cache_control in [
        &[&b"public, max-age=600"[..]][..],
        &[b"no-cache"],
        &[b"privateer"],
        &[b"max-age=60, s-maxage=600, must-revalidate"],
        &[b""],
    ] {
        let input = LearnInput {
            cache_control,
            ..get()
        };
        assert_eq!(check_learnable(&input), Ok(()), "{cache_control:?}");
    }
    assert_eq!(NotLearned::SetCookie.as_str(), "set-cookie");
    assert_eq!(NotLearned::CacheControl.as_str(), "cache-control");
}

#[test]
fn writes_only_what_changes_a_lookup() {
    let a = page(&["</a.css>; rel=preload; as=style"]);
    let b = page(&["</b.css>; rel=preload; as=style"]);
    let none = Record::page(Vec::new()).unwrap();
    let to = Record::redirect("/new").unwrap();
    // A URL without query.
    assert_eq!(plan_write(&a, None, None), Write::Store);
    assert_eq!(plan_write(&a, Some(&a), None), Write::Keep);
    assert_eq!(plan_write(&a, Some(&b), None), Write::Store);
    assert_eq!(plan_write(&to, None, None), Write::Store);
    assert_eq!(plan_write(&none, Some(&a), None), Write::Remove, "forgets");
    assert_eq!(plan_write(&none, None, None), Write::Keep);
    // A query URL, its path learned: only what differs from the path.
    assert_eq!(plan_write(&a, None, Some(&a)), Write::Keep, "the flood");
    assert_eq!(plan_write(&a, Some(&b), Some(&a)), Write::Remove);
    assert_eq!(plan_write(&b, None, Some(&a)), Write::Store);
    assert_eq!(plan_write(&none, None, Some(&a)), Write::Store, "overrides");
    assert_eq!(plan_write(&none, None, Some(&none)), Write::Keep);
    assert_eq!(plan_write(&none, Some(&b), Some(&none)), Write::Remove);
    assert_eq!(plan_write(&to, None, Some(&a)), Write::Store);
}

const PATHS: WriteRate = WriteRate {
    burst: 64,
    per_second: 8,
};
const QUERIES: WriteRate = WriteRate {
    burst: 16,
    per_second: 2,
};

#[test]
fn the_write_budget_is_a_token_bucket() {
    let budget = WriteBudget::new(PATHS, QUERIES);
    let take = |now_ms| budget.take(b"/page", now_ms);
    let taken = (0..100).filter(|_| take(1_000)).count();
    assert_eq!(taken, 64, "the burst");
    assert!(!take(1_124), "one write takes 125 ms to come back");
    assert!(take(1_125));
    assert!(!take(1_125));
    // A second gives 8 more; a long pause refills at most the burst.
    assert_eq!((0..100).filter(|_| take(2_125)).count(), 8);
    assert_eq!((0..100).filter(|_| take(1_000_000)).count(), 64);
    // Times that go back and forth (threads read the clock, then take, in
    // any order) refill each millisecond once, and going back does not
    // stall the bucket.
    assert!(!take(500));
    assert!(take(1_000_125));
    assert!(!take(900_000));
    assert!(!take(1_000_125), "the same 125 ms are not refilled twice");
    assert!(take(1_000_250));
    // In t seconds at most burst + rate * t.
    let budget = WriteBudget::default();
    let taken = (0..100_000u64)
        .filter(|i| budget.take(b"/page", i / 10))
        .count();
    assert_eq!(taken, 64 + 8 * 9_999 / 1000);
}

#[test]
fn the_defaults_are_the_documented_figures() {
    assert_eq!(WriteBudget::PATHS, PATHS);
    assert_eq!(WriteBudget::QUERIES, QUERIES);
    let budget = WriteBudget::default();
    assert_eq!((0..100).filter(|_| budget.take(b"/", 0)).count(), 64);
    assert_eq!((0..100).filter(|_| budget.take(b"/?", 0)).count(), 16);
}

/// docs/behaviour.md, "Bounded writes": a flood of distinct query URLs
/// spends the bucket of URLs with a query, never the other.
#[test]
fn a_flood_of_query_urls_spends_only_their_own_bucket() {
    let budget = WriteBudget::new(PATHS, QUERIES);
    // Ten seconds of a query URL every millisecond, all refused past the
    // query bucket's burst and rate.
    let flooded = (0..10_000u64)
        .filter(|ms| budget.take(format!("/page?n={ms}").as_bytes(), *ms))
        .count();
    assert_eq!(flooded, 16 + 2 * 9_999 / 1000);
    // An empty query and a query on the root are queries too.
    assert!(!budget.take(b"/page?", 9_999));
    assert!(!budget.take(b"/?n=1", 9_999));
    // Meanwhile every URL without a query still has its whole burst.
    assert_eq!(
        (0..100)
            .filter(|i| budget.take(format!("/p{i}").as_bytes(), 10_000))
            .count(),
        64
    );
    // And the other way round: with the paths' bucket spent, a query URL
    // has a write as soon as its own bucket has one.
    assert!(!budget.take(b"/page", 10_000));
    assert!(budget.take(b"/page?n=1", 10_500));
}

/// Every hint the learning makes from a backend's Link value, on any page,
/// is a line a record can hold: reading a record back never drops what a
/// server of ours wrote.
#[test]
fn every_learned_hint_is_a_stored_hint() {
    let references = [
        "/a.css",
        "a.css",
        "../up/b.js",
        "./././c.png",
        "?q=1",
        "/x%20y.css",
        "/caf\u{e9}.css",
        "https://cdn.example/f.woff2",
        "https://cdn.example:444/p?q#frag",
        "https://example.com:8443/same.css",
        "https://EXAMPLE.com/other-port.css",
        "//cdn.example/protocol-relative.js",
        "https://xn--nxasmq6b.example/idn.js",
        "https://cdn.example",
    ];
    let params = [
        "; rel=preload; as=style",
        "; REL=\"Preload\"; AS=SCRIPT; crossorigin",
        "; rel=preload; as=font; crossorigin=use-credentials; type=\"font/woff2\"",
        "; rel=\"preload prefetch\"; as=image; title=x",
        "; rel=preconnect",
        "; rel=preconnect; crossorigin=anything",
    ];
    let mut learned = 0;
    for page in [
        "https://example.com:8443/dir/page",
        "https://example.com/",
        "http://plain.example/a/b?c",
    ] {
        let base = Url::parse(page).unwrap();
        for reference in references {
            for param in params {
                let value = format!("<{reference}>{param}");
                let Some((r, p)) = link_values(value.as_bytes()).next() else {
                    continue;
                };
                let Some(hint) = Hint::parse(r, p, &base) else {
                    continue;
                };
                learned += 1;
                assert_eq!(
                    stored_hint(hint.as_str().as_bytes()).as_ref(),
                    Some(&hint),
                    "{value} on {page}"
                );
            }
        }
    }
    assert!(learned > 50, "{learned}");
}

/// The plain path's shortcut in [`is_stored_target`] says yes only where
/// the URL parser does: every path of up to six bytes over an alphabet of
/// the plain path's bytes and its edges (dots, slashes, the query).
#[test]
fn a_plain_target_is_a_stored_target_by_the_url_parser_too() {
    let alphabet = b"a.?/:@!=~-";
    let mut checked = 0;
    let mut path = Vec::new();
    for len in 0..=5u32 {
        for mut n in 0..alphabet.len().pow(len) {
            path.clear();
            path.push(b'/');
            for _ in 0..len {
                path.push(alphabet[n % alphabet.len()]);
                n /= alphabet.len();
            }
            let target = std::str::from_utf8(&path).unwrap();
            if is_plain_path(&path) {
                assert!(is_parsed_stored_target(target), "{target}");
                checked += 1;
            }
        }
    }
    assert!(checked > 10_000, "{checked}");
}

#[test]
fn a_kept_key_is_the_key() {
    let keys = Keys::default();
    let long = format!("/{}", "a".repeat(MAX_KEY_TARGET_LEN - 1));
    let cases: Vec<(&[u8], u16, &[u8])> = vec![
        (b"www.example.com", 443, b"/learn/new.html?a=1"),
        (b"www.example.com", 444, b"/learn/new.html?a=1"),
        (b"www.example.co", 443, b"m/learn/new.html?a=1"),
        (b"h", 8443, b"/"),
        (&[b'n'; MAX_KEY_SERVER_NAME_LEN], 0, b"/"),
        (b"www.example.com", 443, long.as_bytes()),
        (b"", 443, b"/"),
        (b"h", 443, b"*"),
    ];
    // Twice: made, then kept; each its own, whatever shares its slot.
    for _ in 0..2 {
        for &(name, port, target) in &cases {
            assert_eq!(
                keys.key(name, port, target),
                RecordKey::new(name, port, target)
            );
        }
    }
    let mut held = 0;
    keys.table.for_each(|text, key| {
        assert!(text.len() <= MAX_KEPT_KEY_TEXT);
        assert_eq!(key.as_bytes(), &<[u8; 32]>::from(Sha256::digest(text)));
        held += 1;
    });
    // The over-long one and the unkeyable ones are not kept (two of the
    // others may share a slot, the later one kept).
    assert!((1..=5).contains(&held), "{held}");
}

#[test]
fn kept_keys_are_bounded() {
    let keys = Keys::default();
    for i in 0..20 * KEPT_KEYS {
        let target = format!("/page/{i}");
        assert_eq!(
            keys.key(b"www.example.com", 443, target.as_bytes()),
            RecordKey::new(b"www.example.com", 443, target.as_bytes())
        );
    }
    let mut held = 0;
    keys.table.for_each(|_, _| held += 1);
    assert!(held <= KEPT_KEYS);
}
