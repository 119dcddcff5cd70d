"""The API's rate-limit counters are django-ratelimit's (same keys, same windows), counted in
one round trip on Redis, and still answer 429 with Retry-After past the limit."""

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.test import RequestFactory
from django_ratelimit import ALL
from django_ratelimit.core import get_usage

from config.api_support import rate_limits


def read(group: str, value: str, rate: str) -> int:
    request = RequestFactory().get("/api/v1/stats")
    usage = get_usage(
        request, group=group, key=lambda g, r: value, rate=rate, method=ALL, increment=False
    )
    return usage["count"]


def test_the_counts_are_django_ratelimits(api, admin_key, settings):
    settings.SOURCIER_API_RATE = "50/m"
    settings.SOURCIER_API_IP_RATE = "100/m"
    for _ in range(3):
        assert api.get("/api/v1/stats").status_code == 200
    assert read("api-key", f"key:{admin_key.api_key.pk}", "50/m") == 3
    assert read("api-ip", "127.0.0.1", "100/m") == 3


def test_a_count_past_the_limit_says_when_to_come_back(db):
    request = RequestFactory().get("/api/v1/stats")
    seen = [rate_limits.usage(request, "g", "v", "2/m") for _ in range(3)]
    assert [u["count"] for u in seen] == [1, 2, 3]
    assert [u["should_limit"] for u in seen] == [False, False, True]
    assert 0 <= seen[-1]["time_left"] <= 60


def test_off_when_rate_limiting_is(db, settings):
    settings.RATELIMIT_ENABLE = False
    assert rate_limits.usage(RequestFactory().get("/"), "g", "v", "1/m") is None


def test_on_redis_a_counter_expires_with_its_window(db):
    if not isinstance(caches["default"], RedisCache):
        pytest.skip("Redis only")
    request = RequestFactory().get("/api/v1/stats")
    rate_limits.usage(request, "g", "v", "5/m")
    client = cache._cache.get_client(None)
    (key,) = client.keys("*rl:*")
    assert int(client.get(key)) == 1
    assert 0 < client.ttl(key) <= 65
