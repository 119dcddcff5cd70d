"""The API's rate-limit counters: django-ratelimit's fixed windows and cache keys, counted in
one round trip to Redis.

django-ratelimit counts with the cache's `add` then `incr`, and Django's Redis cache makes an
`incr` two commands (EXISTS, then INCRBY): three round trips per counter, two counters per
request. On Redis the same key, in the same window, with the same expiry, is counted here by one
MULTI/EXEC (SET NX EX, then INCR); any other cache (the local-memory one of a single machine)
goes through django-ratelimit as before.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest
from django_ratelimit import ALL
from django_ratelimit.core import (
    EXPIRATION_FUDGE,
    _get_window,
    _make_cache_key,
    _split_rate,
    get_usage,
)


def usage(request: HttpRequest, group: str, value: str, rate: str) -> dict | None:
    """Count this request against `value` in `group` at `rate` ("600/m"); django-ratelimit's
    usage dict (`should_limit`, `time_left`), or None when rate limiting is off."""
    if not getattr(settings, "RATELIMIT_ENABLE", True):
        return None
    cache = caches[getattr(settings, "RATELIMIT_USE_CACHE", "default")]
    if not isinstance(cache, RedisCache):
        return get_usage(
            request, group=group, key=_constant(value), rate=rate, method=ALL, increment=True
        )
    limit, period = _split_rate(rate)
    window = _get_window(value, period)
    key = cache.make_and_validate_key(_make_cache_key(group, window, rate, value, ALL))
    # The counter django-ratelimit would make (`add` stores an int as such, so INCR works).
    with _client(cache).pipeline(transaction=True) as pipe:
        pipe.set(key, 0, ex=period + EXPIRATION_FUDGE, nx=True)
        pipe.incr(key)
        count = pipe.execute()[1]
    return {
        "count": count,
        "limit": limit,
        "should_limit": count > limit,
        "time_left": window - int(time.time()),
    }


# Django's Redis cache makes a new client (and copies its ~170 reply parsers) for each command;
# one per cache (each thread has its own) is enough, the connections coming from its pool.
_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _client(cache: RedisCache):
    client = _clients.get(cache._cache)
    if client is None:
        client = _clients[cache._cache] = cache._cache.get_client(write=True)
    return client


def _constant(value: str) -> Callable[[str, HttpRequest], str]:
    return lambda group, request: value
