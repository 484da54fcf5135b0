"""Early Hints across redirects (PushRedirectEarlyHints), through a real Apache
with mod_http2, seen by nghttp and curl: the 103 arrives on the redirect's stream
before the 302, with the declared and the learned hints, re-serialised; nothing
over HTTP/1.1, for cross-origin, excluded or opted-out redirects, or without
hints; the learned cache's bounds and expiry; hostile learned values dropped;
configuration errors; the startup warning when H2EarlyHints is off.
"""

import re
import time

import pytest

from harness import clients
from harness.httpd import parse_access_line
from test_config import config_test

# PushRedirectEarlyHintsLifetime for this module's Apache: short, so that the
# expiry can be seen.
CACHE_SECONDS = 3

D_CSS = "</static/d.css>; rel=preload; as=style"
PRECONNECT = "<https://cdn.example>; rel=preconnect"
L_CSS = "</static/l.css>; rel=preload; as=style"
L_JS = "</static/l.js>; rel=preload; as=script"


@pytest.fixture(scope="module")
def httpd(httpd_factory, module_so):
    h = httpd_factory("early-hints", module=module_so)
    for page in ("declared/new.html", "learned/new.html", "excluded/new.html",
                 "hostile/new.html", "both/new.html", "static/d.css"):
        h.write(f"htdocs/{page}", f"{page}\n")
    for i in range(1, 5):
        h.write(f"htdocs/bound/p{i}.html", f"p{i}\n")
    h.write("htdocs/expiry/new.html", "expiry\n")
    h.add_global(f"""
H2EarlyHints on
PushRedirectEarlyHintsLifetime {CACHE_SECONDS}
# One child, so that every request sees the same learned cache.
MaxRequestWorkers 25
MinSpareThreads 1
MaxSpareThreads 26
CustomLog "{h.logs}/early-hints.log" "pid=%P\tua=%{{User-Agent}}i\\teh=%{{PUSH_REDIRECT_EARLY_HINTS}}e\\tskip=%{{PUSH_REDIRECT_EARLY_HINTS_SKIPPED}}e"
""")
    other = h.port("nohints")
    h.add_vhost("main", f"""
    PushRedirectEarlyHints On
    PushRedirectExclude ^/excluded/
    PushRedirectEarlyHint /declared/new.html "</static/d.css>; rel=preload; as=style"
    PushRedirectEarlyHint /declared/new.html "<https://cdn.example/fonts>; rel=preconnect"
    PushRedirectEarlyHint /excluded/new.html "</static/d.css>; rel=preload; as=style"

    Redirect /declared/old /declared/new.html
    Redirect /excluded/old /excluded/new.html
    Redirect /nohints/old /static/d.css
    Redirect /cross/old https://localhost:{other}/declared/new.html
    Redirect /optout/old /declared/new.html
    <Location /optout/>
        Header always set X-Push-Redirect off
    </Location>
    Redirect /post/old /declared/new.html

    Redirect /learned/old /learned/new.html
    <Location /learned/new.html>
        Header add Link "</static/l.css>; rel=preload; as=style"
        Header add Link "</static/l.js>; rel=preload; as=script, </favicon.ico>; rel=icon"
    </Location>

    Redirect /hostile/old /hostile/new.html
    <Location /hostile/new.html>
        Header add Link "<javascript:alert(1)>; rel=preload; as=script"
        Header add Link "<http://evil.example/x.js>; rel=preload; as=script"
        Header add Link '</static/ok.css>; rel=preload; as=style; title="a\\", <https://evil.example/t.js>; rel=preload; as=script"'
        Header add Link '</static/a b"<c>; rel=preload; as=image'
        Header add Link "<https://u:p@cdn.example/x.js>; rel=preload; as=script"
    </Location>

    RedirectMatch 302 ^/bound/old(\\d)$ /bound/p$1.html
    <LocationMatch ^/bound/p\\d\\.html$>
        Header add Link "</static/b.css>; rel=preload; as=style"
    </LocationMatch>
    Redirect /expiry/old /expiry/new.html
    <Location /expiry/new.html>
        Header add Link "</static/e.css>; rel=preload; as=style"
    </Location>

    # With push too: the push target gets its Link, and the 103 comes first.
    Redirect /both/old /declared/new.html
    <Location /both/>
        PushRedirect On
    </Location>
""")
    h.add_vhost("nohints", """
    Redirect /declared/old /declared/new.html
""")
    h.start()
    return h


def get(httpd, path, port="main", **kw):
    return clients.nghttp(httpd.url(port, path), bodies=False, **kw)


def early_hints_entry(httpd, ua: str) -> dict:
    log = httpd.logs / "early-hints.log"
    deadline = time.monotonic() + 5
    while True:
        lines = [parse_access_line(line) for line in log.read_text().splitlines()]
        entries = [e for e in lines if e.get("ua") == ua]
        if entries or time.monotonic() > deadline:
            assert len(entries) == 1, entries
            return entries[0]
        time.sleep(0.02)


