"""A real browser for the tests and the benchmark: Debian's headless Chromium,
driven by chromedriver over the W3C WebDriver HTTP protocol (plain urllib, no
Python dependency), and the latency proxy from the tools crate in front of Apache.

Chromium ignores Early Hints when certificate errors are merely ignored, so the
test certificate is trusted by its public key instead
(`--ignore-certificate-errors-spki-list`), which Chromium treats as valid.
"""

import base64
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from . import env

CHROMIUM = os.environ.get("CHROMIUM", "/usr/lib/chromium/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", shutil.which("chromedriver") or "/usr/bin/chromedriver")
LATENCY_PROXY = Path(os.environ.get("LATENCY_PROXY",
                                    env.REPO / "target" / "release" / "latency-proxy"))


def spki_sha256(cert: Path) -> str:
    """base64 of the SHA-256 of the certificate's SubjectPublicKeyInfo (DER)."""
    pubkey = subprocess.run([env.OPENSSL, "x509", "-in", str(cert), "-noout", "-pubkey"],
                            check=True, capture_output=True).stdout
    der = subprocess.run([env.OPENSSL, "pkey", "-pubin", "-outform", "der"], input=pubkey,
                         check=True, capture_output=True).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


class LatencyProxy:
    """`latency-proxy --upstream 127.0.0.1:PORT --rtt-ms RTT` as a child process."""

    def __init__(self, upstream_port: int, rtt_ms: int):
        if not LATENCY_PROXY.is_file():
            raise RuntimeError(f"{LATENCY_PROXY} is missing: "
                               "cargo build --release -p push-redirect-tools")
        self.proc = subprocess.Popen(
            [str(LATENCY_PROXY), "--upstream", f"127.0.0.1:{upstream_port}",
             "--rtt-ms", str(rtt_ms), "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.stop()
            raise RuntimeError(f"latency-proxy said {line!r}")
        self.port = int(line.rsplit(":", 1)[1])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=5)


class WebDriverError(RuntimeError):
    pass


class Chromedriver:
    """One chromedriver process; each `session()` is a fresh Chromium with an
    empty profile (no cache, no connections left over from an earlier run)."""

    def __init__(self):
        self.port = env.free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="chromedriver-", suffix=".log", delete=False)
        self.proc = subprocess.Popen([CHROMEDRIVER, f"--port={self.port}"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            try:
                if self._call("GET", "/status")["value"].get("ready"):
                    break
            except (OSError, WebDriverError):
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError("chromedriver did not start")
            time.sleep(0.1)

    def _call(self, method: str, path: str, body=None, timeout: float = 60):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data,
                                         method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as e:
            raise WebDriverError(f"{method} {path}: {e.code} {e.read()[:2000]!r}") from None

    def session(self, trusted_cert: Path) -> "BrowserSession":
        profile = tempfile.mkdtemp(prefix="chromium-profile-")
        args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", f"--user-data-dir={profile}",
                f"--ignore-certificate-errors-spki-list={spki_sha256(trusted_cert)}"]
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
        }}}
        value = self._call("POST", "/session", caps)["value"]
        return BrowserSession(self, value["sessionId"], profile)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.log.close()
        os.unlink(self.log.name)


class BrowserSession:

    def __init__(self, driver: Chromedriver, session_id: str, profile: str):
        self.driver = driver
        self.id = session_id
        self.profile = profile

    def navigate(self, url: str):
        """Returns once the page has loaded (WebDriver's default page load strategy)."""
        self.driver._call("POST", f"/session/{self.id}/url", {"url": url})

    def execute(self, script: str, *args):
        """Runs `script` (a function body) in the page and returns its value."""
        return self.driver._call("POST", f"/session/{self.id}/execute/sync",
                                 {"script": script, "args": list(args)})["value"]

    def execute_async(self, script: str, *args):
        """Runs `script`, which calls its last argument with the result."""
        return self.driver._call("POST", f"/session/{self.id}/execute/async",
                                 {"script": script, "args": list(args)})["value"]

    def page_report(self) -> dict:
        """PAGE_REPORT_JS's answer, once the first contentful paint is known
        (the paint entry can come after the load event WebDriver waits for)."""
        return self.execute_async(PAGE_REPORT_JS)

    def quit(self):
        try:
            self.driver._call("DELETE", f"/session/{self.id}")
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.quit()


# What the page reports after a navigation: where it ended, its first
# contentful paint, and how each subresource was fetched.
PAGE_REPORT_JS = """
const done = arguments[arguments.length - 1];
const report = (fcp) => {
  const nav = performance.getEntriesByType('navigation')[0];
  done({
    url: location.href,
    redirectCount: nav ? nav.redirectCount : null,
    redirectEnd: nav ? nav.redirectEnd : null,
    responseStart: nav ? nav.responseStart : null,
    fcp: fcp ? fcp.startTime : null,
    resources: performance.getEntriesByType('resource').map(e => ({
      name: e.name, initiatorType: e.initiatorType,
      startTime: e.startTime, responseEnd: e.responseEnd,
    })),
  });
};
const found = () => performance.getEntriesByName('first-contentful-paint')[0];
if (found()) {
  report(found());
} else {
  new PerformanceObserver(() => { if (found()) report(found()); })
    .observe({type: 'paint', buffered: true});
  setTimeout(() => report(found()), 5000);
}
"""
