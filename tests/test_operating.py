"""What the operator sees (docs/operating.md): the module's section of
server-status, its counters summed over 4 children after known traffic,
kept by a graceful restart and zeroed by a restart; a store that hangs,
counted; and the push-redirect-info handler: the record, chain and 103 of
a learned redirect, nothing for an unknown URL, a forget by POST, its
Require, a hostile URL escaped.

Each URL that teaches is asked for once in the counted traffic: what a
child settled lately it does not look up again, and which child answers
is not ours to choose.
"""

import json
import re
import subprocess
import time
from urllib.parse import quote

import pytest

from harness import clients, env, load
from harness.httpd import bad_lines
from harness.rawbackend import RawBackend
from test_early_hints import early_hints_links
from test_lifecycle import restart
from test_shared_cache import CHILDREN, FOUR_CHILDREN, LOAD_REDIS
from test_store_hang import HungListener, hinted_site

PAGE_CSS = "</s/page.css>; rel=preload; as=style"
DECLARED = "</s/declared.css>; rel=preload; as=style"
COOKIE = "cookie: session=abc123"
LOAD_STATUS = f"""<IfModule !status_module>
    LoadModule status_module "{env.APACHE_MODULES}/mod_status.so"
</IfModule>"""
# Where the module is on: it never reads the status or info pages.
ADMIN = """
    <Location /server-status>
        SetHandler server-status
        Require ip 127.0.0.1
    </Location>
    <Location /push-redirect-info>
        SetHandler push-redirect-info
        Require ip 127.0.0.1
    </Location>
    <Location /denied-info>
        SetHandler push-redirect-info
        Require ip 192.0.2.1
    </Location>
"""
FLOOD = 40


def link(value: str) -> bytes:
    return b"Link: " + value.encode()


@pytest.fixture(scope="module")
def raw():
    backend = RawBackend()
    backend.add("noloc", [], status=302)
    backend.add("badloc", [b"Location: https://[bad"], status=302)
    backend.add("ahead-old", [b"Location: /ahead/page.html"], status=302)
    backend.add_prefix("q?n=", lambda name: (200, [link(f"</s/{name[4:]}.css>; rel=preload; "
                                                        "as=style")]))
    with backend:
        yield backend


def four_children(h):
    h.add_global(f"H2EarlyHints on\n{FOUR_CHILDREN}KeepAlive Off\n{LOAD_STATUS}\n")


def wait_children(h):
    deadline = time.monotonic() + 10
    while len(load.child_pids(h.proc.pid)) < CHILDREN and time.monotonic() < deadline:
        time.sleep(0.1)


@pytest.fixture(scope="module")
def site(httpd_factory, module_so, raw):
    h = httpd_factory("operating", module=module_so)
    four_children(h)
    for i in range(4):
        h.write(f"htdocs/learn/page-{i}.html", f"page {i}\n")
    for name in ("declared", "excluded", "self"):
        h.write(f"htdocs/learn/{name}.html", f"{name}\n")
    h.write("htdocs/learn/html.html", "<!doctype html><head><title>h</title>"
            "<link rel=stylesheet href=/s/html.css></head><body>html</body>\n")
    h.write("htdocs/ahead/page.html", "ahead\n")
    h.add_vhost("main", f"""
    <Location /learn/>
        PushRedirect On
        PushRedirectEarlyHints On
        PushRedirectExclude ^/learn/excluded
        PushRedirectEarlyHint /learn/declared.html "{DECLARED}"
    </Location>
    <Location /raw/>
        PushRedirect On
        PushRedirectEarlyHints On
    </Location>
    <Location /ahead/>
        PushRedirect On
        PushRedirectEarlyHints On
        PushRedirectEarlyHintsAhead On
    </Location>
    <LocationMatch "^/(learn/page-\\d+|ahead/page)\\.html$">
        Header add Link "{PAGE_CSS}"
    </LocationMatch>
    RedirectMatch 302 ^/learn/old-(\\d)$ /learn/page-$1.html
    Redirect 302 /learn/old-html /learn/html.html
    SetEnvIf Request_URI ^/learn/optout no-push-redirect
    Redirect 302 /learn/optout /learn/page-0.html
    Redirect 302 /learn/away https://other.example/
    RedirectMatch 302 ^/learn/self$ /learn/self
    Redirect 302 /learn/to-excluded /learn/excluded.html
    Redirect 302 /learn/linked /learn/page-1.html
    <Location /learn/linked>
        Header always add Link "</learn/page-1.html>; rel=preload"
    </Location>
    Redirect 302 /learn/h1/old /learn/page-0.html
    <Location /learn/h1/>
        PushRedirectEarlyHintsHTTP1 On
    </Location>
    Redirect 302 /learn/declared /learn/declared.html
    Redirect 302 /learn/unknown /learn/never.html
    RedirectMatch 302 ^/learn/c0$ /learn/c1
    RedirectMatch 302 ^/learn/c1$ /learn/c2
    RedirectMatch 302 ^/learn/c2$ /learn/page-3.html
    ProxyPass /raw/ http://127.0.0.1:{raw.port}/raw/
    ProxyPass /ahead/old http://127.0.0.1:{raw.port}/raw/ahead-old
{ADMIN}""")
    h.add_vhost("plain", """
    <Location /learn/>
        PushRedirect On
    </Location>
    Redirect 302 /learn/old-plain /learn/page-0.html
""", tls=False)
    h.start()
    wait_children(h)
    return h


