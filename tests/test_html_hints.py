"""Early Hints learned from a page's HTML (a 200 text/html page teaches what
its head says a browser will fetch first): after teaching visits,
the one 103 a fresh navigation gets (nghttp, Sec-Fetch-Mode: navigate, no push,
as a browser) carries what the page's head links.

Sites: Django's own admin (tests/adminsite under gunicorn, its static files
served by Apache), a static site of real HTML files behind mod_dir's
trailing-slash redirect (harness/html_site.py), pages a backend sends gzip-,
deflate- or br-encoded, a page mod_deflate compresses, hostile pages, and a
page whose backend pauses 500 ms inside its head: the module must not hold
the response back while it reads it (time to the first byte and the body
compared with an Apache without the module).
"""

import html.parser
import re
import statistics

import pytest

from harness import clients
from harness.html_site import (HOSTILE, SITE_BOTH_HINTS, SITE_GUIDE_HINTS, SITE_INDEX_HINTS,
                               SITE_QUIET_HEADER, count_103, deflate_body, early_hints,
                               gzip_body, page, script, style, write_hostile_pages,
                               write_static_site)
from test_config import config_test
from test_learning import ONE_CHILD


NAVIGATE = ("sec-fetch-mode: navigate", "sec-fetch-dest: document")

ADMIN_LOGIN = "/admin/login/?next=/admin/"
# What Django's admin login page links in its head in every Django Debian
# ships (3.2's admin/base.html and admin/login.html with STATIC_URL /static/
# and the nav sidebar on, as a stock project has them; 4.2 adds its dark
# mode's stylesheet and script), as the core writes the hints.
ADMIN_HINTS_AT_LEAST = [
    style("/static/admin/css/base.css"),
    style("/static/admin/css/nav_sidebar.css"),
    script("/static/admin/js/nav_sidebar.js"),
    style("/static/admin/css/login.css"),
    style("/static/admin/css/responsive.css"),
]


class _HeadLinks(html.parser.HTMLParser):
    """The stylesheets and scripts of a head, in order, read by Python's own
    HTML parser (not the module's): what the hints must be."""

    def __init__(self):
        super().__init__()
        self.hints, self.in_head = [], True

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "body":
            self.in_head = False
        elif self.in_head and tag == "link" and attrs.get("rel") == "stylesheet":
            self.hints.append(style(attrs["href"]))
        elif self.in_head and tag == "script" and attrs.get("src"):
            self.hints.append(script(attrs["src"]))

    def handle_endtag(self, tag):
        if tag == "head":
            self.in_head = False


def admin_hints(httpd) -> list:
    """The login page's hints, as the installed Django's page links them."""
    login = get(httpd, ADMIN_LOGIN, "admin")
    assert login.main.status == 200, login.describe()
    parser = _HeadLinks()
    parser.feed(login.main.body.decode())
    assert set(ADMIN_HINTS_AT_LEAST) <= set(parser.hints), parser.hints
    return parser.hints

# The page whose backend pauses inside its head.
GAP = 0.5
GAP_HINTS = [style("/s/gap-first.css"), style("/s/gap-second.css")]
GAP_PAGES = 3

ENCODED_CSS = style("/s/encoded.css")
DEFLATED_CSS = style("/deflated/d.css")


def gap_page() -> (bytes, int):
    """A page and the offset inside its head where the backend pauses: one
    stylesheet before it, one after."""
    body = page("gap", stylesheets=["/s/gap-first.css", "/s/gap-second.css"],
                body="<p>" + "after the pause " * 400 + "</p>")
    return body, body.index(b'<link rel="stylesheet" href="/s/gap-second.css">')


