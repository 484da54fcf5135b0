"""What the first-contentful-paint benchmarks (fcp_early_hints.py, fcp_ahead.py,
fcp_html.py) share: their common options, the parts they start in a temporary directory,
the latency proxy in front of Apache and headless Chromium behind it (a fresh
browser and profile per navigation), the figures each navigation leaves, and
the markdown row both print in bench/run.py's columns.

Importing it puts tests/ on the module path, for the harness both use.
"""

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from harness import browser, env  # noqa: E402

# Both hold Early Hints to the same gain: the stylesheet's round trip, mostly.
GOAL_RTTS = 0.8


def options(doc: str, rtt_ms: int, smoke_runs: int = None, more=None) -> argparse.Namespace:
    """--runs (7 navigations per case, or smoke_runs with BENCH_SMOKE=1 when
    given), --rtt-ms (default rtt_ms), what more(parser) adds, and --module."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    runs, runs_help = 7, "navigations per case (default 7)"
    if smoke_runs is not None:
        runs_help = f"navigations per case (default 7; {smoke_runs} with BENCH_SMOKE=1)"
        if os.environ.get("BENCH_SMOKE") == "1":
            runs = smoke_runs
    parser.add_argument("--runs", type=int, default=runs, help=runs_help)
    parser.add_argument("--rtt-ms", type=int, default=rtt_ms,
                        help=f"round-trip time (default {rtt_ms})")
    if more is not None:
        more(parser)
    parser.add_argument("--module", type=Path, default=env.module_path())
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


class Navigations:
    """The certificate, the parts started so far, and per case the first
    contentful paints and the stylesheet's initiators its navigations saw."""

    def __init__(self, work: Path, rtt_ms: int, cases, parts: contextlib.ExitStack):
        self.work = work
        self.rtt_ms = rtt_ms
        self.cert, self.key = env.make_cert(work / "certs")
        self.fcp = {case: [] for case in cases}
        self.initiators = {case: [] for case in cases}
        self._parts = parts
        self._proxies = {}   # port name -> latency proxy in front of it
        self._driver = None

    def started(self, part):
        """Keeps `part` (anything with stop()) to stop at the end, the last kept first."""
        self._parts.callback(part.stop)
        return part

    def proxy(self, httpd, port: str = "main") -> str:
        """Starts the latency proxy in front of httpd's vhost on `port`; returns the
        origin the browser will use."""
        proxy = self.started(browser.LatencyProxy(httpd.port(port), self.rtt_ms))
        self._proxies[port] = proxy
        return f"https://127.0.0.1:{proxy.port}"

    def report(self, path: str, port: str = "main") -> dict:
        """One navigation of a fresh browser to `path` through the proxy in front of
        `port`: the page's report (harness/browser.py). Chromedriver starts at the
        first navigation, so after whatever the benchmark did to the site once the
        proxy was up."""
        if self._driver is None:
            self._driver = self.started(browser.Chromedriver())
        with self._driver.session(self.cert) as page:
            page.navigate(f"https://127.0.0.1:{self._proxies[port].port}{path}")
            return page.page_report()

    def navigate(self, case, path: str, stylesheet, what: str):
        """One navigation (report()) to `path` through the main proxy; keeps its
        first contentful paint (when it had one) and the initiatorType of the entry
        stylesheet(report) picks."""
        report = self.report(path)
        fcp, initiator = report["fcp"], stylesheet(report)["initiatorType"]
        print(f"{what}: fcp={fcp} ms stylesheet initiator={initiator}", file=sys.stderr)
        self.initiators[case].append(initiator)
        if fcp is not None:
            self.fcp[case].append(fcp)

    def complete(self) -> bool:
        """Whether every case has a first contentful paint; says so on stderr if not."""
        if all(self.fcp.values()):
            return True
        print(f"no first contentful paint measured for some case: {self.fcp}", file=sys.stderr)
        return False


@contextlib.contextmanager
def navigations(prefix: str, rtt_ms: int, cases):
    """Navigations of `cases` in a new temporary directory whose name starts with
    `prefix`; on leaving, whatever happened, every part started is stopped and
    the directory removed."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    work.chmod(0o755)
    try:
        with contextlib.ExitStack() as parts:
            yield Navigations(work, rtt_ms, cases, parts)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def row(*cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def spread(values) -> str:
    return f"{min(values):.0f}–{max(values):.0f} ms"


def goal(rtt_ms: int) -> str:
    return f"FCP ≥ {GOAL_RTTS} RTT ({GOAL_RTTS * rtt_ms:.0f} ms) earlier"


def verdict(gain: float, rtt_ms: int) -> str:
    """Whether `gain` (ms earlier than the baseline) meets GOAL_RTTS, and by how much."""
    return (f"{'yes' if gain >= GOAL_RTTS * rtt_ms else 'no'} ({gain:.0f} ms = "
            f"{gain / rtt_ms:.2f} RTT earlier)")
