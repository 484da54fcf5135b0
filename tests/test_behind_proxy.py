"""Behind a proxy (docs/behind-a-proxy.md): Debian's HAProxy in front of a real
Apache, ending TLS with `alpn h2,http/1.1` and speaking HTTP/1.1 to it, both
configured as that page says (harness/haproxy.py reads its blocks).

Through HAProxy, with PushRedirectEarlyHintsHTTP1 On: a learned redirect and a
learned page (ahead of a backend that thinks) each get one 103 with the
expected `link`, seen by nghttp over HTTP/2; headless Chromium, through the
latency proxy and HAProxy, takes the stylesheet from it. With the directive
off, or for a request that is not a navigation, none. An HTTP/1.0 request
straight to Apache never gets one.

The scheme behind a proxy that ends TLS, each signal on its own (curl over
HTTP/1.1 straight to Apache, as the proxy would ask): mod_remoteip with a list
that names the peer, plus its X-Forwarded-Proto; `ServerName https://` (with
UseCanonicalName On and Off); and what must never count: the field from a
peer no list names, from mod_remoteip without a list, or with the PROXY
protocol on anywhere.
"""

import re

import pytest

from harness import browser, clients, env, frame_times
from harness.early_hints_site import PAGES
from harness.haproxy import HAProxy, doc_blocks, replace_once, version
from harness.slowbackend import page_html
from test_config import config_test
from test_early_hints import early_hints_entry, early_hints_links

PAGE, STYLESHEET, CSS = PAGES["large"]
STYLE = f"<{STYLESHEET}>; rel=preload; as=style"
SCRIPT = "</s/app.js>; rel=preload; as=script"
THINK = 0.3       # seconds the backend thinks before answering
LEAD = 0.75       # the 103 comes at least this share of THINK before the response
RTT_MS = 100

# The module's own log of each 103 decision; `ip` is the client address after
# mod_remoteip, `peer` the connection's.
EARLY_HINTS_LOG = ('CustomLog "{logs}/early-hints.log" "ua=%{{User-Agent}}i\\tip=%a'
                   '\\tpeer=%{{c}}a\\teh=%{{PUSH_REDIRECT_EARLY_HINTS}}e'
                   '\\tskip=%{{PUSH_REDIRECT_EARLY_HINTS_SKIPPED}}e"')
REMOTEIP = f'LoadModule remoteip_module "{env.APACHE_MODULES}/mod_remoteip.so"'


def apache_from_docs(port: int, public: str, site: str) -> str:
    """docs/behind-a-proxy.md's virtual host on 127.0.0.1:`port`, for browsers
    at `public` (host:port), with `site` in place of its placeholder line."""
    text = doc_blocks()["apache"]
    text = replace_once(text, "127.0.0.1:8080", f"127.0.0.1:{port}")
    text = replace_once(text, "www.example.com:443", public)
    return replace_once(text, "    # ... the site itself: DocumentRoot, ProxyPass, Redirect ...\n",
                        site)


@pytest.fixture(scope="module")
def site(httpd_factory, module_so, workdir, cert, slow):
    """Apache as the page configures it, HAProxy from the page in front."""
    h = httpd_factory("behind-proxy", module=module_so)
    h.write(f"htdocs{PAGE}", page_html("new", STYLESHEET).decode())
    h.write(f"htdocs{STYLESHEET}", CSS)
    port = h.port("apache")
    proxy = HAProxy(h.root / "haproxy", cert[0], cert[1], port)
    h.add_global(REMOTEIP + "\n" + EARLY_HINTS_LOG.format(logs=h.logs) + "\n")
    h.add_global(apache_from_docs(port, f"localhost:{proxy.port}", f"""
    Redirect /old {PAGE}
    Redirect /off/old {PAGE}
    <Location /off/>
        PushRedirectEarlyHintsHTTP1 Off
    </Location>
    ProxyPass /app/ http://127.0.0.1:{slow.port}/app/
    <Location /static/>
        Header set Cache-Control "max-age=3600"
    </Location>
"""))
    h.start()
    with proxy:
        yield h, proxy
    assert not re.search(r"\[(WARNING|ALERT)\]", proxy.log()), proxy.log()


def through(proxy, path, **kw):
    return clients.nghttp(f"https://localhost:{proxy.port}{path}", bodies=False, **kw)


def one_103(r) -> str:
    """The `link` of the request's one 103 (before its final response)."""
    links = early_hints_links(r)
    assert len(links) == 1, r.describe()
    return links[0]


