"""`make bench BENCH_SMOKE=1`: the benchmark runs end to end, in seconds.

No timing is asserted (benchmarks are programs, not timed tests); this only
keeps `make bench` from rotting: every section ran and printed its rows, and
the plot was written.
"""

import os
import re
import subprocess

from harness import env

ROWS = [
    r"round trips \| RTT 20 ms: module On, client takes push \(requested → pushed\)",
    r"round trips \| RTT 20 ms: module On, client refuses push",
    r"round trips \| RTT 20 ms: module Off",
    r"round trips \| RTT 100 ms: module On, client takes push .*\| ≤ 0\.55 \|",
    r"round trips \| RTT 100 ms: 2-hop chain, module On, client takes push "
    r"\(requested → pushed → requested\)",
    r"round trips \| RTT 100 ms: 2-hop chain, module Off",
    *[rf"server overhead \| {load}, {proto}: {host} \| \d+ req/s"
      for load in ("redirect-only", "200-only")
      for proto in (r"HTTP/1\.1\+TLS", "HTTP/2")
      for host in ("module On", "module Off", "mod_headers equivalent")],
    r"decision cost \| core::decide, non-redirect \(200\).*\| [\d.]+ ns \|",
    r"decision cost \| core::decide, same-origin relative Location",
    r"decision cost \| core::decide, same-origin absolute Location",
    r"decision cost \| core::decide, cross-origin Location \(rejected\)",
    r"instructions \| HTTP/1\.1\+TLS redirect: added by module On vs Off .*\| [+-]\d+ Ir/request",
    r"instructions \| HTTP/1\.1\+TLS non-redirect \(200\): added by module On vs Off",
    r"instructions \| HTTP/1\.1\+TLS redirect: added by mod_headers equivalent",
    r"instructions \| HTTP/2\+TLS learned 200 with one preload .*\| [+-]\d+ Ir/request",
    r"instructions \| HTTP/2\+TLS redirect hinted from the store .*\| [+-]\d+ Ir/request",
    r"instructions \| HTTP/1\.1\+TLS redirect, each to a URL the store has never seen",
    r"instructions \| HTTP/1\.1\+TLS redirect, PushRedirectEarlyHintsCache none",
    r"instructions \| HTTP/1\.1\+TLS non-redirect \(200\), PushRedirectEarlyHintsCache none",
    r"instructions \| HTTP/2\+TLS navigation to a learned page, its 103 sent ahead: .*"
    r"\| [+-]\d+ Ir/request .*\| ≤ H2EarlyHint \([+-]\d+\) \|",
    r"instructions \| HTTP/2\+TLS navigation to the same page, the same 103 from mod_http2's "
    r"H2EarlyHint: .*\| [+-]\d+ Ir/request",
    r"instructions \| HTTP/2\+TLS navigation through a redirect whose 103 is filled from what "
    r"was learned .*\| [+-]\d+ Ir/request .*\| ≤ \+12,000 \|",
    r"memory \| RSS growth per child over [\d,]+ distinct learned URLs .*\| [+-]\d+ kB \|",
    r"whole chains \| RTT 100 ms: learned 2-hop chain, module Off",
    r"whole chains \| RTT 100 ms: learned 2-hop chain, module On, client takes push "
    r"\(requested → pushed → pushed\).*\| ≤ 0\.40 \(1 RTT of 3\) \|",
    r"FCP, slow backend \| /page direct, .*: Early Hints off \(baseline\).*\| \d+ ms \|",
    r"FCP, slow backend \| /page direct, .*: ahead",
    r"FCP, slow backend \| /old → /page, .*: 103 at the redirect.*\| \d+ ms \|",
    r"FCP, slow backend \| /old → /page, .*: 103 ahead",
    r"FCP, hints from HTML \| Django admin, /admin/ → login page, .*: Early Hints off "
    r"\(baseline\) \| \d+ ms \|",
    r"FCP, hints from HTML \| Django admin, .*: Early Hints on \(initiatorType: base\.css .*"
    r"nav_sidebar\.js .*\) \| \d+ ms \|",
    r"FCP, hints from HTML \| /slow/page direct, .*: Early Hints off \(baseline\) \| \d+ ms \|",
    r"FCP, hints from HTML \| /slow/page direct, .*: Early Hints on \(initiatorType: a\.css .*"
    r"app\.js .*\) \| \d+ ms \|",
]


def test_make_bench_smoke(tmp_path, module_so):
    out = tmp_path / "bench"
    p = subprocess.run(["make", "-s", "bench"], cwd=env.REPO, capture_output=True, text=True,
                       timeout=900, env={**os.environ, "BENCH_SMOKE": "1", "BENCH_OUT": str(out),
                                         "BENCH_PUBLISH": ""})
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-5000:]
    results = (out / "results.md").read_text()
    assert results in p.stdout
    assert "Machine: CPU:" in results and "mod_http2:" in results, results
    for row in ROWS:
        assert re.search(row, results), f"no row matching {row!r} in:\n{results}"
    svg = (out / "rtt.svg").read_text()
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>"), svg[:200]
    # One line per case of the round-trip section.
    assert svg.count("<polyline") == 5, svg
