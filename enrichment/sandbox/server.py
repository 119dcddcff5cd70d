"""The sandbox HTTP server: every vendor on one loopback port, plus `/_sandbox/` control.

Stdlib only (`ThreadingHTTPServer`, HTTP/1.1 keep-alive, daemon threads). Each request is
recorded with its vendor, endpoint, key, timing and outcome, and counted in flight per
(vendor, key) so tests can check the concurrency limits the app promises to keep.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import socket
import struct
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import control, websites
from .faults import FaultBook, FaultSpec, RateLimiter
from .protocol import HANG, RESET, BadJson, Request, Response, html_response, json_response
from .recorder import Call, Recorder
from .vendors import build_vendors
from .vendors.base import Vendor, retry_after_header
from .world import World

DEFAULT_PORT = 8765
DEFAULT_KEY = "sandbox-key"
# A body cut mid-string: what a proxy that drops the connection halfway leaves behind.
MALFORMED_BODY = b'{"success": true, "data": [{"email": "jean.dupont@'


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    sandbox: SandboxServer


class _HTTPServer6(_HTTPServer):
    address_family = socket.AF_INET6


class SandboxServer:
    """The vendors' stand-in on 127.0.0.1; start() runs it in a background thread."""

    def __init__(
        self,
        world: World,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        keys: tuple[str, ...] | list[str] = (DEFAULT_KEY,),
        ready_after: float = 2.0,
        latency_ms: float = 0,
    ) -> None:
        if not is_loopback(host):
            raise ValueError(f"the sandbox only binds loopback addresses, not {host!r}")
        self.world = world
        self.host = "127.0.0.1" if host == "localhost" else host.strip("[]")
        self.requested_port = port
        self.keys = tuple(keys)
        self.ready_after = ready_after
        self.latency_ms = float(latency_ms)
        self.vendors: dict[str, Vendor] = build_vendors(
            world, keys=self.keys, ready_after=ready_after
        )
        self.faults = FaultBook(tuple(self.vendors), seed=world.seed)
        self.limiter = RateLimiter()
        self.recorder = Recorder()
        self.started_at = time.time()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    # Lifecycle
    def start(self) -> SandboxServer:
        server_class = _HTTPServer6 if ":" in self.host else _HTTPServer
        self._stopping.clear()
        self._httpd = server_class((self.host, self.requested_port), _Handler)
        self._httpd.sandbox = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="sourcier-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Block the calling thread until interrupted (the management command)."""
        if self._httpd is None:
            self.start()
        try:
            while self._thread and self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.stop()

    def stop(self) -> None:
        # Wake hanging handlers first so nothing outlives the server.
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None

    def __enter__(self) -> SandboxServer:
        return self.start() if self._httpd is None else self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            return self.requested_port
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def base_url(self, vendor: str) -> str:
        return f"{self.url}/{vendor}"

    # Faults and observation
    def set_faults(self, vendor: str, **spec: Any) -> None:
        """Change a vendor's faults ('*' for all): error_rate+kinds or rates, latency_ms, ..."""
        self.faults.update(vendor, spec)
        if "credits" in spec:
            targets = self.vendors.values() if vendor in ("*", "all") else [self.vendors[vendor]]
            for target in targets:
                target.credits.balance = None if spec["credits"] is None else int(spec["credits"])

    def clear_faults(self, vendor: str | None = None) -> None:
        self.faults.clear(vendor)
        for slug, target in self.vendors.items():
            if vendor in (None, "*", "all", slug):
                target.credits.balance = None

    @property
    def calls(self) -> list[Call]:
        return self.recorder.calls

    def stats(self) -> dict[str, Any]:
        stats = self.recorder.stats()
        stats["credits_used"] = {
            slug: used for slug, vendor in self.vendors.items() if (used := vendor.credits.used())
        }
        untouched = FaultSpec().as_dict()
        stats["faults"] = {
            slug: spec for slug, spec in self.faults.snapshot().items() if spec != untouched
        }
        return stats

    def reset_stats(self) -> None:
        self.recorder.reset()

    def reset(self) -> None:
        """Back to a fresh sandbox: no calls, no faults, full credits, no pending jobs."""
        self.recorder.reset()
        self.clear_faults()
        self.limiter.reset()
        for vendor in self.vendors.values():
            vendor.reset()

    # Serving
    def respond(self, vendor: Vendor, request: Request, key: str) -> Response:
        """The answer to one vendor request, faults and limits included."""
        spec = self.faults.spec(vendor.slug)
        delay = self.faults.latency(spec, self.latency_ms)
        if delay and self._stopping.wait(delay):
            return html_response(503, "Service Unavailable", outcome="stopping")
        if spec.in_outage(time.monotonic()):
            return html_response(503, "Service Temporarily Unavailable", outcome="outage")
        kind = self.faults.draw(spec)
        if kind:
            response = self._fault(vendor, kind, spec.retry_after, spec.hang_seconds)
            response.outcome = f"fault:{kind}"
            return response
        _, handler, params = vendor.route(request.method, request.path)
        if handler is None:
            return vendor.no_route(request)
        if key not in vendor.keys:
            return vendor.unauthorized(request)
        limit = vendor.rate_per_second if spec.rate_limit is None else spec.rate_limit
        wait = self.limiter.check(vendor.slug, key, limit)
        if wait is not None:
            response = vendor.too_many_requests(wait)
            response.outcome = "rate_limited"
            return response
        try:
            return handler(request, key, params)
        except BadJson as exc:
            return vendor.bad_json(str(exc))

    def _fault(self, vendor: Vendor, kind: str, retry_after: float, hang: float) -> Response:
        if kind == "429":
            response = vendor.too_many_requests(retry_after)
            response.headers.update(retry_after_header(retry_after))
            return response
        if kind in ("500", "502", "503"):
            return vendor.server_error(int(kind))
        if kind == "timeout":
            return Response(status=0, action=HANG, hang_seconds=hang)
        if kind == "reset":
            return Response(status=0, action=RESET)
        if kind == "malformed":
            return Response(status=200, body=MALFORMED_BODY)
        if kind == "html":
            return html_response(502, "Bad Gateway")
        return json_response(200, vendor.schema_drift())

    def _track(self, connection: socket.socket, *, add: bool) -> None:
        with self._connections_lock:
            if add:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)


