"""A virtual host's records are its own: two name-based virtual hosts that
share a ServerName and are told apart only by ServerAlias learn apart (one
tenant's preloads never reach the other's visitors), and two that even
name-based selection cannot tell apart are named by a start-up warning.
"""

import pytest

from harness import clients
from test_early_hints import early_hints_links

A_CSS = "</a.css>; rel=preload; as=style"


def tenant(alias: str, link: str) -> str:
    return f"""    ServerAlias {alias}
    PushRedirectEarlyHints On
    Redirect /old /page.html
    <Location /page.html>
        Header add Link "{link}"
    </Location>
"""


@pytest.fixture(scope="module")
def httpd(httpd_factory, module_so):
    h = httpd_factory("vhost-identity", module=module_so)
    h.write("htdocs/page.html", "page\n")
    h.add_global("H2EarlyHints on\nMaxRequestWorkers 25\nMinSpareThreads 1\n"
                 "MaxSpareThreads 26\n")
    # Both are ServerName localhost (the harness's), on the same address.
    h.add_vhost("main", tenant("tenant-a.example", A_CSS))
    h.add_vhost("main", tenant("tenant-b.example", "</b.css>; rel=preload; as=style"))
    h.start()
    return h


def navigate(h, path: str, authority: str):
    return clients.nghttp(h.url("main", path), bodies=False, options=["--no-push"],
                          headers=[f":authority: {authority}", "sec-fetch-mode: navigate",
                                   "sec-fetch-dest: document"])


def test_a_tenant_never_gets_what_another_taught(httpd):
    taught = navigate(httpd, "/page.html", "tenant-a.example")
    assert taught.main.status == 200, taught.describe()
    assert taught.main.header("link") == A_CSS, taught.describe()

    other = navigate(httpd, "/old", "tenant-b.example")
    assert other.main.status == 302, other.describe()
    assert early_hints_links(other) == []

    own = navigate(httpd, "/old", "tenant-a.example")
    assert own.main.status == 302, own.describe()
    assert early_hints_links(own) == [A_CSS]


def test_a_tenant_learns_its_own(httpd):
    taught = navigate(httpd, "/page.html", "tenant-b.example")
    assert taught.main.status == 200, taught.describe()
    r = navigate(httpd, "/old", "tenant-b.example")
    assert early_hints_links(r) == ["</b.css>; rel=preload; as=style"]
    r = navigate(httpd, "/old", "tenant-a.example")
    assert early_hints_links(r) == [A_CSS]


def test_two_virtual_hosts_selection_cannot_tell_apart_are_warned_of(httpd_factory,
                                                                     module_so):
    h = httpd_factory("vhost-twins", module=module_so)
    h.add_global("H2EarlyHints on\n")
    h.add_vhost("main", "    PushRedirectEarlyHints On\n")
    h.add_vhost("main", "    PushRedirectEarlyHints On\n")
    h.start(expected_log=[r"PR0121: the virtual hosts of .*:\d+ and .*:\d+ have the same "
                          r"names and addresses \(localhost @"])
    warned = [line for line in h.read_error_log().splitlines() if "PR0121" in line]
    assert len(warned) == 1, warned
