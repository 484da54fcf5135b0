"""Hostile Location values through a real Apache: a raw backend behind mod_proxy
answers with exactly the bytes of each case (tests/harness/rawbackend.py), and
nghttp (HTTP/2, takes pushes) checks the decision a client sees: the Link field,
the PUSH_PROMISE, and PUSH_REDIRECT / PUSH_REDIRECT_SKIPPED in the access log.
A second source is Apache itself: mod_rewrite with [NE] copies a decoded path,
CR and LF included, into the Location.

test_locations.py has the Django-made odd Locations; this file goes beyond what
Django lets through: CR, LF, NUL, non-UTF-8 bytes, several Location fields, 64 KB
values. After all cases, every Apache child that served them is still the same
process, and the error log has no crash.
"""

import re

import pytest

from harness import clients
from harness.asserts import assert_skipped, assert_untouched, link_for
from harness.load import child_pids
from harness.rawbackend import RawBackend

TARGET_BODY = b"hostile target\n"


def push(target):
    return ("push", target)


def skip(reason):
    return ("skip", reason)


def refused(reason):
    """Apache itself refuses to send this Location (AH02430: an HTTP/2 client sees
    the stream reset); the module's decision is in the access log."""
    return ("refused", reason)



# (name, header lines sent by the backend, expected decision, status).
# In the lines, {O} is the front end's origin (https://localhost:PORT), {P} its
# port, {SELF} the path the client asked for (/raw/<name>).
CASES = [
    # Protocol-relative and backslash forms (URL parsers read "\" as "/").
    ("proto-relative-same", [b"Location: //localhost:{P}/t.html"], push("/t.html")),
    ("proto-relative-upper", [b"Location: //LOCALHOST:{P}/t.html"], push("/t.html")),
    ("proto-relative-no-port", [b"Location: //localhost/t.html"], skip("cross-origin")),
    ("slash-backslash-same", [b"Location: /\\localhost:{P}/t.html"], push("/t.html")),
    ("backslash-slash-other", [b"Location: \\/evil.example/t.html"], skip("cross-origin")),
    ("backslash-dot-segments", [b"Location: /a\\..\\t.html"], push("/t.html")),
    ("https-colon-relative", [b"Location: https:t.html"], push("/raw/t.html")),
    ("https-colon-path", [b"Location: https:/t.html"], push("/t.html")),
    ("https-colon-host-as-path", [b"Location: https:localhost:{P}/t.html"],
     push("/raw/localhost:{P}/t.html")),
    ("https-backslashes-other", [b"Location: https:\\\\evil.example/"], skip("cross-origin")),
    ("http-scheme-same-host", [b"Location: http://localhost:{P}/t.html"], skip("cross-origin")),
    ("scheme-and-host-upper", [b"Location: HTTPS://LocalHost:{P}/t.html"], push("/t.html")),
    # Userinfo.
    ("userinfo-user", [b"Location: https://user@localhost:{P}/t.html"], skip("cross-origin")),
    ("userinfo-user-pass", [b"Location: https://u:p@localhost:{P}/t.html"], skip("cross-origin")),
    ("userinfo-hides-host", [b"Location: https://localhost:{P}@evil.example/"],
     skip("cross-origin")),
    ("backslash-before-at", [b"Location: https://evil.example\\@localhost:{P}/"],
     skip("cross-origin")),
    ("empty-userinfo", [b"Location: https://@localhost:{P}/t.html"], push("/t.html")),
    # IDNA, look-alike and mixed-case hosts.
    ("idna-other", [b"Location: https://xn--nxasmq6b.example/"], skip("cross-origin")),
    ("cyrillic-o-lookalike", ["Location: https://l\u043ecalhost:{P}/t.html".encode()],
     skip("cross-origin")),
    ("fullwidth-localhost", ["Location: https://\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f"
                             "\uff53\uff54:{P}/t.html".encode()], push("/t.html")),
    ("trailing-dot-host", [b"Location: https://localhost.:{P}/t.html"], skip("cross-origin")),
    ("ip-for-name", [b"Location: https://127.0.0.1:{P}/t.html"], skip("cross-origin")),
    ("ipv6-loopback", [b"Location: https://[::1]:{P}/t.html"], skip("cross-origin")),
    # Ports.
    ("default-port-explicit", [b"Location: https://localhost:443/t.html"], skip("cross-origin")),
    ("wrong-port", [b"Location: https://localhost:1/t.html"], skip("cross-origin")),
    ("port-leading-zero", [b"Location: https://localhost:0{P}/t.html"], push("/t.html")),
    ("port-empty", [b"Location: https://localhost:/t.html"], skip("cross-origin")),
    ("port-not-a-number", [b"Location: https://localhost:{P}x/t.html"], skip("bad-location")),
    # Schemes that are no place to push.
    ("javascript-mixed-case", [b"Location: JaVaScRiPt:alert(document.domain)"],
     skip("cross-origin")),
    ("javascript-leading-control", [b"Location:  \x01javascript:alert(1)"],
     refused("bad-location")),
    ("javascript-tab-inside", [b"Location: java\tscript:alert(1)"], skip("cross-origin")),
    ("data-base64", [b"Location: data:text/html;base64,PHNjcmlwdD4="], skip("cross-origin")),
    ("vbscript", [b"Location: vbscript:msgbox(1)"], skip("cross-origin")),
    ("blob-same-origin", [b"Location: blob:{O}/0000"], skip("cross-origin")),
    ("ftp-same-host", [b"Location: ftp://localhost:{P}/"], skip("cross-origin")),
    # CR, LF and NUL: forged fields and percent-encoded controls.
    ("crlf-forges-a-field", [b"Location: /t.html\r\nX-Injected: 1"], push("/t.html")),
    ("lf-forges-a-field", [b"Location: /t.html\nX-Injected: 1"], push("/t.html")),
    ("pct-crlf-in-path", [b"Location: /t.html%0d%0aSet-Cookie:%20x=1"],
     push("/t.html%0d%0aSet-Cookie:%20x=1")),
    ("pct-nul-in-query", [b"Location: /t.html?%00"], push("/t.html?%00")),
    ("pct-nul-in-path", [b"Location: /t.html%00.jpg"], skip("bad-location")),
    ("pct-tab-in-path", [b"Location: /t.html%09"], push("/t.html%09")),
    ("raw-tab-inside", [b"Location: /t.\thtml"], push("/t.html")),
    # Apache's proxy trims trailing white space, \v included.
    ("raw-vertical-tab-end", [b"Location: /t.html\x0b"], push("/t.html")),
    ("raw-del-in-path", [b"Location: /t\x7f.html"], refused("bad-location")),
    ("raw-bare-cr", [b"Location: /t.html\rX-Injected: 1"], refused("bad-location")),
    # Bytes that could break out of the Link value.
    ("angle-brackets-query", [b"Location: /t.html?a=<script>"], push("/t.html?a=%3Cscript%3E")),
    ("double-quotes-query", [b'Location: /t.html?a="x"'], push("/t.html?a=%22x%22")),
    ("comma-second-link", [b"Location: /t.html?a=1,</evil>; rel=preload"],
     push("/t.html?a=1,%3C/evil%3E;%20rel=preload")),
    ("semicolon-comma-path", [b"Location: /t;a=1,b/"], push("/t;a=1,b/")),
    ("close-angle-in-path", [b"Location: /t.html>; rel=preload, </evil"],
     push("/t.html%3E;%20rel=preload,%20%3C/evil")),
    ("apostrophe-path", [b"Location: /t.html'"], push("/t.html'")),
    # Sizes.
    ("size-8192", [b"Location: /t.html?q=" + b"a%20" * 2045 + b"ab"], None),
    ("size-8193", [b"Location: /t.html?q=" + b"a" * 8183], skip("bad-location")),
    ("size-64k", [b"Location: /t.html?q=" + b"a" * 65526], skip("bad-location")),
    ("size-64k-slashes", [b"Location: " + b"/" * 65536], skip("bad-location")),
    # Empty, white space, several or no Location fields.
    ("empty", [b"Location:"], skip("no-location")),
    ("spaces-only", [b"Location:      "], skip("no-location")),
    ("tab-only", [b"Location: \t"], skip("no-location")),
    ("no-location", [b"X-Other: 1"], skip("no-location")),
    ("two-equal", [b"Location: /t.html", b"Location: /t.html"], skip("bad-location")),
    ("two-different", [b"Location: /t.html", b"location: https://evil.example/"],
     skip("bad-location")),
    # Non-UTF-8 and odd UTF-8.
    ("latin1-byte", [b"Location: /t\xe9.html"], skip("bad-location")),
    ("ff-in-query", [b"Location: /t.html?\xff"], skip("bad-location")),
    ("overlong-slash", [b"Location: /\xc0\xaft.html"], skip("bad-location")),
    ("surrogate", [b"Location: /\xed\xa0\x80"], skip("bad-location")),
    ("emoji-path", ["Location: /\U0001F600".encode()], push("/%F0%9F%98%80")),
    # Relative forms and self-redirects.
    ("dot-relative", [b"Location: ./t.html"], push("/raw/t.html")),
    ("many-dot-dots", [b"Location: ../../../../t.html"], push("/t.html")),
    ("encoded-dot-dots", [b"Location: /%2e%2e/%2E%2e/t.html"], push("/t.html")),
    ("dot-dot-semicolon", [b"Location: /t.html/..;/admin"], push("/t.html/..;/admin")),
    ("query-only", [b"Location: ?q=1"], push("{SELF}?q=1")),
    ("fragment-only", [b"Location: #top"], skip("self")),
    ("self-absolute", [b"Location: {O}{SELF}#x"], skip("self")),
    ("slash-dot-slash-host", [b"Location: /.//evil.example/x"], skip("bad-location")),
    ("pct-scheme-is-a-path", [b"Location: %68ttps://evil.example/"],
     push("/raw/%68ttps://evil.example/")),
    # Existing Link fields and opt-out headers.
    ("already-linked-path", [b"Location: /t.html", b"Link: </t.html>; rel=preload"],
     skip("already-linked")),
    ("already-linked-nopush-absolute",
     [b"Location: /t.html", b"Link: <{O}/t.html>; rel=preload; nopush"], skip("already-linked")),
    ("link-in-quoted-param", [b"Location: /t.html", b'Link: <x>; title="</t.html>"'],
     push("/t.html")),
    ("opt-out-upper", [b"Location: /t.html", b"X-Push-Redirect: OFF"], skip("opt-out")),
    ("opt-out-padded", [b"Location: /t.html", b"X-Push-Redirect:   No  "], skip("opt-out")),
    ("opt-out-not-a-token", [b"Location: /t.html", b"X-Push-Redirect: nope"], push("/t.html")),
]

