"""Shared caches for the learned hints: Debian's redis-server and memcached,
each started on a free loopback port in its own temp directory, as the user
running the tests, waited for until it answers, and stopped whatever happens.

Each comes with the few commands the tests need, spoken directly on its
socket (RESP for redis, memcached's text protocol), so no client library is
needed. What mod_push_redirect stores there is reached through
`record_key()`: mod_socache's redis and memcache providers name a record
`push-redirect:` followed by the hex of its 32-byte id, the SHA-256 of
`pr1:<len>:<ServerName>:<port>:<path-and-query>` (the core's RecordKey).
"""

import hashlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from . import env

REDIS_SERVER = os.environ.get("REDIS_SERVER", shutil.which("redis-server") or "/usr/bin/redis-server")
MEMCACHED = os.environ.get("MEMCACHED", shutil.which("memcached") or "/usr/bin/memcached")

# The namespace the module gives its socache provider.
NAMESPACE = "push-redirect"


def record_key(server_name: str, port: int, target: str) -> str:
    """The redis or memcache key of the record of `target` on the virtual host
    `server_name` that answers on `port`."""
    name = server_name.encode()
    text = b"pr1:%d:%s:%d:%s" % (len(name), name, port, target.encode("latin-1"))
    return f"{NAMESPACE}:{hashlib.sha256(text).hexdigest()}"


def eventually(check, seconds: float = 2.0):
    """`check()` once it is truthy, or its last value after `seconds`: with
    memcache and redis the module's store threads write after the response
    went out (mod_push_redirect/store_threads.c), so a record may land a
    moment after the client has its answer."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(0.01)


class _Server:
    """One server process; subclasses say how to run it and how to ping it."""

    name = "server"

    def __init__(self, workdir: Path):
        self.workdir = Path(workdir)
        self.dir = None
        self.port = None
        self.proc = None
        self.log = None

    def command(self) -> list:
        raise NotImplementedError

    def ping(self) -> bool:
        raise NotImplementedError

    def start(self, timeout: float = 10.0, port: int = None):
        """On `port`, or on a free one."""
        self.dir = Path(tempfile.mkdtemp(prefix=f"{self.name}-", dir=self.workdir))
        self.port = port or env.free_port()
        self.log = self.dir / f"{self.name}.log"
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(self.command(), cwd=self.dir, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n"
                                   + self.log.read_text("utf-8", "replace"))
            try:
                if self.ping():
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} on port {self.port} does not answer:\n"
                                   + self.log.read_text("utf-8", "replace"))
            time.sleep(0.05)

    def stop(self):
        if self.proc is not None:
            env.terminate(self.proc)
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=5)


class Redis(_Server):
    """redis-server without persistence, bound to 127.0.0.1 only."""

    name = "redis"

    def command(self) -> list:
        return [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", str(self.dir), "--save", "", "--appendonly", "no",
                "--daemonize", "no", "--logfile", str(self.log)]

    def ping(self) -> bool:
        return self.command_("PING") == "PONG"

    def command_(self, *args):
        """One command; returns its reply (str for simple strings, bytes for bulk
        strings, int, list, None), raising RuntimeError for an error reply."""
        with self._connect() as s:
            s.sendall(_resp(args))
            return _read_reply(s.makefile("rb"))

    def keys(self, pattern: str = f"{NAMESPACE}:*") -> list:
        return sorted(k.decode() for k in self.command_("KEYS", pattern))

    def get(self, key: str):
        return self.command_("GET", key)

    def set(self, key: str, value: bytes, seconds: int = None):
        args = ["SET", key, value] + (["EX", str(seconds)] if seconds else [])
        assert self.command_(*args) == "OK"

    def ttl(self, key: str) -> int:
        return self.command_("TTL", key)

    def dbsize(self) -> int:
        return self.command_("DBSIZE")

    def flush(self):
        assert self.command_("FLUSHALL") == "OK"


def _resp(args) -> bytes:
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def _read_reply(f):
    line = f.readline()
    if not line.endswith(b"\r\n"):
        raise OSError("connection closed")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RuntimeError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)
        return data[:-2]
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_read_reply(f) for _ in range(n)]
    raise RuntimeError(f"unexpected reply {line!r}")


class Memcached(_Server):
    """memcached on 127.0.0.1 only (TCP, no UDP), 64 MB."""

    name = "memcached"

    def command(self) -> list:
        cmd = [MEMCACHED, "-l", "127.0.0.1", "-p", str(self.port), "-U", "0", "-m", "64"]
        if os.geteuid() == 0:
            # memcached refuses to run as root without naming a user: the one
            # running the tests.
            cmd += ["-u", pwd.getpwuid(os.geteuid()).pw_name]
        return cmd

    def ping(self) -> bool:
        return self._exchange(b"version\r\n").startswith(b"VERSION ")

    def _exchange(self, request: bytes, end: bytes = b"\r\n") -> bytes:
        with self._connect() as s:
            s.sendall(request)
            data = b""
            while not data.endswith(end):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            return data

    def get(self, key: str):
        data = self._exchange(b"get %s\r\n" % key.encode(), end=b"END\r\n")
        if not data.startswith(b"VALUE "):
            return None
        header, _, rest = data.partition(b"\r\n")
        length = int(header.split()[3])
        return rest[:length]

    def set(self, key: str, value: bytes, seconds: int = 0):
        reply = self._exchange(b"set %s 0 %d %d\r\n%s\r\n" % (key.encode(), seconds,
                                                              len(value), value))
        assert reply == b"STORED\r\n", reply

    def items(self) -> int:
        """How many items memcached holds now."""
        stats = self._exchange(b"stats\r\n", end=b"END\r\n").decode()
        for line in stats.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] == "curr_items":
                return int(parts[2])
        raise RuntimeError(stats)

    def flush(self):
        assert self._exchange(b"flush_all\r\n") == b"OK\r\n"
