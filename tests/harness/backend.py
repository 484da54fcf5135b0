"""The Django test backend (tests/backend) under Debian's gunicorn."""

import os
import re
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from . import env

# gunicorn/Django lines that mean something went wrong in the backend.
BAD_LINE = re.compile(r"\[(?:ERROR|CRITICAL)\]|Traceback|Internal Server Error")


class Backend:

    def __init__(self, logdir: Path):
        self.port = env.free_port()
        self.log = Path(logdir) / "gunicorn.log"
        self.proc = None

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0):
        child_env = {k: v for k, v in os.environ.items()
                     if k not in ("PYTHONPATH", "PYTHONHOME")}
        child_env.update(DJANGO_SETTINGS_MODULE="pushsite.settings",
                         PYTHONDONTWRITEBYTECODE="1")
        args = [env.PYTHON, "-m", "gunicorn",
                "--bind", f"127.0.0.1:{self.port}",
                "--workers", "2", "--threads", "4",
                "--chdir", str(env.BACKEND_DIR),
                "--error-logfile", "-", "--log-level", "warning",
                "pushsite.wsgi:application"]
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                         env=child_env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}:\n"
                                   + self.log.read_text())
            try:
                with urllib.request.urlopen(f"{self.origin}/app/health/", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not answer:\n" + self.log.read_text())
            time.sleep(0.1)

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)   # gunicorn stops its workers itself
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def log_size(self) -> int:
        try:
            return self.log.stat().st_size
        except FileNotFoundError:
            return 0

    def read_log(self, offset: int = 0) -> str:
        try:
            with open(self.log, "rb") as f:
                f.seek(offset)
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def bad_lines(self, offset: int) -> list:
        return [line for line in self.read_log(offset).splitlines() if BAD_LINE.search(line)]

    def proxy_config(self, scheme: str = "https") -> str:
        """The front end's side: ProxyPass /app/ to this backend, as a vhost snippet."""
        return f"""
    RequestHeader set X-Forwarded-Proto {scheme}
    ProxyPass        /app/ {self.origin}/app/
    ProxyPassReverse /app/ {self.origin}/app/
    # build_absolute_uri() gives https:// (SECURE_PROXY_SSL_HEADER): map that too.
    ProxyPassReverse /app/ https://127.0.0.1:{self.port}/app/
"""