# Too large for nghttp's header table: checked over HTTP/1.1 with curl.
HTTP1_ONLY = {"size-64k", "size-64k-slashes"}

# Statuses other than 302 for a few cases, and one that is no redirect.
STATUSES = {"proto-relative-same": 301, "https-colon-path": 303, "emoji-path": 307,
            "dot-relative": 308}
NOT_REDIRECT = ("status-300", [b"Location: /t.html", b"X-Push-Redirect: off"], None)


def substitute(value: bytes, origin: str, port: int, name: str) -> bytes:
    return (value.replace(b"{O}", origin.encode()).replace(b"{P}", str(port).encode())
            .replace(b"{SELF}", f"/raw/{name}".encode()))


@pytest.fixture(scope="module")
def raw_backend():
    backend = RawBackend()
    backend.start()
    yield backend
    backend.stop()


@pytest.fixture(scope="module")
def httpd(httpd_factory, module_so, raw_backend):
    h = httpd_factory("hostile", module=module_so)
    h.write("htdocs/t.html", TARGET_BODY.decode())
    origin, port = h.origin("main"), h.port("main")
    raw_backend.add("nul-in-location", [b"Location: /t.\x00html"])
    raw_backend.add("log-escaping", [LOGGED_LOCATION])
    for name, lines, _ in CASES + [NOT_REDIRECT]:
        status = 300 if name == "status-300" else STATUSES.get(name, 302)
        raw_backend.add(name, [substitute(line, origin, port, name) for line in lines], status)
    h.add_vhost("main", f"""
    H2Push on
    PushRedirect On
    # Room for the 64 KB Location fields, from the backend and to the client.
    LimitRequestFieldSize 70000
    ProxyIOBufferSize 131072
    H2MaxHeaderBlockLen 200000
    <Location /raw/log-escaping>
        LogLevel push_redirect:trace1
    </Location>
    RewriteEngine on
    # Apache as the source: [NE] copies the decoded path, CR and LF included.
    RewriteRule ^/ne/(.*)$ /$1 [R=302,NE,L]
{raw_backend.proxy_config()}
""")
    h.start()
    h.children_at_start = child_pids(h.proc.pid)
    assert h.children_at_start, "no Apache child found"
    return h


