"""Where the filter sits among Apache's: it decides on the headers as they are
when the response leaves the content filters, whatever the LoadModule order.

Our module is loaded *first* here. Filters of one type run in the order their
modules inserted them, so at AP_FTYPE_CONTENT_SET we would run before
mod_headers and mod_cache; the module registers just below the protocol
filters to be after both.
"""

import pytest

from harness import clients
from harness.asserts import assert_pushed, assert_skipped

TARGET = "/targets/t.html"
BODY = b"filter order target\n"
COOKIE = "cookie: sid=1"


@pytest.fixture(scope="module")
def httpd(httpd_factory, module_so):
    h = httpd_factory("order", module=module_so, module_first=True)
    h.write(f"htdocs{TARGET}", BODY.decode())
    h.write("htdocs/cached/moved.asis",
            "Status: 301 Moved Permanently\n"
            f"Location: {h.url('main', TARGET)}\n"
            "Cache-Control: public, max-age=600\n"
            "Content-Type: text/plain\n\nmoved\n")
    h.add_global(f"""
LoadModule asis_module "/usr/lib/apache2/modules/mod_asis.so"
LoadModule cache_module "/usr/lib/apache2/modules/mod_cache.so"
LoadModule cache_socache_module "/usr/lib/apache2/modules/mod_cache_socache.so"
""")
    h.add_vhost("main", f"""
    H2Push on
    PushRedirect On
    Redirect /headers-opt-out/go {TARGET}
    <Location /headers-opt-out/>
        Header always set X-Push-Redirect off
    </Location>
    Redirect /double-slash/go /.//evil.example/x
    <Directory "{h.docroot}/cached">
        AddHandler send-as-is asis
    </Directory>
    CacheSocache shmcb
    CacheEnable socache /cached/
    CacheHeader on
""")
    h.start()
    return h


def test_opt_out_set_by_mod_headers_is_honoured_and_removed(httpd):
    r = clients.nghttp(httpd.url("main", "/headers-opt-out/go"))
    assert_skipped(httpd, r, "opt-out", status=302)
    assert r.main.headers("x-push-redirect") == [], r.describe()
    h1 = clients.curl(httpd.url("main", "/headers-opt-out/go"))
    assert h1.headers("x-push-redirect") == [] and h1.headers("link") == [], h1.describe()


def test_a_location_whose_path_reads_as_another_host_gets_no_link(httpd):
    # /.//evil.example/x resolves to the same-origin path //evil.example/x, which a
    # client would read back from <//evil.example/x> as a link to evil.example.
    r = clients.nghttp(httpd.url("main", "/double-slash/go"))
    assert r.main.header("location") == httpd.url("main", "/.//evil.example/x")
    assert_skipped(httpd, r, "bad-location", status=302)


def test_a_cached_redirect_is_decided_again_on_every_hit(httpd):
    url = httpd.url("main", "/cached/moved.asis")
    miss = clients.nghttp(url)
    assert_pushed(httpd, miss, TARGET, BODY, status=301)

    hit = clients.nghttp(url)
    assert hit.main.headers("age"), f"expected a cache hit:\n{hit.describe()}"
    assert_pushed(httpd, hit, TARGET, BODY, status=301)

    # Had the Link been stored with the response, this hit would replay it to a
    # request with a Cookie, whose pushed page would be the anonymous one.
    with_cookie = clients.nghttp(url, headers=[COOKIE])
    assert with_cookie.main.headers("age"), with_cookie.describe()
    assert_skipped(httpd, with_cookie, "credentials", status=301)
    assert with_cookie.main.headers("link") == [], with_cookie.describe()
