"""What the module reads of Apache's configuration tree at start-up, each case
through a real Apache.

The PR0004 warning (docs/directives.md, "PushRedirectEarlyHints"): where
`PushRedirectEarlyHints On` applies to a server, the main one or a
<VirtualHost>, whose H2EarlyHints is not on and which has no
`PushRedirectEarlyHintsHTTP1 On`. Its exact text and order (the main server
first, then the virtual hosts as written), the `FILE:LINE` of the On it names
(a server's first; the main server's before a virtual host's own), the label of
a <VirtualHost> with two addresses, inside <IfModule>, or in an Include'd file;
what a virtual host inherits from the main server wherever that is written; a
server's last H2EarlyHints; values as Apache reads them (quoted, any case) at
any depth of sections.

Which servers trust the proxy in front (docs/behind-a-proxy.md): one that a
mod_remoteip list applies to (its own or the main server's, in each of the
four forms, any case, inside <IfModule>, in an Include'd file) while
`RemoteIPProxyProtocol On` is nowhere (Off does not count). Seen as in
test_behind_proxy.py: a trusted proxy's X-Forwarded-Proto makes the request
https and a 103 goes out; otherwise the skip is `insecure`.

A <VirtualHost> inside another never reaches the module: apache2 -t refuses it.
"""

import re

from harness import clients
from test_behind_proxy import (EARLY_HINTS_LOG, HTTPS, PUBLIC, REMOTEIP, STYLE, TARGET,
                               ask, assert_hinted, assert_insecure)
from test_config import config_test


def vhost(h, name: str, body: str) -> str:
    """A plain-HTTP <VirtualHost> on port `name`, as text to write where the test
    puts it (`written()`: before or after the main server's lines)."""
    head = f"<VirtualHost {h.ip}:{h.port(name)}>"
    return f"{head}\n    ServerName localhost\n{body}\n</VirtualHost>\n"


def written(h, *parts):
    """Writes `parts` in this order where the main server's lines go: a text as
    it is, a (name, body) pair as vhost(h, name, body)."""
    h.add_global("\n".join(p if isinstance(p, str) else vhost(h, *p) for p in parts))


def line_of(path, text: str) -> int:
    """The number of the one line of the file at `path` that is `text`."""
    found = [n for n, line in enumerate(path.read_text().splitlines(), 1) if line == text]
    assert len(found) == 1, (text, found)
    return found[0]


def label(h, name: str, path=None) -> str:
    """How the warning names the virtual host on port `name`."""
    path = path or h.conf_path
    head = f"<VirtualHost {h.ip}:{h.port(name)}>"
    return f"{head} ({path}:{line_of(path, head)})"


def warning(on: str, server: str) -> str:
    return (f"PR0004: PushRedirectEarlyHints On ({on}) applies to {server}, where "
            "H2EarlyHints is not on: mod_http2 drops every 103, so no early hints reach "
            "clients; add `H2EarlyHints on`")


def own_warning(h, name: str, directive: str, path=None) -> str:
    """The warning for the virtual host on port `name` that names its own first
    line after its head that holds `directive`."""
    path = path or h.conf_path
    lines = path.read_text().splitlines()
    head = line_of(path, f"<VirtualHost {h.ip}:{h.port(name)}>")
    on = next(n for n in range(head + 1, len(lines) + 1) if directive in lines[n - 1])
    return warning(f"{path}:{on}", label(h, name, path))


def started_warnings(h, name: str) -> list:
    """Start `h`; the PR0004 lines it logged, in order."""
    h.start(expected_log=[r"PR0004: "])
    # Apache listens before post_config runs; once a request was answered,
    # the start-up check has logged what it will.
    clients.curl(h.url(name, "/", scheme="http"))
    return re.findall(r"PR0004: .*", h.read_error_log())


# ---------------------------------------------------------------- PR0004

def test_each_virtual_host_is_warned_about_by_what_it_says(httpd_factory, module_so):
    h = httpd_factory("conftree-vhosts", module=module_so)
    included = h.write("conf/included.conf", "# a file of its own\n" + vhost(
        h, "included", "    PushRedirectEarlyHints On"))
    two = f"{h.ip}:{h.port('two')} {h.ip}:{h.port('two-b')}"
    written(
        h, "<IfModule ssl_module>",
        ("in-ifmodule", "    PushRedirectEarlyHints On"),
        "</IfModule>",
        f"<VirtualHost {two}>\n    PushRedirectEarlyHints On\n</VirtualHost>",
        f'Include "{included}"',
        ("quoted", '    PushRedirectEarlyHints "on"'),
        ("any-case", "    pushredirectearlyhints 'oN'"),
        ("off", '    PushRedirectEarlyHints Off\n    PushRedirectEarlyHints "off"'),
        # The first On of the server is named.
        ("first-on", "    <Location /first/>\n        PushRedirectEarlyHints On\n"
                     "    </Location>\n    PushRedirectEarlyHints ON"),
        # A server's last H2EarlyHints is what it says.
        ("last-h2-off", "    H2EarlyHints on\n    H2EarlyHints off\n"
                        "    PushRedirectEarlyHints On"),
        ("last-h2-on", '    H2EarlyHints off\n    h2earlyhints "ON"\n'
                       "    PushRedirectEarlyHints On"),
        ("h2-in-ifmodule", "    <IfModule http2_module>\n        H2EarlyHints on\n"
                           "    </IfModule>\n    PushRedirectEarlyHints On"),
        # PushRedirectEarlyHintsHTTP1 On anywhere in the server.
        ("http1-in-location", "    <Location /app/>\n        PushRedirectEarlyHints On\n"
                              "        PushRedirectEarlyHintsHTTP1 'on'\n    </Location>"),
        ("http1-off", "    PushRedirectEarlyHints On\n    PushRedirectEarlyHintsHTTP1 Off"),
    )
    found = started_warnings(h, "quoted")
    conf = h.conf_path
    two_line = line_of(conf, f"<VirtualHost {two}>")
    assert found == [
        own_warning(h, "in-ifmodule", "PushRedirectEarlyHints On"),
        warning(f"{conf}:{two_line + 1}", f"<VirtualHost {two}> ({conf}:{two_line})"),
        own_warning(h, "included", "PushRedirectEarlyHints On", included),
        own_warning(h, "quoted", "PushRedirectEarlyHints"),
        own_warning(h, "any-case", "pushredirectearlyhints"),
        own_warning(h, "first-on", "PushRedirectEarlyHints On"),
        own_warning(h, "last-h2-off", "PushRedirectEarlyHints On"),
        own_warning(h, "http1-off", "PushRedirectEarlyHints On"),
    ], "\n".join(found)


