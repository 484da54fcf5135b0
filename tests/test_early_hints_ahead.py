"""PushRedirectEarlyHintsAhead: the 103 sent before the backend answers, from
what the server learned on earlier visits, through a real Apache with mod_proxy
in front of a backend that thinks (harness/slowbackend.py), seen by nghttp (the
time of each header block) and push-follow.

A first visit teaches, a second one gets one 103 while the backend still
thinks: for a learned page its hints, for a learned redirect the hints of the
page its chain ends on. Nothing for fetch()/subresource requests, for a scope
with the feature off, for a URL never seen, over HTTP/1.1, for POST, on a pushed
stream. A push client gets a learned chain pushed whole; a chain that changed
since it was learned wastes a hint or a push, never serves the wrong page.
"""

import pytest

from harness import clients, frame_times, push_follow


THINK = 0.3       # seconds the backend thinks before a final response
LEAD = 0.75       # the 103 arrives at least this share of THINK before it

STYLE = "</s/style.css>; rel=preload; as=style"
CHAIN_STYLE = "</s/chain.css>; rel=preload; as=style"
SCRIPT = "</s/app.js>; rel=preload; as=script"


@pytest.fixture(scope="module")
def httpd(httpd_factory, module_so, slow):
    h = httpd_factory("early-hints-ahead", module=module_so)
    h.add_global("""
H2EarlyHints on
# One child: the tests need no more, and every request sees the same records
# whichever PushRedirectEarlyHintsCache provider is the default.
MaxRequestWorkers 25
MinSpareThreads 1
MaxSpareThreads 26
""")
    scopes = f"""
    PushRedirectEarlyHints On
    PushRedirectEarlyHintsAhead On
{slow.proxy_config()}
    <Location /app/quiet/>
        PushRedirectEarlyHintsAhead Off
    </Location>
    # Learned like any other URL, then asked for with Early Hints off:
    # Ahead inherited On does nothing alone.
    <If "%{{HTTP:X-Test-Scope}} == 'no-early-hints'">
        PushRedirectEarlyHints Off
    </If>
    <Location /app/h2hint/>
        H2EarlyHint Link "</s/h2.css>; rel=preload; as=style"
    </Location>
"""
    h.add_vhost("main", scopes)
    # A host where the redirects are pushed too, for push clients.
    h.add_vhost("push", "    PushRedirect On\n" + scopes)
    h.start()
    return h


def get(httpd, path, port="main", headers=(), **kw):
    return clients.nghttp(httpd.url(port, path), bodies=False, headers=headers, **kw)


def hints(r, stream=None) -> list:
    """The Link values of each 103 on the stream (the request's by default)."""
    s = r.main if stream is None else stream
    return [[v for n, v in block if n == "link"] for block in s.informational]


def visit(httpd, *paths, port="main"):
    """One plain visit to each path, each on its own, so each is learned."""
    for path in paths:
        r = get(httpd, path, port=port, options=["--no-push"])
        assert r.main.status is not None, r.describe()


def learned_page(slow, httpd, path, links=(STYLE,), port="main"):
    slow.page(path, links=links, think=THINK)
    visit(httpd, path, port=port)


def assert_ahead(r, expected_links):
    """One 103, with these links, at least LEAD * THINK before the final response."""
    assert hints(r) == [[", ".join(expected_links)]] or hints(r) == [list(expected_links)], \
        r.describe()
    lead = frame_times.lead(r)
    assert lead >= LEAD * THINK, f"the 103 came only {lead:.3f} s before the response:\n" \
        + r.describe()


# ------------------------------------------------------------------ pages

def test_a_page_never_seen_gets_no_103(httpd, slow):
    slow.page("/app/unseen/page", links=[STYLE], think=THINK)
    r = get(httpd, "/app/unseen/page")
    assert r.main.status == 200, r.describe()
    assert hints(r) == [], r.describe()


def test_a_learned_page_gets_its_hints_while_the_backend_thinks(httpd, slow):
    learned_page(slow, httpd, "/app/page/a", links=[STYLE, SCRIPT])
    r = get(httpd, "/app/page/a")
    assert r.main.status == 200, r.describe()
    assert_ahead(r, [STYLE, SCRIPT])
    assert len(slow.arrivals_for("/app/page/a")) == 2


def test_the_query_is_part_of_what_was_learned(httpd, slow):
    learned_page(slow, httpd, "/app/page/q?a=1")
    slow.page("/app/page/q?a=2", links=[STYLE], think=THINK)
    assert hints(get(httpd, "/app/page/q?a=2")) == []
    assert_ahead(get(httpd, "/app/page/q?a=1"), [STYLE])


def test_a_page_whose_hints_changed_gets_the_new_ones_next_time(httpd, slow):
    learned_page(slow, httpd, "/app/page/changed", links=[STYLE])
    slow.page("/app/page/changed", links=[SCRIPT], think=THINK)
    r = get(httpd, "/app/page/changed")
    assert_ahead(r, [STYLE])               # what was learned: a wasted hint at worst
    assert r.main.headers("link") == [SCRIPT], r.describe()
    assert_ahead(get(httpd, "/app/page/changed"), [SCRIPT])


