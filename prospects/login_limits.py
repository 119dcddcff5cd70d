"""Who is trying to log in: the keys the login rate limits count by.

One count per account however its name is typed, and one per client even behind a reverse
proxy, where every request arrives from the proxy's own address.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UsernameField
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def login_username_key(group: str, request: HttpRequest) -> str:
    """The posted username as the login form reads it (stripped, NFKC), case-folded."""
    user_model = get_user_model()
    max_length = user_model._meta.get_field(user_model.USERNAME_FIELD).max_length
    username = UsernameField(max_length=max_length).to_python(request.POST.get("username", ""))
    # Folding counts "Bob" against "bob" too: stricter than the case-sensitive lookup, never
    # looser, so no spelling of a name escapes its count.
    return username.casefold()


@lru_cache(maxsize=8)
def _networks(values: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    # The settings checked every entry at start.
    return tuple(ipaddress.ip_network(value, strict=False) for value in values)


def _parse_hop(hop: str) -> IPAddress | None:
    hop = hop.strip()
    if hop.startswith("[") and "]" in hop:  # [2001:db8::1]:443
        hop = hop[1 : hop.index("]")]
    elif hop.count(":") == 1:  # 192.0.2.1:443
        hop = hop.split(":", 1)[0]
    try:
        return ipaddress.ip_address(hop)
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str:
    """The client's address: the peer's, or behind a trusted proxy the rightmost untrusted hop.

    Each trusted proxy appends the address it received the request from, so reading from the
    right and skipping our own proxies gives the first address nobody we trust made up; what a
    client wrote further left is ignored. A peer that is not a trusted proxy is the client, and
    its forwarding header is ignored.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    networks = _networks(tuple(settings.SOURCIER_TRUSTED_PROXIES))
    if not remote:
        if not networks:
            raise ImproperlyConfigured(
                "REMOTE_ADDR is empty (a Unix socket?): list the proxy in SOURCIER_TRUSTED_PROXIES."
            )
        # Only a local process (the proxy) can reach a Unix socket.
        remote_trusted = True
    else:
        peer = _parse_hop(remote)
        remote_trusted = peer is not None and any(peer in net for net in networks)
    if not remote_trusted:
        return remote
    meta_key = "HTTP_" + settings.SOURCIER_CLIENT_IP_HEADER.upper().replace("-", "_")
    address = remote
    for hop in reversed(request.META.get(meta_key, "").split(",")):
        ip = _parse_hop(hop)
        if ip is None:
            # Not written by a proxy we trust: keep the last address one of them reported.
            break
        address = str(ip)
        if not any(ip in net for net in networks):
            break
    if not address:
        raise ImproperlyConfigured(
            f"The proxy sent no usable {settings.SOURCIER_CLIENT_IP_HEADER} header."
        )
    return address
