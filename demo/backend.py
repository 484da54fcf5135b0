#!/usr/bin/python3
"""Tiny backend for the mod_push_redirect demo (Python standard library only).

It stands in for Django, Rails, gunicorn & co. behind mod_proxy: it answers
redirects the way such an application does, and knows nothing about push.

    /backend/login   302, Location: /new.html            (relative: pushed)
    /backend/away    302, Location: https://example.org/  (other origin: skipped)
    /backend/optout  302, Location: /new.html and X-Push-Redirect: off
                     (the backend opts out: skipped, and Apache strips the header)
    /backend/slow/old   after thinking 0.3 s, 302, Location: /backend/slow/page
    /backend/slow/page  after thinking 0.3 s, 200 with a stylesheet preload
                     (Early Hints ahead of the backend)
    anything else    404

Usage: backend.py [--port N] [--port-file FILE]
With --port 0 (the default) the kernel picks a free port; the port is printed
on stdout and, with --port-file, written to FILE once the socket listens.
"""

import argparse
import os
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROUTES = {
    "/backend/login": (302, [("Location", "/new.html")]),
    "/backend/away": (302, [("Location", "https://example.org/")]),
    "/backend/optout": (302, [("Location", "/new.html"), ("X-Push-Redirect", "off")]),
    "/backend/slow/old": (302, [("Location", "/backend/slow/page")]),
    "/backend/slow/page": (200, [("Link", "</new.css>; rel=preload; as=style")]),
}
# Seconds a route thinks before it answers, as a view that queries a database.
THINK = {"/backend/slow/old": 0.3, "/backend/slow/page": 0.3}


class Handler(BaseHTTPRequestHandler):
    server_version = "demo-backend/1"
    protocol_version = "HTTP/1.1"

    def _answer(self, with_body):
        path = self.path.split("?", 1)[0]
        status, headers = ROUTES.get(path, (404, []))
        time.sleep(THINK.get(path, 0))
        body = ("%d %s\n" % (status, self.responses[status][0])).encode()
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def do_GET(self):
        self._answer(True)

    def do_HEAD(self):
        self._answer(False)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self._answer(True)

    def log_message(self, fmt, *args):
        sys.stderr.write("backend: %s\n" % (fmt % args))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    args = parser.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        # rename: the reader never sees a half-written file
        os.replace(args.port_file + ".tmp", args.port_file)
    print("backend: listening on 127.0.0.1:%d" % port, flush=True)

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