# -------------------------------------------------------------- redirects

def test_a_learned_redirect_gets_its_targets_hints_ahead_and_one_103(httpd, slow):
    slow.redirect("/app/r/old", "/app/r/page", think=THINK)
    learned_page(slow, httpd, "/app/r/page")
    visit(httpd, "/app/r/old")
    r = get(httpd, "/app/r/old")
    assert r.main.status == 302, r.describe()
    # Ahead, and none more at the redirect.
    assert_ahead(r, [STYLE])


def test_with_ahead_off_in_a_location_the_103_waits_for_the_redirect(httpd, slow):
    learned_page(slow, httpd, "/app/quiet/page")
    r = get(httpd, "/app/quiet/page")
    assert r.main.status == 200 and hints(r) == [], r.describe()
    slow.redirect("/app/quiet/old", "/app/quiet/page", think=THINK)
    visit(httpd, "/app/quiet/old")
    r = get(httpd, "/app/quiet/old")
    assert r.main.status == 302, r.describe()
    # PushRedirectEarlyHints On still sends it, when the redirect is ready.
    assert hints(r) == [[STYLE]], r.describe()
    assert frame_times.lead(r) < LEAD * THINK, r.describe()


def test_ahead_without_early_hints_in_a_scope_sends_nothing(httpd, slow):
    learned_page(slow, httpd, "/app/noeh/page")
    slow.redirect("/app/noeh/old", "/app/noeh/page", think=THINK)
    visit(httpd, "/app/noeh/old")
    for path in ("/app/noeh/page", "/app/noeh/old"):
        r = get(httpd, path, headers=["x-test-scope: no-early-hints"])
        assert r.main.status in (200, 302) and hints(r) == [], r.describe()
        assert_ahead(get(httpd, path), [STYLE])


# ------------------------------------------------------------ navigations

NAVIGATIONS = [
    ((), 1),
    (("sec-fetch-mode: navigate",), 1),
    (("sec-fetch-mode: navigate", "sec-fetch-dest: document"), 1),
    (("sec-fetch-mode: cors", "sec-fetch-dest: empty"), 0),
    (("sec-fetch-mode: cors",), 0),
    (("sec-fetch-dest: image",), 0),
    (("sec-fetch-mode: no-cors", "sec-fetch-dest: script"), 0),
    (("sec-fetch-mode: navigate", "sec-fetch-dest: iframe"), 0),
]


@pytest.mark.parametrize("headers,count", NAVIGATIONS,
                         ids=[" ".join(h) or "no-sec-fetch" for h, _ in NAVIGATIONS])
def test_only_navigations_get_a_103(httpd, slow, headers, count):
    learned_page(slow, httpd, "/app/nav/page")
    slow.redirect("/app/nav/old", "/app/nav/page", think=THINK)
    visit(httpd, "/app/nav/old")
    for path in ("/app/nav/page", "/app/nav/old"):
        r = get(httpd, path, headers=headers)
        assert r.main.status in (200, 302), r.describe()
        assert len(hints(r)) == count, r.describe()


# ----------------------------------------------------------------- chains

def test_a_chain_gets_the_hints_of_the_page_it_ends_on(httpd, slow):
    slow.redirect("/app/chain/c1", "/app/chain/c2", think=THINK)
    slow.redirect("/app/chain/c2", "/app/chain/page.html", think=THINK)
    learned_page(slow, httpd, "/app/chain/page.html", links=[CHAIN_STYLE])
    visit(httpd, "/app/chain/c1", "/app/chain/c2")
    for path in ("/app/chain/c1", "/app/chain/c2"):
        r = get(httpd, path)
        assert r.main.status == 302, r.describe()
        assert_ahead(r, [CHAIN_STYLE])


def test_a_chain_of_four_hops_is_followed(httpd, slow):
    hops = [f"/app/four/r{i}" for i in range(1, 5)] + ["/app/four/page.html"]
    for here, there in zip(hops, hops[1:]):
        slow.redirect(here, there, think=THINK)
    learned_page(slow, httpd, hops[-1], links=[CHAIN_STYLE])
    visit(httpd, *hops[:-1])
    assert_ahead(get(httpd, hops[0]), [CHAIN_STYLE])


def test_a_chain_longer_than_four_hops_gets_nothing(httpd, slow):
    hops = [f"/app/long/r{i}" for i in range(1, 7)] + ["/app/long/page.html"]
    for here, there in zip(hops, hops[1:]):
        slow.redirect(here, there)
    learned_page(slow, httpd, hops[-1], links=[CHAIN_STYLE])
    visit(httpd, *hops[:-1])
    r = get(httpd, hops[0])
    assert r.main.status == 302 and hints(r) == [], r.describe()


