"""The site of the browser test and the FCP benchmark. For each page size,
`/on/<size>` and `/off/<size>` both answer `302 Location: <page>`, a page whose
render-blocking stylesheet is declared as its Early Hint; PushRedirectEarlyHints
is On for `/on/` only. Sizes: "large" (a 22 KB stylesheet) and "small" (3 KB).

The stylesheets are cacheable (`Cache-Control: max-age`): Chromium hands an
Early Hints preload to the page through its HTTP cache, so a response it may
not reuse is fetched again and the hint is wasted.
"""

from pathlib import Path

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
    assert report["url"].endswith(page), report
    assert report["redirectCount"] == 1, report
    entries = [e for e in report["resources"] if e["name"].endswith(stylesheet)]
    assert len(entries) == 1, report
    return entries[0]


def make_httpd(root: Path, cert, key, module: Path) -> Httpd:
    """An Httpd serving the site, for programs outside pytest (the benchmark)."""
    h = Httpd(root, cert, key, module=module, name="early-hints-site")
    configure(h)
    return h
