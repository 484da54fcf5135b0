"""The machine's own Apache (Debian's apache2 package): its state, and starting
and stopping it with apachectl. Used by test_package.py, which installs the
.deb into it and must leave it exactly as it found it.
"""

import fcntl
import hashlib
import os
import socket
import subprocess
import time
from pathlib import Path

# Everything a2enmod/a2ensite and the package's maintainer scripts touch.
STATE_DIRS = (Path("/etc/apache2"), Path("/var/lib/apache2"))
LOCK_FILE = Path("/run/lock/mod-push-redirect-package-test.lock")


def snapshot(dirs=STATE_DIRS) -> dict:
    """path -> what it is: ("dir", mode), ("link", target) or ("file", mode, sha256)."""
    state = {}
    for top in dirs:
        if not top.exists():
            continue
        for dirpath, dirnames, filenames in os.walk(top):
            for name in dirnames + filenames:
                p = Path(dirpath) / name
                st = p.lstat()
                if p.is_symlink():
                    state[str(p)] = ("link", os.readlink(p))
                elif p.is_dir():
                    state[str(p)] = ("dir", oct(st.st_mode))
                else:
                    state[str(p)] = ("file", oct(st.st_mode),
                                     hashlib.sha256(p.read_bytes()).hexdigest())
    return state


def differences(before: dict, after: dict) -> list:
    lines = [f"left behind: {p} {after[p]}" for p in sorted(after.keys() - before.keys())]
    lines += [f"gone: {p} {before[p]}" for p in sorted(before.keys() - after.keys())]
    lines += [f"changed: {p} {before[p]} -> {after[p]}"
              for p in sorted(before.keys() & after.keys()) if before[p] != after[p]]
    return lines


def envvar(name: str) -> str:
    """A variable as /etc/apache2/envvars sets it for apache2ctl."""
    out = subprocess.run(["sh", "-c", f'. /etc/apache2/envvars && printf %s "${name}"'],
                         capture_output=True, text=True, check=True)
    return out.stdout


def running_pid():
    """The pid of the system Apache's parent when it runs, else None."""
    try:
        pid = int(Path(envvar("APACHE_PID_FILE")).read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    return pid


def wait_started(timeout: float = 20):
    """The parent's pid once it wrote its pid file (apachectl returns before)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = running_pid()
        if pid:
            return pid
        time.sleep(0.1)
    return None


def port_busy(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def apachectl(*args, timeout: float = 60) -> subprocess.CompletedProcess:
    # apache2ctl hands `start` over to systemctl when PID 1 is systemd; this
    # variable makes it run apache2 itself, which is what the test stops later.
    run_env = dict(os.environ, APACHE_STARTED_BY_SYSTEMD="1")
    return subprocess.run(["apachectl", *args], capture_output=True, text=True,
                          timeout=timeout, env=run_env)


def wait_stopped(pid: int, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


class Lock:
    """One package test at a time on a machine (it changes the system Apache)."""

    def __init__(self, timeout: float = 300):
        self.timeout = timeout
        self.file = None

    def acquire(self) -> bool:
        LOCK_FILE.parent.mkdir(parents=True, exist_ok=True)
        self.file = open(LOCK_FILE, "w")
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(1)

    def release(self):
        if self.file:
            self.file.close()
            self.file = None
