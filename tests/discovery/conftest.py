"""The sandbox world's DNS and mail hosts on loopback, and settings that point discovery at them."""

import pytest

from enrichment.discovery import dns as discovery_dns
from enrichment.sandbox.dns_server import SandboxDNS
from enrichment.sandbox.mail_world import MailPlan
from enrichment.sandbox.smtp_server import SandboxSMTP
from enrichment.sandbox.world import World


@pytest.fixture(scope="session")
def world():
    return World.build(7, 14)


@pytest.fixture(scope="session")
def plan(world):
    return MailPlan.build(world)


@pytest.fixture(scope="session")
def dns_server(plan):
    server = SandboxDNS(plan, slow_seconds=0.3).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def smtp_server(plan):
    server = SandboxSMTP(plan, slow_seconds=0.05).start()
    yield server
    server.stop()


@pytest.fixture
def mail_sandbox(settings, dns_server, smtp_server, transactional_db):
    """Discovery pointed at the sandbox, with a fresh record of sessions and DNS answers."""
    settings.SOURCIER_DNS_NAMESERVERS = ["127.0.0.1"]
    settings.SOURCIER_DNS_PORT = dns_server.port
    settings.SOURCIER_DNS_TIMEOUT = 3.0
    settings.SOURCIER_SMTP_PORT = smtp_server.port
    settings.SOURCIER_SMTP_HELO = "sonde.sourcier-demo.fr"
    settings.SOURCIER_SMTP_MAIL_FROM = "verification@sourcier-demo.fr"
    settings.SOURCIER_SMTP_CONNECT_TIMEOUT = 2.0
    settings.SOURCIER_SMTP_TIMEOUT = 5.0
    settings.SOURCIER_SMTP_HOST_RATE = 1000
    settings.SOURCIER_SMTP_ALLOW_PRIVATE_HOSTS = True
    settings.LIMITS_BACKEND = "database"
    settings.REDIS_URL = ""
    smtp_server.reset()
    smtp_server.greylist_seconds = 0.0
    discovery_dns.resolver()._cache.clear()
    yield smtp_server
    smtp_server.reset()


@pytest.fixture
def unused_udp_port():
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def unused_tcp_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
