"""README.md and docs/django.md, as written: the package sets and the
configuration examples.

The package sets of the README's Requirements table must be the Makefile's,
word for word. The marked blocks (`<!-- readme-test: NAME -->` on the line
before an indented block) run in the machine's own Apache with the package of
`make deb` installed, as a reader would run them on Debian:

- minimal-setup, minimal-vhost (README.md): Debian's `default-ssl` site
  (snakeoil certificate) with the README's lines added after its `SSLEngine
  on`; nghttp must see `/old` redirected and `/new.html` pushed.
- django-vhost, django-setup (docs/django.md): the Django virtual host as a
  site of its own, in front of the tests' Django backend; push-follow,
  connecting to 127.0.0.1 as www.example.com, must see Django's relative and
  absolute redirects pushed (the second only works with the block's proxy
  headers). The one change to the block: the backend's address
  (127.0.0.1:8000 in the document) is the test backend's free port.

`apt-get install` lines are not run (the test installs nothing); the packages
they name must be installed (they are in the Makefile's test set). The system
Apache is left as test_package.py leaves it: same /etc/apache2 and
/var/lib/apache2, and the files the blocks create are removed.
"""

import re
import shlex
import subprocess
import time
from pathlib import Path

import pytest

from harness import clients, env, push_follow, system_apache
from harness.httpd import bad_lines
from test_package import MODULES, PACKAGE, enabled_modules, run, system  # noqa: F401

README = env.REPO / "README.md"
DJANGO_DOC = env.REPO / "docs" / "django.md"
MAKEFILE = env.REPO / "Makefile"
DEFAULT_SSL = Path("/etc/apache2/sites-available/default-ssl.conf")
DJANGO_SITE = "www.example.com"
DJANGO_DOC_BACKEND = "127.0.0.1:8000"
# The snakeoil certificate names the machine (make-ssl-cert uses its host
# name), not the virtual host: mod_ssl warns, as it does for Debian's stock
# default-ssl. Nothing else may be logged.
SNAKEOIL_WARNING = r"\[ssl:warn\] .* AH01909: .* server certificate does NOT include an ID"


def marked_blocks(doc: Path) -> dict:
    """NAME -> the text of the indented block after `<!-- readme-test: NAME -->`."""
    lines = doc.read_text().splitlines()
    blocks = {}
    for i, line in enumerate(lines):
        m = re.fullmatch(r"<!-- readme-test: ([\w-]+) -->", line.strip())
        if not m:
            continue
        body = []
        for following in lines[i + 1:]:
            if following.strip() and not following.startswith("    "):
                break
            body.append(following[4:])
        assert m.group(1) not in blocks, f"two blocks named {m.group(1)} in {doc}"
        blocks[m.group(1)] = "\n".join(body).strip("\n") + "\n"
    return blocks


def makefile_sets() -> dict:
    text = MAKEFILE.read_text()
    return {m.group(1): m.group(2).split()
            for m in re.finditer(r"^([A-Z]+_PACKAGES)\s*:=[ \t]*(.*)$", text, re.M)}


def readme_sets() -> dict:
    sets = {}
    for m in re.finditer(r"^\|[^|\n]*\| `([A-Z]+_PACKAGES)` \| `([^`]*)` \|$",
                         README.read_text(), re.M):
        sets[m.group(1)] = m.group(2).split()
    return sets


def test_readme_lists_the_makefile_package_sets():
    make, readme = makefile_sets(), readme_sets()
    assert {"BUILD_PACKAGES", "DEMO_PACKAGES", "TEST_PACKAGES"} <= set(make), make
    assert readme == make, ("README.md's Requirements table and the Makefile's sets differ:\n"
                            f"README:   {readme}\nMakefile: {make}")


def test_readme_blocks_are_marked():
    assert set(marked_blocks(README)) == {"minimal-setup", "minimal-vhost"}
    assert set(marked_blocks(DJANGO_DOC)) == {"django-vhost", "django-setup"}


