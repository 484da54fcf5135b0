"""The server side the test backends share: a threaded TCP server on 127.0.0.1,
bound to port 0 (so no other process can take the port), one thread per
connection. A backend says what to do with a connection in `serve(rfile, wfile)`.
"""

import socket
import socketserver
import threading


class LoopbackServer:

    def __init__(self):
        self.port = None  # known once started
        self._server = None

    def serve(self, rfile, wfile):
        """Talk on one accepted connection until it is done."""
        raise NotImplementedError

    def start(self):
        backend = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                backend.serve(self.rfile, self.wfile)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True
            # socketserver's default backlog is 5: a flood through mod_proxy
            # opens dozens of connections at once, and one that overflowed
            # the backlog failed now and then as a 502 (AH00898).
            request_queue_size = 128

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        with socket.create_connection(("127.0.0.1", self.port), timeout=5):
            pass

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
