"""What the tests of Early Hints learned from HTML serve, and how they read a 103.

- `write_static_site(h)`: real HTML files under `htdocs/site/` of an Httpd, as
  an Apache serving a static site has them: relative references, a `<base
  href>`, alternate and print stylesheets, an icon, a module script, a font
  stylesheet of another origin; mod_dir's `/site` -> `/site/` in front.
- `write_hostile_pages(h)`: pages under `htdocs/hostile/` that a tokenizer
  must read as a browser does (malformed markup, a head past the scan's
  bound, bytes that are not UTF-8, markup inside script text, a stylesheet
  in the body), each with the hints it should teach (`HOSTILE`).
- `page(...)`: the HTML of a page whose head links stylesheets and scripts.
- `gzip_body`, `deflate_body`: a body as a backend sends it compressed.
- `early_hints(r)`: the hints of the 103s an nghttp run saw, one per value.
"""

import gzip
import re
import zlib
from typing import List

from .clients import H2Result

# The HTML scan reads about this much of a page, at most.
SCAN_BOUND = 64 * 1024


def preload(path: str, dest: str, crossorigin: bool = False) -> str:
    """A same-origin hint as the core writes it."""
    return f"<{path}>; rel=preload; as={dest}" + ("; crossorigin" if crossorigin else "")


def style(path: str, crossorigin: bool = False) -> str:
    return preload(path, "style", crossorigin)


def script(path: str) -> str:
    return preload(path, "script")


def modulepreload(path: str) -> str:
    # Assumed form: `rel=modulepreload` without `as` (a module script's
    # destination is implied, HTML's "modulepreload" link type).
    return f"<{path}>; rel=modulepreload"


def preconnect(origin: str) -> str:
    return f"<{origin}>; rel=preconnect"


def page(title: str, stylesheets=(), scripts=(), head_extra: str = "",
         body: str = "<p>A page.</p>") -> bytes:
    """A page whose head links `stylesheets` and `scripts` (hrefs as written)."""
    links = "".join(f'<link rel="stylesheet" href="{href}">\n' for href in stylesheets)
    links += "".join(f'<script src="{src}"></script>\n' for src in scripts)
    return (f'<!doctype html>\n<html><head><meta charset="utf-8"><title>{title}</title>\n'
            f'{links}{head_extra}</head>\n<body><h1>{title}</h1>{body}</body></html>\n').encode()


