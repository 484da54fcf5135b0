#!/usr/bin/python3
"""make bench: the benchmarks of BENCHMARKS.md, in one run, printed as one table.

Sections (BENCHMARKS.md says what each measures and why):
  rtt        time from the first request to the final 200 through a redirect,
             behind latency-proxy at several RTTs: module On with a client that
             takes pushes, On with a client that refuses them, Off; and a chain
             of two redirects
  throughput h2load requests/s, module On vs Off vs a mod_headers equivalent,
             over HTTP/1.1+TLS and HTTP/2, on redirects and on 200s
  decide     ns per call of core::decide (core/benches/decide.rs)
  callgrind  instructions added per request under valgrind, apache2 -X
  chain      time to the final 200 through a learned 2-hop chain, module On
             with a client that takes pushes vs Off, at the same RTTs
  store      what learning costs: callgrind for learned 200s, redirects hinted
             from the store, URLs never seen, the store off; RSS per child
             after many distinct URLs
  browser    callgrind for what a browser's navigation costs: a learned page
             sent ahead beside mod_http2's static H2EarlyHint sending the same
             103, and a redirect whose 103 is filled from what was learned
  fcp        bench/fcp_early_hints.py's rows, when that script exists
  fcp-ahead  bench/fcp_ahead.py's rows: first contentful paint behind a backend
             that thinks, Early Hints off / at the redirect / ahead
  fcp-html   bench/fcp_html.py's rows: first contentful paint with the hints
             learned from the page's HTML (no Link header), off vs on: Django's
             admin entered at /admin/, a page behind a backend that thinks

Every figure is measured in this run. Runs of a case and of its baseline are
interleaved (A B A B ...) so drift on a busy machine hits both.

Environment: BENCH_SMOKE=1 (tiny sizes, seconds; checks only that it works),
BENCH_PUBLISH=1 (also rewrite the generated block of BENCHMARKS.md and
docs/bench-rtt.svg), BENCH_OUT (default build/bench), BENCH_SECTIONS (a
comma-separated subset of the sections above, e.g. `callgrind`; not with
BENCH_PUBLISH).
"""

import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

from harness import env, push_follow  # noqa: E402
from harness.httpd import Httpd  # noqa: E402

import svg_plot  # noqa: E402

SMOKE = os.environ.get("BENCH_SMOKE") == "1"
PUBLISH = os.environ.get("BENCH_PUBLISH") == "1"
OUT = Path(os.environ.get("BENCH_OUT", REPO / "build" / "bench"))
ALL_SECTIONS = ("rtt", "throughput", "chain", "decide", "callgrind", "store", "browser",
                "fcp", "fcp-ahead", "fcp-html")
SECTIONS = [name for name in os.environ.get("BENCH_SECTIONS", ",".join(ALL_SECTIONS)).split(",")
            if name]
MODULE = Path(os.environ.get("PUSH_REDIRECT_MODULE", REPO / "build" / "mod_push_redirect.so"))
TOOLS = REPO / "target" / "release"
H2LOAD = shutil.which("h2load") or "/usr/bin/h2load"
VALGRIND = shutil.which("valgrind") or "/usr/bin/valgrind"

# Sizes: (full run, smoke run).
RTTS_MS = [20, 100] if SMOKE else [10, 20, 50, 100]
RTT_RUNS = 1 if SMOKE else 15
LOAD_ROUNDS = 1 if SMOKE else 9
LOAD_SECONDS = None if SMOKE else 2       # h2load -D; smoke uses a request count
LOAD_SMOKE_REQUESTS = 200
CALLGRIND_COUNTS = (2, 6) if SMOKE else (20, 220)

TARGET = "/target.html"
TARGET_BODY = "<!doctype html><title>target</title>\n" + "<p>the redirect's target</p>\n" * 60
REDIRECTS = f"""
    RedirectMatch 302 ^/r$ {TARGET}
    RedirectMatch 302 ^/chain1$ /chain2
    RedirectMatch 302 ^/chain2$ {TARGET}
"""
# The best mod_headers can do: the same Link for the same statuses, but from
# the absolute Location (mod_http2 pushes same-authority absolute links too)
# and with none of the module's rules (credentials, push refused, ...).
HEADERS_EQUIVALENT = """
    Header always add Link "expr=<%{resp:Location}>; as=document; rel=preload" \\
        "expr=%{REQUEST_STATUS} in {'301', '302', '303', '307', '308'}"
"""

COLUMNS = ["section", "case", "median", "spread (min–max)", "runs",
           "ratio vs baseline", "goal", "met?"]


@dataclass
class Row:
    section: str
    case: str
    median: str
    spread: str
    runs: int
    ratio: str = ""
    goal: str = ""
    met: str = ""

    def cells(self) -> List[str]:
        return [self.section, self.case, self.median, self.spread, str(self.runs),
                self.ratio, self.goal, self.met]


@dataclass
class Results:
    rows: List[Row] = field(default_factory=list)
    # For the plot: series name -> [(rtt_ms, median_ms)].
    rtt_series: Dict[str, List[tuple]] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)


def log(message: str):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def spread(values: List[float], fmt: str) -> str:
    return f"{fmt.format(min(values))}–{fmt.format(max(values))}"


def verdict(ok: bool) -> str:
    return "yes" if ok else "**no**"


# ------------------------------------------------------------------ machine

