"""A shared store that hangs never stalls Apache.

A redis or memcached that accepts connections and never answers (a paused
server, a pooled connection a firewall dropped) held every request that
called it: apr_redis's timeout is 10^6 times too long and apr_memcache has
none. The module calls such a provider only from each child's store
threads, and a request waits for them at most WAIT (docs/directives.md,
PushRedirectEarlyHintsCache). Here a listener in the test accepts and never
answers: 50 hinted redirects at once to one child of 25 threads all get
their 302 within the bound, a static page outside the module's scopes
answers all along, one warning names the store; then a real server takes
the port and learning resumes by itself. And a child whose store threads
are stuck in a call exits at once, under each MPM.
"""

import http.client
import re
import signal
import socket
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness import clients, env
from harness.caches import Memcached, Redis
from harness.httpd import CRASH_LINE, bad_lines
from test_early_hints import early_hints_links
from test_learning import ONE_CHILD
from test_shared_cache import LOAD_MEMCACHE, LOAD_REDIS

# docs/directives.md, PushRedirectEarlyHintsCache: how long a request waits
# for the store threads, and how soon learning resumes once the store
# answers (the first probe, then apr_redis and apr_memcache try a server
# they saw fail again 5 s later).
WAIT = 0.050
RECOVERY = 10.0
# What a request costs on top of that on this 2-core machine shared with
# other work, 50 clients at once: before the store threads, every one of
# them waited past 25 s.
SLACK = 1.0
BURST = 50
HINT = "</s/page.css>; rel=preload; as=style"

PROVIDERS = {
    "redis": (Redis, LOAD_REDIS, r"AH0347[89]"),
    "memcache": (Memcached, LOAD_MEMCACHE, r"AH0079[01]"),
}
# The provider logs its own failures once the hung connections are closed;
# the module, one warning when the store hangs and one notice when it
# answers again.
STORE_LINES = (r"PR0112", r"PR0113")


class HungListener:
    """A TCP listener on 127.0.0.1 that accepts every connection, reads
    nothing and answers nothing, until closed."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", env.free_port()))
        self.sock.listen(128)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.accepted = []
        self.closing = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.closing.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.accepted.append(conn)

    def close(self):
        """Closes what it accepted (the callers see their connection end)
        and the port."""
        self.closing.set()
        self.thread.join()
        for conn in self.accepted:
            conn.close()
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if not self.closing.is_set():
            self.close()


def hinted_site(h, pages: int):
    """/hinted/burst-N redirects to a page never learned; /hinted/old-N to
    /hinted/page-N.html, a 200 with one preload. PushRedirect and the 103
    are on in /hinted/ only; /static.html is outside them."""
    h.write("htdocs/static.html", "static\n")
    for i in range(pages):
        h.write(f"htdocs/hinted/page-{i}.html", f"page {i}\n")
    h.add_vhost("main", f"""
    <Location /hinted/>
        PushRedirect On
        PushRedirectEarlyHints On
    </Location>
    RedirectMatch 302 ^/hinted/burst-(\\d+)$ /hinted/new-$1.html
    RedirectMatch 302 ^/hinted/old-(\\d+)$ /hinted/page-$1.html
    <LocationMatch "^/hinted/page-\\d+\\.html$">
        Header add Link "{HINT}"
    </LocationMatch>
