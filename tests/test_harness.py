"""The harness checked against plain Apache, without the module.

mod_headers adds the Link field the module would add, so these tests prove that
the nghttp parsing sees PUSH_PROMISE frames, promised paths and pushed bodies,
and that it sees *no* push when there is none: the module's tests rest on that.
"""

import pytest

from harness import clients
from harness.httpd import bad_lines

TARGET = "harness target\n"
LINK = "</target.html>; as=document; rel=preload"
# Larger than the initial flow-control window, so nghttp sends WINDOW_UPDATEs
# while the body arrives.
BIG = "".join(f"line {i:06d} of a body larger than one window\n" for i in range(8000))


@pytest.fixture(scope="module")
def httpd(httpd_factory):
    h = httpd_factory("harness", module=None)
    h.write("htdocs/target.html", TARGET)
    h.write("htdocs/index.html", "index\n")
    h.write("htdocs/big.txt", BIG)
    h.add_vhost("tls", f"""
    H2Push on
    Redirect 302 /emulated /target.html
    <Location /emulated>
        Header always add Link "{LINK}"
    </Location>
    Redirect 302 /plain-redirect /target.html
""")
    h.start()
    return h


def test_emulated_push_is_seen(httpd):
    r = clients.nghttp(httpd.url("tls", "/emulated"))
    assert r.exit_code == 0, r.describe()
    assert r.protocol == "h2"
    assert r.main.path == "/emulated"
    assert r.main.status == 302
    assert r.main.headers("link") == [LINK]
    assert r.main.header("location") == httpd.url("tls", "/target.html")
    assert [p.path for p in r.pushes] == ["/target.html"], r.describe()
    pushed = r.pushes[0]
    assert pushed.status == 200
    assert pushed.body == TARGET.encode()
    assert pushed.ended
    # mod_http2 copies the user agent into the pushed request: the access log ties
    # the pushed stream to the request that caused it.
    assert clients.values(pushed.request, "user-agent") == [r.ua]
    uris = sorted(e["uri"] for e in httpd.wait_access(r.ua, 2))
    assert uris == ["/emulated", "/target.html"]


def test_no_push_is_seen_as_none(httpd):
    r = clients.nghttp(httpd.url("tls", "/plain-redirect"))
    assert r.exit_code == 0, r.describe()
    assert r.main.status == 302
    assert r.main.headers("link") == []
    assert r.pushes == []
    assert b"<title>302 Found</title>" in r.main.body


def test_no_push_without_bodies(httpd):
    r = clients.nghttp(httpd.url("tls", "/emulated"), bodies=False)
    assert [p.path for p in r.pushes] == ["/target.html"]
    assert r.pushes[0].status == 200
    assert r.pushes[0].body == b""


def test_client_refusing_push_gets_none(httpd):
    r = clients.nghttp(httpd.url("tls", "/emulated"), options=["--no-push"])
    assert r.main.status == 302
    assert r.main.headers("link") == [LINK]
    assert r.pushes == []


def test_a_body_over_many_frames_is_whole(httpd):
    r = clients.nghttp(httpd.url("tls", "/big.txt"))
    assert r.main.status == 200, r.describe()
    assert r.main.body == BIG.encode()


def test_a_window_update_printed_inside_a_data_frame_is_not_body():
    out = (b"[  0.010] recv (stream_id=1) :status: 200\n"
           b"[  0.010] recv HEADERS frame <length=20, flags=0x04, stream_id=1>\n"
           b"          ; END_HEADERS\n"
           b"first half "
           b"[  0.011] send WINDOW_UPDATE frame <length=4, flags=0x00, stream_id=0>\n"
           b"          (window_size_increment=33291)\n"
           b"second half\n"
           b"[  0.012] recv DATA frame <length=23, flags=0x01, stream_id=1>\n"
           b"          ; END_STREAM\n")
    streams, _ = clients.parse_nghttp(out)
    assert streams[1].body == b"first half second half\n"
    assert streams[1].ended


def test_curl_http1(httpd):
    r = clients.curl(httpd.url("tls", "/emulated"))
    assert r.exit_code == 0, r.describe()
    assert r.version == "HTTP/1.1"
    assert r.status == 302
    assert r.headers("link") == [LINK]
    entry = httpd.access_entry(r.ua)
    assert entry["proto"] == "HTTP/1.1"
    assert entry["push"] == "-" and entry["skip"] == "-"


def test_error_log_scan_flags_errors():
    text = "\n".join([
        "[Fri Nov 20 22:03:48 2026] [mpm_event:notice] [pid 1] AH00489: resuming",
        "[Fri Nov 20 22:03:48 2026] [push_redirect:trace1] [pid 1] decided push",
        "[Fri Nov 20 22:03:48 2026] [proxy:error] [pid 1] AH00898: Error reading",
        "[Fri Nov 20 22:03:48 2026] [core:notice] [pid 1] AH00052: child pid 7 exit signal "
        "Segmentation fault (11)",
        "thread '<unnamed>' panicked at core/src/lib.rs:1:1:",
        "[Fri Nov 20 22:03:48 2026] [push_redirect:info] [pid 1] skipped",
    ])
    assert len(bad_lines(text)) == 4
    assert len(bad_lines(text, expected=[r"AH00898"])) == 3
