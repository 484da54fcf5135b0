//! What the shim reads of Apache's configuration tree at start-up, for
//! settings other modules do not expose: the check of
//! `PushRedirectEarlyHints` against mod_http2's `H2EarlyHints` (a server and
//! virtual-host setting), and which servers name the proxies in front with
//! mod_remoteip (docs/behind-a-proxy.md). The shim walks the tree and
//! reports each node here; what the nodes mean, which servers get a
//! warning and which trust a proxy, is decided here.

use std::ffi::{c_char, c_int, CString};
use std::ptr;

use crate::handles::{free_handle, new_handle, try_mut, Castable};
use crate::{bytes, ffi_panic_boundary};

/// A walk of the configuration tree (opaque).
pub struct push_redirect_conftree {
    _private: [u8; 0],
}

impl Castable for push_redirect_conftree {
    type Rust = ConfTree;
}

/// Where a `PushRedirectEarlyHints On` was written.
#[derive(Clone)]
struct Place {
    filename: Vec<u8>,
    line: c_int,
}

impl Place {
    /// `FILE:LINE`.
    fn write_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.filename);
        out.extend_from_slice(format!(":{}", self.line).as_bytes());
    }
}

/// What one server's part of the configuration says: its last
/// `H2EarlyHints` (perhaps inside `<IfModule>`), its first
/// `PushRedirectEarlyHints On` at any depth, whether it has a
/// `PushRedirectEarlyHintsHTTP1 On` at any depth, and whether it names
/// proxies for mod_remoteip.
#[derive(Default)]
struct Part {
    h2_early_hints: Option<bool>,
    early_hints_on: Option<Place>,
    early_hints_http1_on: bool,
    proxy_list: bool,
}

/// mod_remoteip's directives that name the proxies whose address header it
/// takes; without any, it takes the header from every peer.
const PROXY_LISTS: [&[u8]; 4] = [
    b"RemoteIPInternalProxy",
    b"RemoteIPInternalProxyList",
    b"RemoteIPTrustedProxy",
    b"RemoteIPTrustedProxyList",
];

/// Which part the nodes being walked belong to.
#[derive(Clone, Copy, PartialEq)]
enum Region {
    Main,
    VirtualHost(usize),
    /// A `<VirtualHost>` inside another, which Apache does not take.
    Ignored,
}

#[derive(Default)]
pub(crate) struct ConfTree {
    main: Part,
    /// Each `<VirtualHost>`: how the warning names it, and its part.
    virtual_hosts: Vec<(Vec<u8>, Part)>,
    /// Where each `<VirtualHost>` was written, in the same order.
    places: Vec<Place>,
    /// mod_remoteip's `RemoteIPProxyProtocol On` somewhere: an address
    /// from a PROXY header, which no proxy list vouches for.
    proxy_protocol: bool,
    /// The regions of the nodes entered and not yet left.
    open: Vec<Region>,
    /// The warnings of the tree walked so far; `None` after a change.
    warnings: Option<Vec<CString>>,
}

/// What `%s` prints for a C string.
unsafe fn text(value: *const c_char) -> Vec<u8> {
    if value.is_null() {
        b"(null)".to_vec()
    } else {
        bytes(value).to_vec()
    }
}

/// Whether the first word of `args`, as `ap_getword_conf` reads it, is
/// `on` in any case. A quoted word ends at its closing quote or at the
/// end; any backslash in it makes it something other than `on`.
pub(crate) fn first_word_is_on(args: &[u8]) -> bool {
    let is_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r');
    let start = args.iter().position(|b| !is_space(b)).unwrap_or(args.len());
    let rest = &args[start..];
    let word = match rest.first() {
        Some(&quote @ (b'"' | b'\'')) => {
            let inner = &rest[1..];
            let end = inner
                .iter()
                .position(|&b| b == quote)
                .unwrap_or(inner.len());
            &inner[..end]
        }
        _ => &rest[..rest.iter().position(is_space).unwrap_or(rest.len())],
    };
    !word.contains(&b'\\') && word.eq_ignore_ascii_case(b"on")
}

