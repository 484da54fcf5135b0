"""Clients: nghttp (HTTP/2, takes pushes) and curl (HTTP/1.1), parsed into what they saw.

`nghttp -v` prints every frame it sends and receives, the header fields of
received HEADERS and PUSH_PROMISE frames one per line before the frame line,
and (unless -n) the bytes of each DATA frame right before its frame line. The
parser below turns that into streams: request headers (sent, or promised by a
PUSH_PROMISE), response headers, status, body, the streams promised on it.
"""

import itertools
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from . import env

_ua_counter = itertools.count(1)


def new_user_agent() -> str:
    """A user agent unique to one client call; mod_http2 copies it into pushes."""
    return f"pr-test/{next(_ua_counter)}"


Headers = List[Tuple[str, str]]


def values(headers: Headers, name: str) -> List[str]:
    name = name.lower()
    return [v for n, v in headers if n.lower() == name]


@dataclass
class H2Stream:
    id: int
    request: Headers = field(default_factory=list)      # sent, or from the PUSH_PROMISE
    response: Headers = field(default_factory=list)     # final response header block
    informational: List[Headers] = field(default_factory=list)
    trailers: Headers = field(default_factory=list)
    body: bytes = b""
    promised: List[int] = field(default_factory=list)   # ids promised on this stream
    rst: Optional[str] = None
    ended: bool = False

    @property
    def status(self) -> Optional[int]:
        s = values(self.response, ":status")
        return int(s[0]) if s else None

    @property
    def path(self) -> Optional[str]:
        p = values(self.request, ":path")
        return p[0] if p else None

    def headers(self, name: str) -> List[str]:
        return values(self.response, name)

    def header(self, name: str) -> Optional[str]:
        v = self.headers(name)
        assert len(v) <= 1, f"stream {self.id}: several {name} fields: {v}"
        return v[0] if v else None


@dataclass
class H2Result:
    args: List[str]
    exit_code: int
    out: bytes
    err: str
    ua: str
    streams: Dict[int, H2Stream] = field(default_factory=dict)
    main_id: Optional[int] = None
    protocol: Optional[str] = None

    @property
    def main(self) -> H2Stream:
        assert self.main_id is not None, f"no request was sent:\n{self.describe()}"
        return self.streams[self.main_id]

    @property
    def pushes(self) -> List[H2Stream]:
        """The streams promised on the main request, in order."""
        return [self.streams[i] for i in self.main.promised]

    @property
    def all_promises(self) -> List[H2Stream]:
        return [self.streams[i] for s in self.streams.values() for i in s.promised]

    def describe(self) -> str:
        return (f"$ {' '.join(self.args)}\nexit={self.exit_code}\n"
                + self.out.decode("utf-8", "replace") + self.err)


# Frame lines: "[  0.038] recv PUSH_PROMISE frame <length=61, flags=0x04, stream_id=13>"
# followed by lines indented by 10 spaces. Header lines of received header blocks:
# "[  0.038] recv (stream_id=13) :path: /target.html".
_EVENT = re.compile(
    rb"\[ *\d+\.\d+\] (?:"
    rb"(?P<dir>recv|send) (?P<type>[A-Z_]+) frame <length=(?P<len>\d+), "
    rb"flags=0x(?P<flags>[0-9a-fA-F]+), stream_id=(?P<sid>\d+)>\n(?P<block>(?: {10}[^\n]*\n)*)"
    rb"|recv \(stream_id=(?P<hsid>\d+)\) (?P<hname>:?[^:\n]+): ?(?P<hval>[^\n]*)\n"
    rb")")
_PROTOCOL = re.compile(rb"The negotiated protocol: (\S+)")


def parse_nghttp(out: bytes, with_bodies: bool = True) -> Tuple[Dict[int, H2Stream], Optional[int]]:
    streams: Dict[int, H2Stream] = {}
    pending: Dict[int, Headers] = {}
    main_id = None
    # A DATA frame's bytes are printed as they arrive, before its "recv DATA"
    # line; what nghttp sends meanwhile (a WINDOW_UPDATE once half the window
    # is used) can be printed between two parts of one frame. So a frame's
    # bytes are what lies between the last received event and its own line,
    # less the sent events in that stretch.
    received_end = 0
    sent_since: List[Tuple[int, int]] = []

    def stream(sid: int) -> H2Stream:
        return streams.setdefault(sid, H2Stream(sid))

    for m in _EVENT.finditer(out):
        if m.group("hsid"):
            pending.setdefault(int(m.group("hsid")), []).append(
                (m.group("hname").decode("latin-1"), m.group("hval").decode("latin-1")))
            received_end, sent_since = m.end(), []
            continue
        sid, ftype = int(m.group("sid")), m.group("type").decode()
        block = m.group("block").decode("latin-1")
        flags = int(m.group("flags"), 16)
        if m.group("dir") == b"send":
            if ftype == "HEADERS":
                s = stream(sid)
                for line in block.split("\n"):
                    line = line.strip()
                    hm = re.match(r"(:?[^:;(]+): ?(.*)$", line)
                    if hm:
                        s.request.append((hm.group(1), hm.group(2)))
                if main_id is None:
                    main_id = sid
        elif ftype == "PUSH_PROMISE":
            pm = re.search(r"promised_stream_id=(\d+)", block)
            assert pm, f"PUSH_PROMISE without promised id: {block}"
            promised = stream(int(pm.group(1)))
            promised.request = pending.pop(sid, [])
            stream(sid).promised.append(promised.id)
        elif ftype == "HEADERS":
            s = stream(sid)
            hdrs = pending.pop(sid, [])
            status = values(hdrs, ":status")
            if s.response:
                s.trailers = hdrs
            elif status and int(status[0]) < 200:
                s.informational.append(hdrs)
            else:
                s.response = hdrs
            if flags & 0x01:
                s.ended = True
        elif ftype == "DATA":
            s = stream(sid)
            length = int(m.group("len"))
            pad = re.search(r"padlen=(\d+)", block)
            if pad:
                length -= int(pad.group(1)) + 1
            if with_bodies and length > 0:
                printed, cursor = b"", received_end
                for sent_start, sent_end in sent_since:
                    printed += out[cursor:sent_start]
                    cursor = sent_end
                printed += out[cursor:m.start()]
                assert len(printed) >= length, \
                    f"nghttp output misparsed near DATA of stream {sid} at byte {m.start()}"
                s.body += printed[len(printed) - length:]
            if flags & 0x01:
                s.ended = True
        elif ftype == "RST_STREAM":
            em = re.search(r"error_code=(\S+?)[,)]", block)
            stream(sid).rst = em.group(1) if em else "?"
        if m.group("dir") == b"send":
            sent_since.append((m.start(), m.end()))
        else:
            received_end, sent_since = m.end(), []
    return streams, main_id


