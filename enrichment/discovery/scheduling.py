"""Handing a batch's domains to workers by mail host, so that politeness is the only wait.

Each mail host takes at most SOURCIER_SMTP_HOST_CONCURRENCY sessions at once, whoever asks.
A worker that takes a domain whose host is already served by that many workers would only
wait for a slot while other hosts' work waits for it; and a host whose domains are left for
last (a slow one, say) makes everyone wait for it at the end. `HostQueue` hands a domain
only to a host with a free worker place, the host with the most people still waiting
first, so every host starts at once when there are workers enough and the busiest never
waits behind the others. Domains without a mail host (nothing to ask by SMTP) go to any
worker. Workers enough for every host's slots are many threads on one CPU and one database
when nothing makes them wait: with a `patience`, the queue wants one worker more than those
held up longer than that (by a slow host, say), so a batch without latency runs on one, and
hands out first the slots of the hosts that hold workers up, so a slow host still keeps its
slots busy, then hosts not tried yet, then the worker's own last host (its session open).
`queue_as_routes_come` asks DNS about every domain at once and queues each as soon as its
answer comes: a slow resolver answer holds back its own domain only, once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed

from .dns import MailRoute, resolver

NO_HOST = ""


def thread_cpu_clock() -> Callable[[], float]:
    """A clock of the calling thread's CPU seconds, readable from any thread (Linux), or a
    clock that never moves where there is none (then wall time alone tells a hold-up)."""
    try:
        clock_id = time.pthread_getcpuclockid(threading.get_ident())
    except (AttributeError, OSError):
        return lambda: 0.0

    def read() -> float:
        try:
            return time.clock_gettime(clock_id)
        except OSError:  # the thread has ended
            return 0.0

    return read


def mail_host(route: MailRoute) -> str:
    """The host a domain's probes go to first (its best MX), NO_HOST without one."""
    return route.hosts[0].name if route.deliverable else NO_HOST