def shell_lines(block: str) -> list:
    """The block's commands; apt-get install lines are checked, not run."""
    commands = []
    for line in block.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        words = shlex.split(line)
        if words[:2] == ["apt-get", "install"]:
            for package in (w for w in words[2:] if not w.startswith("-")):
                status = run("dpkg-query", "-W", "-f=${Status}", package, check=False).stdout
                assert status == "install ok installed", \
                    f"the documentation installs {package}: it must be in the Makefile's test set"
            continue
        commands.append(line)
    return commands


def run_shell(line: str):
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", line], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, f"documented command failed:\n$ {line}\n{done.stdout}{done.stderr}"


class SystemApache:
    """apachectl start/stop around a test, with the main error log checked."""

    def __init__(self):
        self.main_log = Path(system_apache.envvar("APACHE_LOG_DIR")) / "error.log"
        self.offset = self.main_log.stat().st_size if self.main_log.exists() else 0
        self.pid = None

    def start(self):
        check = system_apache.apachectl("configtest")
        assert check.returncode == 0, "apachectl configtest:\n" + check.stdout + check.stderr
        started = system_apache.apachectl("start")
        assert started.returncode == 0, started.stdout + started.stderr
        self.pid = system_apache.wait_started()
        assert self.pid, "apachectl start left no apache2 running:\n" + started.stdout + started.stderr
        for _ in range(100):
            if system_apache.port_busy(443):
                return
            time.sleep(0.1)
        raise AssertionError("the system Apache does not listen on 443")

    def stop(self):
        if self.pid:
            system_apache.apachectl("stop")
            assert system_apache.wait_stopped(self.pid), "the system Apache did not stop"
            self.pid = None

    def problems(self) -> list:
        with open(self.main_log, "rb") as f:
            f.seek(self.offset)
            return bad_lines(f.read().decode("utf-8", "replace"), [SNAKEOIL_WARNING])


def disable_modules_since(before: set):
    """a2dismod -p what was enabled since `before`; a module another one needs
    (proxy for proxy_http) is refused until that one is gone, so a few rounds."""
    for _ in range(4):
        new = sorted(enabled_modules() - before)
        if not new:
            return
        for module in new:
            run("a2dismod", "-q", "-p", module, check=False)


def site_enabled(name: str) -> bool:
    return Path(f"/etc/apache2/sites-enabled/{name}.conf").is_symlink()


def test_readme_minimal_virtual_host_on_default_ssl(system):
    deb, _ = system
    blocks = marked_blocks(README)
    setup = shell_lines(blocks["minimal-setup"])
    vhost_lines = blocks["minimal-vhost"]
    target = re.search(r"^Redirect /old (\S+)$", vhost_lines, re.M).group(1)
    created = [Path(m) for m in re.findall(r">\s*(/\S+)", blocks["minimal-setup"])]
    assert Path("/var/www/html") / target.lstrip("/") in created, \
        f"the README's redirect target {target} is not a page its setup creates: {created}"
    existing = [p for p in created if p.exists()]
    if existing:
        pytest.skip(f"{existing} exist already; the test would overwrite them")

    modules_before = enabled_modules()
    default_ssl_before = DEFAULT_SSL.read_text()
    enabled_before = site_enabled("default-ssl")
    apache = SystemApache()
    run("dpkg", "-i", str(deb))
    try:
        for line in setup:
            run_shell(line)
        assert site_enabled("default-ssl")
        # After its SSLEngine on, inside its <VirtualHost>, as the README says.
        text, count = re.subn(r"^(\s*SSLEngine on\s*\n)",
                              lambda m: m.group(1) + vhost_lines, default_ssl_before,
                              count=1, flags=re.M)
        assert count == 1, f"no 'SSLEngine on' line in {DEFAULT_SSL}"
        DEFAULT_SSL.write_text(text)
        apache.start()

        r = clients.nghttp("https://localhost/old")
        assert r.exit_code == 0, r.describe()
        assert r.main.status == 302, r.describe()
        assert r.main.headers("link") == [f"<{target}>; as=document; rel=preload"], r.describe()
        assert [p.path for p in r.pushes] == [target], r.describe()
        assert r.pushes[0].status == 200, r.describe()
        assert r.pushes[0].body == created[0].read_bytes(), r.describe()
        apache.stop()
        assert apache.problems() == []
    finally:
        apache.stop()
        DEFAULT_SSL.write_text(default_ssl_before)
        if site_enabled("default-ssl") and not enabled_before:
            run("a2dissite", "-q", "-p", "default-ssl", check=False)
        for p in created:
            p.unlink(missing_ok=True)
        disable_modules_since(modules_before)
        run("dpkg", "--purge", PACKAGE, check=False)