def nghttp(url: str, *, options=(), data: bytes = None, headers=(), ua: str = None,
           bodies: bool = True, timeout: float = 20) -> H2Result:
    """One request with `nghttp -v`; returns what the client saw.

    `headers` are extra request fields ("cookie: a=b"); `options` raw nghttp
    options such as "--no-push"; `data` makes it a POST with that body.
    """
    ua = ua or new_user_agent()
    args = [env.NGHTTP, "-v", f"--header=user-agent: {ua}"]
    args += [f"--header={h}" for h in headers]
    if not bodies:
        args.append("-n")
    args += list(options)
    with tempfile.TemporaryDirectory() as tmp:
        if data is not None:
            body = Path(tmp) / "body"
            body.write_bytes(data)
            args.append(f"--data={body}")
        args.append(url)
        p = subprocess.run(args, capture_output=True, timeout=timeout)
    res = H2Result(args, p.returncode, p.stdout, p.stderr.decode("utf-8", "replace"), ua)
    pm = _PROTOCOL.search(p.stdout)
    res.protocol = pm.group(1).decode() if pm else None
    res.streams, res.main_id = parse_nghttp(p.stdout, with_bodies=bodies)
    return res


@dataclass
class H1Result:
    args: List[str]
    exit_code: int
    ua: str
    status: Optional[int]
    version: Optional[str]
    response: Headers
    body: bytes
    raw_headers: str
    err: str

    def headers(self, name: str) -> List[str]:
        return values(self.response, name)

    def header(self, name: str) -> Optional[str]:
        v = self.headers(name)
        assert len(v) <= 1, f"several {name} fields: {v}"
        return v[0] if v else None

    def describe(self) -> str:
        return f"$ {' '.join(self.args)}\nexit={self.exit_code}\n{self.raw_headers}{self.err}"

    @property
    def informational(self) -> List[Headers]:
        """The fields of each 1xx response before the final one (curl writes
        every header block it receives, 103s included, to its header dump)."""
        blocks = []
        for block in self.raw_headers.split("\r\n\r\n"):
            m = re.match(r"HTTP/[\d.]+ (1\d\d)", block)
            if m:
                blocks.append([(n.strip(), v.strip()) for n, _, v in
                               (line.partition(":") for line in block.split("\r\n")[1:])])
        return blocks


def curl(url: str, *, headers=(), data: bytes = None, ua: str = None,
         options=("--http1.1",), timeout: float = 20) -> H1Result:
    """One request with curl (HTTP/1.1 by default), no redirect following."""
    ua = ua or new_user_agent()
    with tempfile.TemporaryDirectory() as tmp:
        hdr, body = Path(tmp) / "headers", Path(tmp) / "body"
        args = [env.CURL, "-sS", "-k", *options, "-A", ua, "--max-time", str(timeout),
                "-D", str(hdr), "-o", str(body)]
        for h in headers:
            args += ["-H", h]
        if data is not None:
            (Path(tmp) / "data").write_bytes(data)
            args += ["--data-binary", f"@{Path(tmp) / 'data'}"]
        args.append(url)
        p = subprocess.run(args, capture_output=True, text=True, timeout=timeout + 5)
        raw = hdr.read_bytes().decode("latin-1") if hdr.exists() else ""
        content = body.read_bytes() if body.exists() else b""
    status = version = None
    fields: Headers = []
    for line in raw.split("\r\n"):
        m = re.match(r"(HTTP/[\d.]+) (\d{3})", line)
        if m:  # a new response block (after a 1xx): start over
            version, status, fields = m.group(1), int(m.group(2)), []
        elif ":" in line:
            name, _, value = line.partition(":")
            fields.append((name.strip(), value.strip()))
    return H1Result(args, p.returncode, ua, status, version, fields, content, raw, p.stderr)
