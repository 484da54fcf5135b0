#!/usr/bin/python3
"""Load and restarts against a real Apache with the module, under the event,
worker and prefork MPMs; prints what it measured (and writes it as JSON).

Per MPM: a warm-up, then h2load (HTTP/2; HTTP/1.1 under prefork, where
mod_http2 does not run) cycling through a mix of pushed, skipped and
non-redirect requests, nghttp as a push-accepting client, and the resident
memory of every child sampled from /proc while it runs. Then, under event,
`apachectl -k graceful` three times during a load run, once with the module
and once without, to compare failed requests.

    stress/load.py [--requests N] [--warmup N] [--graceful-requests N] [--json FILE]
"""

import argparse
import json
import re
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from harness import env, load  # noqa: E402
from harness.httpd import Httpd  # noqa: E402

MPMS = ["event", "worker", "prefork"]


def start(workdir: Path, cert, mpm: str, module, clients: int, name: str,
          extra: str = None) -> Httpd:
    root = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=workdir))
    h = Httpd(root, *cert, module=module, name=name, mpm=mpm)
    load.configure(h, mpm, clients)
    # The load runs measure the module, not its trace1 logging.
    h.add_global("LogLevel warn")
    if extra:
        h.add_global(extra)
    h.start(expected_log=[load.PREFORK_WARNING] if mpm == "prefork" else [])
    return h


def access_tokens(h: Httpd) -> dict:
    """How many access-log lines carry each push/skip value."""
    counts = {"push": 0}
    with open(h.access_log, encoding="utf-8", errors="replace") as log:
        for line in log:
            m = re.search(r"\tpush=([^\t]*)\tskip=(\S*)", line)
            if not m:
                continue
            if m.group(1) != "-":
                counts["push"] += 1
            if m.group(2) != "-":
                counts[m.group(2)] = counts.get(m.group(2), 0) + 1
    return counts


def run_mpm(workdir, cert, module, mpm, args) -> dict:
    http1 = mpm == "prefork"
    h = start(workdir, cert, mpm, module, args.clients, f"load-{mpm}")
    try:
        children = load.child_pids(h.proc.pid)
        run = load.run_rounds(h, http1, args.warmup, args.rounds, args.requests // args.rounds,
                              args.clients, args.streams, args.push_rounds)
        growth = run.growth_kb()
        out = {
            "mpm": mpm, "protocol": "http/1.1" if http1 else "h2",
            "warmup_requests": args.warmup, **run.totals(),
            "seconds": round(sum(r.seconds for r in run.loads), 1),
            "children_at_start": sorted(children),
            "children_still_alive": sorted(children & load.child_pids(h.proc.pid)),
            "rss_kb_after_each_round": [{str(k): v for k, v in snap.items()}
                                        for snap in run.snapshots],
            "rss_growth_kb": {str(k): v for k, v in growth.items()},
            "max_rss_growth_kb": max(growth.values(), default=None),
            "crash_lines": load.crash_lines(h),
            "access_log": access_tokens(h),
        }
    finally:
        h.stop()
    return out


# A control for the graceful runs: another module that does nothing here.
CONTROL_MODULE = env.APACHE_MODULES / "mod_lua.so"