def test_haproxy_speaks_h2_to_the_client_and_http1_1_to_apache(site):
    h, proxy = site
    r = through(proxy, PAGE)
    assert r.protocol == "h2", r.describe()
    assert r.main.status == 200, r.describe()
    print(f"HAProxy {version()}")


def test_a_learned_redirect_gets_its_one_103_through_haproxy(site):
    h, proxy = site
    assert through(proxy, PAGE).main.status == 200       # teaches the page's hints
    r = through(proxy, "/old")
    assert r.main.status == 302, r.describe()
    assert r.main.header("location") == f"https://localhost:{proxy.port}{PAGE}"
    assert one_103(r) == STYLE
    entry = early_hints_entry(h, r.ua)
    assert entry["eh"] == PAGE, entry
    assert entry["ip"] == entry["peer"] == "127.0.0.1", entry


def test_a_learned_page_gets_its_one_103_ahead_through_haproxy(site, slow):
    h, proxy = site
    slow.page("/app/page", links=[STYLE, SCRIPT], think=THINK)
    assert through(proxy, "/app/page").main.status == 200
    r = through(proxy, "/app/page")
    assert r.main.status == 200, r.describe()
    assert one_103(r) == f"{STYLE}, {SCRIPT}"
    lead = frame_times.lead(r)
    assert lead >= LEAD * THINK, f"the 103 came {lead:.3f} s before the 200:\n" + r.describe()
    assert early_hints_entry(h, r.ua)["eh"] == "/app/page"


def test_with_the_directive_off_none_comes_through(site):
    h, proxy = site
    assert through(proxy, PAGE).main.status == 200
    r = through(proxy, "/off/old")
    assert r.main.status == 302 and r.main.informational == [], r.describe()
    assert early_hints_entry(h, r.ua)["skip"] == "not-http2"


def test_only_navigations_get_one_through_haproxy(site):
    h, proxy = site
    assert through(proxy, PAGE).main.status == 200
    r = through(proxy, "/old", headers=["sec-fetch-mode: cors", "sec-fetch-dest: empty"])
    assert r.main.status == 302 and r.main.informational == [], r.describe()
    assert early_hints_entry(h, r.ua)["skip"] == "not-navigation"
    r = through(proxy, "/old", headers=["sec-fetch-mode: navigate", "sec-fetch-dest: document"])
    assert one_103(r) == STYLE


def test_http1_1_straight_to_apache_gets_it_and_http1_0_never(site):
    h, proxy = site
    assert through(proxy, PAGE).main.status == 200
    url = f"http://localhost:{h.port('apache')}/old"
    r = clients.curl(url)
    assert r.status == 302 and r.version == "HTTP/1.1", r.describe()
    assert r.raw_headers.startswith("HTTP/1.1 103 Early Hints\r\n"), r.describe()
    assert [dict(block)["Link"] for block in r.informational] == [STYLE], r.describe()
    r = clients.curl(url, options=("--http1.0",))
    assert r.status == 302, r.describe()
    assert r.informational == [] and "103" not in r.raw_headers, r.describe()
    assert early_hints_entry(h, r.ua)["skip"] == "http1.0"


def test_an_http1_0_client_of_haproxy_gets_none(site):
    # HAProxy passes an HTTP/1.0 client's request on as HTTP/1.0: Apache
    # sends no 103 to it.
    h, proxy = site
    assert through(proxy, PAGE).main.status == 200
    r = clients.curl(f"https://localhost:{proxy.port}/old", options=("--http1.0",))
    assert r.status == 302, r.describe()
    assert r.informational == [] and "103" not in r.raw_headers, r.describe()
    assert early_hints_entry(h, r.ua)["skip"] == "http1.0"


def test_chromium_takes_the_stylesheet_from_the_103_through_haproxy(site, cert):
    h, proxy = site
    assert through(proxy, PAGE).main.status == 200
    latency = browser.LatencyProxy(proxy.port, RTT_MS)
    try:
        driver = browser.Chromedriver()
        try:
            # As in test_early_hints_browser.py: three fresh browsers that all
            # ignore the 103 (a loaded machine) fail it.
            seen = []
            for _ in range(3):
                with driver.session(cert[0]) as page:
                    page.navigate(f"https://127.0.0.1:{latency.port}/old")
                    report = page.page_report()
                assert report["url"].endswith(PAGE) and report["redirectCount"] == 1, report
                entries = [e for e in report["resources"] if e["name"].endswith(STYLESHEET)]
                assert len(entries) == 1, report
                seen.append(entries[0]["initiatorType"])
                if seen[-1] == "early-hints":
                    break
            assert seen[-1] == "early-hints", seen
        finally:
            driver.stop()
    finally:
        latency.stop()