def test_readme_django_virtual_host(system, backend):
    deb, _ = system
    blocks = marked_blocks(DJANGO_DOC)
    vhost = blocks["django-vhost"]
    assert vhost.count(DJANGO_DOC_BACKEND) == 2, vhost
    vhost = vhost.replace(DJANGO_DOC_BACKEND, f"127.0.0.1:{backend.port}")
    setup = shell_lines(blocks["django-setup"])
    site_file = Path(f"/etc/apache2/sites-available/{DJANGO_SITE}.conf")
    access_log = Path(system_apache.envvar("APACHE_LOG_DIR")) / f"{DJANGO_SITE}-access.log"
    for p in (site_file, access_log):
        if p.exists():
            pytest.skip(f"{p} exists already; the test would overwrite it")
    if system_apache.port_busy(80):
        pytest.skip("port 80 is in use")

    modules_before = enabled_modules()
    apache = SystemApache()
    run("dpkg", "-i", str(deb))
    try:
        site_file.write_text(vhost)
        for line in setup:
            run_shell(line)
        assert set(MODULES) <= enabled_modules()
        apache.start()

        # Django's relative redirect, and its absolute one, which names the
        # right origin only with ProxyPreserveHost and X-Forwarded-Proto.
        for path, target in (("/app/redirect/relative/", "/app/target/"),
                             ("/app/redirect/absolute/", "/app/target/")):
            r = push_follow.run(f"https://{DJANGO_SITE}{path}", connect_to="127.0.0.1:443",
                                extra=["--insecure"])
            assert r.exit_code == 0, r.describe()
            assert r.statuses() == [302, 200], r.describe()
            assert r.sources() == ["requested", "pushed"], r.describe()
            assert r.hops[1]["url"] == f"https://{DJANGO_SITE}{target}", r.describe()
        # The block's log format says why.
        for _ in range(50):
            log = access_log.read_text() if access_log.exists() else ""
            if log.count("push=/app/target/") >= 2:
                break
            time.sleep(0.1)
        assert log.count("push=/app/target/") == 2, log
        apache.stop()
        assert apache.problems() == []
    finally:
        apache.stop()
        if site_enabled(DJANGO_SITE):
            run("a2dissite", "-q", "-p", DJANGO_SITE, check=False)
        site_file.unlink(missing_ok=True)
        access_log.unlink(missing_ok=True)
        disable_modules_since(modules_before)
        run("dpkg", "--purge", PACKAGE, check=False)


def test_make_test_says_what_to_do_without_rustfmt_or_clippy(tmp_path):
    """A minimal rustup profile has neither: make stops and names the components."""
    for missing in ("fmt", "clippy"):
        cargo = tmp_path / f"cargo-without-{missing}"
        cargo.write_text(f'#!/bin/sh\n[ "$1" = {missing} ] && exit 101\nexit 0\n')
        cargo.chmod(0o755)
        done = subprocess.run(["make", "-s", "-C", str(env.REPO), "deps-test", f"CARGO={cargo}"],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode != 0, done.stdout + done.stderr
        assert "rustup component add rustfmt clippy" in done.stderr, done.stderr