def auto(h, port="main", scheme="https") -> dict:
    """server-status?auto: the module's `PushRedirect...: value` lines."""
    r = clients.curl(h.url(port, "/server-status?auto", scheme=scheme))
    assert r.status == 200, r.err
    lines = r.body.decode().splitlines()
    return {k: v for k, _, v in (line.partition(": ") for line in lines)
            if k.startswith("PushRedirect")}


def counters(h) -> dict:
    return {k: int(v) for k, v in auto(h).items()
            if k != "PushRedirectStoreStatus" and v.isdigit()}


def h2(h, path, *options, headers=(), data=None):
    r = clients.nghttp(h.url("main", path), bodies=False, options=options,
                       headers=headers, data=data)
    assert r.main.status is not None, r.describe()
    return r


# The counted traffic, and what each request adds (docs/operating.md).
# Lookups: a page's own record before it is written; a redirect's target
# for its 103, then its own record; ahead of the handler, the URL's.
EXPECTED = {
    "Linked": 7, "FurtherHopsLinked": 1,
    "SkippedOptOut": 1, "SkippedMethod": 1, "SkippedInsecure": 1,
    "SkippedPushDisabled": 5, "SkippedCredentials": 5, "SkippedNoLocation": 1,
    "SkippedBadLocation": 1, "SkippedCrossOrigin": 1, "SkippedSelf": 1,
    "SkippedExcluded": 1, "SkippedAlreadyLinked": 1, "SkippedInternalError": 0,
    "EarlyHintsAhead": 1, "EarlyHintsAtRedirect": 8, "EarlyHintsDeclared": 1,
    "EarlyHintsSkippedSentAhead": 1, "EarlyHintsSkippedNotHttp2": 1,
    "EarlyHintsSkippedHttp10": 1,
    "EarlyHintsSkippedPushedStream": 3, "EarlyHintsSkippedNotNavigation": 1,
    "EarlyHintsSkippedOptOut": 1, "EarlyHintsSkippedMethod": 1,
    "EarlyHintsSkippedInsecure": 0, "EarlyHintsSkippedNoLocation": 1,
    "EarlyHintsSkippedBadLocation": 1, "EarlyHintsSkippedCrossOrigin": 1,
    "EarlyHintsSkippedSelf": 1, "EarlyHintsSkippedExcluded": 1,
    "EarlyHintsSkippedNoHints": 3, "EarlyHintsSkippedInternalError": 0,
    "LearnedRedirects": 11, "LearnedPagesFromLink": 5, "LearnedPagesFromHTML": 1,
    "LearnedPagesWithoutHints": 0,
    "LookupsFound": 10, "LookupsMissed": 23, "LookupsUnanswered": 0,
    "WritesRefused": 0, "StoreFailures": 0, "StoreBackoffSeconds": 0,
}


