#!/usr/bin/env python3
"""Seeds of the `respond` fuzz target, written as the target reads them.

The target decodes its bytes with `arbitrary` 1.5 (`Input` in
fuzz_targets/respond.rs), so a seed is the encoding of one `Input`: fixed
integers and enum tags from the front, the length of each byte string from
the back. This script holds that layout (LAYOUT, which must follow the
structs of respond.rs and common.rs) and

    python3 respond_seeds.py write    # the seeds of SEEDS, as corpus/respond/gen-*
    python3 respond_seeds.py migrate  # corpus/respond/<sha1> inputs read with
                                      # OLD_LAYOUT, written again with LAYOUT
    python3 respond_seeds.py check    # each file of corpus/respond decoded here
                                      # and by the target (RUST_LIBFUZZER_DEBUG_PATH,
                                      # as `cargo fuzz fmt` does): the same

Run it from fuzz/; `check` needs the target built
(`RUSTC_BOOTSTRAP=1 cargo fuzz build -O -s none respond`).

When a field is added to the target's input, give the old layout to
OLD_LAYOUT, the new one to LAYOUT and the new field's value to `upgrade`,
then `migrate` the corpus: an input whose bytes are read with another layout
is a different input, and the corpus no longer covers what it did.
"""

import gzip
import hashlib
import os
import subprocess
import sys
import tempfile
import zlib

# ---------------------------------------------------------------- arbitrary
#
# Types: "u8", "u16", "i32", "bool", "bytes" (&[u8]), ("opt", T),
# ("arr", T, n), ("vec", T), ("tup", [T...]), ("enum", [(name, T or None)...]),
# ("struct", name, [(field, T)...]). Values: ints, bools, bytes, None or the
# value, lists, tuples, (variant, payload or None), dicts.


class Unstructured:
    """arbitrary::Unstructured, as far as these types read it."""

    def __init__(self, data):
        self.data = bytes(data)

    def take(self, n):
        """fill_buffer: what is there, zeros after the end."""
        got, self.data = self.data[:n], self.data[n:]
        return got + bytes(n - len(got))

    def byte_size(self):
        """arbitrary_byte_size: a length from the end of the data."""
        n = len(self.data)
        if n <= 1:
            self.data = b""
            return 0
        size = 1 if n <= 256 else 2 if n <= 65537 else 4
        max_size = n - size
        self.data, for_size = self.data[:max_size], self.data[max_size:]
        # int_in_range(0..=max_size): big-endian, as many bytes as the
        # range needs, modulo its size.
        value, consumed = 0, 0
        while consumed < size and max_size >> (8 * consumed):
            value = (value << 8) | for_size[consumed]
            consumed += 1
        return value % (max_size + 1)

    def bytes(self, n):
        got, self.data = self.data[:n], self.data[n:]
        return got


def decode(ty, u):
    if ty == "u8":
        return u.take(1)[0]
    if ty == "u16":
        return int.from_bytes(u.take(2), "little")
    if ty == "i32":
        return int.from_bytes(u.take(4), "little", signed=True)
    if ty == "bool":
        return u.take(1)[0] & 1 == 1
    if ty == "bytes":
        return u.bytes(u.byte_size())
    kind = ty[0]
    if kind == "opt":
        return decode(ty[1], u) if decode("bool", u) else None
    if kind == "arr":
        return [decode(ty[1], u) for _ in range(ty[2])]
    if kind == "vec":
        items = []
        while decode("bool", u):
            items.append(decode(ty[1], u))
        return items
    if kind == "tup":
        return tuple(decode(t, u) for t in ty[1])
    if kind == "enum":
        tag = int.from_bytes(u.take(4), "little")
        name, payload = ty[1][(tag * len(ty[1])) >> 32]
        return (name, None if payload is None else decode(payload, u))
    if kind == "struct":
        return {field: decode(t, u) for field, t in ty[2]}
    raise ValueError(ty)


