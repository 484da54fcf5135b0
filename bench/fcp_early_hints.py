#!/usr/bin/python3
"""First contentful paint after a redirect, with Early Hints on and off.

Starts its own Apache with the module (the site of tests/harness/early_hints_site.py:
/on/<size> and /off/<size> both answer 302 -> a page whose render-blocking
stylesheet, 22 KB ("large") or 3 KB ("small"), is its declared Early Hint;
PushRedirectEarlyHints is On for /on/ only), the latency proxy at --rtt-ms in front of it, and headless Chromium
(a fresh browser and profile per navigation, so every run pays the same
connection setup and nothing is cached). Runs alternate off/on, --runs of each.

Prints markdown table rows:
| section | case | median | spread | runs | ratio vs baseline | goal | met? |
The goal: Early Hints make the first contentful paint at least 0.8 RTT earlier.
Per-run figures go to stderr.

Needs: build/mod_push_redirect.so (make build), target/release/latency-proxy
(cargo build --release -p push-redirect-tools), chromium and chromedriver.
Run as root (Apache's children run as www-data). Use Debian's /usr/bin/python3.
"""

import statistics
import sys

import fcp_runs  # first: it puts tests/ on the path, for harness
from fcp_runs import row, spread

from harness.early_hints_site import PAGES, make_httpd, stylesheet_entry

SECTION = "FCP with Early Hints"


def main() -> int:
    args = fcp_runs.options(__doc__, rtt_ms=100)
    # (size, "off" or "on"): the figures are kept per case.
    cases = [(size, case) for size in PAGES for case in ("off", "on")]
    with fcp_runs.navigations("fcp-early-hints-", args.rtt_ms, cases) as runs:
        httpd = runs.started(make_httpd(runs.work / "httpd", runs.cert, runs.key, args.module))
        httpd.start()
        runs.proxy(httpd)
        for i in range(args.runs):
            for size in PAGES:
                # Alternate which case goes first, so that neither always follows the other.
                for case in (("off", "on") if i % 2 == 0 else ("on", "off")):
                    runs.navigate((size, case), f"/{case}/{size}",
                                  lambda report: stylesheet_entry(report, size),
                                  f"run {i + 1} {size} {case}")

    if not runs.complete():
        return 1
    fcp, initiators = runs.fcp, runs.initiators
    for size, (_, _, css) in PAGES.items():
        off, on = fcp[size, "off"], fcp[size, "on"]
        off_median, on_median = statistics.median(off), statistics.median(on)
        hinted = initiators[size, "on"].count("early-hints")
        print(f"{size}: stylesheet fetched by Early Hints in {hinted}/{len(on)} runs with "
              f"the feature on, {initiators[size, 'off'].count('early-hints')}/{len(off)} "
              "with it off", file=sys.stderr)
        where = f"{len(css) // 1024} KB stylesheet, RTT {args.rtt_ms} ms"
        print(row(SECTION, f"Early Hints off (baseline), {where}", f"{off_median:.0f} ms",
                  spread(off), len(off), "1.00", "–", "–"))
        print(row(SECTION, f"Early Hints on, {where}", f"{on_median:.0f} ms",
                  spread(on), len(on), f"{on_median / off_median:.2f}",
                  fcp_runs.goal(args.rtt_ms),
                  fcp_runs.verdict(off_median - on_median, args.rtt_ms)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
