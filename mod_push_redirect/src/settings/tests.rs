//! What `push_redirect_settings_resolve` derives from a scope's directives.

use std::ffi::c_int;

use crate::tests::*;
use crate::*;

/// Whether the shim calls for `status`, as it reads `respond_to`.
fn responds_to(settings: &push_redirect_settings, status: c_int) -> bool {
    let n = (status - PUSH_REDIRECT_RESPOND_FIRST) as usize;
    n < 256 && settings.respond_to[n / 64] >> (n % 64) & 1 == 1
}

#[test]
fn the_resolved_settings_come_from_the_raw_ones_and_the_cores_defaults() {
    let resolved = |mut settings: push_redirect_settings| {
        unsafe { push_redirect_settings_resolve(&mut settings) };
        settings
    };
    let unset = resolved(settings(
        push_redirect_switch::Unset,
        push_redirect_switch::Unset,
    ));
    assert!(!unset.active, "both default to Off");
    assert_eq!(unset.respond_to, [0; 4]);
    let on = resolved(push_on());
    assert!(on.active);
    let statuses: Vec<c_int> = (200..456).filter(|&s| responds_to(&on, s)).collect();
    assert_eq!(
        statuses,
        [301, 302, 303, 307, 308],
        "the default set; a 200 teaches nothing where no 103 can go out"
    );
    assert!(!on.early_hints_on);
    let early = resolved(settings(
        push_redirect_switch::Off,
        push_redirect_switch::On,
    ));
    assert!(
        early.active && early.early_hints_on && responds_to(&early, 200),
        "a 200 teaches"
    );
    // A push-only scope of a virtual host where some scope turns Early
    // Hints on (the shim marks the server's defaults): its 200s teach the
    // 103s sent there.
    let mut marked = push_on();
    marked.server_sends_hints = true;
    let marked = resolved(marked);
    assert!(responds_to(&marked, 200) && !marked.early_hints_on);
    let mut some = push_on();
    some.statuses = status_bits(&[300, 399]);
    let some = resolved(some);
    assert!(responds_to(&some, 300) && responds_to(&some, 399) && !responds_to(&some, 302));
    unsafe { push_redirect_settings_resolve(ptr::null_mut()) };
}
