from decimal import Decimal

import pytest
import redis
import responses

from enrichment import credentials
from enrichment.engine import ledger
from tests.sandbox.conftest import _server, sandbox, world  # noqa: F401
from tests.sandbox.support import KEY

# The email finders the waterfall tests give a key.
FINDERS = ("prospeo", "leadmagic", "findymail")


@pytest.fixture
def keyed(workspace):
    """The workspace with a Dropcontact key and 100 € of credit."""
    credentials.set_api_key(workspace, "dropcontact", "dc-secret-key-1234")
    ledger.top_up(workspace.pk, Decimal("100"), key="test-top-up")
    return workspace


@pytest.fixture
def http():
    """Provider HTTP replayed by `responses` (the process boundary)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


# The sandbox world and server the waterfall tests run against (the sandbox tests' own).


@pytest.fixture
def email_ws(workspace, sandbox, settings):  # noqa: F811 (the sandbox fixture)
    """A workspace with a key for each email finder, 100 € of credit, nothing automatic."""
    workspace.auto_enrich = "none"
    workspace.save()
    settings.PROVIDER_BASE_URLS = {
        **settings.PROVIDER_BASE_URLS,
        **{slug: sandbox.base_url(slug) for slug in FINDERS},
    }
    for slug in FINDERS:
        credentials.set_api_key(workspace, slug, KEY)
    ledger.top_up(workspace.pk, Decimal("100"), key="test-top-up")
    if settings.REDIS_URL:
        # Breakers live in Redis across tests on PostgreSQL + Redis: start with closed ones.
        redis.Redis.from_url(settings.REDIS_URL).delete(
            *(f"sourcier:breaker:{slug}" for slug in FINDERS)
        )
    return workspace
