"""Odd Location values, as a backend that reflects user input sends them: how they
resolve, how the Link value is serialised, and the 8192-byte limit.

The backend view /app/raw-location/?to=<value> answers 302 with `Location: <value>`.
"""

import re
from urllib.parse import quote

import pytest

from harness import clients
from harness.asserts import assert_pushed, assert_skipped, link_for

DJANGO_TARGET = b"django target\n"


@pytest.fixture(scope="module")
def httpd(httpd_factory, module_so, backend):
    h = httpd_factory("locations", module=module_so)
    h.write("htdocs/t.html", "t\n")
    h.add_vhost("main", f"""
    H2Push on
    PushRedirect On
    PushRedirectExclude ^/app/accounts/logout
    LimitRequestLine 20000
    RewriteEngine on
    # Reflects the query string into the Location: https://localhost:PORT/t.html?<query>
    RewriteRule ^/long$ /t.html [R=302,QSA,L]
{backend.proxy_config()}
""")
    h.start()
    return h


def raw(httpd, location: str, **kw) -> clients.H2Result:
    return clients.nghttp(httpd.url("main", "/app/raw-location/?to=" + quote(location, safe="")),
                          **kw)


def test_location_with_unsafe_characters_is_percent_encoded(httpd):
    r = raw(httpd, '/app/target/?q=a b"<>')
    assert r.main.header("location") == '/app/target/?q=a b"<>'
    target = "/app/target/?q=a%20b%22%3C%3E"
    assert_pushed(httpd, r, target, DJANGO_TARGET, status=302)


def test_location_path_with_space_is_percent_encoded(httpd):
    r = raw(httpd, "/app/a b/")
    assert r.main.headers("link") == [link_for("/app/a%20b/")], r.describe()
    assert [p.path for p in r.pushes] == ["/app/a%20b/"], r.describe()
    assert httpd.wait_access(r.ua, 2)[0]["push"] == "/app/a%20b/"


def test_location_fragment_is_dropped(httpd):
    r = raw(httpd, "/app/target/#section")
    assert_pushed(httpd, r, "/app/target/", DJANGO_TARGET, status=302)


def test_location_dot_segments_are_resolved(httpd):
    r = raw(httpd, "/app/x/../target/")
    assert_pushed(httpd, r, "/app/target/", DJANGO_TARGET, status=302)


def test_location_absolute_same_origin_is_pushed(httpd):
    r = raw(httpd, httpd.url("main", "/app/target/?from=absolute"))
    assert_pushed(httpd, r, "/app/target/?from=absolute", DJANGO_TARGET, status=302)


def test_location_utf8_path_is_percent_encoded(httpd):
    # Django sends header values as latin-1: these two characters are the UTF-8
    # bytes of "é" on the wire.
    r = raw(httpd, "/app/caf\u00c3\u00a9/")
    assert r.main.headers("link") == [link_for("/app/caf%C3%A9/")], r.describe()
    assert [p.path for p in r.pushes] == ["/app/caf%C3%A9/"], r.describe()


@pytest.mark.parametrize("location", ["//other.example/app/target/",
                                      # URL parsers (and browsers) read "\\" as "/":
                                      "/\\other.example/app/target/",
                                      "\\\\other.example/app/target/",
                                      "https://other.example:443/",
                                      "javascript:alert(1)",
                                      "data:text/html,hello",
                                      "mailto:someone@example.com"])
def test_location_cross_origin_forms(httpd, location):
    r = raw(httpd, location)
    assert r.main.header("location") == location
    assert_skipped(httpd, r, "cross-origin", status=302, uri=r.main.path)


@pytest.mark.parametrize("location", ["http://[::1", "https://localhost:99999/",
                                      "https://exa mple.com/", "http://"])
def test_location_unparsable_is_bad_location(httpd, location):
    r = raw(httpd, location)
    assert r.main.header("location") == location
    assert_skipped(httpd, r, "bad-location", status=302)


def long_location_request(httpd, length: int) -> str:
    """A /long?<query> whose redirect has a Location of exactly `length` bytes."""
    prefix = httpd.url("main", "/t.html?q=")
    query = "q=" + "a" * (length - len(prefix))
    assert len(prefix) + len(query) - 2 == length
    return "/long?" + query


