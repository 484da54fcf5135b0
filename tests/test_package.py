"""The Debian package (`make deb`) in the machine's own Apache.

Installs build/deb/libapache2-mod-push-redirect_<version>_<arch>.deb with dpkg,
checks that installing did not enable the module, enables it with
`a2enmod ssl http2 push_redirect`, adds a TLS virtual host of its own (a site
in sites-available, on a free high port, with the session's test certificate),
starts the system Apache with apachectl (not systemd), checks with nghttp that
a redirect is pushed, stops Apache, disables what it enabled, purges the
package and checks that nothing of it is left.

It leaves the system Apache as it found it: /etc/apache2 and /var/lib/apache2
(a2enmod's state) are recorded before (file list, links, modes, checksums) and
must be the same after. The Apache logs in /var/log/apache2 get the lines of
this run (the main server's error log: start and stop).

Debian's ports.conf makes the system Apache listen on 80 (and 443 once ssl is
enabled); those are used as they are, so the test skips when either port is
busy or when the system Apache already runs. It runs only as root on Debian.
"""

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from harness import clients, env, system_apache
from harness.asserts import assert_pushed
from harness.httpd import ACCESS_FORMAT, Httpd, bad_lines

PACKAGE = "libapache2-mod-push-redirect"
SITE = "push-redirect-package-test"
MODULES = ("ssl", "http2", "push_redirect")
TARGET = "/pkg/target.html"
TARGET_BODY = b"pushed by the packaged module\n"


def run(*args, check=True, timeout=120) -> subprocess.CompletedProcess:
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    if check:
        assert done.returncode == 0, f"$ {' '.join(args)}\n{done.stdout}{done.stderr}"
    return done


def deb_path() -> Path:
    if os.environ.get("PUSH_REDIRECT_DEB"):
        return Path(os.environ["PUSH_REDIRECT_DEB"])
    version = run("dpkg-parsechangelog", "-l", str(env.REPO / "debian/changelog"),
                  "-S", "Version").stdout.strip()
    arch = run("dpkg", "--print-architecture").stdout.strip()
    return env.REPO / "build" / "deb" / f"{PACKAGE}_{version}_{arch}.deb"


def package_status() -> str:
    """dpkg's status of the package ("installed", "config-files", ...), "" if unknown."""
    done = run("dpkg-query", "-W", "-f=${db:Status-Status}", PACKAGE, check=False)
    return done.stdout.strip() if done.returncode == 0 else ""


def enabled_modules() -> set:
    return {p.stem for p in Path("/etc/apache2/mods-enabled").glob("*.load")}


def disable_new_modules(modules_before: set, check: bool = True):
    """a2dismod -p (purge a2enmod's state too) what was enabled since, dependents
    first (ssl before its dependency socache_shmcb)."""
    new = enabled_modules() - modules_before
    for module in [m for m in reversed(MODULES) if m in new] + sorted(new - set(MODULES)):
        run("a2dismod", "-q", "-p", module, check=check)


def remove_new_empty_dirs(before: dict):
    """a2enmod makes marker directories that a2dismod leaves behind."""
    for top in system_apache.STATE_DIRS:
        for dirpath, _, _ in sorted(os.walk(top), key=lambda w: -len(w[0])):
            if dirpath not in before and not os.listdir(dirpath):
                os.rmdir(dirpath)


def restore(before: dict, modules_before: set):
    """Undo whatever a failed test left: stop Apache, disable the site and the
    modules it enabled, purge the package, remove new empty directories."""
    pid = system_apache.running_pid()
    if pid:
        system_apache.apachectl("stop")
        system_apache.wait_stopped(pid)
    if Path(f"/etc/apache2/sites-enabled/{SITE}.conf").is_symlink():
        run("a2dissite", "-q", "-p", SITE, check=False)
    Path(f"/etc/apache2/sites-available/{SITE}.conf").unlink(missing_ok=True)
    disable_new_modules(modules_before, check=False)
    if package_status():
        run("dpkg", "--purge", PACKAGE, check=False)
    remove_new_empty_dirs(before)


@pytest.fixture
def system(workdir):
    """The system Apache, stopped, without the package; restored afterwards."""
    if os.geteuid() != 0:
        pytest.skip("installs a package into the system Apache: run as root")
    if not Path("/etc/debian_version").exists() or not shutil.which("dpkg"):
        pytest.skip("needs Debian (dpkg, apache2 with a2enmod)")
    for tool in ("a2enmod", "apachectl", "dpkg-parsechangelog"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} not found (apache2, dpkg-dev)")
    deb = deb_path()
    if not deb.is_file():
        pytest.skip(f"{deb} not found: run `make deb` (make test does)")
    lock = system_apache.Lock()
    if not lock.acquire():
        pytest.skip(f"another package test holds {system_apache.LOCK_FILE}")
    try:
        if package_status():
            pytest.skip(f"{PACKAGE} is already installed ({package_status()}); "
                        "the test would remove it")
        if system_apache.running_pid():
            pytest.skip("the system Apache is running; the test will not stop it")
        busy = [p for p in (80, 443) if system_apache.port_busy(p)]
        if busy:
            pytest.skip(f"port(s) {busy} in use: Debian's ports.conf listens there")
        before = system_apache.snapshot()
        modules_before = enabled_modules()
        yield deb, before
        # The test checks the state itself; this only repairs a failed run.
        if system_apache.differences(before, system_apache.snapshot()):
            restore(before, modules_before)
        left = system_apache.differences(before, system_apache.snapshot())
        assert not left, "the system Apache was not restored:\n" + "\n".join(left)
    finally:
        lock.release()


