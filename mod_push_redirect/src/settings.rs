//! A scope's settings as the directives write them and Apache merges them:
//! every value parsed and checked here, the sets a scope collects made on
//! its first line and released with its pool.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr;

use crate::answer::{push_redirect_settings, push_redirect_settings_resolve};
use crate::handles::*;
use crate::{directive_boundary, ffi_panic_boundary, push_redirect_result};

/// The set behind `slot`, made now if this is the scope's first line of it.
fn scope_set<C>(slot: &mut *mut C, make: fn() -> *mut C) -> *mut C {
    if slot.is_null() {
        *slot = make();
    }
    *slot
}

/// Reads the arguments of one line of the directive `name` (as the command
/// table spells it) into `settings`: `On|Off` for the switches, the whole
/// argument string of `PushRedirectStatus`, one pattern of
/// `PushRedirectExclude`, the target path and the link-value (`value2`) of
/// `PushRedirectEarlyHint` (whose lines accumulate in a scope; a scope that
/// has any replaces the inherited ones). On `InvalidValue`, `err` names the
/// value and the problem; on any other failure it says which, naming the
/// last value.
///
/// # Safety
/// `settings` is NULL or valid for reads and writes, its handles from
/// their constructors; `name`, `value` and `value2` are NUL-terminated or
/// NULL; `err` points to `err_len` writable bytes or is NULL.
#[no_mangle]
pub unsafe extern "C" fn push_redirect_settings_read(
    settings: *mut push_redirect_settings,
    name: *const c_char,
    value: *const c_char,
    value2: *const c_char,
    err: *mut c_char,
    err_len: usize,
) -> push_redirect_result {
    let named = if value2.is_null() { value } else { value2 };
    directive_boundary(named, err, err_len, || {
        let (Some(settings), false) = (settings.as_mut(), name.is_null()) else {
            return push_redirect_result::NullParameter;
        };
        // A switch's message was always cut to 255 bytes.
        let switch_len = err_len.min(256);
        let result = match CStr::from_ptr(name).to_bytes() {
            b"PushRedirect" => {
                push_redirect_switch_parse(value, &mut settings.push, err, switch_len)
            }
            b"PushRedirectRequireTLS" => {
                push_redirect_switch_parse(value, &mut settings.require_tls, err, switch_len)
            }
            b"PushRedirectWithCredentials" => {
                push_redirect_switch_parse(value, &mut settings.with_credentials, err, switch_len)
            }
            b"PushRedirectEarlyHints" => {
                push_redirect_switch_parse(value, &mut settings.early_hints, err, switch_len)
            }
            b"PushRedirectEarlyHintsAhead" => {
                push_redirect_switch_parse(value, &mut settings.ahead, err, switch_len)
            }
            b"PushRedirectStatus" => {
                push_redirect_statuses_parse(value, &mut settings.statuses, err, err_len)
            }
            b"PushRedirectExclude" => {
                let set = scope_set(&mut settings.excludes, push_redirect_excludes_new);
                push_redirect_excludes_add(set, value, err, err_len)
            }
            b"PushRedirectEarlyHint" => {
                let set = scope_set(
                    &mut settings.declared_hints,
                    push_redirect_declared_hints_new,
                );
                push_redirect_declared_hints_add(set, value, value2, err, err_len)
            }
            _ => push_redirect_result::NullParameter,
        };
        push_redirect_settings_resolve(settings);
        result
    })
}

/// Fills `merged` with `inner`'s directives where it sets them and
/// `outer`'s elsewhere, resolved. The sets are shared, not copied: they
/// stay the scopes' own. NULL arguments are ignored.
///
/// # Safety
/// `merged` is NULL or writable; `outer` and `inner` are NULL or valid for
/// reads, and none of the three overlap.
#[no_mangle]
pub unsafe extern "C" fn push_redirect_settings_merge(
    merged: *mut push_redirect_settings,
    outer: *const push_redirect_settings,
    inner: *const push_redirect_settings,
) {
    ffi_panic_boundary!((), {
        let (false, Some(outer), Some(inner)) = (merged.is_null(), outer.as_ref(), inner.as_ref())
        else {
            return;
        };
        let switch = |inner, outer| {
            if inner != push_redirect_switch::Unset {
                inner
            } else {
                outer
            }
        };
        let set =
            |inner: *mut c_void, outer: *mut c_void| if inner.is_null() { outer } else { inner };
        merged.write(push_redirect_settings {
            push: switch(inner.push, outer.push),
            require_tls: switch(inner.require_tls, outer.require_tls),
            with_credentials: switch(inner.with_credentials, outer.with_credentials),
            early_hints: switch(inner.early_hints, outer.early_hints),
            ahead: switch(inner.ahead, outer.ahead),
            from_html: switch(inner.from_html, outer.from_html),
            early_hints_http1: switch(inner.early_hints_http1, outer.early_hints_http1),
            statuses: if inner.statuses != push_redirect_statuses::default() {
                inner.statuses
            } else {
                outer.statuses
            },
            excludes: set(inner.excludes.cast(), outer.excludes.cast()).cast(),
            declared_hints: set(inner.declared_hints.cast(), outer.declared_hints.cast()).cast(),
            server_sends_hints: inner.server_sends_hints || outer.server_sends_hints,
            active: false,
            respond_to: [0; 4],
            ahead_on: false,
            early_hints_on: false,
        });
        push_redirect_settings_resolve(merged);
    })
}

/// Marks `server`, a virtual host's (or the main server's) default
/// settings, as sending hints when `scope`, read from that server's part
/// of the configuration, turns `PushRedirectEarlyHints` on; resolves it.
/// A 200 teaches the store only where a 103 can go out in its virtual
/// host. NULL arguments are ignored.
///
/// # Safety
/// `server` is NULL or valid for reads and writes, `scope` NULL or valid
/// for reads (they may be the same settings).
#[no_mangle]
pub unsafe extern "C" fn push_redirect_settings_mark_server(
    server: *mut push_redirect_settings,
    scope: *const push_redirect_settings,
) {
    ffi_panic_boundary!((), {
        if server.is_null() || scope.is_null() {
            return;
        }
        if (*scope).early_hints == push_redirect_switch::On {
            (*server).server_sends_hints = true;
            push_redirect_settings_resolve(server);
        }
    })
}

/// Releases the sets a scope made (not those it inherits: a merged scope
/// owns none), with the signature of an APR pool cleanup, for
/// `apr_pool_cleanup_register` on the pool of `settings`. Returns 0
/// (`APR_SUCCESS`); NULL is ignored.
///
/// # Safety
/// `settings` is NULL or a scope's settings from the shim's create
/// function, whose sets nothing uses any more.
#[no_mangle]
pub unsafe extern "C" fn push_redirect_settings_release(settings: *mut c_void) -> c_int {
    ffi_panic_boundary!(0, {
        if let Some(settings) = settings.cast::<push_redirect_settings>().as_mut() {
            push_redirect_excludes_free(settings.excludes);
            push_redirect_declared_hints_free(settings.declared_hints);
            settings.excludes = ptr::null_mut();
            settings.declared_hints = ptr::null_mut();
        }
        0
    })
}
