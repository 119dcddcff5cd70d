"""Handing a batch's domains to workers by mail host, so that politeness is the only wait.

Each mail host takes at most SOURCIER_SMTP_HOST_CONCURRENCY sessions at once, whoever asks.
A worker that takes a domain whose host is already served by that many workers would only
wait for a slot while other hosts' work waits for it; and a host whose domains are left for
last (a slow one, say) makes everyone wait for it at the end. `HostQueue` hands a domain
only to a host with a free worker place, the host with the most people still waiting
first, so every host starts at once when there are workers enough and the busiest never
waits behind the others. Domains without a mail host (nothing to ask by SMTP) go to any
worker. `queue_as_routes_come` asks DNS about every domain at once and queues each as soon
as its answer comes: a slow resolver answer holds back its own domain only, once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed

from .dns import MailRoute, resolver

NO_HOST = ""


def mail_host(route: MailRoute) -> str:
    """The host a domain's probes go to first (its best MX), NO_HOST without one."""
    return route.hosts[0].name if route.deliverable else NO_HOST


def queue_as_routes_come(
    queue: HostQueue,
    work: dict[str, int],
    *,
    on_added: Callable[[], None] = lambda: None,
    at_most: int = 128,
) -> None:
    """Ask DNS about every domain of `work` (domain -> people) side by side, adding each to
    `queue` as soon as its route is known (`on_added` then runs, say to start a worker); the
    queue is closed once all are in. The answers stay in the resolver's cache for the
    workers. A domain whose DNS is slow holds back only its own work."""
    try:
        if work:
            with ThreadPoolExecutor(max_workers=min(at_most, len(work))) as pool:
                lookups = {pool.submit(resolver().route, domain): domain for domain in work}
                for done in as_completed(lookups):
                    domain = lookups[done]
                    queue.add(domain, mail_host(done.result()), work[domain])
                    on_added()
    finally:
        queue.close()


class HostQueue:
    """Domains to work on, grouped by mail host; safe to share between worker threads."""

    def __init__(self, *, per_host: int, settle: float = 0.0) -> None:
        """`settle`: seconds to let domains come in before handing any out (so the largest
        of the first answers go first), unless the queue is closed sooner."""
        self.per_host = per_host
        self._settled_at = time.monotonic() + settle
        self._waiting: dict[str, list[str]] = {}
        self._domains: dict[str, int] = {}
        self._people: dict[str, int] = {}
        self._work: dict[str, int] = {}
        self._busy: dict[str, int] = {}
        self._closed = False
        self._ready = threading.Condition()

    def add(self, domain: str, host: str, people: int) -> None:
        """A domain to work on, its mail host and how many people wait there."""
        with self._ready:
            waiting = self._waiting.setdefault(host, [])
            waiting.append(domain)
            self._work[domain] = people
            waiting.sort(key=lambda d: -self._work[d])  # the largest domain first
            self._domains[host] = self._domains.get(host, 0) + 1
            self._people[host] = self._people.get(host, 0) + people
            self._ready.notify_all()

    def close(self) -> None:
        """No domain will be added any more: idle workers may stop once all is taken."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()

    def workers_wanted(self) -> int:
        """Workers enough for every host seen to be served at its full concurrency at once."""
        with self._ready:
            return sum(min(self.per_host, count) for count in self._domains.values())

    def take(self) -> tuple[str, str] | None:
        """(host, domain) to work on, waiting while every host with work is fully served or
        more domains may come; None when no domain is left. Call `done(host)` afterwards."""
        with self._ready:
            while not self._closed and (wait := self._settled_at - time.monotonic()) > 0:
                self._ready.wait(wait)
            while True:
                open_hosts = [
                    host
                    for host, domains in self._waiting.items()
                    if domains and (host == NO_HOST or self._busy.get(host, 0) < self.per_host)
                ]
                if open_hosts:
                    host = max(open_hosts, key=lambda h: (self._people[h], h))
                    domain = self._waiting[host].pop(0)
                    self._people[host] -= self._work[domain]
                    self._busy[host] = self._busy.get(host, 0) + 1
                    return host, domain
                if self._closed and not any(self._waiting.values()):
                    return None
                self._ready.wait()

    def done(self, host: str) -> None:
        with self._ready:
            self._busy[host] -= 1
            self._ready.notify_all()
