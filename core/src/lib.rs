//! The policy of mod_push_redirect, free of Apache: which redirects get a
//! `Link: </target>; as=document; rel=preload` field so that mod_http2 pushes
//! the target with the redirect, which get a `103 Early Hints`, what the
//! server learns for them, and why the others get nothing.
//!
//! The rules, their order and their skip tokens are those of the project's
//! behaviour contract (`docs/behaviour.md`). The Apache module builds
//! [`Settings`] from its merged directives and an [`Exchange`] that borrows
//! the request and response, calls [`respond`] once per response (with a
//! [`Store`] over the shared cache, or none) and applies its [`Response`]:
//! the push, the further links of a learned chain, the 103, the record to
//! store. [`decide`] is the push decision alone, the one `respond`'s is
//! tested against.
//!
//! ```
//! use push_redirect_core::{respond, Decision, Exchange, Settings, Switch};
//!
//! let settings = Settings {
//!     push: Switch::On,
//!     ..Settings::default()
//! };
//! let exchange = Exchange {
//!     status: 302,
//!     method: b"GET",
//!     scheme: b"https",
//!     host: Some(b"example.com"),
//!     request_target: b"/old",
//!     http2: true,
//!     h2_push: true,
//!     locations: &[b"/new?from=old"],
//!     ..Exchange::default()
//! };
//! let response = respond(&settings, &exchange, None);
//! match response.push {
//!     Some(Decision::Push(push)) => {
//!         assert_eq!(push.link_value(), "</new?from=old>; as=document; rel=preload")
//!     }
//!     other => panic!("{other:?}"),
//! }
//! // Early Hints are off here, and without a store nothing is learned.
//! assert!(response.early_hints.is_none() && response.learn.is_none());
//! ```

#![forbid(unsafe_code)]

mod ahead;
mod chain;
mod config;
mod count;
mod decide;
mod declared;
mod early_hints;
mod exchange;
mod explain;
mod failed;
mod fields;
mod health;
mod hints;
mod learn;
mod link;
mod navigation;
mod origin;
mod page;
mod plain;
mod proxy;
mod record;
mod respond;
mod rules;
mod table;
mod tally;

pub use ahead::{ahead, Ahead};
pub use chain::MAX_HOPS;
pub use config::{parse_flag, ConfigError, ExcludeSet, StatusSet, STATUS_RANGE};
pub use count::Call;
pub use decide::{decide, Decision, Push};
pub use declared::DeclaredHints;
pub use early_hints::early_hints;
pub use exchange::{Exchange, Policy, Reason, MAX_LOCATION_LEN};
pub use explain::{
    explain, explain_for_page, json_string, ChainEnd, Explanation, NoEarlyHints, Preview,
    StoreState,
};
pub use failed::Failed;
pub use fields::{FieldName, FieldValue, Fields};
pub use health::StoreHealth;
pub use hints::{
    EarlyHints, EarlyHintsDecision, EarlyHintsSkip, Hint, MAX_HINTS, MAX_HINTS_LEN,
    MAX_LEARNED_PATH_LEN,
};
pub use learn::{
    Learn, Lesson, PageLearning, Provider, Store, Visitor, FETCH_BUF_LEN, MAX_LOOKUPS,
};
pub use page::{NotScanned, PageScan, MAX_SCANNED_LEN};
pub use proxy::client_scheme;
pub use record::{
    check_learnable, plan_write, without_query, LearnInput, NotLearned, Record, RecordKey, Write,
    WriteBudget, WriteRate, DEFAULT_LIFETIME_SECS, KEY_LEN, MAX_KEY_SERVER_NAME_LEN,
    MAX_KEY_TARGET_LEN, MAX_RECORD_LEN,
};
pub use respond::{respond, Response, Settings, Step, Switch};
pub use tally::{Counter, CounterText, Event, Tally};
