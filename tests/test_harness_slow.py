"""The harness of the Early Hints ahead tests checked against plain Apache,
without the module: the slow backend thinks as long as told, behind mod_proxy,
and its own 103 is relayed on time (so a 103 the module's tests see ahead of the
response is timed right, and a 103 from the backend is told apart from it);
push-follow takes every hop of a chain pushed with its first redirect, and only
for the URL it asks for (mod_headers adds the Link fields the module would).
"""

import pytest

from harness import clients, frame_times, push_follow

THINK = 0.3
BACKEND_HINT = "</s/backend.css>; rel=preload; as=style"


@pytest.fixture(scope="module")
def httpd(httpd_factory, slow):
    if not push_follow.binary().is_file():
        pytest.fail(f"{push_follow.binary()} is not built (run `make tools`)", pytrace=False)
    h = httpd_factory("harness-slow", module=None)
    for page in ("hdr/page.html", "hdr/stale.html", "hdr2/page.html"):
        h.write(f"htdocs/{page}", f"{page}\n")
    h.add_global("H2EarlyHints on")
    h.add_vhost("main", f"""
{slow.proxy_config()}
    RedirectMatch 302 ^/hdr/one$ /hdr/two
    RedirectMatch 302 ^/hdr/two$ /hdr/page.html
    <Location /hdr/one>
        Header always add Link "</hdr/two>; as=document; rel=preload"
        Header always add Link "</hdr/page.html>; as=document; rel=preload"
    </Location>
    RedirectMatch 302 ^/hdr2/one$ /hdr2/two
    RedirectMatch 302 ^/hdr2/two$ /hdr2/page.html
    <Location /hdr2/one>
        Header always add Link "</hdr2/two>; as=document; rel=preload"
        Header always add Link "</hdr/stale.html>; as=document; rel=preload"
    </Location>
""")
    h.start()
    return h


def test_the_backend_thinks_and_its_own_103_is_relayed_before(httpd, slow):
    slow.route("/app/think", 200, [("Content-Type", "text/plain")], b"thought\n",
               think=THINK, interim=[[("Link", BACKEND_HINT)]])
    r = clients.nghttp(httpd.url("main", "/app/think"), options=["--no-push"])
    assert r.main.status == 200 and r.main.body == b"thought\n", r.describe()
    assert [[v for n, v in block if n == "link"] for block in r.main.informational] \
        == [[BACKEND_HINT]], r.describe()
    statuses = [b.status for b in frame_times.blocks(r)]
    assert statuses == [103, 200], r.describe()
    assert THINK * 0.75 <= frame_times.lead(r) < THINK * 3, r.describe()
    arrivals = slow.arrivals_for("/app/think")
    assert len(arrivals) == 1 and arrivals[0].method == "GET"
    assert ("User-Agent", r.ua) in arrivals[0].headers


def test_a_route_without_think_answers_at_once_and_keeps_the_connection(httpd, slow):
    slow.redirect("/app/quick", "/app/think")
    for _ in range(3):
        r = clients.nghttp(httpd.url("main", "/app/quick"), bodies=False)
        assert r.main.status == 302 and r.main.informational == [], r.describe()
        assert r.main.header("location").endswith("/app/think"), r.describe()
    assert len(slow.arrivals_for("/app/quick")) == 3


def test_push_follow_takes_every_hop_pushed_with_the_first_redirect(httpd):
    r = push_follow.run(httpd.url("main", "/hdr/one"), cacert=httpd.cert)
    assert r.exit_code == 0, r.describe()
    assert r.statuses() == [302, 302, 200], r.describe()
    assert r.sources() == ["requested", "pushed", "pushed"], r.describe()
    assert r.hops[0]["promised"] == [httpd.url("main", "/hdr/two"),
                                     httpd.url("main", "/hdr/page.html")]
    assert r.hops[1]["promised"] == [] and r.hops[2]["body_bytes"] == len("hdr/page.html\n")


def test_push_follow_takes_a_push_only_for_the_url_it_asks_for(httpd):
    r = push_follow.run(httpd.url("main", "/hdr2/one"), cacert=httpd.cert)
    assert r.exit_code == 0, r.describe()
    assert r.sources() == ["requested", "pushed", "requested"], r.describe()
    assert r.hops[2]["url"] == httpd.url("main", "/hdr2/page.html")
    assert r.hops[2]["body_bytes"] == len("hdr2/page.html\n")
