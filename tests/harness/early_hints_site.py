"""The site of the browser test and the FCP benchmark: `/on/old` and `/off/old`
both answer `302 Location: /new.html`, a page whose render-blocking stylesheet
is declared as its Early Hint; PushRedirectEarlyHints is On for `/on/` only.

The stylesheet is cacheable (`Cache-Control: max-age`): Chromium hands an
Early Hints preload to the page through its HTTP cache, so a response it may
not reuse is fetched again and the hint is wasted.
"""

from pathlib import Path

from .httpd import Httpd

NEW_PAGE = "/new.html"
STYLESHEET = "/static/app.css"

PAGE = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>new</title>
<link rel="stylesheet" href="{STYLESHEET}">
</head><body><h1>The new page</h1><p>Its first paint waits for the stylesheet.</p></body></html>
"""
# Big enough to take more than one packet, small next to a round trip.
CSS = "".join(f".rule{i} {{ color: #{i % 4096:03x}; margin: {i % 7}px; }}\n" for i in range(600)) \
    + "h1 { color: green; }\n"


def configure(h: Httpd):
    """Pages and the virtual host "main" (https) on `h`, which is not started."""
    h.write(f"htdocs{NEW_PAGE}", PAGE)
    h.write(f"htdocs{STYLESHEET}", CSS)
    h.add_global("H2EarlyHints on")
    h.add_vhost("main", f"""
    PushRedirectEarlyHint {NEW_PAGE} "<{STYLESHEET}>; rel=preload; as=style"
    Redirect /on/old {NEW_PAGE}
    Redirect /off/old {NEW_PAGE}
    <Location /on/>
        PushRedirectEarlyHints On
    </Location>
    <Location /static/>
        Header set Cache-Control "max-age=3600"
    </Location>
""")


def stylesheet_entry(report: dict) -> dict:
    """The stylesheet's resource-timing entry in a page report."""
    entries = [e for e in report["resources"] if e["name"].endswith(STYLESHEET)]
    assert len(entries) == 1, report
    return entries[0]


def make_httpd(root: Path, cert, key, module: Path) -> Httpd:
    """An Httpd serving the site, for programs outside pytest (the benchmark)."""
    h = Httpd(root, cert, key, module=module, name="early-hints-site")
    configure(h)
    return h