def machine() -> Dict[str, str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    apache = subprocess.run([env.APACHE, "-v"], capture_output=True, text=True).stdout
    apache = re.search(r"Server version:\s*(\S+)", apache)
    http2_so = (env.APACHE_MODULES / "mod_http2.so").read_bytes()
    http2 = re.search(rb"\x00(\d+\.\d+\.\d+)\x00", http2_so)
    load = Path("/proc/loadavg").read_text().split()[:3]
    return {
        "CPU": f"{cpu}, {os.cpu_count()} cores",
        "kernel": f"{platform.system()} {platform.release()}",
        "Apache": apache.group(1) if apache else "unknown",
        "mod_http2": http2.group(1).decode() if http2 else "unknown",
        "h2load": subprocess.run([H2LOAD, "--version"], capture_output=True,
                                 text=True).stdout.strip(),
        "load average at start": " ".join(load),
    }


# ------------------------------------------------------------------- apache

def bench_httpd(workdir: Path, cert) -> Httpd:
    """One Apache with the module loaded and three hosts: PushRedirect On,
    PushRedirect Off, and Off plus the mod_headers equivalent."""
    h = Httpd(workdir / "httpd", cert[0], cert[1], module=MODULE, name="bench")
    h.write(f"htdocs{TARGET}", TARGET_BODY)
    # Decisions are not traced (the tests trace them): logging is not what we measure.
    h.add_global("LogLevel warn push_redirect:warn\nMaxKeepAliveRequests 0\n")
    h.add_vhost("on", f"    PushRedirect On\n{REDIRECTS}")
    h.add_vhost("off", f"    PushRedirect Off\n{REDIRECTS}")
    h.add_vhost("headers", f"    PushRedirect Off\n{REDIRECTS}{HEADERS_EQUIVALENT}")
    return h


def check_links(h: Httpd):
    """What each host sends, so a misconfigured host cannot be measured by mistake."""
    expect = {"on": True, "off": False, "headers": True}
    for host, linked in expect.items():
        for path, redirect in (("/r", True), (TARGET, False)):
            out = subprocess.run(
                [env.CURL, "-sk", "--http1.1", "-o", "/dev/null", "-D", "-",
                 h.url(host, path)], capture_output=True, text=True, timeout=20).stdout
            has_link = re.search(r"(?im)^link:.*rel=preload", out) is not None
            want = linked and redirect
            if has_link != want:
                raise RuntimeError(f"{host} {path}: Link {'missing' if want else 'present'}:\n{out}")


class Proxy:
    """latency-proxy in front of one port."""

    def __init__(self, upstream_port: int, rtt_ms: int):
        self.proc = subprocess.Popen(
            [str(TOOLS / "latency-proxy"), "--upstream", f"127.0.0.1:{upstream_port}",
             "--rtt-ms", str(rtt_ms)], stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        match = re.match(r"listening on (\S+)", line)
        if not match:
            self.stop()
            raise RuntimeError(f"latency-proxy said {line!r}")
        self.address = match.group(1)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


# --------------------------------------------------------------------- rtt

@dataclass
class FollowCase:
    name: str
    host: str
    path: str
    no_push: bool
    sources: List[str]       # what the client must see, or the run is invalid


RTT_CASES = [
    FollowCase("module On, client takes push", "on", "/r", False, ["requested", "pushed"]),
    FollowCase("module On, client refuses push", "on", "/r", True, ["requested", "requested"]),
    FollowCase("module Off", "off", "/r", False, ["requested", "requested"]),
    FollowCase("2-hop chain, module On, client takes push", "on", "/chain1", False,
               ["requested", "pushed", "requested"]),
    FollowCase("2-hop chain, module Off", "off", "/chain1", False,
               ["requested", "requested", "requested"]),
]


def rtt_section(h: Httpd, results: Results):
    for rtt in RTTS_MS:
        log(f"rtt {rtt} ms: {RTT_RUNS} interleaved runs of {len(RTT_CASES)} cases")
        proxies = {host: Proxy(h.port(host), rtt) for host in ("on", "off")}
        try:
            times: Dict[str, List[float]] = {c.name: [] for c in RTT_CASES}
            for _ in range(RTT_RUNS):
                for case in RTT_CASES:
                    r = push_follow.run(h.url(case.host, case.path), cacert=h.cert,
                                        no_push=case.no_push,
                                        connect_to=proxies[case.host].address)
                    if r.exit_code != 0 or r.sources() != case.sources:
                        raise RuntimeError(f"{case.name} at {rtt} ms: expected hops "
                                           f"{case.sources}:\n{r.describe()}")
                    times[case.name].append(r.trace["total_ms"])
        finally:
            for p in proxies.values():
                p.stop()
        rtt_rows(rtt, times, results)


def rtt_rows(rtt: int, times: Dict[str, List[float]], results: Results):
    baseline = {"module On, client takes push": "module Off",
                "module On, client refuses push": "module Off",
                "2-hop chain, module On, client takes push": "2-hop chain, module Off"}
    for case in RTT_CASES:
        values = times[case.name]
        median = statistics.median(values)
        results.rtt_series.setdefault(case.name, []).append((rtt, median))
        row = Row("round trips", f"RTT {rtt} ms: {case.name} ({' → '.join(case.sources)})",
                  f"{median:.1f} ms", spread(values, "{:.1f}"), len(values))
        base = baseline.get(case.name)
        if base:
            # Runs of a case and its baseline alternate; pair them round by round.
            ratios = [a / b for a, b in zip(values, times[base])]
            ratio = statistics.median(ratios)
            row.ratio = f"{ratio:.3f} (On/Off)"
            if case.name == "module On, client takes push" and rtt == 100:
                row.goal, row.met = "≤ 0.55", verdict(ratio <= 0.55)
            elif case.name == "module On, client takes push":
                row.goal = "→ 0.5 (1 RTT of 2)"
            elif case.name == "module On, client refuses push":
                row.goal = "≈ 1 (nothing on the wire)"
            else:
                row.goal = "→ 0.67 (2nd hop not pushed)"
        results.rows.append(row)


# --------------------------------------------------------------- throughput

H2LOAD_LINE = re.compile(r"finished in ([\d.]+)(m?s), ([\d.]+) req/s")
H2LOAD_STATUS = re.compile(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx")


def h2load(url: str, protocol: str, expect_status: str) -> float:
    args = [H2LOAD, "-c", "4", "-t", "1"]
    args += ["--h1", "-m", "1"] if protocol == "http/1.1" else ["-m", "10"]
    if SMOKE:
        args += ["-n", str(LOAD_SMOKE_REQUESTS)]
    else:
        args += ["-D", str(LOAD_SECONDS), "--warm-up-time", "500ms"]
    p = subprocess.run([*args, url], capture_output=True, text=True, timeout=120)
    line = H2LOAD_LINE.search(p.stdout)
    codes = H2LOAD_STATUS.search(p.stdout)
    if p.returncode != 0 or not line or not codes:
        raise RuntimeError(f"h2load {url} failed:\n{p.stdout}\n{p.stderr}")
    counts = dict(zip(("2xx", "3xx", "4xx", "5xx"), map(int, codes.groups())))
    wrong = sum(n for kind, n in counts.items() if kind != expect_status)
    if wrong or counts[expect_status] == 0:
        raise RuntimeError(f"h2load {url}: expected only {expect_status}: {codes.group(0)}")
    if protocol == "h2" and "Application protocol: h2" not in p.stdout:
        raise RuntimeError(f"h2load {url}: not HTTP/2:\n{p.stdout}")
    return float(line.group(3))


def throughput_section(h: Httpd, results: Results):
    hosts = [("on", "module On"), ("off", "module Off"), ("headers", "mod_headers equivalent")]
    for workload, path, status in (("redirect-only", "/r", "3xx"), ("200-only", TARGET, "2xx")):
        for protocol in ("http/1.1", "h2"):
            log(f"throughput {workload} over {protocol}: {LOAD_ROUNDS} interleaved rounds")
            rates: Dict[str, List[float]] = {host: [] for host, _ in hosts}
            for _ in range(LOAD_ROUNDS):
                for host, _ in hosts:
                    rates[host].append(h2load(h.url(host, path), protocol, status))
            for host, label in hosts:
                values = rates[host]
                row = Row("server overhead",
                          f"{workload}, {'HTTP/1.1+TLS' if protocol == 'http/1.1' else 'HTTP/2'}: {label}",
                          f"{statistics.median(values):.0f} req/s", spread(values, "{:.0f}"),
                          len(values))
                if host != "off":
                    ratio = statistics.median(a / b for a, b in zip(values, rates["off"]))
                    row.ratio = f"{ratio:.3f} (/Off)"
                    if host == "on":
                        goal = 0.97 if workload == "redirect-only" else 0.99
                        row.goal, row.met = f"≥ {goal}", verdict(ratio >= goal)
                if host == "on" and workload == "redirect-only":
                    vs_headers = statistics.median(
                        a / b for a, b in zip(values, rates["headers"]))
                    row.ratio += f"; {vs_headers:.3f} (/mod_headers)"
                    row.goal += "; ≥ mod_headers"
                    row.met += f"; {verdict(vs_headers >= 1.0)}"
                results.rows.append(row)


# ------------------------------------------------------------------- decide

def decide_section(results: Results):
    log("decide: cargo bench (release)")
    p = subprocess.run(["cargo", "bench", "--locked", "-q", "-p", "push_redirect_core",
                        "--bench", "decide"], cwd=REPO, capture_output=True, text=True,
                       env={**os.environ, "BENCH_SMOKE": "1" if SMOKE else "0"})
    lines = [line.split("\t") for line in p.stdout.splitlines() if line.startswith("decide\t")]
    if p.returncode != 0 or len(lines) != 4:
        raise RuntimeError(f"cargo bench failed:\n{p.stdout}\n{p.stderr}")
    for _, case, median, low, high, batches, calls in lines:
        goal = 20.0 if case.startswith("non-redirect") else 1000.0
        row = Row("decision cost", f"core::decide, {case}", f"{float(median):.1f} ns",
                  f"{float(low):.1f}–{float(high):.1f}", int(batches),
                  goal=f"< {goal:.0f} ns", met=verdict(float(median) < goal))
        row.case += f" ({calls} calls/batch)"
        results.rows.append(row)


# ---------------------------------------------------------------- callgrind

def callgrind_section(workdir: Path, cert, results: Results):
    """apache2 -X under callgrind, counting only inside ap_process_async_request
    (every request's work for HTTP/1.1 and HTTP/2, start-up and shut-down
    excluded). Each host and path is served N1 times in one run and N2 times
    in another; the difference over N2 - N1 is the cost of one request with
    first-request effects cancelled, and the module's cost is On minus Off."""
    low, high = CALLGRIND_COUNTS
    per_request = {}
    for host in ("on", "off", "headers"):
        for path in ("/r", TARGET):
            counts = {n: callgrind_run(workdir / f"callgrind-{host}-{n}{path.replace('/', '-')}",
                                       cert, host, path, n)
                      for n in (low, high)}
            per_request[(host, path)] = (counts[high] - counts[low]) / (high - low)
    for path, kind in (("/r", "redirect"), (TARGET, "non-redirect (200)")):
        off = per_request[("off", path)]
        headers_added = per_request[("headers", path)] - off
        for host, label in (("on", "module On"), ("headers", "mod_headers equivalent")):
            added = per_request[(host, path)] - off
            # The module's goals: a redirect within a tenth of what the
            # mod_headers line adds, a 200 within 300 instructions.
            goal = met = ""
            if host == "on" and path == "/r":
                goal, met = (f"≤ 1.1 × mod_headers ({1.1 * headers_added:+.0f})",
                             verdict(added <= 1.1 * headers_added))
            elif host == "on":
                goal, met = "≤ +300", verdict(added <= 300)
            results.rows.append(Row(
                "instructions", f"HTTP/1.1+TLS {kind}: added by {label} vs Off "
                f"(Off: {off:.0f} Ir/request)",
                f"{added:+.0f} Ir/request", f"N = {low} and {high}", 2,
                ratio=f"{per_request[(host, path)] / off:.4f} (/Off)", goal=goal, met=met))


def callgrind_run(root: Path, cert, host: str, path: str, requests: int,
                  build: Callable[[Path, tuple], Httpd] = None, http2: bool = False,
                  distinct: bool = False, headers: List[str] = (),
                  warm: List[str] = ()) -> int:
    """Instructions counted in one run of `requests` requests to host+path,
    on the server `build` makes (bench_httpd by default), over one HTTP/1.1
    or HTTP/2 connection; `distinct`: each request to path?n=<i>, a URL the
    server has never seen; `headers`: request fields (h2load's -H); `warm`:
    paths of the same host requested once each before (every run starts
    with an empty store: what a redirect's 103 carries is learned so; the
    same in both runs, they cancel out)."""
    log(f"callgrind: {requests} requests to {host} {path}"
        f"{' (HTTP/2)' if http2 else ''}{' (distinct URLs)' if distinct else ''}")
    root.mkdir()
    # apache2 -X and valgrind run as the user Apache would switch to: callgrind
    # writes its output at exit, when a root-started Apache is that user anyway.
    own_cert = (root / "localhost.crt", root / "localhost.key")
    for source, copy in zip(cert, own_cert):
        shutil.copyfile(source, copy)
    h = (build or bench_httpd)(root, own_cert)
    h.conf_path.write_text(h.config_text())
    shutil.chown(root, env.RUN_USER, env.RUN_USER)
    for p in root.rglob("*"):
        shutil.chown(p, env.RUN_USER, env.RUN_USER)
    out_file = root / "callgrind.out"
    valgrind_log = root / "valgrind.log"
    with open(valgrind_log, "wb") as stderr:
        proc = subprocess.Popen(
            ["setpriv", f"--reuid={env.RUN_USER}", f"--regid={env.RUN_USER}", "--init-groups",
             VALGRIND, "--tool=callgrind", "--collect-atstart=no",
             "--toggle-collect=ap_process_async_request",
             f"--callgrind-out-file={out_file}", *h.cmd("-X")],
            stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
    try:
        wait_port(h.port(host), proc, timeout=120)
        for warm_path in warm:
            run_requests([h.url(host, warm_path)], 1, http2, headers)
        urls = ([h.url(host, f"{path}?n={i}") for i in range(requests)] if distinct
                else [h.url(host, path)])
        run_requests(urls, requests, http2, headers)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    totals = re.search(r"^totals: (\d+)", out_file.read_text() if out_file.is_file() else "",
                       re.M)
    if not totals:
        raise RuntimeError(f"callgrind wrote no totals; see {valgrind_log}:\n"
                           + valgrind_log.read_text()[-2000:])
    return int(totals.group(1))


# ------------------------------------------------------------------- store

LEARNED = "/learned.html"
LEARNED_LINK = "</s/learned.css>; rel=preload; as=style"
STORE_RSS_URLS = 2_000 if SMOKE else 100_000


def store_httpd(cache: Optional[str]) -> Callable[[Path, tuple], Httpd]:
    """bench_httpd's hosts, plus `hints` (PushRedirect and Early Hints on) and
    `off` serving /learned.html (a 200 with one preload) and /h, a redirect to
    it; `cache`: the PushRedirectEarlyHintsCache line, None for the default
    (shmcb)."""
    def build(workdir: Path, cert) -> Httpd:
        h = bench_httpd(workdir, cert)
        h.write(f"htdocs{LEARNED}", TARGET_BODY)
        h.add_global("H2EarlyHints on\n"
                     + (f"PushRedirectEarlyHintsCache {cache}\n" if cache else ""))
        page = (f"    RedirectMatch 302 ^/h$ {LEARNED}\n"
                f"    <Location {LEARNED}>\n        Header add Link \"{LEARNED_LINK}\"\n"
                f"    </Location>\n")
        h.add_vhost("hints", "    PushRedirect On\n    PushRedirectEarlyHints On\n" + page)
        h.add_vhost("off2", "    PushRedirect Off\n" + page)
        return h
    return build


def store_section(workdir: Path, cert, results: Results):
    """What learning costs: callgrind per request for a learned 200 and a
    redirect hinted from the store (HTTP/2, default shmcb), for redirects to
    URLs the store has never seen, and for the HTTP/1.1 cases of the
    callgrind section with the store turned off; then the children's RSS
    after learning many distinct URLs."""
    low, high = CALLGRIND_COUNTS

    def per_request(name, build, host, path, **kw):
        slug = path.replace("/", "-")
        counts = [callgrind_run(workdir / f"store-{name}-{host}{slug}-{n}", cert, host, path, n,
                                build=build, **kw) for n in (low, high)]
        return (counts[1] - counts[0]) / (high - low)

    def row(case, on, off, note=""):
        results.rows.append(Row("instructions", f"{case} (Off: {off:.0f} Ir/request){note}",
                                f"{on - off:+.0f} Ir/request", f"N = {low} and {high}", 2,
                                ratio=f"{on / off:.4f} (/Off)"))

    shmcb = store_httpd(None)
    page_on = per_request("shmcb", shmcb, "hints", LEARNED, http2=True)
    page_off = per_request("shmcb", shmcb, "off2", LEARNED, http2=True)
    row("HTTP/2+TLS learned 200 with one preload (settled after the first): "
        "added by PushRedirect + Early Hints On vs Off", page_on, page_off)
    hinted_on = per_request("shmcb", shmcb, "hints", "/h", http2=True, warm=[LEARNED])
    hinted_off = per_request("shmcb", shmcb, "off2", "/h", http2=True, warm=[LEARNED])
    row("HTTP/2+TLS redirect hinted from the store (its target learned first; a lookup, "
        "a 103; h2load refuses the push): added by PushRedirect + Early Hints On vs Off",
        hinted_on, hinted_off)
    cold_on = per_request("cold", shmcb, "on", "/r", distinct=True)
    cold_off = per_request("cold", shmcb, "off", "/r", distinct=True)
    row("HTTP/1.1+TLS redirect, each to a URL the store has never seen: "
        "added by module On vs Off", cold_on, cold_off,
        "; past the write budget of query URLs (16, then 2/s) the rest are refused before "
        "the store is read")
    none = store_httpd("none")
    for path, kind in (("/r", "redirect"), (TARGET, "non-redirect (200)")):
        on = per_request("none", none, "on", path)
        off = per_request("none", none, "off", path)
        row(f"HTTP/1.1+TLS {kind}, PushRedirectEarlyHintsCache none: "
            "added by module On vs Off", on, off)
    store_rss_row(workdir, cert, results)


def store_rss_row(workdir: Path, cert, results: Results):
    """RSS of each child before and after STORE_RSS_URLS distinct URLs, each a
    200 with a preload that the store learns (as far as the write budget
    lets it) and a redirect to one that is looked up."""
    from harness import load  # noqa: E402 (tests/harness)
    h = store_httpd(None)(workdir / "store-rss", cert)
    h.start()
    try:
        def hammer(count: int, offset: int):
            urls = [h.url("hints", f"{LEARNED}?n={i}") for i in range(offset, offset + count)]
            chunk = 5_000
            for at in range(0, len(urls), chunk):
                part = urls[at:at + chunk]
                p = subprocess.run([H2LOAD, "-c", "4", "-t", "1", "-m", "8", "-n",
                                    str(len(part)), *part],
                                   capture_output=True, text=True, timeout=600)
                if f"{len(part)} succeeded" not in p.stdout:
                    raise RuntimeError(f"h2load:\n{p.stdout}\n{p.stderr}")
        hammer(2_000, 0)
        before = load.rss_snapshot(h.proc.pid)
        hammer(STORE_RSS_URLS, 2_000)
        after = load.rss_snapshot(h.proc.pid)
    finally:
        h.stop()
    growth = [after[pid] - before[pid] for pid in before if pid in after]
    if not growth:
        raise RuntimeError(f"no child lived through the run: {before} {after}")
    results.rows.append(Row(
        "memory", f"RSS growth per child over {STORE_RSS_URLS:,} distinct learned URLs "
        f"(HTTP/2, default shmcb; {len(growth)} children; before: "
        f"{max(before.values()) // 1024} MB)", f"{max(growth):+d} kB",
        f"{min(growth):+d} to {max(growth):+d} kB", 1))


# ----------------------------------------------------------------- browser

# What a browser's navigation sends: h2load refuses push, as browsers do.
NAVIGATION = ["Sec-Fetch-Mode: navigate", "Sec-Fetch-Dest: document"]
# The most a redirect whose 103 is filled from what was learned may add
# (docs/behaviour.md, "cost").
HINTED_REDIRECT_GOAL = 12_000


# A page whose head links two stylesheets and a script, no Link field: what
# the HTML scan reads on a first visit.
STYLED = "/styled.html"
STYLED_BODY = ("<!doctype html><html><head><meta charset=utf-8><title>styled</title>\n"
               + "<meta name=description content='a page of the bench'>\n" * 20
               + "<link rel=stylesheet href=/s/base.css>\n<link rel=stylesheet href=/s/page.css>\n"
               + "<script src=/s/app.js defer></script>\n</head><body>\n"
               + "<p>the page's text</p>\n" * 60 + "</body></html>\n")


def browser_httpd(workdir: Path, cert) -> Httpd:
    """store_httpd's hosts (default shmcb), plus `ahead` (Early Hints on,
    sent ahead) and `static` (the module off, mod_http2's H2EarlyHint
    sending the same 103 for /learned.html), each configured as `off2` is
    but for those lines, so that the rows compare the 103s alone."""
    h = store_httpd(None)(workdir, cert)
    h.write(f"htdocs{STYLED}", STYLED_BODY)

    def page(extra: str = "") -> str:
        return (f"    RedirectMatch 302 ^/h$ {LEARNED}\n"
                f"    <Location {LEARNED}>\n        Header add Link \"{LEARNED_LINK}\"\n"
                f"{extra}    </Location>\n")
    h.add_vhost("ahead", "    PushRedirectEarlyHints On\n    PushRedirectEarlyHintsAhead On\n"
                + page())
    h.add_vhost("static", "    PushRedirect Off\n"
                + page(f"        H2EarlyHint Link \"{LEARNED_LINK}\"\n"))
    # `hints` as it was before pages taught from their HTML.
    h.add_vhost("linkonly", "    PushRedirect On\n    PushRedirectEarlyHints On\n"
                "    PushRedirectEarlyHintsFromHTML Off\n" + page())
    return h


def check_early_hints(workdir: Path, cert):
    """What each host of the browser rows sends a navigation, on an Apache
    of their own (not under valgrind), so that a host that sends no 103, or
    one where it should send none, is not measured by mistake."""
    h = browser_httpd(workdir / "browser-check", cert)
    h.start()
    try:
        def hints(host, path):
            out = subprocess.run(
                [env.NGHTTP, "-nv", "--no-push", *[a for f in NAVIGATION for a in ("-H", f)],
                 h.url(host, path)], capture_output=True, text=True, timeout=20).stdout
            # nghttp -v: "recv (stream_id=13) :status: 103", its fields, then the final status.
            interim = re.search(r":status: 103\n(.*?):status: [2-5]", out, re.S)
            return interim is not None and LEARNED_LINK in interim.group(1)
        for host, path in (("ahead", LEARNED), ("hints", LEARNED)):
            hints(host, path)  # learns the page
        expect = {("off2", LEARNED): False, ("static", LEARNED): True,
                  ("ahead", LEARNED): True, ("off2", "/h"): False, ("hints", "/h"): True}
        for (host, path), want in expect.items():
            if hints(host, path) != want:
                raise RuntimeError(f"{host} {path}: a 103 with {LEARNED_LINK} "
                                   f"{'missing' if want else 'sent'}")
    finally:
        h.stop()


def browser_section(workdir: Path, cert, results: Results):
    """What a browser's navigation costs, under callgrind over HTTP/2+TLS
    with Sec-Fetch-Mode: navigate and Sec-Fetch-Dest: document: a learned
    page whose 103 goes out ahead of the handler, beside the same page on a
    host where mod_http2's static H2EarlyHint sends the same 103; and a
    redirect whose 103 carries what was learned for its target. Each as
    instructions added over the same page or redirect with the module
    off."""
    low, high = CALLGRIND_COUNTS
    check_early_hints(workdir, cert)

    def per_request(host, path, warm=(), distinct=False):
        slug = path.replace("/", "-") + ("-distinct" if distinct else "")
        counts = [callgrind_run(workdir / f"browser-{host}{slug}-{n}", cert, host, path, n,
                                build=browser_httpd, http2=True, headers=NAVIGATION,
                                warm=warm, distinct=distinct)
                  for n in (low, high)]
        return (counts[1] - counts[0]) / (high - low)

    def row(case, on, off, goal="", met=""):
        results.rows.append(Row("instructions", f"{case} (Off: {off:.0f} Ir/request)",
                                f"{on - off:+.0f} Ir/request", f"N = {low} and {high}", 2,
                                ratio=f"{on / off:.4f} (/Off)", goal=goal, met=met))

    page_off = per_request("off2", LEARNED)
    page_static = per_request("static", LEARNED)
    page_ahead = per_request("ahead", LEARNED)
    static_added = page_static - page_off
    row("HTTP/2+TLS navigation to a learned page, its 103 sent ahead: added by "
        "PushRedirectEarlyHints + Ahead On vs Off", page_ahead, page_off,
        goal=f"≤ H2EarlyHint ({static_added:+.0f})",
        met=verdict(page_ahead - page_off <= static_added))
    row("HTTP/2+TLS navigation to the same page, the same 103 from mod_http2's "
        "H2EarlyHint: added vs Off", page_static, page_off)
    hinted_on = per_request("hints", "/h", warm=[LEARNED])
    hinted_off = per_request("off2", "/h", warm=[LEARNED])
    row("HTTP/2+TLS navigation through a redirect whose 103 is filled from what was "
        "learned (its target's one preload): added by PushRedirect + Early Hints On vs Off",
        hinted_on, hinted_off,
        goal=f"≤ {HINTED_REDIRECT_GOAL:+,}",
        met=verdict(hinted_on - hinted_off <= HINTED_REDIRECT_GOAL))
    scanned_on = per_request("hints", STYLED, distinct=True)
    scanned_off = per_request("off2", STYLED, distinct=True)
    row("HTTP/2+TLS 200 text/html read for its hints (a head of 2 stylesheets and a "
        "script, no Link field), each to a URL never seen (past the write budget of query "
        "URLs, 16 then 2/s, the rest are refused before their HTML is read): added by "
        "PushRedirect + Early Hints On vs Off", scanned_on, scanned_off)
    settled_on = per_request("hints", STYLED, warm=[STYLED])
    settled_off = per_request("off2", STYLED, warm=[STYLED])
    settled_link_only = per_request("linkonly", STYLED, warm=[STYLED])
    row("HTTP/2+TLS the same 200, learned and settled: added by PushRedirect + Early "
        "Hints On vs Off", settled_on, settled_off,
        goal=f"≤ HTML Off + 300 ({settled_link_only - settled_off + 300:+.0f})",
        met=verdict(settled_on - settled_link_only <= 300))
    row("HTTP/2+TLS the same 200, settled, PushRedirectEarlyHintsFromHTML Off (what "
        "it cost before pages taught from their HTML): added vs Off",
        settled_link_only, settled_off)


def wait_port(port: int, proc: subprocess.Popen, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"apache2 under valgrind exited with {proc.returncode}")
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"apache2 under valgrind: port {port} not answering")


def run_requests(urls: List[str], n: int, http2: bool = False, headers: List[str] = ()):
    """`n` requests over one connection, one at a time, to `urls` in turn,
    each with the fields `headers` ("Name: value")."""
    fields = [arg for header in headers for arg in ("-H", header)]
    p = subprocess.run([H2LOAD, *([] if http2 else ["--h1"]), "-c", "1", "-t", "1", "-m", "1",
                        *fields, "-n", str(n), *urls],
                       capture_output=True, text=True, timeout=600)
    if p.returncode != 0 or f"{n} succeeded" not in p.stdout:
        raise RuntimeError(f"h2load {urls[0]}:\n{p.stdout}\n{p.stderr}")


# ---------------------------------------------------------------------- fcp

def fcp_section(results: Results):
    """The Early Hints FCP section, when its script exists: rows in our columns."""
    script = REPO / "bench" / "fcp_early_hints.py"
    if not script.is_file():
        results.notes.append("FCP with Early Hints: bench/fcp_early_hints.py not present, skipped.")
        return
    log("fcp: bench/fcp_early_hints.py")
    script_rows(script, results)


def script_rows(script: Path, results: Results):
    """Runs a bench script that prints rows in our columns, and keeps them."""
    p = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                       env={**os.environ, "BENCH_SMOKE": "1" if SMOKE else "0"})
    if p.returncode != 0:
        raise RuntimeError(f"{script} failed:\n{p.stdout}\n{p.stderr}")
    for line in p.stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == len(COLUMNS) and not set(cells[0]) <= set("-: "):
            if cells[0] != COLUMNS[0]:
                results.rows.append(Row(cells[0], cells[1], cells[2], cells[3],
                                        int(cells[4]) if cells[4].isdigit() else 0,
                                        cells[5], cells[6], cells[7]))


def fcp_ahead_section(results: Results):
    """bench/fcp_ahead.py: first contentful paint behind a backend that thinks,
    Early Hints off, at the redirect and ahead of the backend."""
    log("fcp ahead: bench/fcp_ahead.py")
    script_rows(REPO / "bench" / "fcp_ahead.py", results)


def fcp_html_section(results: Results):
    """bench/fcp_html.py: first contentful paint with hints learned from HTML,
    Early Hints off vs on."""
    log("fcp html: bench/fcp_html.py")
    script_rows(REPO / "bench" / "fcp_html.py", results)


# ------------------------------------------------------------ whole chains

# What push-follow sees through the learned chain /c1 -> /c2 -> TARGET: with the
# module On the whole chain pushed with the first redirect, Off every hop asked.
CHAIN_WHOLE = ["requested", "pushed", "pushed"]
CHAIN_OFF = ["requested", "requested", "requested"]


def chain_httpd(workdir: Path, cert) -> Httpd:
    """An Apache of its own (nothing learned from the other sections), hosts
    "on" (PushRedirect On) and "off", each with the chain /c1 -> /c2 -> TARGET."""
    h = Httpd(workdir / "chain-httpd", cert[0], cert[1], module=MODULE, name="bench-chain")
    h.write(f"htdocs{TARGET}", TARGET_BODY)
    h.add_global("LogLevel warn push_redirect:warn\nMaxKeepAliveRequests 0\n")
    chain = "    RedirectMatch 302 ^/c1$ /c2\n    RedirectMatch 302 ^/c2$ " + TARGET + "\n"
    h.add_vhost("on", "    PushRedirect On\n" + chain)
    h.add_vhost("off", "    PushRedirect Off\n" + chain)
    return h


def chain_section(workdir: Path, cert, results: Results):
    """Time to the final 200 through a 2-hop chain the server has learned,
    module On with a client that takes pushes vs Off, at each RTT."""
    h = chain_httpd(workdir, cert)
    h.start()
    try:
        # One visit that requests every hop itself (a pushed stream teaches nothing).
        for host in ("on", "off"):
            r = push_follow.run(h.url(host, "/c1"), cacert=h.cert, no_push=True)
            if r.exit_code != 0 or r.sources() != CHAIN_OFF:
                raise RuntimeError(f"teaching the chain on {host}:\n{r.describe()}")
        for rtt in RTTS_MS:
            log(f"chain {rtt} ms: {RTT_RUNS} interleaved runs, module On and Off")
            proxies = {host: Proxy(h.port(host), rtt) for host in ("on", "off")}
            try:
                times: Dict[str, List[float]] = {"on": [], "off": []}
                seen = set()
                for _ in range(RTT_RUNS):
                    for host, allowed in (("on", (CHAIN_WHOLE,)), ("off", (CHAIN_OFF,))):
                        r = push_follow.run(h.url(host, "/c1"), cacert=h.cert,
                                            connect_to=proxies[host].address)
                        if r.exit_code != 0 or r.sources() not in allowed:
                            raise RuntimeError(f"chain on {host} at {rtt} ms: expected "
                                               f"hops {allowed}:\n{r.describe()}")
                        if host == "on":
                            seen.add(" → ".join(r.sources()))
                        times[host].append(r.trace["total_ms"])
            finally:
                for p in proxies.values():
                    p.stop()
            chain_rows(rtt, times, sorted(seen), results)
    finally:
        h.stop()


def chain_rows(rtt: int, times: Dict[str, List[float]], seen: List[str], results: Results):
    off = times["off"]
    results.rows.append(Row("whole chains", f"RTT {rtt} ms: learned 2-hop chain, module Off "
                            f"({' → '.join(CHAIN_OFF)})", f"{statistics.median(off):.1f} ms",
                            spread(off, "{:.1f}"), len(off)))
    on = times["on"]
    ratio = statistics.median(a / b for a, b in zip(on, off))
    results.rows.append(Row("whole chains", f"RTT {rtt} ms: learned 2-hop chain, module On, "
                            f"client takes push ({'; '.join(seen)})",
                            f"{statistics.median(on):.1f} ms", spread(on, "{:.1f}"), len(on),
                            f"{ratio:.3f} (On/Off)", "≤ 0.40 (1 RTT of 3)",
                            verdict(ratio <= 0.40)))


# -------------------------------------------------------------------- output

def table(rows: List[Row]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row.cells()) + " |"
              for row in rows]
    return "\n".join(lines)


def report(results: Results, info: Dict[str, str], seconds: float) -> str:
    command = "make bench" + (" BENCH_SMOKE=1" if SMOKE else "")
    out = [f"Generated by `{command}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
           f" in {seconds:.0f} s{' (SMOKE RUN: tiny sizes, figures meaningless)' if SMOKE else ''}.",
           "", "Machine: " + "; ".join(f"{k}: {v}" for k, v in info.items()) + ".", "",
           table(results.rows)]
    if results.notes:
        out += [""] + [f"- {note}" for note in results.notes]
    return "\n".join(out) + "\n"


def publish(text: str, svg: Path):
    doc = REPO / "BENCHMARKS.md"
    begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
    content = doc.read_text()
    if begin not in content or end not in content:
        raise RuntimeError(f"{doc}: markers {begin} / {end} not found")
    head, rest = content.split(begin, 1)
    _, tail = rest.split(end, 1)
    doc.write_text(f"{head}{begin}\n{text}{end}{tail}")
    (REPO / "docs").mkdir(exist_ok=True)
    shutil.copyfile(svg, REPO / "docs" / "bench-rtt.svg")
    log(f"published into {doc} and docs/bench-rtt.svg")


def main() -> int:
    started = time.monotonic()
    unknown = set(SECTIONS) - set(ALL_SECTIONS)
    if unknown or (PUBLISH and set(SECTIONS) != set(ALL_SECTIONS)):
        log(f"BENCH_SECTIONS: {', '.join(SECTIONS)}: not a full run of {', '.join(ALL_SECTIONS)}")
        return 2
    for tool in (MODULE, TOOLS / "push-follow", TOOLS / "latency-proxy"):
        if not Path(tool).is_file():
            log(f"{tool} is missing: run `make build tools` (make bench does)")
            return 2
    OUT.mkdir(parents=True, exist_ok=True)
    info = machine()
    results = Results()
    workdir = Path(tempfile.mkdtemp(prefix="push-redirect-bench-"))
    workdir.chmod(0o755)
    try:
        cert = env.make_cert(workdir / "certs")
        if "rtt" in SECTIONS or "throughput" in SECTIONS:
            h = bench_httpd(workdir, cert)
            h.start()
            try:
                check_links(h)
                if "rtt" in SECTIONS:
                    rtt_section(h, results)
                if "throughput" in SECTIONS:
                    throughput_section(h, results)
            finally:
                h.stop()
        if "chain" in SECTIONS:
            chain_section(workdir, cert, results)
        if "decide" in SECTIONS:
            decide_section(results)
        if "callgrind" in SECTIONS:
            callgrind_section(workdir, cert, results)
        if "store" in SECTIONS:
            store_section(workdir, cert, results)
        if "browser" in SECTIONS:
            browser_section(workdir, cert, results)
        if "fcp" in SECTIONS:
            fcp_section(results)
        if "fcp-ahead" in SECTIONS:
            fcp_ahead_section(results)
        if "fcp-html" in SECTIONS:
            fcp_html_section(results)
    finally:
        if not os.environ.get("PUSH_REDIRECT_KEEP_TMP"):
            shutil.rmtree(workdir, ignore_errors=True)
    svg = OUT / "rtt.svg"
    svg.write_text(svg_plot.rtt_plot(results.rtt_series, smoke=SMOKE))
    text = report(results, info, time.monotonic() - started)
    (OUT / "results.md").write_text(text)
    print(text)
    log(f"wrote {OUT / 'results.md'} and {svg}")
    if PUBLISH:
        publish(text, svg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
