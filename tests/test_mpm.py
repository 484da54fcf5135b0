"""The module under the other MPMs (the rest of the suite runs under event).

mod_http2 does not work with prefork (it says so at startup and serves HTTP/1.1
only), so there the Link field is all there is to see.
"""

import pytest

from harness import clients, sites
from harness.asserts import assert_pushed, assert_skipped, link_for

TARGET = sites.TARGET
BODY = b"mpm target\n"
PREFORK_WARNING = r"AH10034: The mpm module \(prefork\.c\) is not supported by mod_http2"


@pytest.fixture(scope="module", params=["worker", "prefork"])
def httpd(request, httpd_factory, module_so):
    mpm = request.param
    h = httpd_factory(mpm, module=module_so, mpm=mpm)
    sites.push_and_exclude(h, BODY)
    h.start(expected_log=[PREFORK_WARNING] if mpm == "prefork" else [])
    return h


def test_http1_redirect_gets_link(httpd):
    r = clients.curl(httpd.url("main", "/r/target"))
    assert r.status == 302, r.describe()
    assert r.headers("link") == [link_for(TARGET)], r.describe()
    assert httpd.access_entry(r.ua)["push"] == TARGET


def test_http1_exclude_skips(httpd):
    r = clients.curl(httpd.url("main", "/r/excluded"))
    assert_skipped(httpd, r, "excluded", status=302)


def test_h2_redirect_is_pushed(httpd):
    r = clients.nghttp(httpd.url("main", "/r/target"))
    if httpd.mpm == "prefork":
        # ALPN offers no h2 under prefork: nothing to push over.
        assert r.protocol != "h2", r.describe()
        return
    assert_pushed(httpd, r, TARGET, BODY, status=302)


def test_many_requests_in_parallel(httpd):
    # Several workers at once (threads or processes) deciding concurrently.
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: clients.curl(httpd.url("main", "/r/target")),
                                range(32)))
    for r in results:
        assert r.status == 302, r.describe()
        assert r.headers("link") == [link_for(TARGET)], r.describe()