def expected_for(name, expected, origin, port):
    kind, arg = expected
    if kind == "push":
        arg = substitute(arg.encode(), origin, port, name).decode()
    return kind, arg


@pytest.mark.parametrize("name,lines,expected", CASES, ids=[c[0] for c in CASES])
def test_hostile_location(httpd, raw_backend, name, lines, expected):
    path = f"/raw/{name}"
    if name in HTTP1_ONLY:
        r = clients.curl(httpd.url("main", path))
        assert_skipped(httpd, r, expected[1], status=302)
        assert len(r.header("location")) > 65000, r.describe()
        return
    r = clients.nghttp(httpd.url("main", path), bodies=False)
    if expected is None:  # size-8192: the Location as the client got it is linked
        location = r.main.header("location")
        assert len(location) == 8192, r.describe()
        expected = push(location)
    if expected == skip("already-linked"):
        # The backend's own Link is all there is (mod_http2 pushes on it).
        assert r.main.headers("link") == [line.split(b": ", 1)[1].decode().replace(
            "{O}", httpd.origin("main")) for line in lines if line.startswith(b"Link:")]
        entry = httpd.access_entry(r.ua, path)
        assert (entry["skip"], entry["push"]) == ("already-linked", "-"), entry
        return
    if expected[0] != "refused":
        assert r.main.status == STATUSES.get(name, 302), r.describe()
    check_decision(httpd, r, path,
                   expected_for(name, expected, httpd.origin("main"), httpd.port("main")))


