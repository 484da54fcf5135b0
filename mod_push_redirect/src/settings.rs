//! A scope's directives as the shim merged them ([`push_redirect_settings`]),
//! the core's view of them, and what is derived from them once per scope,
//! so that most responses need no call.

use std::ffi::c_int;

use push_redirect_core::{Settings, Step};

use crate::ffi_panic_boundary;
use crate::handles::{
    push_redirect_declared_hints, push_redirect_excludes, push_redirect_statuses,
    push_redirect_switch, try_ref,
};

/// The directives of one scope, merged as written (inner if set, else
/// outer): zero or NULL is "not set", and the core applies the defaults.
/// The shim's per-directory configuration is this struct.
#[repr(C)]
pub struct push_redirect_settings {
    pub push: push_redirect_switch,
    pub require_tls: push_redirect_switch,
    pub with_credentials: push_redirect_switch,
    pub early_hints: push_redirect_switch,
    /// `PushRedirectEarlyHintsAhead`.
    pub ahead: push_redirect_switch,
    /// `PushRedirectEarlyHintsFromHTML`, which the shim reads itself.
    pub from_html: push_redirect_switch,
    /// `PushRedirectEarlyHintsHTTP1`, which the shim reads itself.
    pub early_hints_http1: push_redirect_switch,
    pub statuses: push_redirect_statuses,
    pub excludes: *mut push_redirect_excludes,
    pub declared_hints: *mut push_redirect_declared_hints,
    /// Some scope of this virtual host's server configuration turns
    /// `PushRedirectEarlyHints` on: the shim marks the server's defaults
    /// when it reads that line, and every scope merged from them is marked
    /// too.
    pub server_sends_hints: bool,
    /// Derived from the fields above by `push_redirect_settings_resolve`,
    /// so that the shim needs no call for most responses: whether the
    /// filter is wanted at all...
    pub active: bool,
    /// ...and the statuses that need `push_redirect_respond`: bit `n` (low
    /// word first) is status `PUSH_REDIRECT_RESPOND_FIRST + n`. Any other
    /// response only has the opt-out header stripped.
    pub respond_to: [u64; 4],
    /// ...and whether `push_redirect_ahead` is wanted before the handler.
    pub ahead_on: bool,
    /// ...and whether a 103 can go out here: the request fields that only
    /// the 103 reads (`Sec-Fetch-*`, the note of one sent ahead) are read
    /// only then.
    pub early_hints_on: bool,
}

/// The first status of `respond_to` in `push_redirect_settings`.
pub const PUSH_REDIRECT_RESPOND_FIRST: c_int = 200;

/// The core's view of `settings`, borrowing its handles.
///
/// # Safety
/// The handles of `settings` are NULL or from their constructors.
pub(crate) unsafe fn settings_view(settings: &push_redirect_settings) -> Settings<'_> {
    Settings {
        push: settings.push.into(),
        require_tls: settings.require_tls.into(),
        with_credentials: settings.with_credentials.into(),
        early_hints: settings.early_hints.into(),
        ahead: settings.ahead.into(),
        from_html: settings.from_html.into(),
        early_hints_http1: settings.early_hints_http1.into(),
        statuses: settings.statuses.set(),
        excludes: try_ref(settings.excludes),
        declared: try_ref(settings.declared_hints),
        server_sends_hints: settings.server_sends_hints,
    }
}

/// Fills the derived fields (`active`, `respond_to`, ...) from the directives of `settings`, with
/// the core's defaults for what is not set. The shim calls it whenever it
/// changes or merges a scope's settings. NULL is ignored.
///
/// # Safety
/// `settings` is NULL or valid for reads and writes, its handles from their
/// constructors.
#[no_mangle]
pub unsafe extern "C" fn push_redirect_settings_resolve(settings: *mut push_redirect_settings) {
    ffi_panic_boundary!((), {
        let Some(settings) = settings.as_mut() else {
            return;
        };
        let view = settings_view(settings);
        let (respond_to, active, ahead_on, early_hints_on) = (
            view.respond_to(),
            view.step(None) != Step::Inactive,
            view.ahead_on(),
            view.early_hints_on(),
        );
        settings.active = active;
        settings.respond_to = respond_to;
        settings.ahead_on = ahead_on;
        settings.early_hints_on = early_hints_on;
    })
}

#[cfg(test)]
mod tests;
