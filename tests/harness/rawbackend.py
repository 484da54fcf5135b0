"""A backend that answers with exactly the bytes it is given.

Django and gunicorn refuse or rewrite some header bytes (CR, LF, NUL, non-latin-1,
several Location fields in a chosen order); a real misbehaving backend does not.
`RawBackend` listens on 127.0.0.1 and answers `GET /raw/<name>` with the response
registered under `name`: a status line, the given header lines verbatim, an empty
body. Apache reaches it through mod_proxy (`proxy_config()`), so the module sees
whatever Apache's proxy makes of those bytes, as it would in production.
"""

from .loopback import LoopbackServer


class RawBackend(LoopbackServer):

    def __init__(self):
        super().__init__()
        self.responses = {}
        self.prefixes = []  # (prefix, make): see add_prefix()
        self.requests = 0

    def add(self, name: str, header_lines, status: int = 302):
        """Register `GET /raw/<name>`: `header_lines` are bytes, sent as they are,
        each followed by CRLF (put CR/LF inside one to forge a field)."""
        self.responses[name] = _response_head(status, header_lines)

    def add_prefix(self, prefix: str, make):
        """Answer every `GET /raw/<prefix>...` not registered with add(): `make(name)`
        returns (status, header_lines) for that name (query included), so one
        call serves any number of distinct URLs."""
        self.prefixes.append((prefix, make))

    def _response(self, name: str):
        if name in self.responses:
            return self.responses[name]
        for prefix, make in self.prefixes:
            if name.startswith(prefix):
                return _response_head(*make(name))
        return None

    def serve(self, rfile, wfile):
        request_line = rfile.readline(65536)
        while rfile.readline(65536) not in (b"\r\n", b"\n", b""):
            pass  # the request's header fields: not needed
        self.requests += 1
        parts = request_line.split(b" ")
        name = parts[1].decode("latin-1").split("/raw/", 1)[-1] if len(parts) > 1 else ""
        response = self._response(name) or (
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
            b"Connection: close\r\n\r\n")
        wfile.write(response)

    def proxy_config(self) -> str:
        """The front end's side: /raw/ proxied to this backend, its headers as sent."""
        return f"""
    # responsefieldsize: room for Location fields beyond the default 8 KB.
    ProxyPass /raw/ http://127.0.0.1:{self.port}/raw/ responsefieldsize=70000
"""


def _response_head(status: int, header_lines) -> bytes:
    head = b"HTTP/1.1 %d Status\r\n" % status
    head += b"".join(line + b"\r\n" for line in header_lines)
    return head + b"Content-Length: 0\r\nConnection: close\r\n\r\n"