def ops(ty, value, out):
    """The value as a list of ("front", bytes) and ("slice", bytes)."""
    if ty == "u8":
        out.append(("front", bytes([value])))
    elif ty == "u16":
        out.append(("front", value.to_bytes(2, "little")))
    elif ty == "i32":
        out.append(("front", value.to_bytes(4, "little", signed=True)))
    elif ty == "bool":
        out.append(("front", bytes([int(value)])))
    elif ty == "bytes":
        out.append(("slice", bytes(value)))
    elif ty[0] == "opt":
        ops("bool", value is not None, out)
        if value is not None:
            ops(ty[1], value, out)
    elif ty[0] == "arr":
        assert len(value) == ty[2], (ty, value)
        for item in value:
            ops(ty[1], item, out)
    elif ty[0] == "vec":
        for item in value:
            ops("bool", True, out)
            ops(ty[1], item, out)
        ops("bool", False, out)
    elif ty[0] == "tup":
        for t, item in zip(ty[1], value, strict=True):
            ops(t, item, out)
    elif ty[0] == "enum":
        names = [name for name, _ in ty[1]]
        index, n = names.index(value[0]), len(names)
        # The least u32 whose (tag * n) >> 32 is the index.
        out.append(("front", (-(-(index << 32) // n)).to_bytes(4, "little")))
        payload = ty[1][index][1]
        if payload is not None:
            ops(payload, value[1], out)
    elif ty[0] == "struct":
        assert set(value) == {f for f, _ in ty[2]}, (ty[1], set(value))
        for field, t in ty[2]:
            ops(t, value[field], out)
    else:
        raise ValueError(ty)
    return out


def encode(ty, value):
    """The bytes `decode` reads `value` from: each byte string's length
    goes at the end, the first one's last, sized by what is left when it is
    read (1 byte up to 256 left, 2 up to 65,537)."""
    parts = ops(ty, value, [])
    front = b"".join(data for _, data in parts)
    slices = [data for kind, data in parts if kind == "slice"]
    sizes = [1] * len(slices)
    while True:
        total = len(front) + sum(sizes)
        new_sizes, ahead, behind, i = [], 0, 0, 0
        for kind, data in parts:
            if kind == "slice":
                left = total - ahead - behind
                assert left <= 65537, "longer than this encoder writes"
                size = max(sizes[i], 0 if left == 0 else 1 if left <= 256 else 2)
                new_sizes.append(size)
                behind += size
                i += 1
            ahead += len(data)
        if new_sizes == sizes:
            break
        sizes = new_sizes
    back = b"".join(
        len(data).to_bytes(size, "big")
        for data, size in reversed(list(zip(slices, sizes)))
    )
    data = front + back
    assert decode(ty, Unstructured(data)) == value, "does not read back"
    return data


def debug(ty, value, indent=0):
    """Rust's `{:#?}` of the value, as `cargo fuzz fmt` prints it."""
    pad, inner = " " * indent, " " * (indent + 4)

    def seq(open_, close, items):
        if not items:
            return open_ + close
        body = "".join(f"{inner}{item},\n" for item in items)
        return f"{open_}\n{body}{pad}{close}"

    if ty in ("u8", "u16", "i32"):
        return str(value)
    if ty == "bool":
        return "true" if value else "false"
    if ty == "bytes":
        return seq("[", "]", [str(b) for b in value])
    kind = ty[0]
    if kind == "opt":
        if value is None:
            return "None"
        return seq("Some(", ")", [debug(ty[1], value, indent + 4)])
    if kind in ("arr", "vec"):
        return seq("[", "]", [debug(ty[1], v, indent + 4) for v in value])
    if kind == "tup":
        return seq("(", ")", [debug(t, v, indent + 4) for t, v in zip(ty[1], value)])
    if kind == "enum":
        payload = dict(ty[1])[value[0]]
        if payload is None:
            return value[0]
        return seq(f"{value[0]}(", ")", [debug(payload, value[1], indent + 4)])
    if kind == "struct":
        fields = [f"{f}: {debug(t, value[f], indent + 4)}" for f, t in ty[2]]
        return seq(f"{ty[1]} {{", "}", fields)
    raise ValueError(ty)


# ------------------------------------------------------------------ layouts

TEXT = ("enum", [("Common", None), ("Other", None), ("Raw", "bytes")])
PICK = ("enum", [("Known", "u8"), ("Raw", "bytes")])
SEED = ("enum", [("Page", ("vec", PICK)), ("Redirect", PICK), ("Raw", "bytes")])
CACHE = (
    "struct",
    "Cache",
    [
        ("visitor", ("opt", ("tup", ["bool", "bool", ("opt", "bool")]))),
        ("lifetime_secs", ("opt", "u16")),
        ("seeds", ("vec", ("tup", [PICK, SEED]))),
    ],
)


def response_type(fields):
    return ("struct", "Response", fields)


def input_type(switches, response):
    return (
        "struct",
        "Input",
        [
            ("switches", ("arr", "u8", switches)),
            ("statuses", ("opt", ("vec", "u8"))),
            ("exclude_mask", "u8"),
            ("declared_mask", "u8"),
            ("server_sends_hints", "bool"),
            ("cache", ("opt", CACHE)),
            ("responses", ("vec", response)),
        ],
    )


def response_fields(proxy, http1_0):
    return [
        ("status", "u8"),
        ("odd_status", ("opt", "i32")),
        ("method", TEXT),
        ("scheme", TEXT),
        *([("trusted_proxy", "bool"), ("forwarded_proto", ("opt", TEXT))] if proxy else []),
        ("host", ("opt", TEXT)),
        ("server_port", "u16"),
        ("request_target", PICK),
        ("flags", ("arr", "bool", 8)),
        *([("http1_0", "bool")] if http1_0 else []),
        ("opt_out_values", ("vec", "bytes")),
        ("locations", ("vec", PICK)),
        ("links", ("vec", PICK)),
        ("vhost", TEXT),
        ("set_cookies", ("vec", "bytes")),
        ("cache_control", ("vec", TEXT)),
        ("content_type", ("opt", TEXT)),
        ("content_encoding", ("opt", TEXT)),
        ("sec_fetch_mode", ("opt", TEXT)),
        ("sec_fetch_dest", ("opt", TEXT)),
        ("body", ("vec", "bytes")),
        ("later_ms", "u16"),
    ]


# The input of respond.rs now: the scheme as a trusted proxy's
# X-Forwarded-Proto gives it.
RESPONSE = response_type(response_fields(proxy=True, http1_0=True))
LAYOUT = input_type(7, RESPONSE)

# The input the sha1-named seeds were found with (commit df4e64d): six
# switches (no PushRedirectEarlyHintsHTTP1), no http1_0, no proxy.
OLD_LAYOUT = input_type(6, response_type(response_fields(proxy=False, http1_0=False)))


def upgrade(old):
    """An input of OLD_LAYOUT as LAYOUT holds it: the new fields unset."""
    new = dict(old, switches=old["switches"] + [0])
    new["responses"] = [upgrade_response(r) for r in old["responses"]]
    return new


def upgrade_response(old):
    new = {}
    for field, _ in RESPONSE[2]:
        new[field] = old.get(field, {"trusted_proxy": False, "http1_0": False}.get(field))
    return new


# -------------------------------------------------------- the seeds written

# Indexes into respond.rs's tables.
TARGETS = ["/old", "/new", "/a", "/b", "/page", "/new?x=1", "/",
           "https://example.com/new", "new", "/dir/a%20b.html"]
LINKS = ["app.css", "rel.js", "cdn lib.js", "fonts preconnect", "mod.js",
         "f.woff2", "/new nopush", "s.css stylesheet", "http cdn x.js",
         "example.com preconnect", "visitor-secret.json", "/new as=document"]
STATUS = {200: 0, 301: 1, 302: 2, 303: 3, 307: 4, 308: 5, 300: 6}
UNSET, OFF, ON = 0, 1, 2
SWITCHES = ["push", "require_tls", "with_credentials", "early_hints", "ahead",
            "from_html", "early_hints_http1"]
FLAGS = ["http2", "h2_push", "pushed_stream", "has_cookie", "has_authorization",
         "opt_out_env", "early_hints_sent", "other_port"]

COMMON, OTHER = ("Common", None), ("Other", None)


def raw(data):
    return ("Raw", data)


def target(path):
    return ("Known", TARGETS.index(path))


def link(name):
    return ("Known", LINKS.index(name))


def settings(declared=0, cache=None, **switches):
    """An input: `switches` by name (UNSET, OFF, ON), `declared` the mask
    of respond.rs's DECLARED lines (bit 0: /new's d.css), `cache` the
    store model, or none."""
    assert set(switches) <= set(SWITCHES), switches
    return {
        "switches": [switches.get(name, UNSET) for name in SWITCHES],
        "statuses": None,
        "exclude_mask": 0,
        "declared_mask": declared,
        "server_sends_hints": False,
        "cache": cache,
        "responses": [],
    }


def cache(*seeds, visitor=None):
    return {"visitor": visitor, "lifetime_secs": None, "seeds": list(seeds)}


def response(status=302, request="/old", location="/new", flags=(), **fields):
    """A response: by default a 302 from https://example.com/old to /new
    over HTTP/1.1, no Fetch metadata (a navigation), `flags` the names of
    FLAGS that are set; other fields of LAYOUT's Response by name."""
    assert set(flags) <= set(FLAGS), flags
    r = {
        "status": STATUS[status],
        "odd_status": None,
        "method": COMMON,
        "scheme": COMMON,
        "trusted_proxy": False,
        "forwarded_proto": None,
        "host": COMMON,
        "server_port": 443,
        "request_target": target(request),
        "flags": [name in flags for name in FLAGS],
        "http1_0": False,
        "opt_out_values": [],
        "locations": [] if location is None else [target(location)],
        "links": [],
        "vhost": COMMON,
        "set_cookies": [],
        "cache_control": [],
        "content_type": None,
        "content_encoding": None,
        "sec_fetch_mode": None,
        "sec_fetch_dest": None,
        "body": [],
        "later_ms": 0,
    }
    assert set(fields) <= set(r), set(fields) - set(r)
    r.update(fields)
    return r


def with_responses(input_, *responses):
    return dict(input_, responses=list(responses))


def navigation(**fields):
    """A 302 to /new over HTTP/2 that a browser navigates to."""
    fields.setdefault("flags", ("http2",))
    fields.setdefault("sec_fetch_mode", COMMON)
    fields.setdefault("sec_fetch_dest", COMMON)
    return response(**fields)


HEAD = (b"<!doctype html><html><head><meta charset=utf-8>"
        b"<link rel=stylesheet href=\"/h.css\">"
        b"<link rel=preload href=\"/p.woff2\" as=font crossorigin>"
        b"<script src=\"/h.js\"></script>"
        b"<script type=module src=\"/m.js\"></script>"
        b"<link rel=preconnect href=\"https://cdn.example\">"
        b"</head><body><p>page</p></body></html>")


def chunks(data, n=3):
    """`data` in `n` chunks, as a body goes past the filter."""
    step = -(-len(data) // n)
    return [data[i:i + step] for i in range(0, len(data), step)]


def brotli_stored(data):
    """A brotli stream of one uncompressed meta-block (RFC 7932, 9.2):
    no compressor needed to give the br decoder a page."""
    bits, value = 0, 0

    def put(v, n):
        nonlocal bits, value
        value |= v << bits
        bits += n

    put(0, 1)                      # WBITS 16
    put(0, 1)                      # ISLAST 0
    put(0, 2)                      # MNIBBLES 4
    put(len(data) - 1, 16)         # MLEN - 1
    put(1, 1)                      # ISUNCOMPRESSED
    bits = -(-bits // 8) * 8       # to a byte boundary
    head = value.to_bytes(bits // 8, "little")
    return head + data + bytes([0b11])  # ISLAST 1, ISLASTEMPTY 1


def page(encoding=None, body=HEAD, **fields):
    """A 200 for /new that a browser navigated to over HTTP/2: HTML, its
    head giving hints, in chunks."""
    fields.setdefault("flags", ("http2",))
    fields.setdefault("content_type", COMMON)
    return navigation(status=200, request="/new", location=None,
                      content_encoding=encoding, body=chunks(body), **fields)


# The further hops of a learned chain: /new -> /a -> /b, /b a page.
CHAIN = cache(
    (target("/new"), ("Redirect", target("/a"))),
    (target("/a"), ("Redirect", target("/b"))),
    (target("/b"), ("Page", [link("app.css"), link("mod.js")])),
)

SEEDS = {
    # PushRedirectEarlyHintsHTTP1: a 103 over HTTP/1.1; not without it
    # (not-http2), never to HTTP/1.0 (http1.0), which over HTTP/2 means
    # nothing.
    "gen-103-http1": with_responses(
        settings(early_hints=ON, early_hints_http1=ON, declared=0b0011),
        navigation(flags=()),
        navigation(flags=(), http1_0=True),
        navigation(flags=("http2",), http1_0=True),
    ),
    "gen-103-http1-off": with_responses(
        settings(early_hints=ON, early_hints_http1=OFF, push=ON, declared=0b0001),
        navigation(flags=()),
        navigation(flags=("http2", "h2_push")),
    ),
    "gen-103-http1-cors": with_responses(
        settings(early_hints=ON, early_hints_http1=ON, declared=0b0001),
        navigation(flags=(), sec_fetch_mode=OTHER, sec_fetch_dest=OTHER),
        navigation(flags=(), sec_fetch_mode=raw(b" navigate\t")),
    ),
    # Behind a proxy: X-Forwarded-Proto counts only from one Apache trusts.
    "gen-proxy-https": with_responses(
        settings(push=ON, early_hints=ON, declared=0b0001),
        navigation(flags=("http2", "h2_push"), scheme=OTHER,
                   trusted_proxy=True, forwarded_proto=COMMON),
        navigation(flags=("http2", "h2_push"), scheme=OTHER,
                   trusted_proxy=False, forwarded_proto=COMMON),
    ),
    "gen-proxy-values": with_responses(
        settings(push=ON),
        navigation(flags=("http2", "h2_push"), scheme=OTHER,
                   trusted_proxy=True, forwarded_proto=raw(b" HTTPS\t")),
        navigation(flags=("http2", "h2_push"), scheme=OTHER,
                   trusted_proxy=True, forwarded_proto=raw(b"https, http")),
        navigation(flags=("http2", "h2_push"), scheme=COMMON,
                   trusted_proxy=True, forwarded_proto=OTHER),
        navigation(flags=("http2", "h2_push"), scheme=COMMON,
                   trusted_proxy=True, forwarded_proto=None),
    ),
    # A page's HTML teaches its hints (PushRedirectEarlyHintsFromHTML,
    # default on), read from its body in chunks, as each coding sends it;
    # the next redirect to it gets them in its 103.
    "gen-html-identity": with_responses(
        settings(early_hints=ON, cache=cache()),
        page(), navigation(later_ms=10),
    ),
    "gen-html-gzip": with_responses(
        settings(early_hints=ON, cache=cache()),
        page(encoding=COMMON, body=gzip.compress(HEAD, mtime=0)),
        navigation(later_ms=10),
    ),
    "gen-html-br": with_responses(
        settings(early_hints=ON, cache=cache()),
        page(encoding=OTHER, body=brotli_stored(HEAD)),
        navigation(later_ms=10),
    ),
    "gen-html-deflate": with_responses(
        settings(early_hints=ON, cache=cache()),
        page(encoding=raw(b"deflate"), body=zlib.compress(HEAD)),
        navigation(later_ms=10),
    ),
    "gen-html-latin1": with_responses(
        settings(early_hints=ON, cache=cache()),
        page(content_type=raw(b"text/html; charset=\"latin1\""),
             body=HEAD.replace(b"page", b"caf\xe9")),
        navigation(later_ms=10),
    ),
    # What is not read: HTML turned off (the Link fields still teach),
    # another media type, a charset that is not ASCII-compatible.
    "gen-html-off": with_responses(
        settings(early_hints=ON, from_html=OFF, cache=cache()),
        page(links=[link("app.css"), link("fonts preconnect")]),
        navigation(later_ms=10),
    ),
    "gen-html-not-read": with_responses(
        settings(early_hints=ON, cache=cache()),
        page(content_type=raw(b"application/json"), body=b"{\"a\": 1}"),
        page(content_type=raw(b"text/html; charset=utf-16"), later_ms=1),
        page(content_type=OTHER, encoding=raw(b"compress"), later_ms=1),
    ),
    # A page that sets a cookie teaches only what two responses agree on,
    # and no hint holding the cookie's value.
    "gen-html-personal": with_responses(
        settings(early_hints=ON, cache=cache(visitor=(False, True, None))),
        page(set_cookies=[b"sid=visitor-secret; HttpOnly"],
             cache_control=[OTHER],
             body=HEAD.replace(b"/h.js", b"/h.js?s=visitor-secret")),
        page(set_cookies=[b"sid=visitor-secret2"], later_ms=5,
             body=HEAD.replace(b"/h.js", b"/h.js?s=visitor-secret2")),
        navigation(later_ms=10),
    ),
    # A 103 sent ahead of the handler (PushRedirectEarlyHintsAhead): none
    # at the redirect.
    "gen-sent-ahead": with_responses(
        settings(early_hints=ON, ahead=ON, push=ON, declared=0b0001),
        navigation(flags=("http2", "h2_push", "early_hints_sent")),
        navigation(flags=("http2", "early_hints_sent"), later_ms=1),
    ),
    # mod_http2's push: a learned chain pushed whole from its first
    # response, not from a pushed stream, nor where H2_PUSH is off; a
    # pushed stream teaches nothing.
    "gen-push-chain": with_responses(
        settings(push=ON, early_hints=ON, cache=CHAIN),
        navigation(flags=("http2", "h2_push")),
        navigation(flags=("http2", "h2_push", "pushed_stream"), later_ms=1),
        navigation(flags=("http2",), later_ms=1),
        page(flags=("http2", "h2_push", "pushed_stream"), later_ms=1),
    ),
}


# ----------------------------------------------------------------- commands

CORPUS = os.path.join("corpus", "respond")
BINARY = os.path.join("target", "x86_64-unknown-linux-gnu", "release", "respond")


def write():
    for name, value in SEEDS.items():
        with open(os.path.join(CORPUS, name), "wb") as f:
            f.write(encode(LAYOUT, value))
    print(f"{len(SEEDS)} seeds written to {CORPUS}")


def migrate():
    """Each sha1-named input, read with OLD_LAYOUT, written with LAYOUT
    under the sha1 of its new bytes (libFuzzer's name for it)."""
    names = [n for n in sorted(os.listdir(CORPUS)) if len(n) == 40]
    for name in names:
        path = os.path.join(CORPUS, name)
        with open(path, "rb") as f:
            old = decode(OLD_LAYOUT, Unstructured(f.read()))
        data = encode(LAYOUT, upgrade(old))
        os.remove(path)
        with open(os.path.join(CORPUS, hashlib.sha1(data).hexdigest()), "wb") as f:
            f.write(data)
    print(f"{len(names)} inputs migrated in {CORPUS}")


def check():
    """Each input as this script reads it and as the target does."""
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "debug")
        env = dict(os.environ, RUST_LIBFUZZER_DEBUG_PATH=out)
        names = sorted(os.listdir(CORPUS))
        for name in names:
            path = os.path.join(CORPUS, name)
            subprocess.run([BINARY, path], env=env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            with open(out) as f:
                theirs = f.read().rstrip("\n")
            with open(path, "rb") as f:
                ours = debug(LAYOUT, decode(LAYOUT, Unstructured(f.read())))
            if ours != theirs:
                bad += 1
                print(f"{name}: read otherwise than the target reads it")
    print(f"{len(names) - bad} of {len(names)} inputs read as the target reads them")
    return bad == 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) == 2 else None
    if command == "write":
        write()
    elif command == "migrate":
        migrate()
    elif command == "check":
        sys.exit(0 if check() else 1)
    else:
        sys.exit(__doc__)