@pytest.fixture(scope="module")
def httpd(httpd_factory, module_so, admin_backend, slow):
    h = httpd_factory("html-hints", module=module_so)
    h.add_global(ONE_CHILD + f"""
LoadModule filter_module "/usr/lib/apache2/modules/mod_filter.so"
LoadModule deflate_module "/usr/lib/apache2/modules/mod_deflate.so"
LoadModule brotli_module "/usr/lib/apache2/modules/mod_brotli.so"
""")
    # Django's admin: the switches, nothing else (and where to find it).
    h.add_vhost("admin", """
    H2EarlyHints on
    PushRedirect On
    PushRedirectEarlyHints On
    PushRedirectEarlyHintsAhead On
""" + admin_backend.proxy_config())
    site = write_static_site(h)
    write_hostile_pages(h)
    h.write("htdocs/deflated/page.html", page("deflated", stylesheets=["d.css"]).decode())
    h.write("htdocs/deflated/d.css", "h1 { color: green; }\n")
    # What the br backend sends: Apache's mod_brotli in a plain virtual host
    # without the module, proxied to by the main one.
    h.write("htdocs/origin/br.html", page("br", stylesheets=["/s/encoded.css"]).decode())
    h.add_vhost("origin", """
    <Location /origin/>
        AddOutputFilterByType BROTLI_COMPRESS text/html
    </Location>
""", tls=False)
    h.add_vhost("main", f"""
    H2EarlyHints on
    PushRedirect On
    PushRedirectEarlyHints On
    PushRedirectEarlyHintsAhead On
{site}
    # Before the backend's /app/: the first ProxyPass that matches wins.
    ProxyPass /app/br/ http://127.0.0.1:{h.port("origin")}/origin/
    <Location /app/br/>
        RequestHeader set Accept-Encoding br
    </Location>
{slow.proxy_config()}
    <Location /deflated/>
        AddOutputFilterByType DEFLATE text/html
    </Location>
""")
    h.start()
    return h


@pytest.fixture(scope="module")
def plain(httpd_factory, slow):
    """Apache without the module, in front of the same backend: the baseline."""
    h = httpd_factory("html-hints-plain")
    h.add_vhost("main", slow.proxy_config())
    h.start()
    return h


def get(h, path, port="main", headers=(), **kw):
    """What a browser's request gets: no push, a navigation."""
    return clients.nghttp(h.url(port, path), options=["--no-push"],
                          headers=[*NAVIGATE, *headers], **kw)


def teach(h, path, port="main", times=1, status=200):
    """`times` anonymous visits to `path`, each answered `status`."""
    for _ in range(times):
        r = get(h, path, port, bodies=False)
        assert r.main.status == status, r.describe()


def hints_for(h, path, port="main", status=None) -> list:
    """The hints of a fresh navigation to `path`; at most one 103."""
    r = get(h, path, port, bodies=False)
    if status is not None:
        assert r.main.status == status, r.describe()
    assert count_103(r) <= 1, r.describe()
    return early_hints(r)


# ------------------------------------------------------------ Django's admin

def test_the_admin_is_served_as_a_stock_project_serves_it(httpd):
    """The fixture: /admin/ sends an anonymous visitor to the login page, which
    sets a csrftoken and links its static files, which Apache serves."""
    r = get(httpd, "/admin/", "admin", bodies=False)
    assert r.main.status == 302, r.describe()
    assert r.main.header("location") == ADMIN_LOGIN, r.describe()
    login = get(httpd, ADMIN_LOGIN, "admin")
    assert login.main.status == 200, login.describe()
    assert login.main.header("set-cookie").startswith("csrftoken="), login.describe()
    linked = [re.match(r"<([^>]+)>", hint).group(1) for hint in admin_hints(httpd)]
    for path in linked:
        asset = get(httpd, path, "admin", bodies=False)
        assert asset.main.status == 200, asset.describe()
        kind = "text/css" if path.endswith(".css") else "javascript"
        assert kind in asset.main.header("content-type"), asset.describe()


# Django's admin answers /admin/ and its login page with `Cache-Control:
# max-age=0, no-cache, no-store, must-revalidate, private` (never_cache) and
# sets a csrftoken: a page that may be one visitor's, whose hints are
# everyone's once two responses agree (docs/behaviour.md).
def test_the_admin_entered_at_admin_gets_the_login_pages_hints(httpd):
    teach(httpd, "/admin/", "admin", status=302)
    # The login page sets a cookie: its hints are everyone's once two agree.
    teach(httpd, ADMIN_LOGIN, "admin", times=2)
    r = get(httpd, "/admin/", "admin", bodies=False)
    assert r.main.status == 302, r.describe()
    assert count_103(r) == 1, r.describe()
    assert sorted(early_hints(r)) == sorted(admin_hints(httpd)), r.describe()


