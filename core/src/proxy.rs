//! Behind a proxy that ends TLS: the scheme of the URL the client asked for
//! (docs/behaviour.md, "Behind a proxy").

use crate::navigation::trim_ows;

/// The scheme of the URL the client asked for: Apache's own (`https` on a
/// TLS connection, and where the virtual host's `ServerName` says
/// `https://`), unless the request came through a proxy Apache trusts and
/// that proxy says which scheme the client used.
///
/// `trusted_proxy` is the shim's word that Apache took the client's address
/// from the proxy that connected (mod_remoteip, with a proxy list that
/// names it); `forwarded_proto` is then the request's `X-Forwarded-Proto`.
/// Its value counts only when it is one scheme, `https` or `http` in any
/// case with white space around it: a list (`https, http`, or two fields,
/// which Apache joins so) is not one proxy's word, and leaves Apache's.
/// Without `trusted_proxy` the field is never read: any client that reaches
/// Apache directly can send one.
pub fn client_scheme<'a>(
    apache: &'a [u8],
    trusted_proxy: bool,
    forwarded_proto: Option<&[u8]>,
) -> &'a [u8] {
    match forwarded_proto.filter(|_| trusted_proxy).map(trim_ows) {
        Some(said) if said.eq_ignore_ascii_case(b"https") => b"https",
        Some(said) if said.eq_ignore_ascii_case(b"http") => b"http",
        _ => apache,
    }
}

#[cfg(test)]
mod tests {
    use super::client_scheme;

    #[test]
    fn apaches_scheme_without_a_trusted_proxy_whatever_the_header_says() {
        for said in [None, Some(&b"https"[..]), Some(b"http"), Some(b"HTTPS")] {
            assert_eq!(client_scheme(b"http", false, said), b"http");
            assert_eq!(client_scheme(b"https", false, said), b"https");
        }
    }

    #[test]
    fn a_trusted_proxy_says_which_scheme_the_client_used() {
        assert_eq!(client_scheme(b"http", true, Some(b"https")), b"https");
        assert_eq!(client_scheme(b"http", true, Some(b" HTTPS\t")), b"https");
        assert_eq!(client_scheme(b"https", true, Some(b"http")), b"http");
        assert_eq!(client_scheme(b"http", true, Some(b"Http")), b"http");
    }

    #[test]
    fn a_trusted_proxy_without_one_scheme_leaves_apaches() {
        for said in [
            None,
            Some(&b""[..]),
            Some(b"https, http"),
            Some(b"https,https"),
            Some(b"https;"),
            Some(b"wss"),
            Some(b"\"https\""),
            Some(b"https\r\n"),
        ] {
            assert_eq!(client_scheme(b"http", true, said), b"http", "{said:?}");
            assert_eq!(client_scheme(b"https", true, said), b"https", "{said:?}");
        }
    }
}
