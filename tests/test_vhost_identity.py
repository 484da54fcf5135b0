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


def test_virtual_hosts_without_a_directive_of_the_module_learn_apart(httpd_factory, module_so):
    """The module switched on for the whole server, and not one of its
    directives in either virtual host: each still keys by its own names (a
    virtual host without a directive of a module shares the main server's
    configuration of it, which must not carry one identity for all)."""
    h = httpd_factory("vhost-identity-inherited", module=module_so)
    h.write("htdocs/page.html", "page\n")
    h.add_global("H2EarlyHints on\nPushRedirectEarlyHints On\nMaxRequestWorkers 25\n"
                 "MinSpareThreads 1\nMaxSpareThreads 26\n")
    for alias, css in (("tenant-a.example", "/a.css"), ("tenant-b.example", "/b.css")):
        h.add_vhost("main", f"""    ServerAlias {alias}
    Redirect /old /page.html
    <If "%{{HTTP_HOST}} == '{alias}' && %{{REQUEST_URI}} == '/page.html'">
        Header add Link "<{css}>; rel=preload; as=style"
    </If>
""")
    h.start()
    taught = navigate(h, "/page.html", "tenant-a.example")
    assert taught.main.header("link") == A_CSS, taught.describe()
    assert early_hints_links(navigate(h, "/old", "tenant-b.example")) == []
    assert early_hints_links(navigate(h, "/old", "tenant-a.example")) == [A_CSS]
