"""Load against a real Apache: h2load (HTTP/2, or HTTP/1.1 for prefork) and
nghttp as a client that accepts pushes, a mixed workload of pushed redirects,
skipped redirects and plain pages, in rounds after a warm-up, the resident
memory of every Apache child read from /proc/<pid>/status after each round,
and graceful restarts.

Used by tests/test_load.py (a short run in `make test`) and stress/load.py
(`make stress`, about a million requests).
"""

import re
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List

from . import env
from .httpd import CRASH_LINE, Httpd

H2LOAD = "/usr/bin/h2load"
TARGET = "/t.html"
# The mix every client cycles through: a pushed redirect (a skip as
# push-disabled for h2load, which refuses push), an excluded one, a
# cross-origin one, a page that is no redirect, and the target.
MIX = ["/r/target", "/r/excluded", "/r/offsite", "/page.html", TARGET]
PREFORK_WARNING = r"AH10034: The mpm module \(prefork\.c\) is not supported by mod_http2"


def configure(h: Httpd, mpm: str, clients: int):
    """The site: one vhost serving MIX. The module's directives sit inside
    <IfModule>, so the same configuration runs with and without the module."""
    h.write(f"htdocs{TARGET}", "load target\n")
    h.write("htdocs/page.html", "load page\n")
    h.write("htdocs/excluded.html", "excluded\n")
    if mpm == "prefork":
        # One process per connection: start them all, so RSS is sampled on the
        # same processes from warm-up to the end.
        h.add_global(f"StartServers {clients + 2}\nMinSpareServers 1\n"
                     f"MaxSpareServers {clients + 8}\nMaxRequestWorkers 64\n")
    else:
        h.add_global("StartServers 2\nMinSpareThreads 25\nMaxSpareThreads 100\n")
    h.add_global("KeepAliveTimeout 30\nMaxKeepAliveRequests 0\n")
    h.add_vhost("main", """
    H2Push on
    Redirect /r/target /t.html
    Redirect /r/excluded /excluded.html
    Redirect /r/offsite https://other.example/
    # For the push client: a distinct target per request (mod_http2 pushes a
    # resource once per connection).
    RedirectMatch ^/rm/([0-9]+)$ /t.html?n=$1
    <IfModule push_redirect_module>
        PushRedirect On
        PushRedirectExclude ^/excluded
    </IfModule>
""")


def child_pids(parent: int) -> set:
    """Pids whose parent is `parent` (an Apache parent's children)."""
    pids = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            pids.add(int(stat.parent.name))
    return pids


def rss_kb(pid: int):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def rss_snapshot(parent: int) -> Dict[int, int]:
    """pid -> VmRSS in kB, for every child of `parent` now."""
    snap = {}
    for pid in child_pids(parent):
        kb = rss_kb(pid)
        if kb is not None:
            snap[pid] = kb
    return snap


@dataclass
class Rounds:
    """What `run_rounds` saw: per round the h2load result, the push client's,
    and the children's RSS after it (snapshots[0] is after the warm-up)."""
    loads: List["H2loadResult"] = field(default_factory=list)
    pushes: List["PushClientResult"] = field(default_factory=list)
    snapshots: List[Dict[int, int]] = field(default_factory=list)

    def growth_kb(self) -> Dict[int, int]:
        """pid -> RSS after the last round minus after the first round, for
        the children present in both. The first round is part of the warm-up:
        under prefork a child that got no connection during the warm-up
        proper grows by its first request's pools (about 2 MB seen), with or
        without the module."""
        first, last = self.snapshots[min(1, len(self.snapshots) - 1)], self.snapshots[-1]
        return {pid: last[pid] - first[pid] for pid in first if pid in last}

    def totals(self) -> dict:
        keys = ["total", "succeeded", "failed", "errored", "timeout"]
        out = {k: sum(getattr(r, k) for r in self.loads) for k in keys}
        for r in self.loads:
            for code, n in r.status.items():
                out[code] = out.get(code, 0) + n
        out["push_requests"] = sum(p.requests for p in self.pushes)
        out["push_promises"] = sum(p.pushes for p in self.pushes)
        out["push_failures"] = sum(p.failures for p in self.pushes)
        return out


def run_rounds(h: Httpd, http1: bool, warmup: int, rounds: int, per_round: int,
               clients: int, streams: int, push_rounds: int) -> Rounds:
    """A warm-up with the whole mix, then `rounds` equal rounds of it, the
    children's RSS read after each. Under prefork the warm-up opens one
    connection per child, so every child has served before the baseline."""
    warm_clients = clients + 2 if http1 else clients
    res = Rounds()
    warm = h2load(h, warmup, warm_clients, streams, http1)
    assert warm.failed == 0, warm.output
    if not http1:
        push_client(h, push_rounds)
    res.snapshots.append(rss_snapshot(h.proc.pid))
    for _ in range(rounds):
        res.loads.append(h2load(h, per_round, clients, streams, http1))
        if not http1:
            res.pushes.append(push_client(h, push_rounds))
        res.snapshots.append(rss_snapshot(h.proc.pid))
    return res


@dataclass
class H2loadResult:
    args: List[str]
    output: str
    total: int = 0
    succeeded: int = 0
    failed: int = 0
    errored: int = 0
    timeout: int = 0
    status: Dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def h2load(h: Httpd, requests: int, clients: int, streams: int, http1: bool,
           timeout: float = 900, duration: float = None) -> H2loadResult:
    """h2load over TLS cycling through MIX (`requests` of them, or for
    `duration` seconds); parsed counts."""
    amount = ["-D", str(int(duration))] if duration else ["-n", str(requests)]
    args = [H2LOAD, *amount, "-c", str(clients), "-m", str(streams), "-t", "1",
            *(["--h1"] if http1 else []), *[h.url("main", p) for p in MIX]]
    start = time.monotonic()
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    res = H2loadResult(args, p.stdout + p.stderr, seconds=time.monotonic() - start)
    m = re.search(r"requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded, "
                  r"(\d+) failed, (\d+) errored, (\d+) timeout", res.output)
    assert m, res.output
    res.total, res.succeeded, res.failed, res.errored, res.timeout = map(int, m.groups())
    m = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", res.output)
    assert m, res.output
    res.status = dict(zip(["2xx", "3xx", "4xx", "5xx"], map(int, m.groups())))
    return res


@dataclass
class PushClientResult:
    requests: int = 0
    responses: int = 0
    pushes: int = 0
    failures: int = 0


def push_client(h: Httpd, rounds: int, per_round: int = 50) -> PushClientResult:
    """nghttp, which accepts pushes: `rounds` connections of `per_round` requests
    /rm/<n>; each should bring one PUSH_PROMISE for /t.html?n=<n>."""
    res = PushClientResult()
    for _ in range(rounds):
        urls = [h.url("main", f"/rm/{n}") for n in range(per_round)]
        p = subprocess.run([env.NGHTTP, "-nv", *urls],
                           capture_output=True, timeout=120)
        out = p.stdout
        res.requests += per_round
        res.responses += len(re.findall(rb"recv \(stream_id=\d+\) :status: 302", out))
        res.pushes += len(re.findall(rb"recv PUSH_PROMISE frame", out))
        res.failures += p.returncode != 0
    return res


def graceful(h: Httpd):
    """apachectl -k graceful, sent to our own parent process."""
    h.proc.send_signal(signal.SIGUSR1)


def crash_lines(h: Httpd) -> List[str]:
    return [line for line in h.read_error_log().splitlines() if CRASH_LINE.search(line)]