def check_decision(httpd, r, path, expected):
    """What the client and the access log show for `expected` (push, skip, refused)."""
    kind, arg = expected
    if kind == "refused":
        # mod_http2 resets the stream: an invalid field cannot be sent.
        assert r.main.status is None and r.main.rst, r.describe()
        assert r.all_promises == [], r.describe()
        entry = httpd.access_entry(r.ua, path)
        assert (entry["skip"], entry["push"]) == (arg, "-"), entry
        return
    assert r.exit_code == 0, r.describe()
    assert r.main.headers("x-push-redirect") == [], r.describe()
    if kind == "skip":
        assert_skipped(httpd, r, arg, uri=path)
        return
    own = [v for v in r.main.headers("link") if v.endswith("; as=document; rel=preload")]
    assert own == [link_for(arg)], r.describe()
    assert re.fullmatch(r'/[\x21-\x7e]*', arg) and not re.search(r'[<>"]', arg)
    assert [p.path for p in r.pushes] == [arg], r.describe()
    entries = httpd.wait_access(r.ua, 2)
    mine = [e for e in entries if e["uri"] == path]
    assert len(mine) == 1 and mine[0]["push"] == arg and mine[0]["skip"] == "-", entries


@pytest.mark.expect_log(r"AH10404: Error reading headers from backend",
                        r"AH01106: bad HTTP/1.1 header returned by /raw/nul-in-location")
def test_nul_in_location_is_refused_by_the_proxy(httpd):
    """A NUL never reaches the module: mod_proxy_http answers 502 itself."""
    r = clients.nghttp(httpd.url("main", "/raw/nul-in-location"), bodies=False)
    assert r.main.status == 502, r.describe()
    assert_untouched(httpd, r)


# A quote, a backslash and a control byte (DEL), which the module logs as
# they are and httpd escapes once, as it escapes every error-log message
# (ap_escape_errorlog_item: a backslash doubled, a control byte in hex, a
# quote as it is). Escaped by the module as well, they read `\"`, `\\\\`
# and `\\x7f`.
LOGGED_LOCATION = b'Location: /t"a\\b\x7fc.html'


def test_a_hostile_location_is_logged_escaped_once(httpd):
    r = clients.nghttp(httpd.url("main", "/raw/log-escaping"), bodies=False)
    check_decision(httpd, r, "/raw/log-escaping", refused("bad-location"))
    lines = [line for line in httpd.read_error_log().splitlines()
             if "[push_redirect:trace1]" in line and "/raw/log-escaping" in line]
    assert len(lines) == 1, lines
    assert lines[0].endswith(
        r'skip (bad-location) for 302 to GET /raw/log-escaping (Location: /t"a\\b\x7fc.html)'), \
        lines[0]


def test_not_redirect_status_is_untouched_and_opt_out_removed(httpd):
    r = clients.nghttp(httpd.url("main", "/raw/status-300"), bodies=False)
    assert r.main.status == 300, r.describe()
    assert r.main.headers("x-push-redirect") == [], r.describe()
    assert_untouched(httpd, r)


@pytest.mark.parametrize("encoded,expected", [
    ("t.html%0d%0aX-Injected:%201", refused("bad-location")),
    ("t.html%0aX-Injected:%201", refused("bad-location")),
    ("t.html%0bx", refused("bad-location")),
    # The URL parser drops a tab, as browsers do; a tab is valid in a field.
    ("t.html%09", push("/t.html")),
])
def test_rewrite_ne_reflects_decoded_controls(httpd, encoded, expected):
    path = "/ne/" + encoded
    r = clients.nghttp(httpd.url("main", path), bodies=False)
    check_decision(httpd, r, path, expected)


def test_every_worker_survived(httpd, raw_backend):
    """Runs last: the children that served every case above are the same processes."""
    assert raw_backend.requests >= len(CASES)
    now = child_pids(httpd.proc.pid)
    assert httpd.children_at_start <= now, (httpd.children_at_start, now)
    crashes = [line for line in httpd.read_error_log().splitlines()
               if re.search(r"exit signal|Segmentation|panicked", line)]
    assert crashes == []
