#!/usr/bin/python3
"""First contentful paint behind a backend that thinks: Early Hints off, at the
redirect, and ahead of the backend (PushRedirectEarlyHintsAhead).

Starts its own Apache with the module and the slow site of
tests/harness/early_hints_site.py (a backend behind mod_proxy that thinks
--think-ms before each answer; /<scope>/old answers 302 -> /<scope>/page, a page
with one render-blocking 22 KB stylesheet sent as its `Link` preload), teaches
the module every URL with one visit, then drives headless Chromium through the
latency proxy at --rtt-ms (a fresh browser and profile per navigation). Runs
of all cases are interleaved, and the case that goes first rotates.

  (i)  direct navigation to /<scope>/page: off vs ahead
  (ii) navigation to /<scope>/old: off / at the redirect / ahead

Goals: (i) ahead earlier than off by >= 0.8 RTT (the stylesheet's round trip
hidden in the think time); (ii) ahead <= at the redirect <= off - 0.8 RTT.

Prints markdown table rows:
| section | case | median | spread | runs | ratio vs baseline | goal | met? |
Per-run figures go to stderr.

Needs: build/mod_push_redirect.so (make build), target/release/latency-proxy
(make tools), chromium and chromedriver, nghttp. Run as root (Apache's children
run as www-data). Use Debian's /usr/bin/python3.
"""

import statistics
import sys

import fcp_runs  # first: it puts tests/ on the path, for harness
from fcp_runs import GOAL_RTTS, row

from harness.early_hints_site import configure_slow, slow_stylesheet_entry, teach_slow
from harness.httpd import Httpd
from harness.slowbackend import SlowBackend

SECTION = "FCP, slow backend"
# (case label, scope, path kind): "page" is /<scope>/page, "old" /<scope>/old.
DIRECT = [("Early Hints off (baseline)", "off"), ("ahead", "ahead")]
REDIRECTED = [("Early Hints off (baseline)", "off"), ("at the redirect", "redirect"),
              ("ahead", "ahead")]
SCOPES = ["off", "redirect", "ahead"]


def main() -> int:
    def think_ms(parser):
        parser.add_argument("--think-ms", type=int, default=200,
                            help="the backend's think time per answer (default 200)")

    args = fcp_runs.options(__doc__, rtt_ms=60, smoke_runs=1, more=think_ms)
    cases = [(label, scope, False) for label, scope in DIRECT] \
        + [(label, scope, True) for label, scope in REDIRECTED]
    with fcp_runs.navigations("fcp-ahead-", args.rtt_ms, cases) as runs:
        backend = runs.started(SlowBackend())
        backend.start()
        httpd = runs.started(Httpd(runs.work / "httpd", runs.cert, runs.key,
                                   module=args.module, name="fcp-ahead"))
        configure_slow(httpd, backend, SCOPES, think=args.think_ms / 1000)
        httpd.start()
        teach_slow(httpd, SCOPES, origin=runs.proxy(httpd))
        for i in range(args.runs):
            shift = i % len(cases)
            for case in cases[shift:] + cases[:shift]:
                label, scope, redirected = case
                runs.navigate(case, f"/{scope}/old" if redirected else f"/{scope}/page",
                              lambda report: slow_stylesheet_entry(report, scope, redirected),
                              f"run {i + 1} {'/old' if redirected else '/page'} {label}")

    if not runs.complete():
        return 1
    fcp, initiators = runs.fcp, runs.initiators
    goal_ms = GOAL_RTTS * args.rtt_ms
    where = f"RTT {args.rtt_ms} ms, backend thinks {args.think_ms} ms"

    def emit(case, what, ratio, goal, met):
        values, hinted = fcp[case], initiators[case].count("early-hints")
        print(row(SECTION, f"{what} (stylesheet from Early Hints in {hinted}/{len(values)})",
                  f"{statistics.median(values):.0f} ms", fcp_runs.spread(values), len(values),
                  ratio, goal, met))

    def median(case):
        return statistics.median(fcp[case])

    def verdict(gain: float) -> str:
        return fcp_runs.verdict(gain, args.rtt_ms)

    off, ahead = (c for c in cases if not c[2])
    emit(off, f"/page direct, {where}: Early Hints off (baseline)", "1.00", "–", "–")
    emit(ahead, f"/page direct, {where}: ahead", f"{median(ahead) / median(off):.2f}",
         fcp_runs.goal(args.rtt_ms), verdict(median(off) - median(ahead)))
    off, at_redirect, ahead = (c for c in cases if c[2])
    emit(off, f"/old → /page, {where}: Early Hints off (baseline)", "1.00", "–", "–")
    emit(at_redirect, f"/old → /page, {where}: 103 at the redirect",
         f"{median(at_redirect) / median(off):.2f}",
         f"≤ off − {GOAL_RTTS} RTT ({goal_ms:.0f} ms)",
         verdict(median(off) - median(at_redirect)))
    emit(ahead, f"/old → /page, {where}: 103 ahead", f"{median(ahead) / median(off):.2f}",
         "≤ at the redirect",
         f"{'yes' if median(ahead) <= median(at_redirect) else 'no'} "
         f"({median(at_redirect) - median(ahead):.0f} ms earlier than at the redirect)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
