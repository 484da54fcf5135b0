"""Where things are: the repository, the module under test, Apache, the clients."""

import os
import shutil
import socket
import subprocess
from pathlib import Path

from .readable import make_readable  # noqa: F401  (the one way, for the callers of env)

REPO = Path(__file__).resolve().parents[2]
TESTS = REPO / "tests"
BACKEND_DIR = TESTS / "backend"

APACHE = os.environ.get("APACHE2", "/usr/sbin/apache2")
APACHE_MODULES = Path(os.environ.get("APACHE_MODULES", "/usr/lib/apache2/modules"))
NGHTTP = os.environ.get("NGHTTP", shutil.which("nghttp") or "/usr/bin/nghttp")
CURL = os.environ.get("CURL", shutil.which("curl") or "/usr/bin/curl")
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
# Debian's interpreter: it has Django and gunicorn (a pyenv python on PATH may not).
PYTHON = os.environ.get("PUSH_REDIRECT_PYTHON", "/usr/bin/python3")
# Apache children run as this user (we run as root); it must read our temp files.
RUN_USER = os.environ.get("PUSH_REDIRECT_RUN_USER", "www-data")


def module_path() -> Path:
    return Path(os.environ.get("PUSH_REDIRECT_MODULE",
                               REPO / "build" / "mod_push_redirect.so"))


def apxs_module_path() -> Path:
    return Path(os.environ.get("PUSH_REDIRECT_MODULE_APXS",
                               REPO / "build" / "apxs" / "mod_push_redirect.so"))


_taken_ports = set()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (never the same twice)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _taken_ports:
            _taken_ports.add(port)
            return port
    raise RuntimeError("no free port found")


def builtin_modules() -> set:
    """Source names of modules compiled into the apache2 binary (mod_so.c, ...)."""
    out = subprocess.run([APACHE, "-l"], capture_output=True, text=True, check=True).stdout
    return {line.strip() for line in out.splitlines() if line.strip().endswith(".c")}


def terminate(proc: subprocess.Popen):
    """SIGTERM, then SIGKILL if it has not exited within 10 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def make_cert(directory: Path):
    """A self-signed leaf certificate for localhost and 127.0.0.1; returns (cert, key)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "localhost.crt", directory / "localhost.key"
    subprocess.run(
        [OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-addext", "basicConstraints=critical,CA:FALSE",
         "-addext", "keyUsage=critical,digitalSignature",
         "-addext", "extendedKeyUsage=serverAuth",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True)
    return cert, key
