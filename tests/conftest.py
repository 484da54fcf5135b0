"""Fixtures: certificates, the Django backend, Apache instances, the error-log check.

Each test module starts its own Apache (scope="module") from a config it
describes; the backend and the certificate are shared by the session. After every
test, the lines its Apache instances and the backend wrote to their logs during
that test are scanned: a warning, an error or a crash that the test did not
declare with @pytest.mark.expect_log(regex, ...) fails it.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from harness import env
from harness.backend import AdminBackend, Backend
from harness.httpd import CRASH_LINE, RUNNING, Httpd, bad_lines


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "expect_log(*regexes): error-log lines matching one of these "
                   "regexes are expected by the test and do not fail it")


@pytest.fixture(scope="session")
def workdir():
    """A temp directory readable by Apache's children (www-data)."""
    d = Path(tempfile.mkdtemp(prefix="push-redirect-tests-"))
    d.chmod(0o755)
    yield d
    if not os.environ.get("PUSH_REDIRECT_KEEP_TMP"):
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def cert(workdir):
    return env.make_cert(workdir / "certs")


@pytest.fixture(scope="session")
def module_so():
    """The module under test; its absence is an error, not a skip."""
    path = env.module_path()
    if not path.is_file():
        pytest.fail(f"module not built: {path} does not exist "
                    "(run `make build`, or set PUSH_REDIRECT_MODULE)", pytrace=False)
    return path


def _running(b):
    """A gunicorn backend, started, and stopped whatever happens."""
    try:
        b.start()
        yield b
    finally:
        b.stop()


@pytest.fixture(scope="session")
def backend(workdir):
    yield from _running(Backend(workdir))


@pytest.fixture(scope="session")
def admin_backend(workdir):
    """Django's own admin under gunicorn (tests/adminsite)."""
    yield from _running(AdminBackend(workdir))


@pytest.fixture(scope="module")
def httpd_factory(request, workdir, cert):
    """make(name, module=<.so or None>, mpm="event", module_first=False) -> a configured,
    not started Httpd."""
    made = []

    def make(name: str, module=None, mpm: str = "event", module_first: bool = False) -> Httpd:
        root = Path(tempfile.mkdtemp(prefix=f"{request.module.__name__}-{name}-", dir=workdir))
        h = Httpd(root, cert[0], cert[1], module=module, name=name, mpm=mpm,
                  module_first=module_first)
        made.append(h)
        return h

    yield make
    crashes, tails = [], []
    for h in made:
        h.stop()
        log = h.read_error_log().splitlines()
        crashed = [f"{h.name}: {line}" for line in log if CRASH_LINE.search(line)]
        crashes += crashed
        # What a child said before it died (an ap_assert's line, glibc's
        # message on stderr) matches no crash pattern: keep it in the report.
        if crashed:
            tails += [f"--- the end of {h.name}'s error log:"] + log[-40:]
    # A child crash can be logged by the parent after the test that caused it ended.
    assert not crashes, "\n".join(["Apache crashed during this module:", *crashes, *tails])


@pytest.fixture(autouse=True)
def error_log_check(request):
    """Fail the test on unexpected warnings, errors or crashes logged during it."""
    marker = request.node.get_closest_marker("expect_log")
    expected = marker.args if marker else ()
    instances = list(RUNNING)
    offsets = {h: h.error_log_size() for h in instances}
    backends = [request.getfixturevalue(name) for name in ("backend", "admin_backend")
                if name in request.fixturenames]
    backend_offsets = [b.log_size() for b in backends]
    yield
    problems = []
    for h in instances:
        lines = bad_lines(h.read_error_log(offsets[h]), expected)
        problems += [f"{h.name} error.log: {line}" for line in lines]
        if not h.alive():
            problems.append(f"{h.name}: apache2 parent process is gone")
    for b, offset in zip(backends, backend_offsets):
        problems += [f"{b.log.name}: {line}" for line in b.bad_lines(offset)]
    if problems:
        pytest.fail("unexpected log lines during the test:\n" + "\n".join(problems),
                    pytrace=False)


# ------------------------------------------------------------ shared caches
#
# redis-server and memcached for the learned-hints tests (harness/caches.py),
# one per test module, stopped whatever happens.

@pytest.fixture(scope="module")
def redis(workdir):
    from harness.caches import Redis
    with Redis(workdir) as server:
        yield server


@pytest.fixture(scope="module")
def memcached(workdir):
    from harness.caches import Memcached
    with Memcached(workdir) as server:
        yield server


# -------------------------------------------------------- the slow backend
#
# The backend that thinks before each answer (harness/slowbackend.py), one
# per test module.

@pytest.fixture(scope="module")
def slow():
    from harness.slowbackend import SlowBackend
    with SlowBackend() as backend:
        yield backend
