use std::thread;

use super::*;

fn page_bytes(hints: &[&str]) -> Vec<u8> {
    let mut bytes = b"pr1 h\n".to_vec();
    for hint in hints {
        bytes.extend_from_slice(hint.as_bytes());
        bytes.push(b'\n');
    }
    bytes
}

const STYLE: &str = "</s/app.css>; rel=preload; as=style";
const SCRIPT: &str = "</s/app.js>; rel=preload; as=script";

#[test]
fn a_hit_is_the_record_parsed_the_first_time() {
    let validated = Validated::default();
    let bytes = page_bytes(&[STYLE, SCRIPT]);
    let first = validated.record(&bytes).unwrap();
    assert_eq!(*first, Record::parse(&bytes).unwrap());
    assert_eq!(
        first.link_value(),
        Some(format!("{STYLE}, {SCRIPT}").as_str())
    );
    // The same bytes, elsewhere in memory: the very record kept.
    let again = validated.record(&bytes.clone()).unwrap();
    assert!(Arc::ptr_eq(&first, &again));
    assert_eq!(validated.held().0, 1);
}

#[test]
fn other_bytes_are_other_records() {
    let validated = Validated::default();
    let style = page_bytes(&[STYLE]);
    let script = page_bytes(&[SCRIPT]);
    let redirect = b"pr1 r\n/new\n".to_vec();
    for _ in 0..3 {
        assert_eq!(
            validated.record(&style).unwrap().hints().unwrap()[0].as_str(),
            STYLE
        );
        assert_eq!(
            validated.record(&script).unwrap().hints().unwrap()[0].as_str(),
            SCRIPT
        );
        assert_eq!(
            validated.record(&redirect).unwrap().redirect_target(),
            Some("/new")
        );
    }
    // A byte more or less is not the same record, whatever slot it lands in.
    let mut longer = style.clone();
    longer.extend_from_slice(b"\n");
    assert_eq!(validated.record(&longer), None);
    assert_eq!(validated.record(&style[..style.len() - 1]), None);
    assert_eq!(
        validated.record(&style).unwrap().hints().unwrap()[0].as_str(),
        STYLE
    );
}

#[test]
fn every_slot_compares_the_bytes() {
    // More records than slots: each lookup gives its own record, never the
    // one that happens to share its slot.
    let validated = Validated::default();
    let records: Vec<Vec<u8>> = (0..4 * SLOTS)
        .map(|i| format!("pr1 r\n/page/{i}\n").into_bytes())
        .collect();
    for _ in 0..2 {
        for (i, bytes) in records.iter().enumerate() {
            let record = validated.record(bytes).unwrap();
            assert_eq!(
                record.redirect_target(),
                Some(format!("/page/{i}").as_str())
            );
        }
    }
}

#[test]
fn a_poisoned_record_is_refused_every_time() {
    let validated = Validated::default();
    for poisoned in [
        // A hint that does not validate to itself, a header injection, a
        // target of another origin, no final LF.
        &b"pr1 h\n</s/app.css>; rel=preload; as=style; nopush\n"[..],
        b"pr1 h\n</s/app.css>; rel=preload; as=style\r\nX: 1\n",
        b"pr1 r\nhttps://evil.example/\n",
        b"pr1 r\n/new",
    ] {
        for _ in 0..3 {
            assert_eq!(validated.record(poisoned), None, "{poisoned:?}");
        }
    }
    // Kept as refused: the slot of a good record is not taken by it for good.
    let good = page_bytes(&[STYLE]);
    assert!(validated.record(&good).is_some());
    assert!(validated.record(&good).is_some());
}

#[test]
fn a_record_over_the_bound_is_parsed_each_time_and_not_kept() {
    let validated = Validated::default();
    let long_path = format!("/{}", "a".repeat(MAX_KEPT_LEN));
    let bytes = format!("pr1 r\n{long_path}\n").into_bytes();
    let first = validated.record(&bytes).unwrap();
    assert_eq!(first.redirect_target(), Some(long_path.as_str()));
    let again = validated.record(&bytes).unwrap();
    assert!(!Arc::ptr_eq(&first, &again));
    assert_eq!(validated.held(), (0, 0));
}

#[test]
fn memory_stays_bounded_whatever_the_traffic() {
    let validated = Validated::default();
    // The largest records kept, each distinct: a page with as many hints
    // as fit in MAX_KEPT_LEN bytes.
    let mut most = (0, 0);
    for i in 0..20 * SLOTS {
        let hints: Vec<String> = (0..8)
            .map(|j| format!("</s/{i}/{j}/{}.css>; rel=preload; as=style", "x".repeat(60)))
            .collect();
        let hints: Vec<&str> = hints.iter().map(String::as_str).collect();
        let bytes = page_bytes(&hints);
        assert!(bytes.len() <= MAX_KEPT_LEN, "{}", bytes.len());
        assert!(validated.record(&bytes).is_some());
        let held = validated.held();
        most = (most.0.max(held.0), most.1.max(held.1));
    }
    assert_eq!(most.0, SLOTS);
    // Each entry: its bytes, its hints and their 103 value, each at most
    // MAX_KEPT_LEN.
    assert!(most.1 <= SLOTS * 3 * MAX_KEPT_LEN, "{most:?}");
}

#[test]
fn threads_share_one_table() {
    let validated = Validated::default();
    let records: Vec<Vec<u8>> = (0..2 * SLOTS)
        .map(|i| page_bytes(&[&format!("</s/{i}.css>; rel=preload; as=style")]))
        .collect();
    thread::scope(|scope| {
        for t in 0..4 {
            let (validated, records) = (&validated, &records);
            scope.spawn(move || {
                for round in 0..50 {
                    let i = (t * 7 + round * 13) % records.len();
                    let record = validated.record(&records[i]).unwrap();
                    assert_eq!(
                        record.link_value(),
                        Some(format!("</s/{i}.css>; rel=preload; as=style").as_str())
                    );
                }
            });
        }
    });
    assert!(validated.held().0 <= SLOTS);
}
