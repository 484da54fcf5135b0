"""A real Apache httpd started from a generated configuration in a temp ServerRoot.

One `Httpd` is one apache2 process tree: its own ServerRoot (a temp directory),
ports, certificate, error log and access log. Test modules describe their virtual
hosts, call `start()`, and the fixture calls `stop()` whatever happens.
"""

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

from . import env
from .readable import readable_copy

# Modules every instance loads (those compiled into apache2 are skipped).
BASE_MODULES = [
    "authz_core", "authz_host", "unixd", "mime", "log_config",
    "ssl", "socache_shmcb", "http2", "alias", "rewrite", "dir", "setenvif",
    "env", "headers", "proxy", "proxy_http",
]

# One access-log line per request, tab separated key=value pairs. The user agent
# is unique per client call, and mod_http2 copies it into pushed requests, so it
# ties the pushed stream's line to the request that caused it.
# `%r` is the request line as the client sent it (mod_rewrite can change %U%q):
# its target, as on the wire, becomes the entry's "uri".
ACCESS_FORMAT = ("ua=%{User-Agent}i\\trequest=%r\\tstatus=%>s"
                 "\\tpush=%{PUSH_REDIRECT}e\\tskip=%{PUSH_REDIRECT_SKIPPED}e")

# Error-log lines that fail a test unless the test said it expects them.
BAD_LINE = re.compile(
    r"\[(?:[\w.-]+:)?(?:warn|error|crit|alert|emerg)\]"
    r"|\[push_redirect:(?:notice|info)\]"      # nothing above debug for normal decisions
    r"|Segmentation fault|exit signal|panicked|RUST_BACKTRACE|stack backtrace",
    re.IGNORECASE)
CRASH_LINE = re.compile(r"Segmentation fault|exit signal|panicked|Aborted|core dumped",
                        re.IGNORECASE)

# GracefulShutdownTimeout: how long a graceful stop waits for requests in
# flight before httpd ends them.
GRACEFUL_STOP_SECONDS = 3

RUNNING = []  # started instances, scanned by the error-log fixture in conftest.py