def send_known_traffic(h):
    # Pages learned: four from their Link field, one from its HTML; the
    # page ahead of a slow handler is looked up ahead of it too.
    for i in range(4):
        h2(h, f"/learn/page-{i}.html")
    h2(h, "/learn/html.html")
    h2(h, "/ahead/page.html")
    # Pushed, with the 103 of the page each ends on.
    for path in ("/learn/old-0", "/learn/old-html"):
        assert early_hints_links(h2(h, path)) != [], path
    assert early_hints_links(h2(h, "/learn/old-1", "--no-push")) == [PAGE_CSS]
    assert early_hints_links(h2(h, "/learn/old-2", headers=[COOKIE])) == [PAGE_CSS]
    h2(h, "/learn/old-3", "--no-push", headers=["sec-fetch-mode: cors"])
    h2(h, "/learn/optout")
    h2(h, "/learn/old-0", data=b"x")
    for path in ("/learn/away", "/learn/self", "/learn/to-excluded", "/raw/noloc",
                 "/raw/badloc"):
        assert early_hints_links(h2(h, path)) == [], path
    assert early_hints_links(h2(h, "/learn/linked")) == [PAGE_CSS]
    assert early_hints_links(h2(h, "/learn/declared")) == [DECLARED]
    h2(h, "/learn/unknown")
    # A redirect to a redirect: the second is pushed, and decided on as a
    # pushed stream; then one more hop in front, linked too.
    h2(h, "/learn/c1")
    r = h2(h, "/learn/c0")
    assert len(r.main.headers("link")) == 2, r.describe()
    r = clients.curl(h.url("main", "/learn/old-0"), headers=[COOKIE])
    assert r.status == 302
    r = clients.curl(h.url("plain", "/learn/old-plain", scheme="http"))
    assert r.status == 302
    # PushRedirectEarlyHintsHTTP1: a 103 over HTTP/1.1, never over HTTP/1.0.
    r = clients.curl(h.url("main", "/learn/h1/old"), headers=[COOKIE])
    assert r.status == 302 and r.informational != [], r.describe()
    r = clients.curl(h.url("main", "/learn/h1/old"), headers=[COOKIE],
                     options=("--http1.0", "--no-alpn"))
    assert r.status == 302 and r.informational == [], r.describe()
    # Ahead of the handler: learned once, then a second navigation gets its
    # 103 before the backend answers (with a cookie: nothing to learn).
    assert early_hints_links(h2(h, "/ahead/old")) == [PAGE_CSS]
    assert early_hints_links(h2(h, "/ahead/old", headers=[COOKIE])) == [PAGE_CSS]


def test_server_status_counts_known_traffic_over_every_child(site):
    h = site
    assert len(load.child_pids(h.proc.pid)) >= CHILDREN
    assert set(counters(h).values()) == {0}, "nothing counted before the traffic"
    send_known_traffic(h)
    time.sleep(0.3)  # the pushed streams' decisions
    got = counters(h)
    assert got == {f"PushRedirect{k}": v for k, v in EXPECTED.items()}, got
    pids = {line.split("pid ")[1].split(":")[0] for line in h.read_error_log().splitlines()
            if "[push_redirect:trace1]" in line and "pid " in line}
    assert len(pids) >= 2, f"all the traffic went to one child: {pids}"

    # A flood of distinct query URLs over one connection (one child): the
    # write budget lets 16 of them through at once, then 2 a second, and
    # refuses the rest; each let through looks up its own record and its
    # path's, one refused is not looked up (docs/behaviour.md, "Bounded
    # writes"), but for the few that find the last write taken by another
    # stream between the budget's check and its write.
    urls = [h.url("main", f"/raw/q?n={i}") for i in range(FLOOD)]
    started = time.monotonic()
    p = subprocess.run([env.NGHTTP, "-n", *urls], capture_output=True, timeout=60)
    took = time.monotonic() - started
    assert p.returncode == 0, p.stderr
    flood = {k: v - got[k] for k, v in counters(h).items()}
    learned, refused = flood["PushRedirectLearnedPagesFromLink"], flood["PushRedirectWritesRefused"]
    assert learned + refused == FLOOD, flood
    assert 16 <= learned <= 16 + 2 * (took + 1), (learned, took)
    print(f"flood of {FLOOD} query URLs in {took:.2f} s: {learned} written, {refused} refused")
    looked_up, odd = divmod(flood["PushRedirectLookupsMissed"], 2)
    print(f"{looked_up} looked up")
    assert odd == 0 and learned <= looked_up <= learned + 4, (looked_up, flood)
    assert {v for k, v in flood.items()
            if k not in ("PushRedirectLearnedPagesFromLink", "PushRedirectWritesRefused",
                         "PushRedirectLookupsMissed")} == {0}, flood

    # A graceful restart keeps them (its old children finish and go); a
    # restart that is not graceful zeroes them, as mod_status's own.
    counted = counters(h)
    restart(h, __import__("signal").SIGUSR1)
    wait_children(h)
    assert counters(h) == counted
    restart(h, __import__("signal").SIGHUP)
    wait_children(h)
    assert set(counters(h).values()) == {0}


