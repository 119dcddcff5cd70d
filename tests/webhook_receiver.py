"""A real webhook receiver on loopback (http.server in a thread), for every test that sends to
one; the `receiver` fixture (tests/conftest.py) starts one and allows the app to reach it."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections import deque


class Receiver:
    """Answers each POST with the next scripted reply (an HTTP status, "hang-up" to read the
    request and close without answering, or ("redirect", url)); 204 when the script is empty.
    Keeps every request it read. Can be stopped and started again on the same port."""

    def __init__(self) -> None:
        self.script: deque = deque()
        self.requests: list[dict] = []
        self.port = 0
        self.server: http.server.HTTPServer | None = None
        self.start()

    def start(self) -> None:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length)
                receiver.requests.append(
                    {
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                        "path": self.path,
                        "at": time.time(),
                    }
                )
                reply = receiver.script.popleft() if receiver.script else 204
                if reply == "hang-up":
                    # Killed mid-delivery: the request was read, no answer ever comes.
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                if isinstance(reply, tuple):
                    self.send_response(302)
                    self.send_header("Location", reply[1])
                else:
                    self.send_response(reply)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        http.server.HTTPServer.allow_reuse_address = True
        self.server = http.server.HTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/sourcier"