class Httpd:

    def __init__(self, root: Path, cert: Path, key: Path, module: Path = None,
                 name: str = "httpd", mpm: str = "event", module_first: bool = False):
        self.name = name
        self.mpm = mpm
        self.module_first = module_first
        self.root = Path(root)
        self.cert, self.key = Path(cert), Path(key)
        self.module = Path(module) if module else None
        self.docroot = self.root / "htdocs"
        self.logs = self.root / "logs"
        self.run_dir = self.root / "run"
        for d in (self.docroot, self.logs, self.run_dir):
            d.mkdir(parents=True, exist_ok=True)
        self.conf_path = self.root / "httpd.conf"
        self.error_log = self.logs / "error.log"
        self.access_log = self.logs / "access.log"
        self.stderr_path = self.logs / "stderr.log"
        self._ports = {}
        # The loopback address it listens on; another one (127.0.0.2) lets two
        # instances share a port number, as the servers of a farm do.
        self.ip = "127.0.0.1"
        self._vhosts = []
        self._global = []
        self.proc = None

    # ---------------------------------------------------------------- config

    def port(self, name: str) -> int:
        """The port called `name` (allocated on first use)."""
        if name not in self._ports:
            self._ports[name] = env.free_port()
        return self._ports[name]

    def use_port(self, name: str, port: int):
        """Name a port chosen elsewhere (another instance's, on another `ip`)."""
        self._ports[name] = port

    def url(self, port_name: str, path: str, scheme: str = "https",
            host: str = "localhost") -> str:
        return f"{scheme}://{host}:{self.port(port_name)}{path}"

    def origin(self, port_name: str, scheme: str = "https") -> str:
        return f"{scheme}://localhost:{self.port(port_name)}"

    def write(self, relpath: str, text: str) -> Path:
        """Write a file under the ServerRoot (e.g. 'htdocs/x/.htaccess')."""
        p = self.root / relpath
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        return p

    def add_global(self, text: str):
        self._global.append(text)

    def add_vhost(self, port_name: str, body: str, tls: bool = True,
                  protocols: str = None):
        """A <VirtualHost> on port `port_name`, ServerName localhost."""
        port = self.port(port_name)
        if protocols is None:
            protocols = "h2 http/1.1" if tls else "h2c http/1.1"
        lines = [f"<VirtualHost {self.ip}:{port}>",
                 "    ServerName localhost",
                 f"    Protocols {protocols}"]
        if tls:
            lines += ["    SSLEngine on",
                      f'    SSLCertificateFile "{self.cert}"',
                      f'    SSLCertificateKeyFile "{self.key}"']
        lines += [body, "</VirtualHost>", ""]
        self._vhosts.append("\n".join(lines))

    def config_text(self) -> str:
        return base_config(self.root, self.module, list(self._ports.values()), self.mpm,
                           self.module_first, self.ip) \
            + "\n".join(self._global) + "\n" + "\n".join(self._vhosts)

    # ------------------------------------------------------------- lifecycle

    def start(self, timeout: float = 15.0, expected_log=()):
        """Start and wait until every port answers; warnings or errors logged at
        startup fail it, except lines matching a regex of `expected_log`."""
        self.conf_path.write_text(self.config_text())
        env.make_readable(self.root)
        check = subprocess.run(self.cmd("-t"), capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"{self.name}: apache2 -t failed:\n{check.stderr}{check.stdout}")
        with open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen(self.cmd("-DFOREGROUND"), stdout=err,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        RUNNING.append(self)
        deadline = time.monotonic() + timeout
        pending = set(self._ports.values())
        while pending:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name}: apache2 exited with {self.proc.returncode}:\n"
                                   + self.stderr_path.read_text() + self.read_error_log())
            for port in list(pending):
                with socket.socket() as s:
                    s.settimeout(0.2)
                    if s.connect_ex((self.ip, port)) == 0:
                        pending.discard(port)
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name}: ports {pending} not answering")
            time.sleep(0.05)
        bad = bad_lines(self.read_error_log(), expected_log)
        if bad:
            raise RuntimeError(f"{self.name}: error log at startup:\n" + "\n".join(bad))

    def cmd(self, *args) -> list:
        return [env.APACHE, "-d", str(self.root), "-f", str(self.conf_path), *args]

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self in RUNNING:
            RUNNING.remove(self)
        if self.proc is None:
            return
        # A graceful stop first: the children finish what they serve and exit
        # through every module's cleanups, ours included. SIGTERM alone is
        # httpd's ungraceful stop, where mpm_event's main thread closes the
        # sockets of connections still being torn down: a race of httpd's own
        # (a child's segfault in apr_os_sock_get, on a socket whose pool was
        # just freed) that tests no module. Tests of SIGTERM send it themselves.
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGWINCH)
            try:
                self.proc.wait(timeout=GRACEFUL_STOP_SECONDS + 5)
            except subprocess.TimeoutExpired:
                pass
        env.terminate(self.proc)
        # Children are in the parent's session; kill any that outlived it, by pid.
        for pid in self._leftover_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def _leftover_pids(self) -> list:
        conf = str(self.conf_path).encode()
        pids = []
        for d in Path("/proc").iterdir():
            if not d.name.isdigit():
                continue
            try:
                cmdline = (d / "cmdline").read_bytes()
            except OSError:
                continue
            if conf in cmdline.split(b"\0") and env.APACHE.encode() in cmdline:
                pids.append(int(d.name))
        return pids

    # ------------------------------------------------------------------ logs

    def read_error_log(self, offset: int = 0) -> str:
        try:
            with open(self.error_log, "rb") as f:
                f.seek(offset)
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def error_log_size(self) -> int:
        try:
            return self.error_log.stat().st_size
        except FileNotFoundError:
            return 0

    def access_entries(self) -> list:
        try:
            text = self.access_log.read_text("utf-8", "replace")
        except FileNotFoundError:
            return []
        return [parse_access_line(line) for line in text.splitlines() if line]

    def wait_access(self, ua: str, count: int = 1, timeout: float = 5.0) -> list:
        """Access-log entries of client call `ua`, once at least `count` are written.

        mod_log_config writes after the response went out, so poll a little.
        Returns what is there after the timeout, so the assertion shows it.
        """
        deadline = time.monotonic() + timeout
        while True:
            entries = [e for e in self.access_entries() if e.get("ua") == ua]
            if len(entries) >= count or time.monotonic() > deadline:
                return entries
            time.sleep(0.02)

    def access_entry(self, ua: str, uri: str = None) -> dict:
        """The single access-log entry of client call `ua` (for `uri` when given)."""
        entries = self.wait_access(ua)
        if uri is not None:
            entries = [e for e in entries if e["uri"] == uri]
        assert len(entries) == 1, f"expected one access-log line for {ua} {uri}: {entries}"
        return entries[0]