def test_the_main_servers_on_applies_to_every_virtual_host_and_is_named_first(
        httpd_factory, module_so):
    h = httpd_factory("conftree-main-on", module=module_so)
    written(h, ("before", ""), "PushRedirectEarlyHints On",
            ("own-h2", "    H2EarlyHints on"), ("own-on", "    PushRedirectEarlyHints On"),
            ("after", "    PushRedirectEarlyHints Off"))
    found = started_warnings(h, "before")
    on = f"{h.conf_path}:{line_of(h.conf_path, 'PushRedirectEarlyHints On')}"
    assert found == [warning(on, "the main server")] + [
        warning(on, label(h, name)) for name in ("before", "own-on", "after")
    ], "\n".join(found)


def test_a_virtual_host_inherits_h2_early_hints_written_after_it(httpd_factory, module_so):
    h = httpd_factory("conftree-main-h2", module=module_so)
    written(h, ("inherits", "    PushRedirectEarlyHints On"),
            ("own-off", "    H2EarlyHints Off\n    PushRedirectEarlyHints On"),
            "H2EarlyHints on")
    found = started_warnings(h, "inherits")
    assert found == [own_warning(h, "own-off", "PushRedirectEarlyHints On")], "\n".join(found)


def test_the_main_servers_http1_on_holds_for_every_virtual_host(httpd_factory, module_so):
    h = httpd_factory("conftree-main-http1", module=module_so)
    written(h, ("http1-off", "    PushRedirectEarlyHintsHTTP1 Off"),
            ("own-on", "    PushRedirectEarlyHints On"),
            "PushRedirectEarlyHints On", "PushRedirectEarlyHintsHTTP1 On")
    assert started_warnings(h, "own-on") == []


def test_a_virtual_host_inside_another_is_refused_by_apache(workdir, module_so):
    code, out = config_test(workdir, module_so, """
<VirtualHost 127.0.0.1:1>
    <VirtualHost 127.0.0.1:2>
        PushRedirectEarlyHints On
    </VirtualHost>
</VirtualHost>
""")
    assert code != 0 and "<VirtualHost> cannot occur within <VirtualHost> section" in out, out


# ------------------------------------------------------------ trusted proxies

def common(slow) -> str:
    return f"""    PushRedirectEarlyHints On
    PushRedirectEarlyHintsHTTP1 On
    PushRedirectEarlyHint {TARGET} "{STYLE}"
    ProxyPass /app/ http://127.0.0.1:{slow.port}/app/"""


def proxied(httpd_factory, module_so, slow, name: str):
    slow.redirect("/app/old", TARGET)
    h = httpd_factory(name, module=module_so)
    h.add_global(REMOTEIP + "\n" + EARLY_HINTS_LOG.format(logs=h.logs) + "\n"
                 "RemoteIPHeader X-Forwarded-For\n")
    return h


def test_the_main_servers_list_holds_for_every_virtual_host(httpd_factory, module_so, slow):
    h = proxied(httpd_factory, module_so, slow, "conftree-main-list")
    written(h, ("before", common(slow)),
            "remoteipinternalproxy 127.0.0.1",
            ("after", common(slow) + "\n    RemoteIPProxyProtocol Off"))
    h.start()
    for name in ("before", "after"):
        assert_hinted(h, ask(h, name, PUBLIC, HTTPS))


def test_a_virtual_host_trusts_its_own_list_in_each_form(httpd_factory, module_so, slow):
    h = proxied(httpd_factory, module_so, slow, "conftree-own-lists")
    proxies = h.write("conf/proxies.txt", "127.0.0.1\n")
    included = h.write("conf/included.conf", vhost(
        h, "included", common(slow) + "\n    RemoteIPTrustedProxy 127.0.0.1"))
    written(
        h, ("internal-list", f'{common(slow)}\n    RemoteIPInternalProxyList "{proxies}"'),
        ("trusted-list", f'{common(slow)}\n    RemoteIPTrustedProxyList "{proxies}"'),
        ("any-case", common(slow) + "\n    REMOTEIPTRUSTEDPROXY 127.0.0.1"),
        ("in-ifmodule", common(slow) + "\n    <IfModule remoteip_module>\n"
                        "        RemoteIPInternalProxy 127.0.0.1\n    </IfModule>"),
        f'Include "{included}"',
        ("none", common(slow)),
    )
    h.start()
    for name in ("internal-list", "trusted-list", "any-case", "in-ifmodule", "included"):
        assert_hinted(h, ask(h, name, PUBLIC, HTTPS))
    assert_insecure(h, ask(h, "none", PUBLIC, HTTPS))