def test_server_status_html_and_the_stores_own_status(site):
    h = site
    r = clients.curl(h.url("main", "/server-status"))
    assert r.status == 200
    page = r.body.decode()
    assert "<h2>mod_push_redirect</h2>" in page
    assert re.search(r"<tr><td>redirects linked for push</td><td>\d+</td></tr>", page)
    assert "Redirects not linked, by reason" in page and "<td>cross-origin</td>" in page
    # Below them, the store's provider, as mod_cache_socache prints it.
    assert "<h3>PushRedirectEarlyHintsCache shmcb</h3>" in page
    assert "cache type: <b>SHMCB</b>" in page
    lines = clients.curl(h.url("main", "/server-status?auto")).body.decode().splitlines()
    at = lines.index("PushRedirectStoreStatus")
    assert lines[at + 1] == "CacheType: SHMCB", lines[at:]


def info(h, url, fmt="json", path="/push-redirect-info", method=None):
    query = f"forget={quote(url, safe='')}" if method == "POST" else f"url={quote(url, safe='')}"
    if fmt:
        query += f"&format={fmt}"
    options = ("--http1.1", "-X", method) if method else ("--http1.1",)
    return clients.curl(h.url("main", f"{path}?{query}"), options=options)


def test_info_shows_the_record_chain_and_103_of_a_learned_redirect(site):
    h = site
    h2(h, "/learn/page-2.html")
    h2(h, "/learn/old-2", "--no-push")
    before = counters(h)
    r = info(h, "/learn/old-2?from=x")
    assert r.status == 200 and r.header("content-type") == "application/json", r.describe()
    assert r.header("cache-control") == "no-store"
    got = json.loads(r.body)
    assert got == {
        "url": "/learn/old-2?from=x", "forgotten": None, "store": "ok",
        "record": {"of": "/learn/old-2", "kind": "redirect",
                   "redirect_to": "/learn/page-2.html", "hints": []},
        "chain": {"hops": ["/learn/page-2.html"], "end": "page"},
        "early_hints": {"when": "at-redirect", "for": "/learn/page-2.html",
                        "link": PAGE_CSS, "hints": 1, "declared": 0},
        "no_early_hints": None,
    }, got
    page = info(h, "/learn/old-2", fmt=None)
    assert page.header("content-type") == "text/html; charset=utf-8"
    html = page.body.decode()
    assert "a redirect to <code>/learn/page-2.html</code>" in html
    assert "<li><code>/learn/page-2.html</code></li>" in html
    assert ("Sent at the redirect, for the page <code>/learn/page-2.html</code>: 1 hint, "
            "0 of them declared.") in html
    assert "&lt;/s/page.css&gt;; rel=preload; as=style" in html
    # The page itself: its hints; a page gets a 103 only ahead.
    got = json.loads(info(h, "/learn/page-2.html").body)
    assert got["record"]["hints"] == [PAGE_CSS] and got["chain"] is None
    assert got["no_early_hints"] == "not-redirect"
    assert counters(h) == before, "the handler's lookups are not counted"


