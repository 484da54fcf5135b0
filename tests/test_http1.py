"""HTTP/1.1 over TLS gets the Link field (nothing can be pushed there), and
responses that are not redirects never get one, over either protocol.
"""

import pytest

from harness import clients
from harness.asserts import assert_pushed, assert_untouched, link_for

TARGET = "/targets/t.html"


@pytest.fixture(scope="module")
def httpd(httpd_factory, module_so, backend):
    h = httpd_factory("http1", module=module_so)
    h.write(f"htdocs{TARGET}", "http1 target\n")
    h.write("htdocs/page.html", "page\n")
    h.add_vhost("main", f"""
    H2Push on
    PushRedirect On
    Redirect /r/target {TARGET}
    RewriteEngine on
    RewriteRule ^/rewrite/found$ {TARGET}?x=1 [R=302,L]
    RewriteRule ^/rewrite/see-other$ {TARGET} [R=303,L]
    RewriteRule ^/rewrite/temporary$ {TARGET} [R=307,L]
    RewriteRule ^/rewrite/permanent$ {TARGET} [R=308,L]
    RewriteRule ^/rewrite/multiple$ {TARGET} [R=300,L]
    RewriteRule ^/rewrite/not-modified$ {TARGET} [R=304,L]
    # A preload Link on a page: the module must leave it alone.
    <Location /page.html>
        Header always add Link "</targets/t.html>; rel=preload"
    </Location>
{backend.proxy_config()}
""")
    h.start()
    return h


def curl(httpd, path, **kw):
    return clients.curl(httpd.url("main", path), **kw)


def test_http1_redirect_gets_link(httpd):
    r = curl(httpd, "/r/target")
    assert r.exit_code == 0, r.describe()
    assert r.version == "HTTP/1.1"
    assert r.status == 302
    assert r.header("location") == httpd.url("main", TARGET)
    assert r.headers("link") == [link_for(TARGET)], r.describe()
    entry = httpd.access_entry(r.ua)
    assert entry["proto"] == "HTTP/1.1"
    assert entry["push"] == TARGET and entry["skip"] == "-", entry


def test_http1_backend_redirect_gets_link(httpd):
    r = curl(httpd, "/app/page")
    assert r.status == 301, r.describe()
    assert r.header("location") == "/app/page/"
    assert r.headers("link") == [link_for("/app/page/")], r.describe()
    assert httpd.access_entry(r.ua)["push"] == "/app/page/"


@pytest.mark.parametrize("path,status,target", [
    ("/rewrite/found", 302, f"{TARGET}?x=1"),
    ("/rewrite/see-other", 303, TARGET),
    ("/rewrite/temporary", 307, TARGET),
    ("/rewrite/permanent", 308, TARGET),
])
def test_http1_default_status_set(httpd, path, status, target):
    r = curl(httpd, path)
    assert r.status == status, r.describe()
    assert r.headers("link") == [link_for(target)], r.describe()


# 300 and 304 are 3xx codes outside the default PushRedirectStatus set.
@pytest.mark.parametrize("path,status", [("/targets/t.html", 200), ("/nothing-here", 404),
                                         ("/app/target/", 200), ("/app/nothing/", 404),
                                         ("/rewrite/multiple", 300),
                                         ("/rewrite/not-modified", 304)])
def test_non_redirect_gets_no_link_http1(httpd, path, status):
    r = curl(httpd, path)
    assert r.status == status, r.describe()
    assert_untouched(httpd, r)


@pytest.mark.parametrize("path,status", [("/targets/t.html", 200), ("/nothing-here", 404),
                                         ("/app/target/", 200), ("/app/nothing/", 404)])
def test_non_redirect_gets_no_link_h2(httpd, path, status):
    r = clients.nghttp(httpd.url("main", path))
    assert r.main.status == status, r.describe()
    assert r.main.headers("link") == [], r.describe()
    assert r.pushes == []
    entry = httpd.access_entry(r.ua)
    assert entry["push"] == "-" and entry["skip"] == "-", entry


def test_existing_link_on_a_page_is_untouched(httpd):
    r = clients.nghttp(httpd.url("main", "/page.html"))
    assert r.main.status == 200
    assert r.main.headers("link") == ["</targets/t.html>; rel=preload"], r.describe()
    assert [p.path for p in r.pushes] == [TARGET]   # mod_http2's own push
    entry = httpd.access_entry(r.ua, "/page.html")
    assert entry["push"] == "-" and entry["skip"] == "-", entry


def test_h2_and_http1_agree(httpd):
    r2 = clients.nghttp(httpd.url("main", "/r/target"))
    r1 = curl(httpd, "/r/target")
    assert_pushed(httpd, r2, TARGET, b"http1 target\n", status=302)
    assert r1.headers("link") == r2.main.headers("link") == [link_for(TARGET)]
