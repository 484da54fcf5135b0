"""The opt-out holds across internal redirects: `no-push-redirect` set in any
request of the chain (Apache renames it REDIRECT_no-push-redirect in the next
one, and a SetEnvIf on the new URI no longer sets it) gives `opt-out` for the
push and for the 103 alike. Through a real Apache: a .htaccess front
controller and an ErrorDocument to a local page that redirects, each with a
control that is pushed (and gets its 103).
"""

import time

import pytest

from harness import clients
from harness.asserts import assert_pushed, assert_skipped
from harness.httpd import parse_access_line

LOGIN = "/login.html"
LOGIN_BODY = b"login\n"
STYLE = "</static/s.css>; rel=preload; as=style"
HTACCESS = """RewriteEngine On
RewriteBase /
RewriteRule ^checkout/ front.html [L]
RewriteRule ^shop/ front.html [L]
"""


@pytest.fixture(scope="module")
def httpd(httpd_factory, module_so, backend):
    h = httpd_factory("opt-out-chain", module=module_so)
    h.write(f"htdocs{LOGIN}", LOGIN_BODY.decode())
    h.write("htdocs/front.html", "front\n")
    h.write("htdocs/.htaccess", HTACCESS)
    h.add_global(f"""
H2EarlyHints on
CustomLog "{h.logs}/early-hints.log" "ua=%{{User-Agent}}i\\teh=%{{PUSH_REDIRECT_EARLY_HINTS}}e\\tskip=%{{PUSH_REDIRECT_EARLY_HINTS_SKIPPED}}e"
""")
    h.add_vhost("main", f"""
    H2Push on
    PushRedirect On
    PushRedirectEarlyHints On
    PushRedirectEarlyHint {LOGIN} "{STYLE}"
    PushRedirectEarlyHint /app/target/ "{STYLE}"

    <Directory "{h.docroot}">
        AllowOverride FileInfo
        Options FollowSymLinks
    </Directory>
    SetEnvIf Request_URI ^/checkout/ no-push-redirect
    Redirect 302 /front.html {LOGIN}

    SetEnvIf Request_URI ^/private/ no-push-redirect
    <LocationMatch "^/(private|public)/">
        ErrorDocument 404 /app/redirect/relative/
    </LocationMatch>
{backend.proxy_config()}
""")
    h.start()
    return h


def get(httpd, path):
    return clients.nghttp(httpd.url("main", path))


def early_hints_entry(httpd, ua: str) -> dict:
    log = httpd.logs / "early-hints.log"
    deadline = time.monotonic() + 5
    while True:
        # The pushed stream has the same user agent and neither variable.
        entries = [e for e in map(parse_access_line, log.read_text().splitlines())
                   if e.get("ua") == ua and (e["eh"], e["skip"]) != ("-", "-")]
        if entries or time.monotonic() > deadline:
            assert len(entries) == 1, entries
            return entries[0]
        time.sleep(0.02)


def assert_103(httpd, r, target: str):
    links = [v for block in r.main.informational for n, v in block if n == "link"]
    assert links == [STYLE], r.describe()
    assert early_hints_entry(httpd, r.ua)["eh"] == target


def assert_no_103(httpd, r):
    assert r.main.informational == [], r.describe()
    assert early_hints_entry(httpd, r.ua)["skip"] == "opt-out"


def test_front_controller_control_is_pushed(httpd):
    """/shop/ goes through the same .htaccess rewrite and Redirect, no opt-out."""
    r = get(httpd, "/shop/cart")
    assert r.main.header("location") == httpd.url("main", LOGIN)
    assert_pushed(httpd, r, LOGIN, LOGIN_BODY, status=302)
    assert_103(httpd, r, LOGIN)


def test_front_controller_keeps_the_opt_out_of_the_first_request(httpd):
    r = get(httpd, "/checkout/cart")
    assert r.main.header("location") == httpd.url("main", LOGIN), r.describe()
    assert_skipped(httpd, r, "opt-out", status=302, uri="/checkout/cart")
    assert_no_103(httpd, r)


def test_the_front_page_itself_is_pushed(httpd):
    r = get(httpd, "/front.html")
    assert_pushed(httpd, r, LOGIN, LOGIN_BODY, status=302)
    assert_103(httpd, r, LOGIN)


def test_error_document_control_is_pushed(httpd):
    """A 404 whose ErrorDocument is a local (proxied) page answering 302."""
    r = get(httpd, "/public/nothing")
    assert r.main.status == 302, r.describe()
    assert_pushed(httpd, r, "/app/target/", status=302)
    assert_103(httpd, r, "/app/target/")


def test_error_document_keeps_the_opt_out_of_the_failed_request(httpd):
    r = get(httpd, "/private/nothing")
    assert r.main.status == 302, r.describe()
    assert_skipped(httpd, r, "opt-out", status=302, uri="/private/nothing")
    assert_no_103(httpd, r)
