//! Tools that measure mod_push_redirect from the outside.
//!
//! Nothing here is linked into the Apache module.

pub mod latency_proxy;
pub mod push_follow;