impl ConfTree {
    fn enter(&mut self, directive: &[u8], args: &[u8], place: Place, label_args: Vec<u8>) {
        self.warnings = None;
        let region = self.open.last().copied().unwrap_or(Region::Main);
        if directive.eq_ignore_ascii_case(b"<VirtualHost") {
            let inner = if region == Region::Main {
                // A section's arguments end with its `>`.
                let mut label = b"<VirtualHost ".to_vec();
                label.extend_from_slice(label_args.strip_suffix(b">").unwrap_or(&label_args));
                label.extend_from_slice(b"> (");
                place.write_into(&mut label);
                label.push(b')');
                self.virtual_hosts.push((label, Part::default()));
                self.places.push(place);
                Region::VirtualHost(self.virtual_hosts.len() - 1)
            } else {
                Region::Ignored
            };
            self.open.push(inner);
            return;
        }
        self.open.push(region);
        let part = match region {
            Region::Main => &mut self.main,
            Region::VirtualHost(i) => &mut self.virtual_hosts[i].1,
            Region::Ignored => return,
        };
        if directive.eq_ignore_ascii_case(b"H2EarlyHints") {
            part.h2_early_hints = Some(first_word_is_on(args));
        } else if directive.eq_ignore_ascii_case(b"PushRedirectEarlyHints")
            && first_word_is_on(args)
            && part.early_hints_on.is_none()
        {
            part.early_hints_on = Some(place);
        } else if directive.eq_ignore_ascii_case(b"PushRedirectEarlyHintsHTTP1") {
            part.early_hints_http1_on |= first_word_is_on(args);
        } else if PROXY_LISTS
            .iter()
            .any(|name| directive.eq_ignore_ascii_case(name))
        {
            part.proxy_list = true;
        } else if directive.eq_ignore_ascii_case(b"RemoteIPProxyProtocol") {
            self.proxy_protocol |= first_word_is_on(args);
        }
    }

    /// Whether the server whose `<VirtualHost>` was written at `place`
    /// (`None`: the main server) trusts the proxy in front: mod_remoteip
    /// takes the client's address only from the proxies a list names (its
    /// own, or the main server's, as mod_remoteip merges them), and no
    /// PROXY protocol header, which no list vouches for, can give one.
    fn trusts_proxy(&self, place: Option<&Place>) -> bool {
        let part = match place {
            None => Some(&self.main),
            Some(place) => self
                .places
                .iter()
                .position(|p| p.filename == place.filename && p.line == place.line)
                .map(|i| &self.virtual_hosts[i].1),
        };
        !self.proxy_protocol && part.is_some_and(|part| part.proxy_list || self.main.proxy_list)
    }

    fn warnings(&mut self) -> &[CString] {
        let main = &self.main;
        let virtual_hosts = &self.virtual_hosts;
        self.warnings.get_or_insert_with(|| {
            let mut warnings = Vec::new();
            let mut warn = |on: &Place, server: &[u8]| {
                let mut line = b"PR0004: PushRedirectEarlyHints On (".to_vec();
                on.write_into(&mut line);
                line.extend_from_slice(b") applies to ");
                line.extend_from_slice(server);
                line.extend_from_slice(
                    b", where H2EarlyHints is not on: mod_http2 drops every 103, so no early \
                      hints reach clients; add `H2EarlyHints on`",
                );
                warnings.extend(CString::new(line).ok());
            };
            // A server whose 103s go out over HTTP/1.1 (behind a proxy)
            // needs no mod_http2, and may have none to write it with.
            if let (Some(on), false) = (
                &main.early_hints_on,
                main.h2_early_hints == Some(true) || main.early_hints_http1_on,
            ) {
                warn(on, b"the main server");
            }
            // A virtual host inherits the main server's settings it does
            // not make, wherever in the files they are.
            for (label, part) in virtual_hosts {
                let h2 = part.h2_early_hints.or(main.h2_early_hints);
                if let (Some(on), false) = (
                    main.early_hints_on
                        .as_ref()
                        .or(part.early_hints_on.as_ref()),
                    h2 == Some(true) || main.early_hints_http1_on || part.early_hints_http1_on,
                ) {
                    warn(on, label);
                }
            }
            warnings
        })
    }
}

