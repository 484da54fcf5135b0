"""The Django test backend (tests/backend) under Debian's gunicorn; `AdminBackend`
is Django's own admin (tests/adminsite) under it the same way."""

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
    # The project gunicorn serves, and a URL of it that answers 200 once it is up.
    directory = env.BACKEND_DIR
    settings = "pushsite.settings"
    application = "pushsite.wsgi:application"
    health = "/app/health/"
    log_name = "gunicorn.log"

    def __init__(self, logdir: Path):
        self.port = env.free_port()
        self.log = Path(logdir) / self.log_name
        self.proc = None

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0):
        child_env = {k: v for k, v in os.environ.items()
                     if k not in ("PYTHONPATH", "PYTHONHOME")}
        child_env.update(DJANGO_SETTINGS_MODULE=self.settings,
                         PYTHONDONTWRITEBYTECODE="1")
        args = [env.PYTHON, "-m", "gunicorn",
                "--bind", f"127.0.0.1:{self.port}",
                "--workers", "2", "--threads", "4",
                "--chdir", str(self.directory),
                "--error-logfile", "-", "--log-level", "warning",
                self.application]
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                         env=child_env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}:\n"
                                   + self.log.read_text())
            try:
                with urllib.request.urlopen(self.origin + self.health, timeout=1) as r:
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


class AdminBackend(Backend):
    """Django's admin, as `django-admin startproject` configures it (tests/adminsite):
    /admin/ answers 302 to /admin/login/?next=/admin/ for an anonymous visitor, and
    the login page sets a `csrftoken` cookie for each one. Its static files are
    Apache's to serve (`proxy_config()`), from the installed Django."""
    directory = env.TESTS / "adminsite"
    settings = "adminsite.settings"
    application = "adminsite.wsgi:application"
    health = "/admin/login/"
    log_name = "gunicorn-admin.log"

    def proxy_config(self, scheme: str = "https") -> str:
        return f"""
    RequestHeader set X-Forwarded-Proto {scheme}
    ProxyPass        /admin/ {self.origin}/admin/
    ProxyPassReverse /admin/ {self.origin}/admin/
    Alias /static/admin/ "{admin_static_dir()}/"
    <Directory "{admin_static_dir()}">
        Require all granted
    </Directory>
"""


def admin_static_dir() -> Path:
    """django/contrib/admin/static/admin of the Django that env.PYTHON imports."""
    out = subprocess.run(
        [env.PYTHON, "-c", "import os, django.contrib.admin as a; "
         "print(os.path.join(os.path.dirname(a.__file__), 'static', 'admin'))"],
        capture_output=True, text=True, check=True).stdout.strip()
    path = Path(out)
    if not (path / "css" / "base.css").is_file():
        raise RuntimeError(f"Django's admin static files are not in {path}")
    return path
