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

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from harness import browser, env  # noqa: E402
from harness.early_hints_site import PAGES, make_httpd, stylesheet_entry  # noqa: E402

SECTION = "FCP with Early Hints"
GOAL_RTTS = 0.8


def measure(driver, cert, port: int, case: str, size: str) -> dict:
    with driver.session(cert) as page:
        page.navigate(f"https://127.0.0.1:{port}/{case}/{size}")
        report = page.page_report()
    return {"fcp": report["fcp"], "initiator": stylesheet_entry(report, size)["initiatorType"]}


def row(*cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="navigations per case (default 7)")
    parser.add_argument("--rtt-ms", type=int, default=100, help="round-trip time (default 100)")
    parser.add_argument("--module", type=Path, default=env.module_path())
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    work = Path(tempfile.mkdtemp(prefix="fcp-early-hints-"))
    work.chmod(0o755)
    httpd = proxy = driver = None
    # (size, case) -> first contentful paints, stylesheet initiators
    fcp = {(size, case): [] for size in PAGES for case in ("off", "on")}
    initiators = {key: [] for key in fcp}
    try:
        cert, key = env.make_cert(work / "certs")
        httpd = make_httpd(work / "httpd", cert, key, args.module)
        httpd.start()
        proxy = browser.LatencyProxy(httpd.port("main"), args.rtt_ms)
        driver = browser.Chromedriver()
        for i in range(args.runs):
            for size in PAGES:
                # Alternate which case goes first, so that neither always follows the other.
                for case in (("off", "on") if i % 2 == 0 else ("on", "off")):
                    result = measure(driver, cert, proxy.port, case, size)
                    print(f"run {i + 1} {size} {case}: fcp={result['fcp']} ms "
                          f"stylesheet initiator={result['initiator']}", file=sys.stderr)
                    initiators[size, case].append(result["initiator"])
                    if result["fcp"] is not None:
                        fcp[size, case].append(result["fcp"])
    finally:
        for part in (driver, proxy, httpd):
            if part is not None:
                part.stop()
        shutil.rmtree(work, ignore_errors=True)

    if not all(fcp.values()):
        print(f"no first contentful paint measured for some case: {fcp}", file=sys.stderr)
        return 1
    goal_ms = GOAL_RTTS * args.rtt_ms

    def spread(values):
        return f"{min(values):.0f}–{max(values):.0f} ms"

    for size, (_, _, css) in PAGES.items():
        off, on = fcp[size, "off"], fcp[size, "on"]
        off_median, on_median = statistics.median(off), statistics.median(on)
        gain = off_median - on_median
        hinted = initiators[size, "on"].count("early-hints")
        print(f"{size}: stylesheet fetched by Early Hints in {hinted}/{len(on)} runs with "
              f"the feature on, {initiators[size, 'off'].count('early-hints')}/{len(off)} "
              "with it off", file=sys.stderr)
        where = f"{len(css) // 1024} KB stylesheet, RTT {args.rtt_ms} ms"
        print(row(SECTION, f"Early Hints off (baseline), {where}", f"{off_median:.0f} ms",
                  spread(off), len(off), "1.00", "–", "–"))
        print(row(SECTION, f"Early Hints on, {where}", f"{on_median:.0f} ms",
                  spread(on), len(on), f"{on_median / off_median:.2f}",
                  f"FCP ≥ {GOAL_RTTS} RTT ({goal_ms:.0f} ms) earlier",
                  f"{'yes' if gain >= goal_ms else 'no'} ({gain:.0f} ms = "
                  f"{gain / args.rtt_ms:.2f} RTT earlier)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
