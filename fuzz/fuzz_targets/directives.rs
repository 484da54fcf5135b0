//! Fuzzes the directive parsers (`PushRedirectStatus`, `PushRedirectExclude`,
//! the On/Off flags) with arbitrary text. Properties: no panic; a status
//! list parses to codes in 300..=399 that are exactly the words given, or
//! fails; a flag is On/Off in any case, or fails; a pattern compiles and
//! matches without panicking, or fails and leaves the set unchanged; every
//! error message is short.
#![no_main]

use libfuzzer_sys::fuzz_target;
use push_redirect_core::{parse_flag, ExcludeSet, StatusSet};

/// Apache prints the message after the directive's name: it must say
/// something and stay short whatever the value (values are quoted,
/// shortened when huge). A line break can only come from the value itself,
/// which Apache's config reader never passes.
fn check_message(message: String) {
    assert!(!message.is_empty() && message.len() < 600, "{message:?}");
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    match selector % 3 {
        0 => match StatusSet::parse(&text) {
            Ok(set) => {
                let mut expected: Vec<i32> = text
                    .split_ascii_whitespace()
                    .map(|w| w.parse().expect("accepted word is a number"))
                    .collect();
                expected.sort_unstable();
                expected.dedup();
                assert!(expected.iter().all(|c| (300..=399).contains(c)));
                assert_eq!(set.codes().collect::<Vec<_>>(), expected);
            }
            Err(err) => check_message(err.to_string()),
        },
        1 => match parse_flag(&text) {
            Ok(on) => assert_eq!(on, text.eq_ignore_ascii_case("on")),
            Err(err) => {
                assert!(!text.eq_ignore_ascii_case("on") && !text.eq_ignore_ascii_case("off"));
                check_message(err.to_string());
            }
        },
        _ => {
            // The pattern, then a subject after the first NUL.
            let (pattern, subject) = text.split_once('\0').unwrap_or((&text, "/some/path?q=1"));
            let mut set = ExcludeSet::new();
            set.add("^/kept").unwrap();
            match set.add(pattern) {
                Ok(()) => {
                    assert_eq!(set.patterns().len(), 2);
                    set.is_match(subject);
                }
                Err(err) => {
                    assert_eq!(set.patterns(), ["^/kept"]);
                    assert!(set.is_match("/kept"));
                    check_message(err.to_string());
                }
            }
        }
    }
});