def test_the_admin_login_page_gets_its_hints_ahead(httpd):
    teach(httpd, ADMIN_LOGIN, "admin", times=2)
    r = get(httpd, ADMIN_LOGIN, "admin", bodies=False)
    assert r.main.status == 200, r.describe()
    assert count_103(r) == 1, r.describe()
    assert sorted(early_hints(r)) == sorted(admin_hints(httpd)), r.describe()


# ---------------------------------------------------------------- static site

def test_the_static_site_is_served(httpd):
    r = get(httpd, "/site", bodies=False)
    assert r.main.status == 301, r.describe()
    assert r.main.header("location") == httpd.url("main", "/site/"), r.describe()
    r = get(httpd, "/site/")
    assert r.main.status == 200 and b"<title>A static site</title>" in r.main.body, \
        r.describe()
    for path in ("/site/css/site.css", "/site/js/main.mjs", "/site/docs/guide.html",
                 "/site/assets/v2/guide.css", "/site/quiet/declared.css"):
        assert get(httpd, path, bodies=False).main.status == 200, path


def test_a_redirect_into_the_site_gets_the_index_pages_hints(httpd):
    # Relative references resolved against the page; alternate and print
    # stylesheets, the icon and the body's stylesheet and script left out;
    # the module script as modulepreload, the font stylesheet of another
    # origin as a preconnect to it, crossorigin kept.
    teach(httpd, "/site/")
    teach(httpd, "/site", status=301)
    r = get(httpd, "/site", bodies=False)
    assert r.main.status == 301, r.describe()
    assert count_103(r) == 1, r.describe()
    assert sorted(early_hints(r)) == sorted(SITE_INDEX_HINTS), r.describe()


def test_references_resolve_against_the_base_href(httpd):
    teach(httpd, "/site/docs/guide.html")
    assert sorted(hints_for(httpd, "/site/docs/guide.html", status=200)) \
        == sorted(SITE_GUIDE_HINTS)


def test_the_link_headers_hints_come_first(httpd):
    teach(httpd, "/site/both.html")
    assert hints_for(httpd, "/site/both.html", status=200) == SITE_BOTH_HINTS


def test_with_html_learning_off_only_the_link_header_teaches(httpd):
    teach(httpd, "/site/quiet/")
    teach(httpd, "/site/quiet", status=301)
    assert hints_for(httpd, "/site/quiet", status=301) == [SITE_QUIET_HEADER]
    assert hints_for(httpd, "/site/quiet/", status=200) == [SITE_QUIET_HEADER]


def test_the_directive_is_taken_in_every_context(workdir, module_so):
    code, out = config_test(workdir, module_so, """
PushRedirectEarlyHintsFromHTML On
<VirtualHost 127.0.0.1:9>
    PushRedirectEarlyHintsFromHTML off
    <Location /x>
        PushRedirectEarlyHintsFromHTML On
    </Location>
</VirtualHost>
<Directory /tmp>
    PushRedirectEarlyHintsFromHTML Off
    <Files x.html>
        PushRedirectEarlyHintsFromHTML on
    </Files>
</Directory>
""")
    assert code == 0, out
    code, out = config_test(workdir, module_so, "PushRedirectEarlyHintsFromHTML maybe")
    assert code != 0 and "PushRedirectEarlyHintsFromHTML" in out and "maybe" in out, out


# --------------------------------------------------------- encoded bodies

@pytest.mark.parametrize("coding,encode", [("gzip", gzip_body), ("deflate", deflate_body)])
def test_a_backends_compressed_page_teaches(httpd, slow, coding, encode):
    body = encode(page(coding, stylesheets=["/s/encoded.css"]))
    slow.page(f"/app/enc/{coding}", headers=[("Content-Encoding", coding)], body=body)
    r = get(httpd, f"/app/enc/{coding}", headers=["accept-encoding: gzip, deflate"])
    assert r.main.status == 200, r.describe()
    assert r.main.header("content-encoding") == coding, r.describe()
    assert hints_for(httpd, f"/app/enc/{coding}", status=200) == [ENCODED_CSS]