""")


def server_time(r) -> float:
    """Seconds between nghttp sending the request and the final response
    arriving, from nghttp's own clock: the server's time, not the client's
    start-up or handshake."""
    out = r.out.decode("latin-1")
    sent = re.search(rf"^\[ *(\d+\.\d+)\] send HEADERS frame <[^>]*stream_id={r.main_id}>",
                     out, re.M)
    status = re.findall(rf"^\[ *(\d+\.\d+)\] recv \(stream_id={r.main_id}\) :status: (\d+)",
                        out, re.M)
    assert sent and status, r.describe()
    return float(status[-1][0]) - float(sent.group(1))


class StaticPoller:
    """Asks for /static.html over HTTP/1.1 on a fresh connection every
    50 ms until stopped; keeps each request's time, the connection's
    handshake apart."""

    def __init__(self, h):
        self.h = h
        self.times, self.errors = [], []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        context = ssl._create_unverified_context()
        while not self.done.is_set():
            conn = http.client.HTTPSConnection("127.0.0.1", self.h.port("main"),
                                               context=context, timeout=30)
            try:
                conn.connect()
                start = time.monotonic()
                conn.request("GET", "/static.html", headers={"Host": "localhost"})
                response = conn.getresponse()
                body = response.read()
                self.times.append(time.monotonic() - start)
                if response.status != 200 or body != b"static\n":
                    self.errors.append(f"{response.status} {body!r}")
            except OSError as e:
                self.errors.append(repr(e))
            finally:
                conn.close()
            self.done.wait(0.05)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()


def store_warnings(h, cache: str) -> list:
    return [line for line in h.read_error_log().splitlines()
            if re.search(r"\[push_redirect:warn\]", line) and cache in line]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_hung_store_costs_each_request_the_wait_and_learning_resumes(
        httpd_factory, module_so, workdir, provider):
    server_class, load_line, provider_lines = PROVIDERS[provider]
    with HungListener() as hung:
        cache = f"{provider}:127.0.0.1:{hung.port}"
        h = httpd_factory(f"hang-{provider}", module=module_so)
        h.add_global(f"{ONE_CHILD}{load_line}\nPushRedirectEarlyHintsCache {cache}\n")
        hinted_site(h, pages=40)
        h.start()

        # 50 hinted redirects at once; the static page all along.
        urls = [h.url("main", f"/hinted/burst-{i}") for i in range(BURST)]
        with StaticPoller(h) as static, ThreadPoolExecutor(BURST) as pool:
            started = time.monotonic()
            results = list(pool.map(lambda url: clients.nghttp(
                url, bodies=False, options=["--no-push"], timeout=30), urls))
            burst = time.monotonic() - started
            time.sleep(0.3)
        times = sorted(server_time(r) for r in results)
        print(f"{provider}: {BURST} redirects in {burst:.2f} s; per request "
              f"min {times[0] * 1000:.0f} ms, median {times[BURST // 2] * 1000:.0f} ms, "
              f"max {times[-1] * 1000:.0f} ms; static page: {len(static.times)} "
              f"answers, max {max(static.times) * 1000:.0f} ms")
        for r in results:
            assert r.main.status == 302, r.describe()
            assert early_hints_links(r) == [], r.describe()
        assert times[-1] <= WAIT + SLACK, times
        assert static.errors == [] and len(static.times) >= 3, static.errors
        assert max(static.times) <= SLACK, static.times
        # The next request that would use the store, once a call has run
        # 100 ms, finds it hung: marked unhealthy, skipped from then on.
        time.sleep(0.15)
        after = clients.nghttp(h.url("main", f"/hinted/burst-{BURST}"), bodies=False,
                               options=["--no-push"], timeout=30)
        assert after.main.status == 302 and server_time(after) <= WAIT + SLACK, after.describe()
        log = h.read_error_log()
        assert "AH00484" not in log
        warnings = store_warnings(h, cache)
        assert len(warnings) == 1 and "PR0112" in warnings[0], warnings

        # A real server on the port: learning resumes by itself.
        hung.close()
        real = server_class(workdir)
        try:
            real.start(port=hung.port)
            up = time.monotonic()
            learned = None
            for i in range(40):
                r = clients.nghttp(h.url("main", f"/hinted/page-{i}.html"), bodies=False)
                assert r.main.status == 200, r.describe()
                time.sleep(0.1)
                r = clients.nghttp(h.url("main", f"/hinted/old-{i}"), bodies=False,
                                   options=["--no-push"])
                assert r.main.status == 302, r.describe()
                if early_hints_links(r) == [HINT]:
                    learned = time.monotonic() - up
                    break
                if time.monotonic() - up > RECOVERY:
                    break
                time.sleep(0.2)
            print(f"{provider}: learned again {learned} s after the server came up")
            assert learned is not None and learned <= RECOVERY, learned
            log = h.read_error_log()
            assert len(store_warnings(h, cache)) == 1, store_warnings(h, cache)
            assert "PR0102" not in log and "PR0113" in log
            h.stop()
            bad = bad_lines(h.read_error_log(), STORE_LINES + (provider_lines,))
            assert bad == [], bad
        finally:
            real.stop()


@pytest.mark.parametrize("mpm", ["event", "worker", "prefork"])
def test_a_child_whose_store_threads_hang_exits_at_once(httpd_factory, module_so, mpm):
    with HungListener() as hung:
        cache = f"redis:127.0.0.1:{hung.port}"
        h = httpd_factory(f"hang-exit-{mpm}", module=module_so, mpm=mpm)
        h.add_global(f"H2EarlyHints on\n{LOAD_REDIS}\nPushRedirectEarlyHintsCache {cache}\n")
        hinted_site(h, pages=1)
        prefork = [r"AH10034: The mpm module \(prefork\.c\) is not supported by mod_http2"]
        h.start(expected_log=prefork if mpm == "prefork" else [])
        # Over HTTP/1.1, which prefork serves: the pushed redirect's target
        # is looked up, and the redirect learned.
        for i in range(3):
            r = clients.curl(h.url("main", f"/hinted/burst-{i}"), timeout=10)
            assert r.status == 302, r.err
        deadline = time.monotonic() + 5
        while not store_warnings(h, cache) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(store_warnings(h, cache)) == 1, h.read_error_log()
        started = time.monotonic()
        h.proc.send_signal(signal.SIGTERM)
        h.proc.wait(timeout=15)
        took = time.monotonic() - started
        log = h.read_error_log()
        h.stop()
        print(f"{mpm}: stopped in {took:.2f} s")
        # AH00045/AH00046: a child that did not exit when told to.
        assert "AH00045" not in log and "AH00046" not in log, log
        assert [line for line in log.splitlines() if CRASH_LINE.search(line)] == []
        assert bad_lines(log, STORE_LINES + tuple(prefork)) == []
        assert took < 5, took