def queue_as_routes_come(
    queue: HostQueue,
    work: dict[str, int],
    *,
    on_added: Callable[[], None] = lambda: None,
    at_most: int = 16,
) -> None:
    """Ask DNS about every domain of `work` (domain -> people), `at_most` side by side,
    adding each to `queue` as soon as its route is known (`on_added` then runs, say to start
    a worker); the queue is closed once all are in. The answers stay in the resolver's cache
    for the workers. A domain whose DNS is slow holds back only its own work. A few lookups
    at once, not one per domain: the first routes come (and the workers start) before every
    domain's MX question has been sent, and a hundred threads' start and switches are no
    longer spent."""
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

    def __init__(
        self,
        *,
        per_host: int,
        settle: float = 0.0,
        patience: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        cpu_clock: Callable[[], Callable[[], float]] = thread_cpu_clock,
    ) -> None:
        """`settle`: seconds to let domains come in before handing any out (so the largest
        of the first answers go first), unless the queue is closed sooner.

        `patience`: a domain in hand longer than this, its worker's thread having spent less
        than a quarter of that time computing (`cpu_clock` gives the calling thread's CPU
        clock), is held up by its host. Then `workers_wanted` asks for one worker more than
        those held up, and `take` serves first the hosts holding someone up (a slow host's
        own time is the batch's least time: its slots are filled first), then each host not
        yet tried (a slow one shows itself early), then the worker's own last host, then the
        busiest."""
        self.per_host = per_host
        self.patience = patience
        self._clock = clock
        self._cpu_clock = cpu_clock
        self._settled_at = clock() + settle
        # domain -> (host, taken at, its worker's CPU clock, that clock when taken)
        self._taken_at: dict[str, tuple[str, float, Callable[[], float], float]] = {}
        self._tried: set[str] = set()
        self._waiting: dict[str, list[str]] = {}
        self._domains: dict[str, int] = {}
        self._people: dict[str, int] = {}
        self._work: dict[str, int] = {}
        self._busy: dict[str, int] = {}
        # Domains taken with `take_more`, beside a worker's own: they hold no place of their own.
        self._riders: set[str] = set()
        # With a patience, hosts seen answering quickly (a domain done within the patience,
        # or its worker busy computing): only theirs are taken several at once, so a slow
        # host's domains are still shared out one by one between its places.
        self._quick: set[str] = set()
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
        """Workers enough for every host seen to be served at its full concurrency at once;
        with a patience, no more than one beyond those held up (waiting on the network:
        another worker would not wait for them)."""
        with self._ready:
            full = sum(min(self.per_host, count) for count in self._domains.values())
            if self.patience is None:
                return full
            return min(full, 1 + len(self._held_up()))

    def _held_up(self) -> list[str]:
        """The host of each domain in hand for longer than the patience, its worker mostly
        waiting (a worker busy computing is not helped by another on the same CPU)."""
        now, patience = self._clock(), self.patience or 0.0
        return [
            host
            for domain, (host, taken, cpu, cpu_then) in self._taken_at.items()
            # A worker counted once: the domains riding along with its own are not.
            if domain not in self._riders
            and now - taken >= patience
            and cpu() - cpu_then < (now - taken) / 4
        ]

    def _priority(self, host: str, slow: set[str], last: str | None) -> tuple:
        if self.patience is None:
            return (self._people[host], host)
        # Among the others, the worker's own last host first: its session is still open.
        return (host in slow, host not in self._tried, host == last, self._people[host], host)

    def take(self, last: str | None = None) -> tuple[str, str] | None:
        """(host, domain) to work on, waiting while every host with work is fully served or
        more domains may come; None when no domain is left. Call `done(host, domain)` afterwards.
        `last`: the caller's previous host, whose session a patient queue lets it keep."""
        with self._ready:
            while not self._closed and (wait := self._settled_at - self._clock()) > 0:
                self._ready.wait(wait)
            while True:
                open_hosts = [
                    host
                    for host, domains in self._waiting.items()
                    if domains and (host == NO_HOST or self._busy.get(host, 0) < self.per_host)
                ]
                if open_hosts:
                    slow = set(self._held_up()) if self.patience is not None else set()
                    host = max(open_hosts, key=lambda h: self._priority(h, slow, last))
                    domain = self._waiting[host].pop(0)
                    self._people[host] -= self._work[domain]
                    self._busy[host] = self._busy.get(host, 0) + 1
                    cpu = self._cpu_clock()
                    self._taken_at[domain] = (host, self._clock(), cpu, cpu())
                    self._tried.add(host)
                    return host, domain
                if self._closed and not any(self._waiting.values()):
                    return None
                self._ready.wait()

    def take_more(self, host: str, at_most: int) -> list[str]:
        """More of `host`'s waiting domains for a worker that took one of them (their rounds
        are then asked side by side, in its session), largest first: up to `at_most`, and
        no more than this worker's share when the host has free places for other workers
        (with a patience: when more than one worker is wanted, someone being held up);
        with a patience, none until the host has been seen answering quickly. Call
        `done(host, domain)` for each afterwards."""
        with self._ready:
            if self.patience is not None and host not in self._quick:
                return []  # not yet seen answering quickly: one domain at a time, shared
            waiting = self._waiting.get(host, [])
            places = 1 + max(0, self.per_host - self._busy.get(host, 0))
            if self.patience is not None and not self._held_up():
                places = 1  # one worker wanted, none to share with: every domain, together
            count = min(at_most, -(-len(waiting) // places))
            taken, waiting[:count] = waiting[:count], []
            cpu = self._cpu_clock()
            for domain in taken:
                # The same worker: the host's places taken stay as they were.
                self._people[host] -= self._work[domain]
                self._riders.add(domain)
                self._taken_at[domain] = (host, self._clock(), cpu, cpu())
            return taken

    def done(self, host: str, domain: str) -> None:
        """The domain taken earlier from `host` is finished."""
        with self._ready:
            taken = self._taken_at.pop(domain, None)
            if taken is not None and self.patience is not None:
                _host, since, cpu, cpu_then = taken
                if self._clock() - since < self.patience or cpu() - cpu_then >= (
                    self._clock() - since
                ) / 4:
                    self._quick.add(host)  # its domains may be taken several at once
            if domain in self._riders:
                self._riders.discard(domain)
            else:
                self._busy[host] -= 1
            self._ready.notify_all()
