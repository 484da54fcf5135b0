"""A clean exit: `apache2 -X` with the module loaded, mod_ssl and mod_http2, under
valgrind's memcheck. Requests over HTTP/1.1 and HTTP/2 go through every part of
the module (a push, a 103, learning from a 200, a skip, .htaccess directives
whose sets are released with the request pool), then SIGTERM: apache2 must exit
0, and memcheck must report no error, at exit (pool cleanups, the per-child
cache, the module's unloading) or before.

No suppression file: memcheck reports nothing for httpd, APR, OpenSSL or
nghttp2 in this run, so any error is ours to look at.
"""

import shutil
import signal
import socket
import subprocess
import time

import pytest

from harness import clients, env

VALGRIND = shutil.which("valgrind") or "/usr/bin/valgrind"


@pytest.fixture(scope="module")
def server(httpd_factory, module_so):
    h = httpd_factory("clean-exit", module=module_so)
    # apache2 -X does not switch user: it runs as the user that owns its files,
    # the certificate and key included.
    for name in ("cert", "key"):
        copy = h.root / getattr(h, name).name
        shutil.copyfile(getattr(h, name), copy)
        setattr(h, name, copy)
    h.write("htdocs/target.html", "target\n")
    h.write("htdocs/dir/.htaccess", "PushRedirectExclude ^/nothing\nPushRedirectStatus 302\n")
    h.write("htdocs/dir/page.html", "page\n")
    h.add_global("""
H2EarlyHints on
PushRedirectEarlyHintsLifetime 60
""")
    h.add_vhost("main", f"""
    H2Push on
    PushRedirect On
    PushRedirectEarlyHints On
    PushRedirectExclude ^/excluded
    PushRedirectEarlyHint /target.html "</s.css>; rel=preload; as=style"
    <Directory "{h.docroot}/dir">
        AllowOverride FileInfo
    </Directory>
    Redirect 302 /r /target.html
    Redirect 302 /dir/r /target.html
    Redirect 302 /x https://other.example/
    <Location /target.html>
        Header add Link "</t.js>; rel=preload; as=script"
    </Location>
""")
    h.conf_path.write_text(h.config_text())
    for path in [h.root, *h.root.rglob("*")]:
        shutil.chown(path, env.RUN_USER, env.RUN_USER)
    return h


def wait_port(port: int, proc: subprocess.Popen, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"apache2 under valgrind exited with {proc.returncode}"
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    pytest.fail(f"apache2 under valgrind: port {port} not answering")


def test_apache2_X_exits_cleanly_under_memcheck(server):
    log = server.root / "memcheck.log"
    proc = subprocess.Popen(
        ["setpriv", f"--reuid={env.RUN_USER}", f"--regid={env.RUN_USER}", "--init-groups",
         VALGRIND, "--tool=memcheck", "--error-exitcode=99", "--num-callers=40",
         f"--log-file={log}", *server.cmd("-X")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_port(server.port("main"), proc, timeout=180)
        for path, status in (("/r", 302), ("/target.html", 200), ("/x", 302),
                             ("/dir/r", 302), ("/dir/page.html", 200)):
            r = clients.curl(server.url("main", path), timeout=60)
            assert r.status == status, r.describe() + server.read_error_log()
        r = clients.nghttp(server.url("main", "/target.html"), timeout=60)
        assert r.main.status == 200, r.describe()
        r = clients.nghttp(server.url("main", "/r"), timeout=60)
        assert r.main.status == 302, r.describe()
        assert [p.path for p in r.pushes] == ["/target.html"], r.describe()
        assert r.main.informational, r.describe()
        r = clients.nghttp(server.url("main", "/dir/r"), timeout=60)
        assert r.main.status == 302, r.describe()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
    report = log.read_text()
    assert "ERROR SUMMARY: 0 errors" in report, report[-6000:]
    assert "Process terminating" not in report, report[-6000:]
    assert rc == 0, report[-6000:]
