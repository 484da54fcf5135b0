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

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from harness import browser, env  # noqa: E402
from harness.early_hints_site import (configure_slow, slow_stylesheet_entry,  # noqa: E402
                                      teach_slow)
from harness.httpd import Httpd  # noqa: E402
from harness.slowbackend import SlowBackend  # noqa: E402

SECTION = "FCP, slow backend"
GOAL_RTTS = 0.8
# (case label, scope, path kind): "page" is /<scope>/page, "old" /<scope>/old.
DIRECT = [("Early Hints off (baseline)", "off"), ("ahead", "ahead")]
REDIRECTED = [("Early Hints off (baseline)", "off"), ("at the redirect", "redirect"),
              ("ahead", "ahead")]
SCOPES = ["off", "redirect", "ahead"]


def measure(driver, cert, port: int, scope: str, redirected: bool) -> dict:
    path = f"/{scope}/old" if redirected else f"/{scope}/page"
    with driver.session(cert) as page:
        page.navigate(f"https://127.0.0.1:{port}{path}")
        report = page.page_report()
    entry = slow_stylesheet_entry(report, scope, redirected)
    return {"fcp": report["fcp"], "initiator": entry["initiatorType"]}


def row(*cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    smoke = os.environ.get("BENCH_SMOKE") == "1"
    parser.add_argument("--runs", type=int, default=1 if smoke else 7,
                        help="navigations per case (default 7; 1 with BENCH_SMOKE=1)")
    parser.add_argument("--rtt-ms", type=int, default=60, help="round-trip time (default 60)")
    parser.add_argument("--think-ms", type=int, default=200,
                        help="the backend's think time per answer (default 200)")
    parser.add_argument("--module", type=Path, default=env.module_path())
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    work = Path(tempfile.mkdtemp(prefix="fcp-ahead-"))
    work.chmod(0o755)
    httpd = proxy = driver = backend = None
    cases = [(label, scope, False) for label, scope in DIRECT] \
        + [(label, scope, True) for label, scope in REDIRECTED]
    fcp = {case: [] for case in cases}
    initiators = {case: [] for case in cases}
    try:
        cert, key = env.make_cert(work / "certs")
        backend = SlowBackend()
        backend.start()
        httpd = Httpd(work / "httpd", cert, key, module=args.module, name="fcp-ahead")
        configure_slow(httpd, backend, SCOPES, think=args.think_ms / 1000)
        httpd.start()
        proxy = browser.LatencyProxy(httpd.port("main"), args.rtt_ms)
        teach_slow(httpd, SCOPES, origin=f"https://127.0.0.1:{proxy.port}")
        driver = browser.Chromedriver()
        for i in range(args.runs):
            shift = i % len(cases)
            for case in cases[shift:] + cases[:shift]:
                label, scope, redirected = case
                result = measure(driver, cert, proxy.port, scope, redirected)
                print(f"run {i + 1} {'/old' if redirected else '/page'} {label}: "
                      f"fcp={result['fcp']} ms stylesheet initiator={result['initiator']}",
                      file=sys.stderr)
                initiators[case].append(result["initiator"])
                if result["fcp"] is not None:
                    fcp[case].append(result["fcp"])
    finally:
        for part in (driver, proxy, httpd, backend):
            if part is not None:
                part.stop()
        shutil.rmtree(work, ignore_errors=True)

    if not all(fcp[c] for c in cases):
        print(f"no first contentful paint measured for some case: {fcp}", file=sys.stderr)
        return 1
    goal_ms = GOAL_RTTS * args.rtt_ms
    where = f"RTT {args.rtt_ms} ms, backend thinks {args.think_ms} ms"

    def figures(case):
        values = fcp[case]
        hinted = initiators[case].count("early-hints")
        return (f"{statistics.median(values):.0f} ms",
                f"{min(values):.0f}–{max(values):.0f} ms", len(values),
                f"stylesheet from Early Hints in {hinted}/{len(values)}")

    def emit(case, what, ratio, goal, met):
        median, spread, runs, hinted = figures(case)
        print(row(SECTION, f"{what} ({hinted})", median, spread, runs, ratio, goal, met))

    def median(case):
        return statistics.median(fcp[case])

    def verdict(gain: float) -> str:
        return f"{'yes' if gain >= goal_ms else 'no'} ({gain:.0f} ms = {gain / args.rtt_ms:.2f} RTT earlier)"

    off, ahead = (c for c in cases if not c[2])
    emit(off, f"/page direct, {where}: Early Hints off (baseline)", "1.00", "–", "–")
    emit(ahead, f"/page direct, {where}: ahead", f"{median(ahead) / median(off):.2f}",
         f"FCP ≥ {GOAL_RTTS} RTT ({goal_ms:.0f} ms) earlier", verdict(median(off) - median(ahead)))
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