def gzip_body(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def deflate_body(data: bytes) -> bytes:
    """HTTP's `deflate` coding: the zlib format (RFC 9110, 8.4.1.2)."""
    return zlib.compress(data)


# ------------------------------------------------------------ reading 103s

def _interim(r) -> list:
    """The 1xx header blocks of an nghttp run's request, or of a curl run."""
    return r.main.informational if isinstance(r, H2Result) else r.informational


def early_hints(r) -> List[str]:
    """Every hint of the 103s the request got (nghttp or curl), one per link-value.

    The module writes its hints as one `link` field, values joined by ", ";
    each value starts with "<" and no value the core writes has ", <" inside
    (its references are percent-encoded), so that splits them."""
    out = []
    for block in _interim(r):
        for name, value in block:
            if name.lower() == "link":
                out += re.split(r",\s*(?=<)", value)
    return out


def count_103(r) -> int:
    if isinstance(r, H2Result):
        return sum(1 for block in r.main.informational if (":status", "103") in block)
    return len(r.informational)  # curl: a GET gets no other 1xx


# ------------------------------------------------------------ static site

SITE_INDEX = """<!doctype html>
<html lang="en"><head>
<meta charset="utf-8">
<title>A static site</title>
<link rel="icon" href="favicon.ico">
<link rel="stylesheet" href="css/site.css">
<link rel="alternate stylesheet" href="css/contrast.css" title="High contrast">
<link rel="stylesheet" href="css/print.css" media="print">
<link rel="stylesheet" href="https://fonts.example/css2?family=Inter&amp;display=swap">
<link rel="stylesheet" href="../site/css/theme.css?v=3" crossorigin>
<script src="js/app.js"></script>
<script type="module" src="js/main.mjs"></script>
<link rel="preload" href="fonts/inter.woff2" as="font" crossorigin>
</head>
<body>
<h1>A static site</h1>
<p>Its head links what a browser fetches before it can paint.</p>
<link rel="stylesheet" href="css/late.css">
<script src="js/footer.js"></script>
</body></html>
"""

# What a fresh navigation's 103 carries for /site/ (the index), in document order.
SITE_INDEX_HINTS = [
    style("/site/css/site.css"),
    preconnect("https://fonts.example"),
    style("/site/css/theme.css?v=3", crossorigin=True),
    script("/site/js/app.js"),
    modulepreload("/site/js/main.mjs"),
    preload("/site/fonts/inter.woff2", "font", crossorigin=True),
]

# A page in a subdirectory whose references resolve against its <base href>.
SITE_GUIDE = """<!doctype html>
<html><head>
<meta charset="utf-8">
<base href="/site/assets/v2/">
<title>Guide</title>
<link rel="stylesheet" href="guide.css">
<script src="../common.js"></script>
</head>
<body><h1>Guide</h1></body></html>
"""
SITE_GUIDE_HINTS = [style("/site/assets/v2/guide.css"), script("/site/assets/common.js")]

# A page whose Link header and HTML both teach: the header's hints first.
SITE_BOTH = """<!doctype html>
<html><head><meta charset="utf-8"><title>Both</title>
<link rel="stylesheet" href="css/site.css">
</head><body><h1>Both</h1></body></html>
"""
SITE_BOTH_HEADER = style("/site/css/header.css")
SITE_BOTH_HINTS = [SITE_BOTH_HEADER, style("/site/css/site.css")]

# In a scope with PushRedirectEarlyHintsFromHTML Off: its HTML teaches
# nothing, its Link header still does.
SITE_QUIET = """<!doctype html>
<html><head><meta charset="utf-8"><title>Quiet</title>
<link rel="stylesheet" href="quiet.css">
<script src="quiet.js"></script>
</head><body><h1>Quiet</h1></body></html>
"""
SITE_QUIET_HEADER = style("/site/quiet/declared.css")


def write_static_site(h) -> str:
    """The site's files under h's htdocs; returns the vhost lines it needs
    (the Off scope, the Link header of /site/both.html)."""
    h.write("htdocs/site/index.html", SITE_INDEX)
    h.write("htdocs/site/docs/guide.html", SITE_GUIDE)
    h.write("htdocs/site/both.html", SITE_BOTH)
    h.write("htdocs/site/quiet/index.html", SITE_QUIET)
    for asset in ("css/site.css", "css/contrast.css", "css/print.css", "css/theme.css",
                  "css/late.css", "css/header.css", "assets/v2/guide.css",
                  "quiet/quiet.css", "quiet/declared.css"):
        h.write(f"htdocs/site/{asset}", "h1 { color: green; }\n")
    for asset in ("js/app.js", "js/footer.js", "assets/common.js", "quiet/quiet.js"):
        h.write(f"htdocs/site/{asset}", "document.documentElement.dataset.ok = 1;\n")
    h.write("htdocs/site/js/main.mjs", "export const ok = 1;\n")
    h.write("htdocs/site/favicon.ico", "icon\n")
    h.write("htdocs/site/fonts/inter.woff2", "font\n")
    # The directive may not exist yet in the module under test: without
    # <IfDirective> such a module would not start with this configuration.
    return f"""
    <Location /site/both.html>
        Header add Link "{SITE_BOTH_HEADER}"
    </Location>
    <Location /site/quiet/>
        <IfDirective PushRedirectEarlyHintsFromHTML>
            PushRedirectEarlyHintsFromHTML Off
        </IfDirective>
        Header add Link "{SITE_QUIET_HEADER}"
    </Location>
"""


# --------------------------------------------------------------- hostile

def _padding(size: int) -> str:
    """`size` bytes of head content that is no hint: meta elements."""
    unit = '<meta name="x-padding" content="' + "p" * 200 + '">\n'
    return unit * (size // len(unit) + 1)


HOSTILE = {
    # Broken markup around one good stylesheet: unclosed attributes, stray
    # brackets, links without href, with an empty href (HTML fetches nothing
    # for it), to schemes no hint may carry, and to another origin over http.
    "malformed": (
        b'<!doctype html><html><head><title>malformed</title>\n'
        b'<link rel="stylesheet" href="/hostile/ok.css">\n'
        b'<link rel=stylesheet>\n'
        b'<link rel="stylesheet" href="">\n'
        b'<link rel="stylesheet" href="javascript:alert(1)">\n'
        b'<link rel="stylesheet" href="data:text/css,h1{color:red}">\n'
        b'<link rel="stylesheet" href="http://insecure.example/x.css">\n'
        b'<link rel="preload" href="/hostile/noas.js">\n'
        b'<link rel="preload" href="/hostile/bad-as.js" as="nonsense">\n'
        b'<<<>>><link <link <<script src=/hostile/x.js>>\n'
        b'<link rel="stylesheet" href="/hostile/unterminated.css\n',
        [style("/hostile/ok.css")]),
    # The head is longer than the scan's bound: a stylesheet at its start is
    # learned, one well past the bound is not.
    "bighead": (
        ('<!doctype html><html><head><meta charset="utf-8"><title>big head</title>\n'
         '<link rel="stylesheet" href="/hostile/early.css">\n'
         + _padding(SCAN_BOUND + SCAN_BOUND // 2)
         + '<link rel="stylesheet" href="/hostile/late.css">\n'
         '</head><body><p>big head</p></body></html>\n').encode(),
        [style("/hostile/early.css")]),
    # Bytes that are not UTF-8 (a windows-1252 page) around a stylesheet.
    "latin1": (
        b'<!doctype html><html><head><meta charset="windows-1252">\n'
        b'<title>Caf\xe9 \xff\xfe\x80</title>\n'
        b'<meta name="description" content="\xe9\xe8\xff">\n'
        b'<link rel="stylesheet" href="/hostile/plain.css" title="\xe9t\xe9">\n'
        b'</head><body><p>\xe9</p></body></html>\n',
        [style("/hostile/plain.css")]),
    # Markup inside the text of script, style, title and comments is text.
    "script-text": (
        b'<!doctype html><html><head><title><link rel="stylesheet" href="/hostile/title.css">'
        b'</title>\n'
        b'<script>var s = \'<link rel="stylesheet" href="/hostile/fake.css">\';\n'
        b'document.write(\'<script src="/hostile/fake.js"></scr\' + \'ipt>\');</script>\n'
        b'<style>/* <link rel="stylesheet" href="/hostile/style.css"> */</style>\n'
        b'<!-- <link rel="stylesheet" href="/hostile/comment.css"> -->\n'
        b'<link rel="stylesheet" href="/hostile/real.css">\n'
        b'</head><body></body></html>\n',
        [style("/hostile/real.css")]),
    # A stylesheet and a script after <body> are the body's, not the head's.
    "body-css": (
        b'<!doctype html><html><head><title>body</title>\n'
        b'<link rel="stylesheet" href="/hostile/head.css">\n'
        b'</head><body><h1>body</h1>\n'
        b'<link rel="stylesheet" href="/hostile/body.css">\n'
        b'<script src="/hostile/body.js"></script>\n'
        b'</body></html>\n',
        [style("/hostile/head.css")]),
    # The same without </head>: <body> ends the head all the same.
    "body-no-head-end": (
        b'<!doctype html><html><head><title>body</title>\n'
        b'<link rel="stylesheet" href="/hostile/head2.css">\n'
        b'<body><h1>body</h1>\n'
        b'<link rel="stylesheet" href="/hostile/body2.css">\n'
        b'</body></html>\n',
        [style("/hostile/head2.css")]),
}


def write_hostile_pages(h):
    for name, (body, _) in HOSTILE.items():
        path = h.root / f"htdocs/hostile/{name}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