# -------------------------------------------------------------- the directive

@pytest.mark.parametrize("value,named", [
    ("maybe", "'maybe' is not On or Off"),
    ("1", "'1' is not On or Off"),
    ("x" * 200, f"'{'x' * 120}...' (200 bytes) is not On or Off"),
], ids=["maybe", "1", "200-bytes"])
def test_a_bad_value_fails_the_config_test_naming_the_directive_and_value(
        workdir, module_so, value, named):
    code, out = config_test(workdir, module_so, f"PushRedirectEarlyHintsHTTP1 {value}")
    assert code != 0, out
    assert f"PushRedirectEarlyHintsHTTP1: {named}" in out, out


def test_a_missing_value_fails_the_config_test(workdir, module_so):
    code, out = config_test(workdir, module_so, "PushRedirectEarlyHintsHTTP1")
    assert code != 0 and "PushRedirectEarlyHintsHTTP1 takes one argument" in out, out


def test_no_h2_early_hints_warning_where_the_103_goes_out_over_http1(
        httpd_factory, module_so):
    h = httpd_factory("http1-no-warning", module=module_so)
    h.add_vhost("plain", """
    PushRedirectEarlyHints On
    PushRedirectEarlyHintsHTTP1 On
""", tls=False, protocols="http/1.1")
    h.add_vhost("h2", "    PushRedirectEarlyHints On\n")
    h.start(expected_log=[r"PR0004: .*\(.*:\d+\), where H2EarlyHints is not on"])
    warnings = re.findall(r"PR0004: .*", h.read_error_log())
    assert len(warnings) == 1 and f":{h.port('h2')}>" in warnings[0], warnings


# ------------------------------------------------------------------ the scheme

TARGET = "/app/target"


@pytest.fixture(scope="module")
def schemes(httpd_factory, module_so, slow):
    """Plain-HTTP virtual hosts, each with one of the signals (or none), all
    sending the 103 over HTTP/1.1 before /app/old's relative redirect."""
    slow.redirect("/app/old", TARGET)
    h = httpd_factory("proxy-schemes", module=module_so)
    h.add_global(REMOTEIP + "\n" + EARLY_HINTS_LOG.format(logs=h.logs) + "\n")
    common = f"""
    PushRedirectEarlyHints On
    PushRedirectEarlyHintsHTTP1 On
    PushRedirectEarlyHint {TARGET} "{STYLE}"
    ProxyPass /app/ http://127.0.0.1:{slow.port}/app/
"""
    for name, lines in [
        ("internal", "RemoteIPHeader X-Forwarded-For\n    RemoteIPInternalProxy 127.0.0.1"),
        ("trusted", "RemoteIPHeader X-Forwarded-For\n    RemoteIPTrustedProxy 127.0.0.0/8"),
        # mod_remoteip takes a public address from every peer.
        ("no-list", "RemoteIPHeader X-Forwarded-For"),
        ("elsewhere", "RemoteIPHeader X-Forwarded-For\n    RemoteIPInternalProxy 10.9.8.7"),
        ("canonical-on", "UseCanonicalName On"),
        ("canonical-off", "UseCanonicalName Off"),
        ("none", ""),
    ]:
        if name.startswith("canonical"):
            lines = f"ServerName https://localhost:{h.port(name)}\n    {lines}"
        h.add_vhost(name, f"    {lines}\n{common}", tls=False, protocols="http/1.1")
    h.start()
    return h


def ask(h, vhost: str, *fields: str, path: str = "/app/old"):
    """curl over HTTP/1.1 to the virtual host, as a proxy on 127.0.0.1 would ask."""
    return clients.curl(h.url(vhost, path, scheme="http"), headers=fields)


def assert_hinted(h, r):
    assert r.status == 302, r.describe()
    assert [dict(block)["Link"] for block in r.informational] == [STYLE], r.describe()
    assert early_hints_entry(h, r.ua)["eh"] == TARGET


def assert_insecure(h, r):
    assert r.status == 302 and r.informational == [], r.describe()
    assert early_hints_entry(h, r.ua)["skip"] == "insecure"