def request_subject(request: Request) -> str:
    """A short digest of the question a request asks (its method, path, query and body)."""
    query = "&".join(f"{k}={v}" for k, v in sorted(request.query.items()))
    raw = f"{request.method} {request.path}?{query}\n".encode() + request.body
    return hashlib.sha256(raw).hexdigest()[:16]


def start_sandbox(seed: int = 42, size: int = 60, **kwargs: Any) -> SandboxServer:
    """Build the world for (seed, size) and serve it on loopback in a background thread."""
    return SandboxServer(World.build(seed, size), **kwargs).start()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SourcierSandbox/1.0"
    # Idle keep-alive connections close on their own.
    timeout = 120
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle + delayed ACK
        # add ~40 ms to every keep-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.sandbox._track(self.connection, add=True)

    def finish(self) -> None:
        self.server.sandbox._track(self.connection, add=False)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def _serve(self) -> None:
        sandbox = self.server.sandbox
        split = urlsplit(self.path)
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            body = self._read_chunked()
        else:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
        prefix, _, rest = split.path.lstrip("/").partition("/")
        query = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        path = "/" + rest.rstrip("/")
        request = Request(self.command, path, query, self.headers, body)
        if prefix == "_sandbox":
            self._deliver(control.handle(sandbox, request))
            return
        if prefix == "sites":
            domain, _, page = rest.partition("/")
            self._deliver(websites.serve_site(sandbox.world, domain, "/" + page))
            return
        vendor = sandbox.vendors.get(prefix)
        if vendor is None:
            self._deliver(json_response(404, {"error": f"no sandbox vendor at /{prefix}"}))
            return
        key = vendor.api_key(request)
        endpoint, _, _ = vendor.route(request.method, request.path)
        started = time.time()
        sandbox.recorder.enter(vendor.slug, key)
        response: Response | None = None
        try:
            response = sandbox.respond(vendor, request, key)
            if response.action == HANG:
                sandbox._stopping.wait(response.hang_seconds)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            response = json_response(500, {"error": "sandbox bug"}, outcome="crash")
        finally:
            # Recorded before the answer leaves: a client that sends its next request as soon
            # as it reads this one must never be counted twice in flight.
            outcome = response.outcome if response else "crash"
            status = (response.status or None) if response else None
            records = response.records if response else None
            sandbox.recorder.leave(
                Call(
                    vendor.slug,
                    endpoint,
                    key,
                    started,
                    time.time(),
                    status,
                    outcome,
                    records,
                    subject=request_subject(request),
                )
            )
        with contextlib.suppress(OSError):
            self._deliver(response)

    def _read_chunked(self) -> bytes:
        # Clients streaming a body send it chunked; leaving it unread would desync keep-alive.
        chunks = []
        while True:
            size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _deliver(self, response: Response) -> None:
        if response.action == HANG:
            # The hang itself happened before the call was recorded; now just hang up.
            self.close_connection = True
            return
        if response.action == RESET:
            # Linger 0 turns close() into a TCP RST: the client sees "connection reset".
            self.close_connection = True
            self.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            self.rfile.close()
            self.connection.close()
            return
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)
