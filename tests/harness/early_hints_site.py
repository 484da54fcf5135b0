"""The site of the browser test and the FCP benchmark. For each page size,
`/on/<size>` and `/off/<size>` both answer `302 Location: <page>`, a page whose
render-blocking stylesheet is declared as its Early Hint; PushRedirectEarlyHints
is On for `/on/` only. Sizes: "large" (a 22 KB stylesheet) and "small" (3 KB).

The stylesheets are cacheable (`Cache-Control: max-age`): Chromium hands an
Early Hints preload to the page through its HTTP cache, so a response it may
not reuse is fetched again and the hint is wasted.

The slow site (`configure_slow`) puts a backend that thinks behind mod_proxy:
for each scope, `/<scope>/old` answers `302 Location: /<scope>/page` after
SLOW_THINK seconds, and `/<scope>/page`, after as long, is the large page with
its stylesheet as a `Link` preload, which the module learns. Scopes: "off" (no
Early Hints), "redirect" (PushRedirectEarlyHints On: the 103 at the redirect),
"ahead" (PushRedirectEarlyHintsAhead On too: the 103 before the backend answers).
"""

from pathlib import Path

from . import clients
from .httpd import Httpd


def _css(rules: int) -> str:
    return "".join(f".rule{i} {{ color: #{i % 4096:03x}; margin: {i % 7}px; }}\n"
                   for i in range(rules)) + "h1 { color: green; }\n"


# size -> (page, stylesheet, stylesheet text)
PAGES = {
    "large": ("/new.html", "/static/app.css", _css(600)),
    "small": ("/new-small.html", "/static/small.css", _css(90)),
}


def _page(stylesheet: str) -> str:
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>new</title>
<link rel="stylesheet" href="{stylesheet}">
</head><body><h1>The new page</h1><p>Its first paint waits for the stylesheet.</p></body></html>
"""


def configure(h: Httpd):
    """Pages and the virtual host "main" (https) on `h`, which is not started."""
    lines = []
    for size, (page, stylesheet, css) in PAGES.items():
        h.write(f"htdocs{page}", _page(stylesheet))
        h.write(f"htdocs{stylesheet}", css)
        lines += [f'PushRedirectEarlyHint {page} "<{stylesheet}>; rel=preload; as=style"',
                  f"Redirect /on/{size} {page}",
                  f"Redirect /off/{size} {page}"]
    h.add_global("H2EarlyHints on")
    h.add_vhost("main", "\n".join(f"    {line}" for line in lines) + """
    <Location /on/>
        PushRedirectEarlyHints On
    </Location>
    <Location /static/>
        Header set Cache-Control "max-age=3600"
    </Location>
""")


def stylesheet_entry(report: dict, size: str) -> dict:
    """The resource-timing entry of the stylesheet of page `size` in a page report."""
    page, stylesheet, _ = PAGES[size]
    return resource_entry(report, page, stylesheet, redirects=1)


def resource_entry(report: dict, page: str, resource: str, redirects: int) -> dict:
    """The resource-timing entry of `resource` after a navigation that ended on
    `page` after `redirects` redirects."""
    assert report["url"].endswith(page), report
    assert report["redirectCount"] == redirects, report
    entries = [e for e in report["resources"] if e["name"].endswith(resource)]
    assert len(entries) == 1, report
    return entries[0]


SLOW_THINK = 0.2
SLOW_SCOPES = {
    "off": "",
    "redirect": "PushRedirectEarlyHints On",
    "ahead": "PushRedirectEarlyHints On\n        PushRedirectEarlyHintsAhead On",
}
SLOW_STYLESHEET = PAGES["large"][1]


def configure_slow(h: Httpd, backend, scopes, think: float = SLOW_THINK):
    """The slow site on `h` (not started), proxied to `backend` (a started
    harness.slowbackend.SlowBackend), with the scopes named."""
    _, stylesheet, css = PAGES["large"]
    h.write(f"htdocs{stylesheet}", css)
    body = []
    for scope in scopes:
        backend.page(f"/{scope}/page", links=[f"<{stylesheet}>; rel=preload; as=style"],
                     think=think, body=_page(stylesheet).encode())
        backend.redirect(f"/{scope}/old", f"/{scope}/page", think=think)
        body += [f"    ProxyPass /{scope}/ http://127.0.0.1:{backend.port}/{scope}/",
                 f"    <Location /{scope}/>",
                 f"        {SLOW_SCOPES[scope]}",
                 "    </Location>"]
    h.add_global("H2EarlyHints on")
    h.add_vhost("main", "\n".join(body) + """
    <Location /static/>
        Header set Cache-Control "max-age=3600"
    </Location>
""")


def teach_slow(h: Httpd, scopes, origin: str = None):
    """One visit to each page and redirect of the slow site (started), so the
    module has learned them; through `origin` (default: Apache's own), the
    origin the browser will use, should learned records be keyed by it."""
    origin = origin or h.origin("main")
    for scope in scopes:
        for path in (f"/{scope}/page", f"/{scope}/old"):
            r = clients.nghttp(origin + path, bodies=False, options=["--no-push"])
            assert r.main.status in (200, 302), r.describe()


def slow_stylesheet_entry(report: dict, scope: str, redirected: bool) -> dict:
    """The stylesheet's resource-timing entry after navigating to /<scope>/old
    (redirected) or /<scope>/page."""
    return resource_entry(report, f"/{scope}/page", SLOW_STYLESHEET, int(redirected))


def make_httpd(root: Path, cert, key, module: Path) -> Httpd:
    """An Httpd serving the site, for programs outside pytest (the benchmark)."""
    h = Httpd(root, cert, key, module=module, name="early-hints-site")
    configure(h)
    return h