def test_info_shows_nothing_for_an_unknown_url_and_why_no_103(site):
    got = json.loads(info(site, "/learn/nobody-asked").body)
    assert (got["record"], got["chain"], got["early_hints"]) == (None, None, None)
    assert got["no_early_hints"] == "not-learned"
    got = json.loads(info(site, "/elsewhere").body)
    assert got["no_early_hints"] == "off"
    html = info(site, "/learn/nobody-asked", fmt=None).body.decode()
    assert "Nothing is learned for <code>/learn/nobody-asked</code>." in html
    assert "None: <code>not-learned</code>" in html


def test_info_forgets_a_url_on_post_only(site):
    h = site
    h2(h, "/learn/page-3.html")
    assert json.loads(info(h, "/learn/page-3.html").body)["record"] is not None
    r = clients.curl(h.url("main", "/push-redirect-info?forget=/learn/page-3.html"))
    assert r.status == 405 and "POST" in r.header("allow").split(","), r.describe()
    r = info(h, "/learn/page-3.html", method="POST")
    assert r.status == 200, r.describe()
    got = json.loads(r.body)
    assert (got["forgotten"], got["record"]) == ("removed", None), got
    got = json.loads(info(h, "/learn/page-3.html", method="POST").body)
    assert got["forgotten"] == "not-stored"


@pytest.mark.expect_log(r"AH01630: client denied by server configuration: .*/denied-info")
def test_info_answers_403_where_its_require_says_so(site):
    r = info(site, "/learn/old-2", path="/denied-info")
    assert r.status == 403
    r = info(site, "/learn/old-2", path="/denied-info", method="POST")
    assert r.status == 403


def test_info_escapes_a_hostile_url(site):
    hostile = '/learn/<script>alert("x")</script>?a=<b>&c=\u00e9'
    r = info(site, hostile, fmt=None)
    assert r.status == 200
    html = r.body.decode()
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    got = json.loads(info(site, hostile).body)
    assert got["url"] == hostile
    raw = info(site, hostile).body.decode()
    assert "<" not in raw and ">" not in raw, raw
    # Not a path, a NUL, a bad escape: refused.
    for bad in ("url=learn/x", "url=%00", "url=%zz", "format=json"):
        r = clients.curl(site.url("main", f"/push-redirect-info?{bad}"))
        assert r.status == 400, bad


# ------------------------------------------------- a store that hangs

def test_a_hung_store_counts_its_failures_and_time_backed_off(httpd_factory, module_so):
    with HungListener() as hung:
        cache = f"redis:127.0.0.1:{hung.port}"
        h = httpd_factory("operating-hung", module=module_so)
        four_children(h)
        h.add_global(f"{LOAD_REDIS}\nPushRedirectEarlyHintsCache {cache}\n")
        hinted_site(h, pages=1)
        h.add_vhost("admin", ADMIN, tls=False)
        h.start()
        wait_children(h)
        started = time.monotonic()
        for i in range(12):
            h2(h, f"/hinted/burst-{i}", "--no-push")
            time.sleep(0.05)
        time.sleep(0.3)
        # Each child that used the store found it hung, once; the status
        # page asks the store threads first, which can find it so too.
        got = {k: int(v) for k, v in auto(h, "admin", "http").items() if v.isdigit()}
        warnings = [line for line in h.read_error_log().splitlines() if "PR0112" in line]
        assert 1 <= got["PushRedirectStoreFailures"] == len(warnings) <= CHILDREN, warnings
        assert got["PushRedirectLookupsUnanswered"] >= 1, got
        assert got["PushRedirectLookupsFound"] == 0, got
        elapsed = time.monotonic() - started
        assert got["PushRedirectStoreBackoffSeconds"] <= len(warnings) * (elapsed + 1), got
        time.sleep(1.2)
        later = {k: int(v) for k, v in auto(h, "admin", "http").items() if v.isdigit()}
        assert later["PushRedirectStoreBackoffSeconds"] >= 1, later
        print(f"hung store: {len(warnings)} children backed off, "
              f"{got['PushRedirectLookupsUnanswered']} lookups unanswered, "
              f"{later['PushRedirectStoreBackoffSeconds']} s backed off")
        page = clients.curl(h.url("admin", "/server-status", scheme="http")).body.decode()
        assert "Not asked: " in page
        h.stop()
        assert bad_lines(h.read_error_log(), (r"PR0112", r"AH0347[89]")) == []
