"""A short load under each MPM (stress/load.py is the long one, `make stress`).

h2load (HTTP/2; HTTP/1.1 under prefork, where mod_http2 does not run) cycles
through pushed, skipped and non-redirect requests; nghttp takes pushes. Zero
failed requests, the same children alive afterwards, no crash line, the
decisions counted in the access log, and each child's resident memory after
warm-up flat within a bound. Then three graceful restarts during a load run.
"""

import re
import threading
import time

import pytest

from harness import load

REQUESTS = 15_000
ROUNDS = 3
WARMUP = 5_000
PUSH_ROUNDS = 1      # nghttp connections of 50 pushed redirects, per round
CLIENTS = 8
STREAMS = 10
# Prefork is the sharp check: its children grow by about 100 kB (pages touched
# once) whatever the load; a leak of 300 bytes a request would add more than
# the 512 kB allowed to a child serving its ~1,900 requests here.
# Threaded MPMs are compared with a run without the module, but their children
# jump by several MB from run to run (each thread that first allocates gets
# memory from another malloc arena; each thread's APR allocator keeps up to
# MaxMemFree), so only a gross leak, about 1 kB a request, shows beyond 16 MB.
# stress/load.py has the long runs of both.
PREFORK_RSS_GROWTH_LIMIT_KB = 512
THREADED_EXTRA_GROWTH_LIMIT_KB = 16384


@pytest.fixture(scope="module", params=["event", "worker", "prefork"])
def httpd(request, httpd_factory, module_so):
    mpm = request.param
    h = httpd_factory(f"load-{mpm}", module=module_so, mpm=mpm)
    load.configure(h, mpm, CLIENTS)
    h.add_global("LogLevel warn")  # not a trace1 line per request
    h.start(expected_log=[load.PREFORK_WARNING] if mpm == "prefork" else [])
    return h


def decisions(h) -> dict:
    counts = {}
    for entry in h.access_entries():
        key = "push" if entry["push"] != "-" else entry["skip"]
        counts[key] = counts.get(key, 0) + 1
    return counts


def test_mixed_load_fails_nothing_and_grows_no_child(httpd, httpd_factory):
    http1 = httpd.mpm == "prefork"
    children = load.child_pids(httpd.proc.pid)
    run = load.run_rounds(httpd, http1, WARMUP, ROUNDS, REQUESTS // ROUNDS, CLIENTS, STREAMS,
                          PUSH_ROUNDS)
    totals = run.totals()
    assert (totals["succeeded"], totals["failed"], totals["errored"], totals["timeout"]) == \
        (REQUESTS, 0, 0, 0), [r.output for r in run.loads]
    # MIX: three redirects, two pages, in equal shares.
    assert (totals["2xx"], totals["3xx"], totals["4xx"], totals["5xx"]) == \
        (REQUESTS * 2 // 5, REQUESTS * 3 // 5, 0, 0), totals
    pushed = 0 if http1 else (1 + ROUNDS) * PUSH_ROUNDS * 50  # warm-up + rounds
    if not http1:
        assert totals["push_failures"] == 0, totals
        assert totals["push_promises"] == totals["push_requests"] == ROUNDS * PUSH_ROUNDS * 50
    assert children <= load.child_pids(httpd.proc.pid), "an Apache child went away"
    assert load.crash_lines(httpd) == []

    # Every redirect was decided: pushed over HTTP/1.1 (a Link), skipped as
    # push-disabled for h2load (which refuses push), excluded, cross-origin.
    share = (WARMUP + REQUESTS) // 5
    counts = decisions(httpd)
    if http1:
        assert (counts.get("push"), counts.get("excluded"), counts.get("cross-origin")) == \
            (share, share, share), counts
    else:
        assert (counts.get("push"), counts.get("push-disabled")) == (pushed, 3 * share), counts

    growth = run.growth_kb()
    assert growth, "no child was sampled"
    worst = max(growth.values())
    print(f"{httpd.mpm}: RSS growth after warm-up, worst child: {worst} kB "
          f"(per child: {growth}; after each round: {run.snapshots})")
    if http1:
        # Prefork: one request at a time per process, pools reused: flat.
        assert worst <= PREFORK_RSS_GROWTH_LIMIT_KB, run.snapshots
    else:
        # Threaded MPMs: each worker thread's allocator keeps up to MaxMemFree
        # (2 MB) of freed memory, and more threads get used as the load goes
        # on, so a child grows for a while with or without the module. Compare
        # with the same load on the same configuration without it.
        control = control_growth_kb(httpd_factory, httpd.mpm)
        print(f"{httpd.mpm}: without the module, children grew by {control} kB in total")
        assert sum(growth.values()) <= sum(control.values()) + THREADED_EXTRA_GROWTH_LIMIT_KB, \
            (growth, control)


def control_growth_kb(httpd_factory, mpm) -> dict:
    h = httpd_factory(f"load-{mpm}-control", module=None, mpm=mpm)
    load.configure(h, mpm, CLIENTS)
    h.start()
    try:
        return load.run_rounds(h, False, WARMUP, ROUNDS, REQUESTS // ROUNDS, CLIENTS, STREAMS,
                               PUSH_ROUNDS).growth_kb()
    finally:
        h.stop()


def test_three_graceful_restarts_under_load(httpd):
    if httpd.mpm != "event":
        pytest.skip("graceful restarts are run under event (stress/load.py compares them)")
    done = threading.Event()

    def restarts():
        for _ in range(3):
            if done.wait(1.0):
                return
            load.graceful(httpd)

    t = threading.Thread(target=restarts)
    t.start()
    res = load.h2load(httpd, 0, CLIENTS, STREAMS, False, duration=4)
    done.set()
    t.join()
    time.sleep(0.5)
    assert len(re.findall("SIGUSR1 received", httpd.read_error_log())) == 3
    assert httpd.alive() and load.crash_lines(httpd) == []
    # Only the streams in flight on old children's connections at each restart
    # may fail (GOAWAY): at most CLIENTS * STREAMS a restart.
    assert res.failed <= 3 * CLIENTS * STREAMS, res.output
    assert res.status["5xx"] == 0 and res.succeeded > 0, res.output
    # The new generation pushes.
    pushes = load.push_client(httpd, rounds=1, per_round=5)
    assert pushes.pushes == 5 and pushes.failures == 0, pushes