PUBLIC = "X-Forwarded-For: 203.0.113.9"
HTTPS = "X-Forwarded-Proto: https"


@pytest.mark.parametrize("vhost", ["internal", "trusted"])
def test_a_listed_proxys_forwarded_proto_makes_the_request_https(schemes, vhost):
    r = ask(schemes, vhost, PUBLIC, HTTPS)
    assert_hinted(schemes, r)
    entry = early_hints_entry(schemes, r.ua)
    assert entry["ip"] == "203.0.113.9" and entry["peer"] == "127.0.0.1", entry
    # Any case, with white space.
    assert_hinted(schemes, ask(schemes, vhost, PUBLIC, "x-forwarded-proto:  HTTPS "))


@pytest.mark.parametrize("fields", [
    (HTTPS,),                                         # mod_remoteip replaced nothing
    (PUBLIC,),                                        # the proxy did not say
    (PUBLIC, "X-Forwarded-Proto: http"),
    (PUBLIC, "X-Forwarded-Proto: https, https"),      # a list is no one proxy's word
    (PUBLIC, HTTPS, "X-Forwarded-Proto: http"),       # two fields, joined
], ids=["no-address", "no-proto", "http", "list", "twice"])
def test_a_listed_proxy_without_one_https_leaves_it_http(schemes, fields):
    assert_insecure(schemes, ask(schemes, "internal", *fields))


def test_the_field_from_a_peer_no_list_names_never_counts(schemes):
    # mod_remoteip without a list replaces the address, from any client...
    r = ask(schemes, "no-list", PUBLIC, HTTPS)
    assert_insecure(schemes, r)
    assert early_hints_entry(schemes, r.ua)["ip"] == "203.0.113.9"
    # ...and with a list that does not name this peer it replaces nothing.
    r = ask(schemes, "elsewhere", PUBLIC, HTTPS)
    assert_insecure(schemes, r)
    assert early_hints_entry(schemes, r.ua)["ip"] == "127.0.0.1"
    assert_insecure(schemes, ask(schemes, "none", PUBLIC, HTTPS))


@pytest.mark.parametrize("vhost", ["canonical-on", "canonical-off"])
def test_servername_https_makes_every_request_https(schemes, vhost):
    assert_hinted(schemes, ask(schemes, vhost))


def test_the_scheme_is_that_of_the_url_the_client_asked_for(schemes, slow):
    # An application behind the proxy writes its own https URL: the same
    # origin as what the browser asked for, once the proxy says https.
    port = schemes.port("internal")
    for scheme in ("https", "http"):
        slow.redirect(f"/app/abs-{scheme}", f"{scheme}://localhost:{port}{TARGET}")
    assert_hinted(schemes, ask(schemes, "internal", PUBLIC, HTTPS, path="/app/abs-https"))
    r = ask(schemes, "internal", PUBLIC, HTTPS, path="/app/abs-http")
    assert r.status == 302 and r.informational == [], r.describe()
    assert early_hints_entry(schemes, r.ua)["skip"] == "cross-origin"


def test_the_proxy_protocol_anywhere_leaves_no_proxy_trusted(httpd_factory, module_so, slow):
    slow.redirect("/app/old", TARGET)
    h = httpd_factory("proxy-protocol", module=module_so)
    h.add_global(REMOTEIP + "\n" + EARLY_HINTS_LOG.format(logs=h.logs) + "\n")
    common = f"""
    RemoteIPHeader X-Forwarded-For
    RemoteIPInternalProxy 127.0.0.1
    PushRedirectEarlyHints On
    PushRedirectEarlyHintsHTTP1 On
    PushRedirectEarlyHint {TARGET} "{STYLE}"
    ProxyPass /app/ http://127.0.0.1:{slow.port}/app/
"""
    h.add_vhost("internal", common, tls=False, protocols="http/1.1")
    h.add_vhost("proxy-protocol", "    RemoteIPProxyProtocol On\n" + common, tls=False,
                protocols="http/1.1")
    h.start()
    assert_insecure(h, ask(h, "internal", PUBLIC, HTTPS))
    # The PROXY protocol's own port: the address comes from the PROXY line.
    r = clients.curl(h.url("proxy-protocol", "/app/old", scheme="http"),
                     headers=[HTTPS], options=("--http1.1", "--haproxy-protocol"))
    assert_insecure(h, r)
