"""Handing a batch's domains to workers by mail host, so that politeness is the only wait.

Each mail host takes at most SOURCIER_SMTP_HOST_CONCURRENCY sessions at once, whoever asks.
A worker that takes a domain whose host is already served by that many workers would only
wait for a slot while other hosts' work waits for it; and a host whose domains are left for
last (a slow one, say) makes everyone wait for it at the end. `HostQueue` hands a domain
only to a host with a free worker place, the host with the most people still waiting
first, so every host starts at once when there are workers enough and the busiest never
waits behind the others. Domains without a mail host (nothing to ask by SMTP) go to any
worker. `routes_at_once` asks DNS about every domain at once first: a slow resolver answer
then costs its delay once, not once per domain in turn.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from .dns import MailRoute, resolver

NO_HOST = ""


def mail_host(route: MailRoute) -> str:
    """The host a domain's probes go to first (its best MX), NO_HOST without one."""
    return route.hosts[0].name if route.deliverable else NO_HOST


def routes_at_once(domains: Iterable[str], *, at_most: int = 64) -> dict[str, MailRoute]:
    """Every domain's mail route, looked up side by side (answers stay in the resolver's
    cache for the workers)."""
    domains = list(dict.fromkeys(domains))
    if not domains:
        return {}
    with ThreadPoolExecutor(max_workers=min(at_most, len(domains))) as pool:
        return dict(zip(domains, pool.map(resolver().route, domains), strict=True))


class HostQueue:
    """Domains to work on, grouped by mail host; safe to share between worker threads."""

    def __init__(self, work: dict[str, int], hosts: dict[str, str], *, per_host: int) -> None:
        """`work`: domain -> people waiting there; `hosts`: domain -> its mail host."""
        self.per_host = per_host
        self._waiting: dict[str, list[str]] = {}
        self._people: dict[str, int] = {}
        for domain, people in sorted(work.items(), key=lambda item: -item[1]):
            host = hosts.get(domain, NO_HOST)
            self._waiting.setdefault(host, []).append(domain)
            self._people[host] = self._people.get(host, 0) + people
        self._work = dict(work)
        self._busy: dict[str, int] = {}
        self._ready = threading.Condition()

    def workers_wanted(self) -> int:
        """Workers enough for every host to be served at its full concurrency at once."""
        return sum(min(self.per_host, len(domains)) for domains in self._waiting.values())

    def take(self) -> tuple[str, str] | None:
        """(host, domain) to work on, waiting while every host with work is fully served;
        None when no domain is left. Call `done(host, domain)` afterwards."""
        with self._ready:
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
                if not any(self._waiting.values()):
                    return None
                self._ready.wait()

    def done(self, host: str) -> None:
        with self._ready:
            self._busy[host] -= 1
            self._ready.notify_all()