def early_hints_links(r) -> list:
    """The Link values of the 103s on the main stream, after checking that they
    came before its final response, on the same stream."""
    main = r.main
    assert main.status is not None, r.describe()
    out = r.out.decode("latin-1")
    statuses = re.findall(rf"recv \(stream_id={main.id}\) :status: (\d+)", out)
    assert statuses[-1] == str(main.status), r.describe()
    assert all(s == "103" for s in statuses[:-1]), statuses
    assert len(main.informational) == len(statuses) - 1, r.describe()
    return [v for block in main.informational for n, v in block if n == "link"]


def assert_no_103(httpd, r, reason: str):
    assert r.main.informational == [], r.describe()
    assert early_hints_entry(httpd, r.ua)["skip"] == reason


def test_declared_hints_come_in_a_103_before_the_302(httpd):
    r = get(httpd, "/declared/old")
    assert r.main.status == 302, r.describe()
    assert early_hints_links(r) == [f"{D_CSS}, {PRECONNECT}"]
    assert r.main.header("link") is None, "PushRedirect is off: no push Link"
    assert r.pushes == [], "mod_http2 pushes nothing from the 103"
    assert early_hints_entry(httpd, r.ua)["eh"] == "/declared/new.html"


def test_learned_hints_come_after_a_200_taught_them(httpd):
    r = get(httpd, "/learned/old")
    assert_no_103(httpd, r, "no-hints")
    page = get(httpd, "/learned/new.html")
    assert page.main.status == 200
    r = get(httpd, "/learned/old")
    assert r.main.status == 302
    assert early_hints_links(r) == [f"{L_CSS}, {L_JS}"], "rel=icon is not a hint"


def test_with_push_the_103_comes_first_and_the_push_follows(httpd):
    r = get(httpd, "/both/old")
    assert early_hints_links(r) == [f"{D_CSS}, {PRECONNECT}"]
    assert r.main.headers("link") == ["</declared/new.html>; as=document; rel=preload"]
    assert [p.path for p in r.pushes] == ["/declared/new.html"], r.describe()


def test_http1_never_gets_a_103(httpd):
    r = clients.curl(httpd.url("main", "/declared/old"))
    assert r.status == 302, r.describe()
    assert "103" not in r.raw_headers, r.describe()
    assert early_hints_entry(httpd, r.ua)["skip"] == "not-http2"


@pytest.mark.parametrize("path,reason", [
    ("/cross/old", "cross-origin"),
    ("/excluded/old", "excluded"),
    ("/optout/old", "opt-out"),
    ("/nohints/old", "no-hints"),
])
def test_no_103(httpd, path, reason):
    r = get(httpd, path)
    assert r.main.status == 302, r.describe()
    assert_no_103(httpd, r, reason)
    assert r.main.headers("x-push-redirect") == []


def test_no_103_for_post(httpd):
    r = clients.nghttp(httpd.url("main", "/post/old"), data=b"x=1", bodies=False)
    assert r.main.status == 302
    assert_no_103(httpd, r, "method")


def test_a_scope_without_early_hints_sends_none(httpd):
    r = get(httpd, "/declared/old", port="nohints")
    assert r.main.status == 302
    assert r.main.informational == []


def test_hostile_learned_values_are_dropped(httpd):
    page = get(httpd, "/hostile/new.html")
    assert page.main.status == 200
    assert len(page.main.headers("link")) == 5, page.describe()
    r = get(httpd, "/hostile/old")
    links = early_hints_links(r)
    assert links == ["</static/ok.css>; rel=preload; as=style, "
                     "</static/a%20b%22%3Cc>; rel=preload; as=image"], links
    assert "evil" not in "".join(links)


def test_learned_hints_expire(httpd):
    assert get(httpd, "/expiry/new.html").main.status == 200
    assert early_hints_links(get(httpd, "/expiry/old")) != []
    time.sleep(CACHE_SECONDS + 1.1)
    assert_no_103(httpd, get(httpd, "/expiry/old"), "no-hints")
    assert get(httpd, "/expiry/new.html").main.status == 200
    assert early_hints_links(get(httpd, "/expiry/old")) != [], "learned again"


# ------------------------------------------------------------ configuration

