"""Every source of redirects that Apache sends is pushed: Apache's own (mod_alias,
mod_rewrite, mod_dir, ErrorDocument) and a proxied Django backend.

For each: exactly one PUSH_PROMISE whose :path is the target, the pushed stream
answers 200 with the target's body, the redirect carries the Link field (and its
Location is untouched), and the access log says push=<target>.
"""

import pytest

from harness import clients
from harness.asserts import assert_pushed, assert_skipped

BODIES = {
    "/targets/alias.html": "alias target\n",
    "/targets/match.html": "redirectmatch target\n",
    "/targets/rewrite301.html": "rewrite 301 target\n",
    "/targets/rewrite302.html": "rewrite 302 target\n",
    "/targets/notfound.html": "errordocument target\n",
    "/docs/index.html": "docs index\n",
}
DJANGO_TARGET = b"django target\n"
DJANGO_PAGE = b"django page\n"


@pytest.fixture(scope="module")
def httpd(httpd_factory, module_so, backend):
    h = httpd_factory("sources", module=module_so)
    for path, body in BODIES.items():
        h.write(f"htdocs{path}", body)
    port = h.port("main")
    h.add_vhost("main", f"""
    H2Push on
    PushRedirect On

    Redirect /alias/redirect /targets/alias.html
    RedirectMatch 301 ^/alias/match/(\\w+)$ /targets/$1.html

    RewriteEngine on
    RewriteRule ^/rewrite/permanent$ /targets/rewrite301.html [R=301,L]
    RewriteRule ^/rewrite/found$ /targets/rewrite302.html?from=rewrite [R=302,L]

    <Location /missing/>
        # A full URL makes Apache answer a 404 with a 302 to it.
        ErrorDocument 404 https://localhost:{port}/targets/notfound.html
    </Location>
{backend.proxy_config()}
""")
    h.start()
    return h


def get(httpd, path, **kw):
    return clients.nghttp(httpd.url("main", path), **kw)


def test_alias_redirect_is_pushed(httpd):
    r = get(httpd, "/alias/redirect")
    assert r.main.header("location") == httpd.url("main", "/targets/alias.html")
    assert_pushed(httpd, r, "/targets/alias.html", b"alias target\n", status=302)


def test_alias_redirectmatch_is_pushed(httpd):
    r = get(httpd, "/alias/match/match")
    assert r.main.header("location") == httpd.url("main", "/targets/match.html")
    assert_pushed(httpd, r, "/targets/match.html", b"redirectmatch target\n", status=301)


def test_rewrite_r301_is_pushed(httpd):
    r = get(httpd, "/rewrite/permanent")
    assert r.main.header("location") == httpd.url("main", "/targets/rewrite301.html")
    assert_pushed(httpd, r, "/targets/rewrite301.html", b"rewrite 301 target\n", status=301)


def test_rewrite_r302_with_query_is_pushed(httpd):
    r = get(httpd, "/rewrite/found")
    target = "/targets/rewrite302.html?from=rewrite"
    assert r.main.header("location") == httpd.url("main", target)
    assert_pushed(httpd, r, target, b"rewrite 302 target\n", status=302)


def test_dir_trailing_slash_redirect_is_pushed(httpd):
    r = get(httpd, "/docs")
    assert r.main.header("location") == httpd.url("main", "/docs/")
    assert_pushed(httpd, r, "/docs/", b"docs index\n", status=301)


def test_errordocument_full_url_is_pushed(httpd):
    r = get(httpd, "/missing/page.html")
    assert r.main.header("location") == httpd.url("main", "/targets/notfound.html")
    assert_pushed(httpd, r, "/targets/notfound.html", b"errordocument target\n", status=302)


def test_django_append_slash_is_pushed(httpd):
    r = get(httpd, "/app/page")
    assert r.main.header("location") == "/app/page/"
    assert_pushed(httpd, r, "/app/page/", DJANGO_PAGE, status=301)


def test_django_relative_redirect_is_pushed(httpd):
    r = get(httpd, "/app/redirect/relative/")
    assert r.main.header("location") == "/app/target/"
    assert_pushed(httpd, r, "/app/target/", DJANGO_TARGET, status=302)


def test_django_path_relative_redirect_is_pushed(httpd):
    # Location "target/" resolves against /app/rel to /app/target/.
    r = get(httpd, "/app/rel")
    assert r.main.header("location") == "target/"
    assert_pushed(httpd, r, "/app/target/", DJANGO_TARGET, status=302)


def test_django_absolute_redirect_is_pushed(httpd):
    # build_absolute_uri() names the backend; ProxyPassReverse maps it to our origin.
    r = get(httpd, "/app/redirect/absolute/")
    assert r.main.header("location") == httpd.url("main", "/app/target/")
    assert_pushed(httpd, r, "/app/target/", DJANGO_TARGET, status=302)


def test_django_redirect_to_other_host_is_not_pushed(httpd):
    r = get(httpd, "/app/redirect/external/")
    assert r.main.header("location") == "https://other.example/"
    assert_skipped(httpd, r, "cross-origin", status=302)
