"""The address guard for callback URLs people give us (SSRF).

`check_url` is pure: it takes the resolver and the allowed `host:port` entries as arguments.
A URL passes when it is http(s) on port 80 or 443, its host is a name or a canonical IP, and
every address the name resolves to is a public unicast address. The caller then connects to
the address that was checked (`pinned_pool`), never resolving the name again: a name that
answers a public address to the check and 127.0.0.1 to the connection (DNS rebinding) only
ever reaches the public one.

The allowed entries (`SOURCIER_WEBHOOK_ALLOWED_HOSTS`) are the only way past the address and
port rules: for tests and on-premise receivers.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection as util_connection

from prospects import normalize

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

DEFAULT_PORTS = {"http": 80, "https": 443}
ALLOWED_PORTS = (80, 443)

# Refused even where `is_global` would say otherwise, each named for why.
FORBIDDEN_NETWORKS = [
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",  # "this network", 0.0.0.0 reaches the local host
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, cloud metadata services
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation
        "192.88.99.0/24",  # 6to4 relays
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation
        "203.0.113.0/24",  # documentation
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and the broadcast address
        "::/96",  # unspecified, loopback and IPv4-compatible forms
        "::ffff:0:0/96",  # IPv4-mapped
        "64:ff9b::/96",  # NAT64
        "64:ff9b:1::/48",  # local NAT64
        "100::/64",  # discard
        "2001::/32",  # Teredo
        "2001:db8::/32",  # documentation
        "2002::/16",  # 6to4
        "3fff::/20",  # documentation
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local
        "ff00::/8",  # multicast
    )
]

# Hosts written as numbers in a form other than a dotted quad (2130706433, 0x7f.1, 0177.0.0.1):
# resolvers read them as addresses, so they are refused rather than guessed.
NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+))*\.?$")
NAME = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*\.?$")


class Refused(ValueError):
    """A callback URL the guard refuses; `code` says which rule (stable, for messages)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Target:
    """A checked URL and the one address to connect to."""

    scheme: str
    host: str
    port: int
    address: str
    path: str


def forbidden_reason(address: IPAddress) -> str:
    """Why an address may not be called ('' when it is a public unicast address)."""
    for network in FORBIDDEN_NETWORKS:
        if address.version == network.version and address in network:
            return str(network)
    if not address.is_global or address.is_multicast:
        return "not global"
    return ""


def split_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of an http(s) URL, or Refused."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise Refused("url_invalid", str(exc)) from exc
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise Refused("scheme_forbidden", scheme)
    if parts.username is not None or parts.password is not None:
        raise Refused("url_invalid", "credentials in the URL")
    host = (parts.hostname or "").lower()
    if not host:
        raise Refused("url_invalid", "no host")
    if not host.isascii():
        try:
            host = normalize.ascii_host(host)
        except UnicodeError as exc:
            raise Refused("url_invalid", "not a host name") from exc
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return scheme, host, port or DEFAULT_PORTS[scheme], path


def literal_address(host: str) -> IPAddress | None:
    """The host as an IP address when it is one, written canonically; Refused when it is a
    number in another form."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if NUMERIC_HOST.match(host) or "%" in host:
        raise Refused("address_forbidden", "ambiguous numeric host")
    if not NAME.match(host):
        raise Refused("url_invalid", "not a host name")
    return None


def is_allowed_host(host: str, port: int, allowed_hosts: Iterable[str]) -> bool:
    name = host.rstrip(".")
    wanted = f"[{name}]:{port}" if ":" in name else f"{name}:{port}"
    return any(entry.strip().lower() == wanted for entry in allowed_hosts)


def check_url(url: str, *, resolve: Resolver, allowed_hosts: Iterable[str] = ()) -> Target:
    """Resolve once and check every address; the Target names the address to connect to."""
    scheme, host, port, path = split_url(url)
    literal = literal_address(host)
    allowed = is_allowed_host(host, port, allowed_hosts)
    if not allowed and port not in ALLOWED_PORTS:
        raise Refused("port_forbidden", str(port))
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = list(dict.fromkeys(ipaddress.ip_address(a) for a in resolve(host, port)))
        except (OSError, ValueError, UnicodeError) as exc:
            raise Refused("unresolvable", host) from exc
        if not addresses:
            raise Refused("unresolvable", host)
    if not allowed:
        for address in addresses:
            reason = forbidden_reason(address)
            if reason:
                raise Refused("address_forbidden", reason)
    return Target(scheme=scheme, host=host, port=port, address=str(addresses[0]), path=path)


def resolve_with_system(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for a name (TCP only)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [info[4][0] for info in infos]


# --- Connecting to the checked address only --------------------------------------------------


class PinnedConnectionMixin:
    """Opens its socket to the checked address; the Host header, SNI and the certificate check
    still use the name from the URL."""

    pinned_address: str = ""
    # Told of each new socket before anything is sent on it (a deadline's watchdog).
    on_connect: Callable[[socket.socket], None] | None = None

    def _new_conn(self) -> socket.socket:
        try:
            sock = util_connection.create_connection(
                (self.pinned_address, self.port),
                self.timeout,
                source_address=self.source_address,
                socket_options=self.socket_options,
            )
        except TimeoutError as exc:
            raise ConnectTimeoutError(self, f"connection to {self.host} timed out") from exc
        except OSError as exc:
            raise NewConnectionError(self, f"connection failed: {exc}") from exc
        if self.on_connect is not None:
            self.on_connect(sock)
        return sock


class PinnedHTTPConnection(PinnedConnectionMixin, HTTPConnection):
    pass


class PinnedHTTPSConnection(PinnedConnectionMixin, HTTPSConnection):
    pass


def pinned_pool(
    target: Target,
    *,
    timeout: float,
    on_connect: Callable[[socket.socket], None] | None = None,
) -> urllib3.HTTPConnectionPool:
    """A one-use connection pool to the target's checked address: no proxy from the
    environment, no retries, no redirects (the caller passes redirect=False). `on_connect` is
    given each socket as soon as it is connected."""
    connection_class = PinnedHTTPSConnection if target.scheme == "https" else PinnedHTTPConnection
    pinned = type(
        "Pinned",
        (connection_class,),
        {"pinned_address": target.address, "on_connect": staticmethod(on_connect)},
    )
    pool_class = (
        urllib3.HTTPSConnectionPool if target.scheme == "https" else urllib3.HTTPConnectionPool
    )
    pool = pool_class(
        target.host,
        target.port,
        timeout=urllib3.Timeout(connect=timeout, read=timeout),
        retries=False,
        maxsize=1,
    )
    pool.ConnectionCls = pinned
    return pool