BAD_CONFIG = [
    ('PushRedirectEarlyHints maybe', "'maybe' is not On or Off"),
    ('PushRedirectEarlyHint new "</a.css>; rel=preload; as=style"', "'new' is not a path"),
    ('PushRedirectEarlyHint /new "</a.css>; rel=stylesheet"',
     "'</a.css>; rel=stylesheet' is not a hint"),
    ('PushRedirectEarlyHint /new "<http://cdn.example/a.js>; rel=preload; as=script"',
     "'<http://cdn.example/a.js>; rel=preload; as=script' is not a hint"),
    ('PushRedirectEarlyHint /new', "takes two arguments"),
    ('PushRedirectEarlyHintsCache 1024 600', "PushRedirectEarlyHintsLifetime <seconds>"),
    ('PushRedirectEarlyHintsCache shm-cb', "takes one of none, shmcb"),
    ('PushRedirectEarlyHintsCache memcache:127.0.0.1:1',
     "LoadModule socache_memcache_module"),
    ('PushRedirectEarlyHintsLifetime 0', "'0' is not a lifetime in seconds"),
    *[(f'PushRedirectEarlyHintsLifetime "{value}"',
       f"'{value}' is not a lifetime in seconds (1 to 86400)")
      for value in ["86401", "-1", "+5", "1e3", " 60", "60s", "99999999999999999999"]],
    *[(f'PushRedirectEarlyHintsCache {value}', "takes one of none, shmcb")
      for value in ['""', "a b", "Redis:x", ":x", "mem cache:x"]],
    ('<VirtualHost 127.0.0.1:9>\nPushRedirectEarlyHintsCache none\n</VirtualHost>',
     "cannot occur within <VirtualHost> section"),
]


@pytest.mark.parametrize("snippet,message", BAD_CONFIG, ids=[b[0] for b in BAD_CONFIG])
def test_bad_config_fails_config_test(workdir, module_so, snippet, message):
    code, out = config_test(workdir, module_so, snippet)
    assert code != 0, out
    directive = snippet.split()[0] if not snippet.startswith("<") else "PushRedirectEarlyHintsCache"
    assert directive in out and message in out, out


@pytest.mark.parametrize("cache", [" none ", "NONE", "shmcb", "shmcb:/tmp/pr-test(2048000)"])
def test_cache_values_that_pass(workdir, module_so, cache):
    code, out = config_test(workdir, module_so, f"PushRedirectEarlyHintsCache {cache}\n"
                                                "PushRedirectEarlyHintsLifetime 86400")
    assert code == 0, out


def test_good_config_passes(workdir, module_so):
    code, out = config_test(workdir, module_so, """
PushRedirectEarlyHintsCache none
PushRedirectEarlyHintsLifetime 1
<Location /a>
    PushRedirectEarlyHints on
    PushRedirectEarlyHint /b "</s.css>; rel=preload; as=style; crossorigin"
    PushRedirectEarlyHint /b "<https://cdn.example/f.woff2>; rel=preload; as=font; type=font/woff2"
</Location>
""")
    assert code == 0, out


def test_a_virtual_host_whose_early_hints_are_on_in_a_section_only_learns_its_pages(
        httpd_factory, module_so):
    """The virtual host's lines of the module's are all inside sections: a
    push-only page outside the Early Hints one teaches all the same, and a
    redirect in it gets the page's hints (apachectl -t once crashed on this
    configuration)."""
    h = httpd_factory("early-hints-section-only", module=module_so)
    h.write("htdocs/page.html", "page\n")
    h.add_vhost("main", f"""
    H2EarlyHints on
    <Location /x/>
        PushRedirectEarlyHints On
    </Location>
    <Location /page.html>
        PushRedirect On
        Header add Link "{L_CSS}"
    </Location>
    Redirect /x/old /page.html
""")
    h.start()
    assert get(h, "/page.html").main.status == 200
    r = get(h, "/x/old")
    assert r.main.status == 302 and early_hints_links(r) == [L_CSS], r.describe()


def test_warns_at_startup_where_h2_early_hints_is_off(httpd_factory, module_so):
    h = httpd_factory("early-hints-noh2", module=module_so)
    h.write("htdocs/new.html", "new\n")
    h.add_vhost("main", """
    <Location /x>
        PushRedirectEarlyHints On
    </Location>
    PushRedirectEarlyHint /new.html "</s.css>; rel=preload; as=style"
    Redirect /x/old /new.html
""")
    h.add_vhost("on", """
    H2EarlyHints on
    PushRedirectEarlyHints On
""")
    warning = r"PR0004: PushRedirectEarlyHints On \(.*\) applies to <VirtualHost 127\.0\.0\.1:\d+>"
    h.start(expected_log=[warning])
    # What the warning is about: mod_http2 drops the 103.
    r = clients.nghttp(h.url("main", "/x/old"), bodies=False)
    assert r.main.status == 302 and r.main.informational == [], r.describe()
    # Apache listens before post_config runs; once a request was answered,
    # the startup check has logged what it will.
    warnings = [line for line in h.read_error_log().splitlines() if "PR0004" in line]
    assert len(warnings) == 1, warnings
    assert f":{h.port('main')}> (" in warnings[0], warnings