def run_graceful(workdir, cert, variant, module, args) -> dict:
    """h2load while the parent gets three graceful restarts; failed counts.
    variant: "without" (no module), "with" (ours), "control" (mod_lua instead)."""
    h = start(workdir, cert, "event", module if variant == "with" else None,
              args.clients, f"graceful-{variant}",
              extra=f'LoadModule lua_module "{CONTROL_MODULE}"' if variant == "control" else None)
    try:
        done = threading.Event()

        def restarts():
            for _ in range(3):
                if done.wait(args.graceful_seconds / 4):
                    return
                load.graceful(h)

        t = threading.Thread(target=restarts)
        t.start()
        res = load.h2load(h, 0, args.clients, args.streams, False,
                          duration=args.graceful_seconds)
        done.set()
        t.join()
        time.sleep(1)
        gracefuls = h.read_error_log().count("SIGUSR1 received")
        return {"variant": variant, "requests": res.total, "succeeded": res.succeeded,
                "failed": res.failed, "errored": res.errored, "timeout": res.timeout,
                "status": res.status, "seconds": round(res.seconds, 1),
                "graceful_restarts": gracefuls, "crash_lines": load.crash_lines(h),
                "parent_alive": h.alive()}
    finally:
        h.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=340_000, help="per MPM, after warm-up")
    ap.add_argument("--rounds", type=int, default=10, help="RSS is read after each")
    ap.add_argument("--warmup", type=int, default=20_000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--streams", type=int, default=10)
    ap.add_argument("--push-rounds", type=int, default=4,
                    help="nghttp connections of 50 pushed redirects, per round")
    ap.add_argument("--graceful-seconds", type=float, default=12.0,
                    help="length of each graceful-restart run; restarts at 1/4, 2/4, 3/4")
    ap.add_argument("--graceful-pairs", type=int, default=5,
                    help="runs without and with the module, alternating")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--mpm", action="append", choices=MPMS)
    ap.add_argument("--without-module", action="store_true",
                    help="the same MPM runs without the module (RSS control); no graceful runs")
    args = ap.parse_args()
    module = env.module_path()
    if not module.is_file():
        print(f"module not built: {module}", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="push-redirect-stress-"))
    workdir.chmod(0o755)
    cert = env.make_cert(workdir / "certs")
    results = {"mpms": [], "graceful": []}
    ok = True
    try:
        for mpm in args.mpm or MPMS:
            r = run_mpm(workdir, cert, None if args.without_module else module, mpm, args)
            results["mpms"].append(r)
            print(f"{mpm:8} {r['protocol']:8} {r['total']:>8} requests in {r['seconds']}s "
                  f"(+{r['warmup_requests']} warm-up): {r['succeeded']} ok, {r['failed']} "
                  f"failed, {r['errored']} errored, {r['timeout']} timeout; 2xx {r['2xx']}, "
                  f"3xx {r['3xx']}, 4xx {r['4xx']}, 5xx {r['5xx']}; children "
                  f"{len(r['children_at_start'])} at start, "
                  f"{len(r['children_still_alive'])} still alive; crash lines "
                  f"{len(r['crash_lines'])}")
            print(f"{'':8} RSS growth after warm-up, per child (kB): {r['rss_growth_kb']}")
            first, last = r["rss_kb_after_each_round"][0], r["rss_kb_after_each_round"][-1]
            print(f"{'':8} RSS after warm-up {first}, after the last round {last}")
            print(f"{'':8} access log: {r['access_log']}")
            if r["push_requests"]:
                print(f"{'':8} push client: {r['push_requests']} requests, "
                      f"{r['push_promises']} PUSH_PROMISEs, {r['push_failures']} failed runs")
            ok &= (r["failed"] == r["errored"] == r["timeout"] == 0 and not r["crash_lines"]
                   and r["children_at_start"] == r["children_still_alive"]
                   and r["push_failures"] == 0
                   and (args.without_module or r["push_promises"] == r["push_requests"]))
        if args.without_module:
            args.graceful_pairs = 0
        variants = ["without", "with"] + (["control"] if CONTROL_MODULE.is_file() else [])
        for _ in range(args.graceful_pairs):
            for variant in variants:
                g = run_graceful(workdir, cert, variant, module, args)
                results["graceful"].append(g)
                print(f"graceful x{g['graceful_restarts']} {variant:7}: {g['requests']} requests in {g['seconds']}s, {g['succeeded']} "
                      f"ok, {g['failed']} failed, {g['errored']} errored, {g['timeout']} "
                      f"timeout; crash lines {len(g['crash_lines'])}")
                ok &= not g["crash_lines"] and g["parent_alive"] and g["graceful_restarts"] == 3
        # A graceful restart fails the streams in flight on the old children's
        # HTTP/2 connections (GOAWAY; h2load does not retry them), with or
        # without the module, and more of them when the parent has more modules
        # to reload: the control loads mod_lua instead of ours. Over the
        # alternating runs, ours must fail no more than the control plus 0.2%
        # of the requests (about one connection's in-flight streams a restart).
        sums = {}
        for g in results["graceful"]:
            s = sums.setdefault(g["variant"], {"requests": 0, "failed": 0})
            s["requests"] += g["requests"]
            s["failed"] += g["failed"]
        results["graceful_totals"] = sums
        rate = {k: v["failed"] / max(v["requests"], 1) for k, v in sums.items()}
        if sums:
            print("graceful failure rates: " + ", ".join(
                f"{k} {v:.4%} ({sums[k]['failed']} of {sums[k]['requests']})"
                for k, v in rate.items()))
            ok &= rate["with"] <= max(rate["without"], rate.get("control", 0)) + 0.002
        total = sum(r["total"] + r["warmup_requests"] + r["push_requests"]
                    for r in results["mpms"])
        total += sum(g["requests"] for g in results["graceful"])
        print(f"total requests: {total}")
        results["total_requests"] = total
    finally:
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(results, indent=1))
        shutil.rmtree(workdir, ignore_errors=True)
    print("load: OK" if ok else "load: FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