def test_location_of_8192_bytes_is_linked(httpd):
    path = long_location_request(httpd, 8192)
    r = clients.nghttp(httpd.url("main", path), bodies=False)
    assert r.exit_code == 0, r.describe()
    assert len(r.main.header("location")) == 8192
    target = r.main.header("location")[len(httpd.origin("main")):]
    assert r.main.headers("link") == [link_for(target)]
    entry = httpd.wait_access(r.ua)[0]
    assert entry["push"] == target and entry["skip"] == "-"


def test_location_of_8193_bytes_is_bad_location(httpd):
    path = long_location_request(httpd, 8193)
    r = clients.nghttp(httpd.url("main", path), bodies=False)
    assert len(r.main.header("location")) == 8193
    assert_skipped(httpd, r, "bad-location", status=302)


@pytest.mark.parametrize("location", ["%", "%zz", "/app/%zz/", "%00", "/app/%00/"])
def test_paths_apache_refuses_are_bad_locations(httpd, location):
    # The URL standard keeps a malformed escape and %00 as they are; Apache answers
    # such a path with 400 and logs AH10244, so pushing it would only add an error.
    r = raw(httpd, location, bodies=False)
    assert_skipped(httpd, r, "bad-location", status=302)


REASONS = {"opt-out", "method", "insecure", "push-disabled", "credentials", "no-location",
           "bad-location", "cross-origin", "self", "excluded", "already-linked"}
HOSTILE = [
    "/app/target/?" + "%" * 300, "/" + "../" * 500 + "app/target/", "/app/" + "%2e%2E/" * 50,
"/app/tar\tget/", " /app/target/ ", "/app/target/#" + "#" * 100,
    "https://localhost:0/", "https://localhost:65536/", "https://:443/", "https://@/",
    "https://user:pass@@localhost/", "https://[::1]:443/", "https://[::ffff:127.0.0.1]/",
    "https://[zz]/", "https://127.0.0.1.:443/", "https://0x7f.1/", "https://xn--/",
    "https://xn--nxasmq6b.com/", "https://\u00e9xample.com/", "https://" + "a" * 300 + ".com/",
    "https://localhost%2f.example/", "https:///app/target/", "https:app/target/",
    "file:///etc/passwd", "about:blank", "?", "#", ".", "..", "/", "//", "///", "\\",
    "%00", "%", "%zz", "/app/%zz/", "/app/target/?\u00ff", "\u00c3\u0028",
    "/app/" + "a" * 4000 + "/",
]


def test_hostile_locations_never_crash(httpd):
    """Each value gives a 302 out, with a push of a clean path or a known skip reason
    (never internal-error); the error-log check then catches any crash or panic."""
    for location in HOSTILE:
        r = raw(httpd, location, bodies=False)
        assert r.exit_code == 0 and r.main.status == 302, (location, r.describe())
        entry = httpd.access_entry(r.ua, r.main.path)
        if entry["push"] != "-":
            assert entry["skip"] == "-", (location, entry)
            assert re.fullmatch(r'/[^\s<>"\x00-\x1f\x7f]*', entry["push"]), (location, entry)
            assert r.main.headers("link") == [link_for(entry["push"])], (location, r.describe())
        else:
            assert entry["skip"] in REASONS, (location, entry)
            assert r.main.headers("link") == [], (location, r.describe())


@pytest.mark.parametrize("location", ["/app/accounts/logout/", "/app/accounts/%6Cogout/",
                                      "/app/%61ccounts/logou%74/?next=/"])
def test_an_exclude_matches_the_target_as_apache_serves_it(httpd, location):
    """The README's own `^/accounts/logout` pattern, against a Location a
    backend reflects: a percent-encoded letter names the same page, and is
    excluded as the plain one is (nothing pushed, no Link)."""
    r = raw(httpd, location)
    assert r.main.header("location") == location, r.describe()
    assert r.main.headers("link") == [], r.describe()
    assert_skipped(httpd, r, "excluded", status=302)


def test_an_encoded_slash_is_not_a_path_separator_for_an_exclude(httpd):
    r = raw(httpd, "/app/accounts%2Flogout/")
    assert r.main.headers("link") == [link_for("/app/accounts%2Flogout/")], r.describe()