def test_a_learned_loop_gets_nothing_and_answers(httpd, slow):
    slow.redirect("/app/loop/a", "/app/loop/b", think=THINK)
    slow.redirect("/app/loop/b", "/app/loop/a", think=THINK)
    visit(httpd, "/app/loop/a", "/app/loop/b")
    r = get(httpd, "/app/loop/a")
    assert r.main.status == 302 and hints(r) == [], r.describe()


# ------------------------------------------------------------ push clients

def teach_push_chain(httpd, slow, prefix, page_body=b"the chain's page\n"):
    c1, c2, page = f"{prefix}/c1", f"{prefix}/c2", f"{prefix}/page.html"
    slow.redirect(c1, c2, think=THINK)
    slow.redirect(c2, page, think=THINK)
    slow.page(page, links=[CHAIN_STYLE], think=THINK, body=page_body)
    # Each one requested on its own: a pushed stream teaches nothing.
    visit(httpd, c1, c2, page, port="push")
    return c1, c2, page


def test_a_push_client_gets_a_learned_chain_pushed_whole(httpd, slow):
    c1, c2, page = teach_push_chain(httpd, slow, "/app/pc")
    r = get(httpd, c1, port="push")
    assert r.main.status == 302, r.describe()
    assert [p.path for p in r.pushes] == [c2, page], r.describe()
    assert r.main.headers("link") == [f"<{c2}>; as=document; rel=preload",
                                      f"<{page}>; as=document; rel=preload"], r.describe()
    follow = push_follow.run(httpd.url("push", c1), cacert=httpd.cert)
    assert follow.exit_code == 0, follow.describe()
    assert follow.statuses() == [302, 302, 200], follow.describe()
    assert follow.sources() == ["requested", "pushed", "pushed"], follow.describe()
    assert follow.hops[0]["promised"] == [httpd.url("push", c2), httpd.url("push", page)]


def test_the_103_preloads_are_not_pushed(httpd, slow):
    # The page's own Link says nopush, so mod_http2 does not push from the
    # 200; the hint is learned and sent in the 103 without it (a hint is
    # written again from its parts), so a push could only come from the 103.
    page = "/app/nopush/page.html"
    learned_page(slow, httpd, page, links=[CHAIN_STYLE + "; nopush"], port="push")
    r = get(httpd, page, port="push")
    assert_ahead(r, [CHAIN_STYLE])
    assert r.pushes == [], r.describe()


def test_a_pushed_stream_gets_no_103(httpd, slow):
    c1, c2, page = teach_push_chain(httpd, slow, "/app/ps")
    r = get(httpd, c1, port="push")
    assert r.pushes, r.describe()
    for pushed in r.pushes:
        assert pushed.informational == [], r.describe()


def test_a_chain_that_changed_serves_the_page_asked_for(httpd, slow):
    c1, c2, page = teach_push_chain(httpd, slow, "/app/chg")
    other_body = b"the page the chain leads to now\n"
    slow.page("/app/chg/other.html", think=THINK, body=other_body)
    slow.redirect(c2, "/app/chg/other.html", think=THINK)
    follow = push_follow.run(httpd.url("push", c1), cacert=httpd.cert)
    assert follow.exit_code == 0, follow.describe()
    assert follow.statuses() == [302, 302, 200], follow.describe()
    last = follow.hops[-1]
    assert last["url"] == httpd.url("push", "/app/chg/other.html"), follow.describe()
    assert last["source"] == "requested" and last["body_bytes"] == len(other_body), \
        follow.describe()


# -------------------------------------------------------- what gets none

def test_http1_gets_no_103(httpd, slow):
    learned_page(slow, httpd, "/app/h1/page")
    r = clients.curl(httpd.url("main", "/app/h1/page"))
    assert r.status == 200, r.describe()
    assert "103" not in r.raw_headers, r.describe()


def test_post_gets_no_103(httpd, slow):
    learned_page(slow, httpd, "/app/post/page")
    r = clients.nghttp(httpd.url("main", "/app/post/page"), data=b"x=1", bodies=False)
    assert r.main.status == 200 and hints(r) == [], r.describe()


# ------------------------------------------- other 103s: documented, not merged

def test_ours_comes_before_mod_http2s_own_h2_early_hint(httpd, slow):
    learned_page(slow, httpd, "/app/h2hint/page")
    r = get(httpd, "/app/h2hint/page")
    assert hints(r) == [[STYLE], ["</s/h2.css>; rel=preload; as=style"]], r.describe()
    assert frame_times.lead(r) >= LEAD * THINK, r.describe()


def test_ours_comes_before_a_backends_own_103(httpd, slow):
    learned_page(slow, httpd, "/app/own103/page")
    slow.route("/app/own103/page", 200, [("Link", STYLE)], b"page\n", think=THINK,
               interim=[[("Link", "</s/backend.css>; rel=preload; as=style")]])
    r = get(httpd, "/app/own103/page")
    assert hints(r) == [[STYLE], ["</s/backend.css>; rel=preload; as=style"]], r.describe()
