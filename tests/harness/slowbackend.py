"""A backend that thinks before it answers, for Early Hints sent ahead of it.

`SlowBackend` is a threaded HTTP/1.1 server on 127.0.0.1 whose routes the test
sets: path+query -> think time, status, header fields, body, and optional
interim responses (a backend's own `103`) sent before the think time. It keeps
connections alive as mod_proxy expects, and records when each request arrived,
so a test can tell what the front end sent before the backend had answered.
Routes can be replaced while it runs: a chain that changes after the server
learned it. A route can also pause inside its body (`gap`: the first bytes,
a wait, the rest), as a page that flushes its head before its slow part, or
make each answer afresh (`make`: a new session per response).

Apache reaches it through mod_proxy (`proxy_config()`).
"""

import threading
import time
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Tuple

from .loopback import LoopbackServer

Fields = List[Tuple[str, str]]

REASONS = {103: "Early Hints", 200: "OK", 301: "Moved Permanently", 302: "Found",
           303: "See Other", 307: "Temporary Redirect", 308: "Permanent Redirect",
           404: "Not Found"}


@dataclass
class Route:
    status: int = 200
    headers: Fields = field(default_factory=list)
    body: bytes = b""
    think: float = 0.0                                   # seconds, after the interims
    interim: List[Fields] = field(default_factory=list)  # each one a 103's fields
    gap: Optional[Tuple[int, float]] = None   # (bytes of the body sent first, pause in s)
    make: Optional[Callable[[], Tuple[Fields, bytes]]] = None  # fresh fields and body


@dataclass
class Arrival:
    at: float            # time.monotonic() when the request's head was read
    method: str
    target: str
    headers: Fields


def page_html(title: str, stylesheet: str = None) -> bytes:
    link = f'<link rel="stylesheet" href="{stylesheet}">\n' if stylesheet else ""
    return (f'<!doctype html>\n<html><head><meta charset="utf-8"><title>{title}</title>\n'
            f'{link}</head><body><h1>{title}</h1><p>A page that made its backend '
            'think.</p></body></html>\n').encode()


class SlowBackend(LoopbackServer):

    def __init__(self):
        super().__init__()
        self.routes = {}
        self.arrivals: List[Arrival] = []
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- routes

    def route(self, target: str, status: int = 200, headers: Fields = (), body: bytes = b"",
              think: float = 0.0, interim: List[Fields] = (), gap: Tuple[int, float] = None,
              make: Callable[[], Tuple[Fields, bytes]] = None):
        """Answer `GET target` (path+query, exact) with this, after `think` s.
        `gap=(n, s)`: send the head and the first n bytes of the body, flush,
        wait s seconds, send the rest. `make()`: the header fields and body of
        each answer, called per request (instead of `headers` and `body`)."""
        with self._lock:
            self.routes[target] = Route(status, list(headers), body, think,
                                        [list(i) for i in interim], gap, make)

    def page(self, target: str, links=(), think: float = 0.0, stylesheet: str = None,
             headers: Fields = (), body: bytes = None):
        """A 200 text/html page carrying one `Link` field per value of `links`."""
        fields = [("Content-Type", "text/html; charset=utf-8")]
        fields += [("Link", link) for link in links] + list(headers)
        self.route(target, 200, fields,
                   page_html(target, stylesheet) if body is None else body, think)

    def redirect(self, target: str, location: str, think: float = 0.0, status: int = 302,
                 headers: Fields = ()):
        self.route(target, status, [("Location", location), *headers], b"", think)

    def arrivals_for(self, target: str) -> List[Arrival]:
        with self._lock:
            return [a for a in self.arrivals if a.target == target]

    # ------------------------------------------------------------------ wire

    def serve(self, rfile, wfile):
        while self._serve_one(rfile, wfile):
            pass

    def proxy_config(self, prefix: str = "/app/") -> str:
        """The front end's side: `prefix` proxied to this backend, same paths."""
        return f"""
    ProxyPass {prefix} http://127.0.0.1:{self.port}{prefix}
"""

    def _serve_one(self, rfile, wfile) -> bool:
        """One request on a kept-alive connection; False when it is closed."""
        request_line = rfile.readline(65536)
        if not request_line.strip():
            return False
        fields: Fields = []
        while True:
            line = rfile.readline(65536)
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            fields.append((name.strip(), value.strip()))
        parts = request_line.decode("latin-1").split()
        method, target = (parts + ["", ""])[:2]
        with self._lock:
            self.arrivals.append(Arrival(time.monotonic(), method, target, fields))
            route = self.routes.get(target)
        length = int(next((v for n, v in fields if n.lower() == "content-length"), "0") or 0)
        if length:
            rfile.read(length)
        if route is None:
            route = Route(404, [("Content-Type", "text/plain")], b"no such route\n")
        for interim in route.interim:
            wfile.write(b"HTTP/1.1 103 Early Hints\r\n" + _fields(interim) + b"\r\n")
            wfile.flush()
        if route.think:
            time.sleep(route.think)
        close = any(n.lower() == "connection" and v.lower() == "close" for n, v in fields)
        headers, full_body = route.make() if route.make else (route.headers, route.body)
        head = f"HTTP/1.1 {route.status} {REASONS.get(route.status, 'Status')}\r\n".encode()
        body = b"" if method == "HEAD" else full_body
        tail = [("Content-Length", str(len(full_body)))]
        tail += [("Connection", "close")] if close else []
        head += _fields(list(headers) + tail) + b"\r\n"
        if route.gap and body:
            first, pause = route.gap
            wfile.write(head + body[:first])
            wfile.flush()
            time.sleep(pause)
            head, body = b"", body[first:]
        wfile.write(head + body)
        wfile.flush()
        return not close


def _fields(fields: Fields) -> bytes:
    return b"".join(f"{n}: {v}\r\n".encode("latin-1") for n, v in fields)
