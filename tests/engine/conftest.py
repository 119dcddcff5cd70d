import os
import uuid

import pytest
import redis
from django.conf import settings

from enrichment.engine.breaker_stores import DatabaseStore, RedisStore
from tests.conftest import require


def redis_url() -> str:
    """The configured Redis, else a local one (CI starts it before the SQLite pass too)."""
    return settings.REDIS_URL or os.environ.get(
        "SOURCIER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"
    )


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own on a reachable Redis; its keys are removed afterwards."""
    url = redis_url()
    require(redis_answers(url), f"no Redis answers at {url}")
    prefix = f"sourcier-test:{uuid.uuid4().hex}:"
    yield url, prefix
    client = redis.Redis.from_url(url)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)


@pytest.fixture(params=["database", "redis"])
def store(request):
    """Each breaker test runs against both stores."""
    if request.param == "database":
        request.getfixturevalue("db")
        return DatabaseStore()
    url, prefix = request.getfixturevalue("redis_prefix")
    return RedisStore(url, prefix=prefix)