def test_a_br_page_teaches(httpd):
    r = get(httpd, "/app/br/br.html", bodies=False)
    assert r.main.status == 200 and r.main.header("content-encoding") == "br", r.describe()
    assert hints_for(httpd, "/app/br/br.html", status=200) == [ENCODED_CSS]


def test_an_encoding_it_cannot_decode_teaches_nothing_and_passes(httpd, slow):
    body = b"\x28\xb5\x2f\xfd" + bytes(range(256)) * 8   # not even real zstd
    slow.page("/app/enc/unknown", headers=[("Content-Encoding", "zstd")], body=body)
    r = get(httpd, "/app/enc/unknown")
    assert r.main.status == 200 and r.main.body == body, r.describe()
    assert hints_for(httpd, "/app/enc/unknown", status=200) == []


def test_a_page_mod_deflate_compresses_teaches(httpd):
    r = get(httpd, "/deflated/page.html", headers=["accept-encoding: gzip"], bodies=False)
    assert r.main.status == 200, r.describe()
    assert r.main.header("content-encoding") == "gzip", r.describe()
    assert hints_for(httpd, "/deflated/page.html", status=200) == [DEFLATED_CSS]


# ---------------------------------------------------------------- hostile

@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_page_teaches_only_what_a_browser_would_fetch(httpd, name):
    body, expected = HOSTILE[name]
    r = get(httpd, f"/hostile/{name}.html")
    assert r.main.status == 200 and r.main.body == body, r.describe()
    assert hints_for(httpd, f"/hostile/{name}.html", status=200) == expected
    assert httpd.alive()


# --------------------------------------------------- never held back

FRAME = re.compile(rb"\[ *(\d+\.\d+)\] (send|recv) (HEADERS|DATA) frame "
                   rb"<length=(\d+), flags=0x[0-9a-fA-F]+, stream_id=(\d+)>")


def timings(r) -> dict:
    """Seconds from sending the request to its response's HEADERS, its first
    and its last DATA frame with bytes."""
    sent = headers = None
    data = []
    for m in FRAME.finditer(r.out):
        at, way, kind, length, sid = float(m[1]), m[2], m[3], int(m[4]), int(m[5])
        if sid != r.main_id:
            continue
        if way == b"send" and kind == b"HEADERS":
            sent = at
        elif way == b"recv" and kind == b"HEADERS" and headers is None:
            headers = at
        elif way == b"recv" and kind == b"DATA" and length:
            data.append(at)
    assert sent is not None and headers is not None and data, r.describe()
    return {"headers": headers - sent, "first": data[0] - sent, "last": data[-1] - sent}


def test_a_page_is_never_held_back_while_it_is_read(httpd, plain, slow):
    body, pause_at = gap_page()
    on, off = [], []
    for i in range(GAP_PAGES):
        # A URL never seen each time: each response is one the module reads.
        path = f"/app/gap/p{i}"
        slow.route(path, 200, [("Content-Type", "text/html; charset=utf-8")], body,
                   gap=(pause_at, GAP))
        for h, seen in ((httpd, on), (plain, off)):
            r = get(h, path)
            assert r.main.status == 200 and r.main.body == body, r.describe()
            seen.append(timings(r))
    # The backend's pause is there, after the first bytes, either way.
    assert all(t["last"] - t["first"] >= 0.8 * GAP for t in on + off), (on, off)
    for what in ("headers", "first"):
        with_module = statistics.median(t[what] for t in on)
        without = statistics.median(t[what] for t in off)
        assert with_module < GAP / 2, (what, on, off)
        assert with_module - without < 0.1, (what, on, off)
    # And what was read on both sides of the pause was learned.
    assert hints_for(httpd, "/app/gap/p0", status=200) == GAP_HINTS
