"""Restarts: the configuration (compiled patterns and all) is rebuilt and released
on a restart and a graceful restart, and the module keeps deciding afterwards."""

import signal
import time
import tomllib

import pytest

from harness import clients, env, sites
from harness.asserts import assert_pushed, assert_skipped

TARGET = sites.TARGET
BODY = b"lifecycle target\n"
RESUMING = "resuming normal operations"


@pytest.fixture(scope="module")
def httpd(httpd_factory, module_so):
    h = httpd_factory("lifecycle", module=module_so)
    sites.push_and_exclude(h, BODY)
    h.start()
    return h


def test_startup_line_names_the_version(httpd):
    # PR0002 (docs/behaviour.md), written by mod_push_redirect.c's post_config.
    cargo = tomllib.loads((env.REPO / "Cargo.toml").read_text())
    line = f": PR0002: mod_push_redirect {cargo['workspace']['package']['version']} loaded"
    logged = [l for l in httpd.read_error_log().splitlines() if "PR0002" in l]
    assert logged and all(l.endswith(line) for l in logged), logged


def restart(httpd, sig):
    before = httpd.read_error_log().count(RESUMING)
    httpd.proc.send_signal(sig)
    deadline = time.monotonic() + 15
    while httpd.read_error_log().count(RESUMING) == before:
        assert httpd.alive(), httpd.read_error_log()
        assert time.monotonic() < deadline, "no restart:\n" + httpd.read_error_log()
        time.sleep(0.05)
    time.sleep(0.2)  # let the new children take over the listeners


def check_decisions(httpd):
    assert_pushed(httpd, clients.nghttp(httpd.url("main", "/r/target")), TARGET, BODY,
                  status=302)
    assert_skipped(httpd, clients.nghttp(httpd.url("main", "/r/excluded")), "excluded",
                   status=302)


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGUSR1], ids=["restart", "graceful"])
def test_decides_after_restart(httpd, sig):
    check_decisions(httpd)
    restart(httpd, sig)
    check_decisions(httpd)
    restart(httpd, sig)
    check_decisions(httpd)
