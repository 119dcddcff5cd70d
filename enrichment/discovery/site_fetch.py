"""Fetching one page of a company's site: through the address guard as webhooks are, within a
deadline whatever the server does, and politely.

A socket timeout bounds each read, not the page: a server that sends its headers then a byte
every few seconds would hold a worker until the task's time limit. Each fetch therefore has a
deadline (`SOURCIER_DISCOVERY_PAGE_SECONDS`, and the site's own when less is left of it), kept
by a watchdog that shuts the connection down when it passes, whatever the fetch is waiting for
(the connection, the headers, the body); the page is then skipped (`PageTooSlow`) and the run
says so. At most MAX_PAGE_BYTES of a page are read.

An answer that is not a page to read (a 404, an image) is still read, up to
MAX_DISCARDED_BYTES, before the connection is closed, and every request asks the server to
close it: closing with unread data would reset the connection under the server's feet."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import suppress
from types import TracebackType

from django.conf import settings
from urllib3.exceptions import HTTPError

from ..webhooks import netguard

MAX_PAGE_BYTES = 1_000_000
MAX_DISCARDED_BYTES = 64_000
# Each connection and each read (the deadline bounds the whole page).
PAGE_TIMEOUT = 10.0
USER_AGENT = "Sourcier-discovery/1.0 (B2B contact discovery; respects robots.txt)"


class PageTooSlow(Exception):
    """The page did not arrive before its deadline: it is skipped."""


def page_seconds() -> float:
    return settings.SOURCIER_DISCOVERY_PAGE_SECONDS


def site_seconds() -> float:
    return settings.SOURCIER_DISCOVERY_SITE_SECONDS


def site_url(domain: str, path: str) -> str:
    """The page's address: the company's own site, or the sandbox's copy of it."""
    base = getattr(settings, "SOURCIER_DISCOVERY_SITE_URL", "")
    if base:
        return base.format(domain=domain).rstrip("/") + path
    return f"https://{domain}{path}"


def _allowed_hosts() -> list[str]:
    """The operator's own site server (the sandbox): a setting, never a user's input."""
    base = getattr(settings, "SOURCIER_DISCOVERY_SITE_URL", "")
    if not base:
        return []
    _scheme, host, port, _path = netguard.split_url(base.format(domain="x"))
    return [f"{host}:{port}"]


class Watchdog:
    """Shuts down the sockets it watches when the deadline passes: a read blocked on them
    returns at once. It holds its own duplicate of each socket, closed on exit, so it never
    touches a descriptor the connection closed and someone else reused."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.fired = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._done = False
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
        self._timer.daemon = True

    def __enter__(self) -> Watchdog:
        self._timer.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._timer.cancel()
        with self._lock:
            self._done = True
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            if self._done:
                return
            self._sockets.append(sock.dup())
            if self.fired:
                self._shut(self._sockets[-1])

    def _fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.fired = True
            for sock in self._sockets:
                self._shut(sock)

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def fetch_page(url: str, deadline: float | None = None) -> str | None:
    """The page's HTML, or None (refused address, error, not HTML); PageTooSlow when it did
    not arrive before `deadline` (time.monotonic(); by default SOURCIER_DISCOVERY_PAGE_SECONDS
    from now). Redirects are not followed; at most MAX_PAGE_BYTES are read."""
    try:
        target = netguard.check_url(
            url, resolve=netguard.resolve_with_system, allowed_hosts=_allowed_hosts()
        )
    except netguard.Refused:
        return None
    if deadline is None:
        deadline = time.monotonic() + page_seconds()
    left = deadline - time.monotonic()
    if left <= 0:
        raise PageTooSlow(url)
    body = None
    with Watchdog(deadline) as watchdog:
        pool = netguard.pinned_pool(
            target, timeout=min(PAGE_TIMEOUT, left), on_connect=watchdog.watch
        )
        try:
            body = _get(pool, target.path)
        except (HTTPError, OSError):
            body = None
        finally:
            pool.close()
        if watchdog.fired or (body is None and time.monotonic() >= deadline):
            raise PageTooSlow(url)
    return body.decode("utf-8", "replace") if body is not None else None


def _get(pool, path: str) -> bytes | None:
    """The body of a 200 HTML answer; any other answer's body is read (bounded) and dropped."""
    answer = pool.urlopen(
        "GET",
        path,
        headers={"user-agent": USER_AGENT, "accept": "text/html", "connection": "close"},
        redirect=False,
        preload_content=False,
    )
    try:
        wanted = answer.status == 200 and "html" in answer.headers.get("content-type", "")
        if not wanted:
            answer.read(MAX_DISCARDED_BYTES, decode_content=False)
            return None
        return answer.read(MAX_PAGE_BYTES, decode_content=True)
    finally:
        answer.release_conn()