def test_package_installs_pushes_and_purges(system, cert):
    deb, before = system
    modules_before = enabled_modules()

    # Install: files in place, module not enabled.
    run("dpkg", "-i", str(deb))
    assert package_status() == "installed"
    files = [Path(p) for p in run("dpkg", "-L", PACKAGE).stdout.split()]
    for expected in ("/usr/lib/apache2/modules/mod_push_redirect.so",
                     "/etc/apache2/mods-available/push_redirect.load",
                     "/etc/apache2/mods-available/push_redirect.conf",
                     f"/usr/share/doc/{PACKAGE}/copyright",
                     f"/usr/share/doc/{PACKAGE}/behaviour.md.gz",
                     f"/usr/share/doc/{PACKAGE}/directives.md.gz"):
        assert Path(expected) in files and Path(expected).is_file(), expected
    assert "push_redirect" not in enabled_modules(), "installing enabled the module"
    assert run("a2query", "-m", "push_redirect", check=False).returncode != 0

    # Enable, add our TLS site, start the system Apache.
    run("a2enmod", "-q", *MODULES)
    assert set(MODULES) <= enabled_modules()
    site_root = Path(tempfile.mkdtemp(prefix="package-site-", dir=cert[0].parent.parent))
    logs = Httpd(site_root, cert[0], cert[1], name="system-apache")  # logs and docroot only
    logs.write(f"htdocs{TARGET}", TARGET_BODY.decode())
    env.make_readable(site_root)
    port = env.free_port()
    Path(f"/etc/apache2/sites-available/{SITE}.conf").write_text(f"""\
# Written by tests/test_package.py; removed when the test ends.
Listen 127.0.0.1:{port}
<VirtualHost 127.0.0.1:{port}>
    ServerName localhost
    SSLEngine on
    SSLCertificateFile    "{cert[0]}"
    SSLCertificateKeyFile "{cert[1]}"
    Protocols h2 http/1.1
    H2Push on
    PushRedirect On
    DocumentRoot "{logs.docroot}"
    <Directory "{logs.docroot}">
        Require all granted
    </Directory>
    Redirect /old {TARGET}
    ErrorLog "{logs.error_log}"
    LogLevel warn push_redirect:trace1
    CustomLog "{logs.access_log}" "{ACCESS_FORMAT}"
</VirtualHost>
""")
    run("a2ensite", "-q", SITE)
    assert "push_redirect_module (shared)" in run("apachectl", "-M").stdout
    main_log = Path(system_apache.envvar("APACHE_LOG_DIR")) / "error.log"
    main_log_offset = main_log.stat().st_size if main_log.exists() else 0
    started = system_apache.apachectl("start")
    assert started.returncode == 0, started.stdout + started.stderr
    pid = system_apache.wait_started()
    assert pid, "apachectl start did not leave a running apache2:\n" + started.stdout + started.stderr
    try:
        for _ in range(100):
            if system_apache.port_busy(port):
                break
            time.sleep(0.1)

        # A client that takes pushes gets the target with the redirect.
        r = clients.nghttp(f"https://localhost:{port}/old")
        assert_pushed(logs, r, TARGET, TARGET_BODY, status=302)
    finally:
        stopped = system_apache.apachectl("stop")
        assert system_apache.wait_stopped(pid), "the system Apache did not stop"
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    with open(main_log, "rb") as f:
        f.seek(main_log_offset)
        problems = bad_lines(f.read().decode("utf-8", "replace")) + bad_lines(logs.read_error_log())
    assert not problems, "\n".join(problems)

    # Disable what we enabled, purge: nothing of the package is left.
    run("a2dissite", "-q", "-p", SITE)
    Path(f"/etc/apache2/sites-available/{SITE}.conf").unlink()
    run("a2dismod", "-q", "push_redirect")    # as an administrator would
    disable_new_modules(modules_before)     # ssl's dependency socache_shmcb too
    run("dpkg", "--purge", PACKAGE)
    assert package_status() == ""
    assert list(Path("/var/lib/dpkg/info").glob(f"{PACKAGE}.*")) == []
    left = [str(f) for f in files if f.exists() and not f.is_dir()]
    assert left == [], left
    assert not Path(f"/usr/share/doc/{PACKAGE}").exists()
    assert list(Path("/etc/apache2").rglob("push_redirect*")) == []
    markers = [str(p) for p in Path("/var/lib/apache2").rglob("push_redirect")]
    assert markers == [], f"purge left a2enmod state: {markers}"
    remove_new_empty_dirs(before)
    left = system_apache.differences(before, system_apache.snapshot())
    assert left == [], "\n".join(left)
