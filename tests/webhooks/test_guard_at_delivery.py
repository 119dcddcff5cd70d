"""The address guard at save time and at connect time: every forbidden callback address is
refused, and not one connection is opened to any of them."""

import socket

import pytest

from enrichment import crypto
from enrichment.webhooks import delivery, services, signing
from enrichment.webhooks.models import EventType, WebhookDelivery, WebhookEndpoint

from .conftest import emit_one
from .test_netguard import FORBIDDEN, ZONE

pytestmark = pytest.mark.django_db
REAL_GETADDRINFO = socket.getaddrinfo


@pytest.fixture
def hostile_dns(monkeypatch):
    """The resolver answers the zone's names with internal addresses (the process boundary)."""

    def getaddrinfo(host, port, *args, **kwargs):
        name = host.rstrip(".") if isinstance(host, str) else host
        if name in ZONE:
            return [
                (
                    socket.AF_INET6 if ":" in a else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (a, port),
                )
                for a in ZONE[name]
            ]
        return REAL_GETADDRINFO(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def connects(monkeypatch):
    """Every outgoing connection attempt, recorded before it is made."""
    seen = []
    real_connect = socket.socket.connect

    def connect(self, address):
        seen.append(address)
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", lambda self, a: seen.append(a) or 111)
    return seen


@pytest.mark.parametrize("url", FORBIDDEN)
def test_a_forbidden_callback_cannot_be_saved(workspace, hostile_dns, connects, url):
    with pytest.raises(services.EndpointRefused):
        services.create_endpoint(workspace, url=url, events=[EventType.JOB_COMPLETED])
    assert connects == []
    assert not WebhookEndpoint.objects.for_workspace(workspace).exists()


def test_no_forbidden_callback_is_ever_connected_to(workspace, hostile_dns, connects):
    # Saved while their names pointed elsewhere: at delivery time they lead inside.
    for url in FORBIDDEN:
        WebhookEndpoint.objects.create(
            workspace=workspace,
            url=url,
            events=[EventType.JOB_COMPLETED],
            encrypted_secret=crypto.encrypt(signing.generate_secret()),
        )
    rows = emit_one(workspace)
    assert len(rows) == len(FORBIDDEN) >= 40

    outcomes = [delivery.deliver(row.pk) for row in rows]

    assert connects == []
    assert set(outcomes) == {"retry-in-5s"}
    errors = set(WebhookDelivery.objects.for_workspace(workspace).values_list("error", flat=True))
    assert errors <= {
        "address_forbidden",
        "port_forbidden",
        "scheme_forbidden",
        "url_invalid",
        "unresolvable",
    }
    assert "address_forbidden" in errors


def test_a_name_rebound_to_loopback_after_saving_is_not_called(workspace, monkeypatch, connects):
    hook, _secret = services.create_endpoint(
        workspace, url="https://93.184.215.14/hooks", events=[EventType.JOB_COMPLETED]
    )
    WebhookEndpoint.objects.for_workspace(workspace).filter(pk=hook.pk).update(
        url="http://rebind.example.com/hooks"
    )
    ZONE_REBOUND = {"rebind.example.com": "127.0.0.1"}

    def getaddrinfo(host, port, *args, **kwargs):
        if host in ZONE_REBOUND:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ZONE_REBOUND[host], port))]
        return REAL_GETADDRINFO(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    (row,) = emit_one(workspace)

    delivery.deliver(row.pk)

    assert connects == []
    assert WebhookDelivery.objects.for_workspace(workspace).get(pk=row.pk).error == (
        "address_forbidden"
    )
