#!/usr/bin/python3
"""First contentful paint with Early Hints learned from the page's own HTML:
no `Link` header anywhere, Early Hints off vs on.

Starts its own Apache with the module and two virtual hosts that differ only
by the switches (`H2EarlyHints on`, `PushRedirectEarlyHints On`,
`PushRedirectEarlyHintsAhead On` in "on", nothing in "off"), each behind its
own latency proxy at --rtt-ms, both in front of the same two backends:

  (i)  Django's own admin (tests/adminsite under gunicorn, its static files
       served by Apache) entered at /admin/, which answers 302 to the login
       page, whose head links four stylesheets and a script;
  (ii) /slow/page, a page whose backend (harness/slowbackend.py) thinks
       --think-ms before answering and whose head links two 22 KB stylesheets
       and a script; a direct navigation.

Each URL is taught with two anonymous visits (the login page sets a cookie:
its hints are everyone's once two responses agree), then headless Chromium
navigates (a fresh browser and profile per navigation); runs of all cases
are interleaved, and the case that goes first rotates.

Goal: on earlier than off by >= 0.8 RTT in both. Also reported: how each
stylesheet and the head script were fetched (resource timing initiatorType,
`early-hints` when the 103 fetched them).

Prints markdown table rows:
| section | case | median | spread | runs | ratio vs baseline | goal | met? |
Per-run figures go to stderr.

Needs: build/mod_push_redirect.so (make build), target/release/latency-proxy
(make tools), chromium and chromedriver, nghttp, python3-django and gunicorn.
Run as root (Apache's children run as www-data). Use Debian's /usr/bin/python3.
"""

import statistics
import sys
from collections import Counter

import fcp_runs  # first: it puts tests/ on the path, for harness
from fcp_runs import row

from harness import clients
from harness.backend import AdminBackend
from harness.early_hints_site import PAGES
from harness.html_site import page
from harness.httpd import Httpd
from harness.slowbackend import SlowBackend

SECTION = "FCP, hints from HTML"
SWITCHES = """
    H2EarlyHints on
    PushRedirectEarlyHints On
    PushRedirectEarlyHintsAhead On
"""
ADMIN_LOGIN = "/admin/login/?next=/admin/"
ADMIN_RESOURCES = ["/static/admin/css/base.css", "/static/admin/css/nav_sidebar.css",
                   "/static/admin/js/nav_sidebar.js", "/static/admin/css/login.css",
                   "/static/admin/css/responsive.css"]
SLOW_RESOURCES = ["/static/a.css", "/static/b.css", "/static/app.js"]
# (site, where the navigation starts, where it ends, redirects, what its head links)
SITES = {
    "admin": ("/admin/", ADMIN_LOGIN, 1, ADMIN_RESOURCES),
    "slow": ("/slow/page", "/slow/page", 0, SLOW_RESOURCES),
}
HOSTS = ["off", "on"]


def configure(h: Httpd, admin: AdminBackend, slow: SlowBackend, think: float):
    css = PAGES["large"][2]
    for sheet in ("a.css", "b.css"):
        h.write(f"htdocs/static/{sheet}", css)
    h.write("htdocs/static/app.js", "document.documentElement.dataset.app = 'ready';\n")
    slow.page("/slow/page", think=think,
              body=page("slow", stylesheets=SLOW_RESOURCES[:2], scripts=SLOW_RESOURCES[2:]))
    sites = admin.proxy_config() + f"""
    ProxyPass /slow/ http://127.0.0.1:{slow.port}/slow/
    # Cacheable, as a site's static files are: Chromium hands an Early Hints
    # preload to the page through its HTTP cache.
    <Location /static/>
        Header set Cache-Control "max-age=3600"
    </Location>
"""
    h.add_vhost("off", sites)
    h.add_vhost("on", SWITCHES + sites)


def teach(origin: str):
    """Two anonymous visits to each URL of both sites, as a browser's."""
    for path in ("/admin/", ADMIN_LOGIN, "/slow/page"):
        for _ in range(2):
            r = clients.nghttp(origin + path, bodies=False, options=["--no-push"])
            if r.main.status not in (200, 302):
                raise RuntimeError(f"teaching {path}:\n{r.describe()}")


def resources(report: dict, site: str) -> dict:
    """The initiatorType of each resource the site's head links, by path."""
    start, end, redirects, linked = SITES[site]
    assert report["url"].endswith(end), report
    assert report["redirectCount"] == redirects, report
    found = {}
    for path in linked:
        entries = [e for e in report["resources"] if e["name"].endswith(path)]
        assert len(entries) == 1, (path, report)
        found[path] = entries[0]["initiatorType"]
    return found


def initiators_text(seen: list, site: str) -> str:
    """e.g. `base.css early-hints 7/7; login.css early-hints 6/7, link 1/7`."""
    parts = []
    for path in SITES[site][3]:
        counts = Counter(run[path] for run in seen)
        parts.append(path.rsplit("/", 1)[1] + " " + ", ".join(
            f"{kind} {n}/{len(seen)}" for kind, n in counts.most_common()))
    return "; ".join(parts)


def main() -> int:
    def think_ms(parser):
        parser.add_argument("--think-ms", type=int, default=200,
                            help="the slow page's backend think time (default 200)")

    args = fcp_runs.options(__doc__, rtt_ms=60, smoke_runs=1, more=think_ms)
    cases = [(site, host) for site in SITES for host in HOSTS]
    initiators = {case: [] for case in cases}
    with fcp_runs.navigations("fcp-html-", args.rtt_ms, cases) as runs:
        admin = AdminBackend(runs.work)
        runs.started(admin)
        admin.start()
        slow = runs.started(SlowBackend())
        slow.start()
        httpd = runs.started(Httpd(runs.work / "httpd", runs.cert, runs.key,
                                   module=args.module, name="fcp-html"))
        configure(httpd, admin, slow, args.think_ms / 1000)
        httpd.start()
        for host in HOSTS:
            teach(runs.proxy(httpd, host))
        for i in range(args.runs):
            shift = i % len(cases)
            for case in cases[shift:] + cases[:shift]:
                site, host = case
                report = runs.report(SITES[site][0], host)
                seen = resources(report, site)
                print(f"run {i + 1} {site} {host}: fcp={report['fcp']} ms {seen}",
                      file=sys.stderr)
                initiators[case].append(seen)
                if report["fcp"] is not None:
                    runs.fcp[case].append(report["fcp"])

    if not runs.complete():
        return 1
    fcp = runs.fcp
    where = {"admin": f"Django admin, /admin/ → login page, RTT {args.rtt_ms} ms",
             "slow": f"/slow/page direct, backend thinks {args.think_ms} ms, "
                     f"RTT {args.rtt_ms} ms"}
    for site in SITES:
        off, on = fcp[site, "off"], fcp[site, "on"]
        off_median, on_median = statistics.median(off), statistics.median(on)
        print(row(SECTION, f"{where[site]}: Early Hints off (baseline)",
                  f"{off_median:.0f} ms", fcp_runs.spread(off), len(off), "1.00", "–", "–"))
        print(row(SECTION, f"{where[site]}: Early Hints on (initiatorType: "
                  f"{initiators_text(initiators[site, 'on'], site)})",
                  f"{on_median:.0f} ms", fcp_runs.spread(on), len(on),
                  f"{on_median / off_median:.2f}", fcp_runs.goal(args.rtt_ms),
                  fcp_runs.verdict(off_median - on_median, args.rtt_ms)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
