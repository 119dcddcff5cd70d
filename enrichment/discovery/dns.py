"""Where mail for a domain goes: one dnspython resolver, MX with its fallbacks, cached by TTL.

- MX records, sorted by preference; each host's own addresses are asked of the same resolver
  (never the system's, so the sandbox and a dedicated resolver see every query).
- No MX but an A record: the domain itself is the mail host (RFC 5321 §5.1).
- A single MX of preference 0 pointing at "." is a null MX: the domain takes no mail
  (RFC 7505). NXDOMAIN: the domain does not exist. Neither MX nor A: no mail server.
- Answers are cached per domain for their TTL (bounded by MIN/MAX_CACHE_SECONDS); a
  resolver failure (timeout, SERVFAIL) is cached briefly so that a dead resolver is not
  asked again for every address of the domain.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    import dns.resolver

from .scoring import (
    ROUTE_A,
    ROUTE_DNS_ERROR,
    ROUTE_MX,
    ROUTE_NO_MAIL,
    ROUTE_NULL_MX,
    ROUTE_NXDOMAIN,
)

MIN_CACHE_SECONDS = 60
MAX_CACHE_SECONDS = 86_400
ERROR_CACHE_SECONDS = 30


@dataclass(frozen=True)
class MailHost:
    """One mail exchanger: its name, MX preference and IPv4 addresses."""

    name: str
    preference: int
    addresses: tuple[str, ...] = ()


@dataclass(frozen=True)
class MailRoute:
    """What DNS says about mail for one domain."""

    domain: str
    status: str
    hosts: tuple[MailHost, ...] = ()
    ttl: int = MIN_CACHE_SECONDS
    detail: str = ""

    @property
    def deliverable(self) -> bool:
        return self.status in (ROUTE_MX, ROUTE_A) and any(h.addresses for h in self.hosts)


@dataclass
class MailResolver:
    """One dnspython resolver with a per-domain cache; safe to share between threads."""

    nameservers: tuple[str, ...] = ()
    port: int = 53
    timeout: float = 5.0
    clock: Callable[[], float] = time.monotonic
    queries: int = 0
    _cache: dict[str, tuple[float, MailRoute]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # Mail hosts' addresses by host name: many domains share one (Google's, Microsoft's, a
    # hosting company's), so it is asked once per TTL, not once per domain. A host being
    # asked makes the others wanting it wait for that answer (its lock), not ask again.
    _hosts: dict[str, tuple[float, tuple[str, ...], int]] = field(
        default_factory=dict, repr=False
    )
    _host_locks: dict[str, threading.Lock] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        # dnspython is imported by the first resolver, not at startup: a process that never
        # looks up mail (a web worker, an import) does not carry it (about 10 MB).
        import dns.resolver

        # configure=False when nameservers are given: /etc/resolv.conf is then never read.
        self._resolver = dns.resolver.Resolver(configure=not self.nameservers)
        if self.nameservers:
            self._resolver.nameservers = list(self.nameservers)
        self._resolver.port = self.port
        self._resolver.lifetime = self.timeout
        self._resolver.timeout = self.timeout
        self._resolver.cache = None  # our own cache knows NXDOMAIN and null MX too

    def route(self, domain: str) -> MailRoute:
        """The mail route of `domain`, from the cache while its TTL runs."""
        key = domain.strip().lower().rstrip(".")
        now = self.clock()
        with self._lock:
            cached = self._cache.get(key)
            if cached and cached[0] > now:
                return cached[1]
        route = self._lookup(key)
        ttl = ERROR_CACHE_SECONDS if route.status == ROUTE_DNS_ERROR else route.ttl
        with self._lock:
            self._cache[key] = (now + ttl, route)
        return route

    def route_many(self, domains: list[str], *, at_most: int = 32) -> dict[str, MailRoute]:
        """`route` of many domains, asked side by side: a slow answer holds back no other."""
        if len(domains) <= 1:
            return {domain: self.route(domain) for domain in domains}
        with ThreadPoolExecutor(max_workers=min(at_most, len(domains))) as pool:
            return dict(zip(domains, pool.map(self.route, domains), strict=True))

    def forget(self, domain: str) -> None:
        with self._lock:
            self._cache.pop(domain.strip().lower().rstrip("."), None)
            self._hosts.clear()  # its hosts' addresses are asked again with it

    def _query(self, name: str, rdtype: str) -> dns.resolver.Answer:
        with self._lock:
            self.queries += 1
        return self._resolver.resolve(name, rdtype, search=False, raise_on_no_answer=True)

    def _lookup(self, domain: str) -> MailRoute:
        import dns.exception
        import dns.name
        import dns.resolver

        try:
            answer = self._query(domain, "MX")
        except dns.resolver.NXDOMAIN:
            return MailRoute(domain, ROUTE_NXDOMAIN, ttl=MIN_CACHE_SECONDS * 5)
        except dns.resolver.NoAnswer:
            return self._a_fallback(domain)
        except (dns.exception.DNSException, OSError) as exc:
            return MailRoute(domain, ROUTE_DNS_ERROR, detail=type(exc).__name__)
        ttl = _bounded(answer.rrset.ttl)
        records = sorted(answer, key=lambda r: (r.preference, r.exchange.to_text()))
        if any(r.exchange == dns.name.root for r in records):
            # RFC 7505 §3: a null MX is the domain's only MX; any form of it means no mail.
            return MailRoute(domain, ROUTE_NULL_MX, ttl=ttl)
        hosts = []
        for record in records:
            name = record.exchange.to_text().rstrip(".").lower()
            addresses, host_ttl = self._addresses(name)
            ttl = min(ttl, host_ttl)
            hosts.append(MailHost(name, record.preference, addresses))
        return MailRoute(domain, ROUTE_MX, tuple(hosts), ttl=ttl)

    def _a_fallback(self, domain: str) -> MailRoute:
        addresses, ttl = self._addresses(domain)
        if not addresses:
            return MailRoute(domain, ROUTE_NO_MAIL, ttl=MIN_CACHE_SECONDS * 5)
        return MailRoute(domain, ROUTE_A, (MailHost(domain, 0, addresses),), ttl=ttl)

    def _addresses(self, name: str) -> tuple[tuple[str, ...], int]:
        """A host's IPv4 addresses and their TTL, from the host cache while it runs (the
        TTL left, so a domain's route never outlives its host's answer)."""
        with self._lock:
            one_at_a_time = self._host_locks.setdefault(name, threading.Lock())
        with one_at_a_time:
            now = self.clock()
            with self._lock:
                cached = self._hosts.get(name)
            if cached and cached[0] > now:
                return cached[1], min(cached[2], _bounded(cached[0] - now))
            addresses, ttl = self._ask_addresses(name)
            # A failure or an empty answer is kept briefly too, as a domain's is: the other
            # domains waiting for this host would each wait out the same timeout in turn.
            kept = ttl if addresses else ERROR_CACHE_SECONDS
            with self._lock:
                self._hosts[name] = (now + kept, addresses, ttl)
            return addresses, ttl

    def _ask_addresses(self, name: str) -> tuple[tuple[str, ...], int]:
        import dns.exception

        try:
            answer = self._query(name, "A")
        except (dns.exception.DNSException, OSError):
            return (), MIN_CACHE_SECONDS
        return tuple(sorted(r.address for r in answer)), _bounded(answer.rrset.ttl)


def _bounded(ttl: int) -> int:
    return max(MIN_CACHE_SECONDS, min(MAX_CACHE_SECONDS, int(ttl)))


_shared: MailResolver | None = None
_shared_key: tuple | None = None
_shared_lock = threading.Lock()


def resolver() -> MailResolver:
    """The process's one resolver, built from SOURCIER_DNS_NAMESERVERS / _PORT / _TIMEOUT.

    Rebuilt when those settings change (tests point it at a loopback server).
    """
    global _shared, _shared_key
    key = (
        tuple(settings.SOURCIER_DNS_NAMESERVERS),
        settings.SOURCIER_DNS_PORT,
        settings.SOURCIER_DNS_TIMEOUT,
    )
    with _shared_lock:
        if _shared is None or _shared_key != key:
            _shared = MailResolver(nameservers=key[0], port=key[1], timeout=key[2])
            _shared_key = key
        return _shared