/// A new walk, to be released with `push_redirect_conftree_free`.
#[no_mangle]
pub extern "C" fn push_redirect_conftree_new() -> *mut push_redirect_conftree {
    new_handle(ConfTree::default)
}

/// Reports the node the walk enters: its directive (as `ap_directive_t`
/// has it: `<VirtualHost` for a section), its arguments, its file and
/// line. Its children follow, then `push_redirect_conftree_leave`.
///
/// # Safety
/// `tree` is NULL or from `push_redirect_conftree_new`; the strings are
/// NUL-terminated or NULL.
#[no_mangle]
pub unsafe extern "C" fn push_redirect_conftree_enter(
    tree: *mut push_redirect_conftree,
    directive: *const c_char,
    args: *const c_char,
    filename: *const c_char,
    line: c_int,
) {
    ffi_panic_boundary!((), {
        if let Some(tree) = try_mut(tree) {
            let place = Place {
                filename: text(filename),
                line,
            };
            tree.enter(bytes(directive), bytes(args), place, text(args));
        }
    })
}

/// Reports that the walk leaves the node it entered last.
///
/// # Safety
/// As for `push_redirect_conftree_enter`.
#[no_mangle]
pub unsafe extern "C" fn push_redirect_conftree_leave(tree: *mut push_redirect_conftree) {
    ffi_panic_boundary!((), {
        if let Some(tree) = try_mut(tree) {
            tree.warnings = None;
            tree.open.pop();
        }
    })
}

/// The `n`th warning (from 0) of the tree walked so far, with its `PR0004`
/// tag, for the main server first, then the virtual hosts in order:
/// where `PushRedirectEarlyHints On` applies and `H2EarlyHints` is not on
/// (mod_http2 then drops every 103). NULL past the last. The string lives
/// until the walk changes or is released.
///
/// # Safety
/// As for `push_redirect_conftree_enter`.
#[no_mangle]
pub unsafe extern "C" fn push_redirect_conftree_warning(
    tree: *mut push_redirect_conftree,
    n: usize,
) -> *const c_char {
    ffi_panic_boundary!(ptr::null(), {
        try_mut(tree)
            .and_then(|tree| tree.warnings().get(n))
            .map_or(ptr::null(), |warning| warning.as_ptr())
    })
}

/// Whether the server whose `<VirtualHost>` section the walk entered at
/// `filename`:`line` (NULL `filename`: the main server) trusts the proxy
/// in front: a proxy list of mod_remoteip's applies to it
/// (`RemoteIPInternalProxy`, `RemoteIPTrustedProxy` or their `List` forms,
/// its own or the main server's) and `RemoteIPProxyProtocol On` is nowhere.
/// A server the walk did not see trusts none.
///
/// # Safety
/// As for [`push_redirect_conftree_enter`].
#[no_mangle]
pub unsafe extern "C" fn push_redirect_conftree_trusts_proxy(
    tree: *mut push_redirect_conftree,
    filename: *const c_char,
    line: c_int,
) -> bool {
    ffi_panic_boundary!(false, {
        try_mut(tree).is_some_and(|tree| {
            let place = (!filename.is_null()).then(|| Place {
                filename: text(filename),
                line,
            });
            tree.trusts_proxy(place.as_ref())
        })
    })
}

/// Releases a walk; NULL is ignored.
///
/// # Safety
/// `tree` is NULL or from `push_redirect_conftree_new`, not used again.
#[no_mangle]
pub unsafe extern "C" fn push_redirect_conftree_free(tree: *mut push_redirect_conftree) {
    free_handle(tree)
}

#[cfg(test)]
mod tests;
