"""Debian's HAProxy in front of an Apache, as the tests' own child process:
its configuration file in a temp directory, never the system service.

The configuration is the one docs/behind-a-proxy.md gives (the block after
`<!-- proxy-test: haproxy -->`), with its addresses, port and certificate
made the test's: `from_docs()` changes each one exactly once, so the page and
the test cannot drift apart. HAProxy ends TLS with the tests' certificate,
speaks HTTP/2 or HTTP/1.1 to the client (`alpn h2,http/1.1`) and HTTP/1.1 to
Apache.
"""

import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

from . import env

HAPROXY = os.environ.get("HAPROXY", shutil.which("haproxy") or "/usr/sbin/haproxy")
DOC = env.REPO / "docs" / "behind-a-proxy.md"


def doc_blocks(path: Path = DOC, tag: str = "proxy-test") -> dict:
    """NAME -> the indented block after `<!-- TAG: NAME -->` in the Markdown
    file, without its four spaces of indentation."""
    found = {}
    pattern = rf"^<!-- {re.escape(tag)}: ([\w-]+) -->\n((?:(?: {{4}}.*)?\n)+)"
    for m in re.finditer(pattern, path.read_text(), re.M):
        assert m.group(1) not in found, f"two blocks named {m.group(1)} in {path}"
        lines = [line[4:] for line in m.group(2).splitlines()]
        found[m.group(1)] = "\n".join(lines).strip("\n") + "\n"
    return found


def replace_once(text: str, old: str, new: str) -> str:
    """`text` with its one `old` made `new`: the page must still say `old`."""
    assert text.count(old) == 1, f"expected {old!r} once in:\n{text}"
    return text.replace(old, new)


def version() -> str:
    out = subprocess.run([HAPROXY, "-v"], capture_output=True, text=True).stdout
    m = re.search(r"version (\S+)", out)
    return m.group(1) if m else out.strip()


class HAProxy:
    """`haproxy -db -f CONFIG` on 127.0.0.1:`port`, in front of
    127.0.0.1:`apache_port`, with the certificate and key in one PEM file."""

    def __init__(self, directory: Path, cert: Path, key: Path, apache_port: int,
                 config: str = None):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = env.free_port()
        self.pem = self.dir / "site.pem"
        self.pem.write_bytes(Path(cert).read_bytes() + Path(key).read_bytes())
        self.pem.chmod(0o600)
        self.config_path = self.dir / "haproxy.cfg"
        self.log_path = self.dir / "haproxy.log"
        self.config = config if config is not None else self.from_docs(apache_port)
        self.proc = None

    def from_docs(self, apache_port: int) -> str:
        text = doc_blocks()["haproxy"]
        text = replace_once(text, "bind :443 ", f"bind 127.0.0.1:{self.port} ")
        text = replace_once(text, "/etc/haproxy/certs/www.example.com.pem", str(self.pem))
        return replace_once(text, "127.0.0.1:8080", f"127.0.0.1:{apache_port}")

    def start(self, timeout: float = 10.0):
        if not Path(HAPROXY).exists() and not shutil.which(HAPROXY):
            raise RuntimeError(f"{HAPROXY} is missing: apt-get install haproxy "
                               "(make deps-test)")
        self.config_path.write_text(self.config)
        check = subprocess.run([HAPROXY, "-c", "-f", str(self.config_path)],
                               capture_output=True, text=True)
        said = check.stdout + check.stderr
        if check.returncode != 0 or re.search(r"\[(WARNING|ALERT)\]", said):
            raise RuntimeError(f"haproxy -c:\n{said}\n{self.config}")
        with open(self.log_path, "ab") as log:
            # -db: in the foreground, not as a daemon: the test's child.
            self.proc = subprocess.Popen([HAPROXY, "-db", "-f", str(self.config_path)],
                                         stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"haproxy exited with {self.proc.returncode}:\n"
                                   + self.log_path.read_text())
            with socket.socket() as s:
                s.settimeout(0.2)
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"haproxy does not listen on {self.port}")
            time.sleep(0.05)

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def stop(self):
        if self.proc is not None:
            env.terminate(self.proc)
            self.proc = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