def parse_access_line(line: str) -> dict:
    entry = {}
    for field in line.split("\t"):
        key, _, value = field.partition("=")
        entry[key] = value
    method, _, rest = entry.get("request", "").partition(" ")
    uri, _, proto = rest.rpartition(" ")
    entry.update(method=method, uri=uri, proto=proto)
    return entry


def bad_lines(text: str, expected=()) -> list:
    """Lines of `text` that are warnings, errors or crashes not matching `expected`."""
    out = []
    for line in text.splitlines():
        if BAD_LINE.search(line) and not any(re.search(p, line) for p in expected):
            out.append(line)
    return out


def base_config(root: Path, module: Path, ports: list, mpm: str = "event",
                module_first: bool = False, ip: str = "127.0.0.1") -> str:
    """module_first: LoadModule ours before the others (filters of one type run in
    the order their modules were loaded)."""
    builtin = env.builtin_modules()
    loads = []
    for name in [f"mpm_{mpm}", *BASE_MODULES]:
        so = env.APACHE_MODULES / f"mod_{name}.so"
        if f"mod_{name}.c" in builtin or (name.startswith("mpm_") and f"{name[4:]}.c" in builtin):
            continue
        loads.append(f'LoadModule {name}_module "{so}"')
    loglevel = "LogLevel warn"
    if module is not None:
        # A copy: www-data may not reach the checkout (tests/harness/readable.py).
        ours = f'LoadModule push_redirect_module "{readable_copy(module)}"'
        loads.insert(1, ours) if module_first else loads.append(ours)
        loglevel += " push_redirect:trace1"
    listens = "\n".join(f"Listen {ip}:{p}" for p in ports)
    return f"""# generated by tests/harness/httpd.py
ServerRoot "{root}"
DefaultRuntimeDir "{root}/run"
PidFile "{root}/run/httpd.pid"
Mutex file:{root}/run default
ServerName localhost
ServerAdmin webmaster@localhost
User {env.RUN_USER}
Group {env.RUN_USER}
{chr(10).join(loads)}
{listens}

StartServers 1
<IfModule !mpm_prefork_module>
    # Slots beyond MaxRequestWorkers/ThreadsPerChild for the children of the
    # old generation that a graceful restart leaves running (else AH03490).
    ServerLimit 16
    ThreadsPerChild 25
    MaxRequestWorkers 100
</IfModule>
Timeout 20
GracefulShutdownTimeout {GRACEFUL_STOP_SECONDS}

ErrorLog "{root}/logs/error.log"
{loglevel}
LogFormat "{ACCESS_FORMAT}" pr
CustomLog "{root}/logs/access.log" pr
TypesConfig /etc/mime.types
SSLSessionCache "shmcb:{root}/run/ssl_scache(512000)"
H2Push on
DirectoryIndex index.html
DocumentRoot "{root}/htdocs"
<Directory />
    Options None
    AllowOverride None
    Require all denied
</Directory>
<Directory "{root}/htdocs">
    Options FollowSymLinks
    AllowOverride None
    Require all granted
</Directory>

"""
