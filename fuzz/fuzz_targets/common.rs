//! What the `decide` and `respond` targets make their configuration and
//! their bytes of.

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use push_redirect_core::{ExcludeSet, StatusSet};

/// Exclude patterns, compiled once: the input picks a subset by bit mask
/// (compiling a regex per input would make each run a thousand times slower;
/// the `directives` target fuzzes the patterns themselves).
const PATTERNS: [&str; 6] = ["^/admin", r"(?i)\.PDF$", "a+", "%2[fF]", r"\?.*=", "^/$"];

/// The exclude set of the patterns whose bits `mask` has; `None` for none.
pub fn exclude_set(mask: u8) -> Option<&'static ExcludeSet> {
    static SETS: OnceLock<Vec<ExcludeSet>> = OnceLock::new();
    let sets = SETS.get_or_init(|| {
        (0..1u32 << PATTERNS.len())
            .map(|mask| {
                let mut set = ExcludeSet::new();
                for (i, pattern) in PATTERNS.iter().enumerate() {
                    if mask & (1 << i) != 0 {
                        set.add(pattern).expect("fixed pattern compiles");
                    }
                }
                set
            })
            .collect()
    });
    let set = &sets[usize::from(mask) % (1 << PATTERNS.len())];
    (!set.patterns().is_empty()).then_some(set)
}

/// `PushRedirectStatus` with a code of 300 to 399 for each byte; `None`
/// (the default) without bytes.
pub fn status_set(codes: Option<&[u8]>) -> Option<StatusSet> {
    let list: Vec<String> = codes?
        .iter()
        .map(|c| (300 + u16::from(*c % 100)).to_string())
        .collect();
    StatusSet::parse(&list.join(" ")).ok()
}

/// Common values first, so the fuzzer reaches the Location rules often;
/// `Raw` lets it try anything.
#[derive(Arbitrary, Debug)]
pub enum Text<'a> {
    Common,
    Other,
    Raw(&'a [u8]),
}

impl<'a> Text<'a> {
    pub fn pick(&self, common: &'static [u8], other: &'static [u8]) -> &'a [u8] {
        match self {
            Text::Common => common,
            Text::Other => other,
            Text::Raw(bytes) => bytes,
        }
    }
}
