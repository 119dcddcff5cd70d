"""Limits that hold across every worker and host: concurrency slots per workspace and provider,
and a request rate per provider.

Two backends pass the same tests: the database (`limits_db`, the embedded default, 5–7 queries
per call) and Redis (`limits_redis`, one round trip per step, atomic scripts with expiring keys),
used when REDIS_URL is set. A slot whose holder died expires after its lease on both.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from django.conf import settings


class SlotUnavailable(Exception):
    """Every concurrency slot is taken; try again shortly (not the item's fault)."""


def backend() -> ModuleType:
    """The configured backend module (SOURCIER_LIMITS_BACKEND: database or redis)."""
    if settings.LIMITS_BACKEND == "redis":
        from . import limits_redis

        return limits_redis
    from . import limits_db

    return limits_db


def acquire_slot(workspace_id: int, provider: str, *, limit: int, ttl: float) -> Any:
    """Take a free slot (or an expired one): a lease with `slot` and `token`, or None."""
    return backend().acquire_slot(workspace_id, provider, limit=limit, ttl=ttl)


def slots_held(workspace_id: int, provider: str) -> int:
    """How many of the slots of (workspace, provider) are held now (expired leases aside)."""
    return backend().slots_held(workspace_id, provider)


def renew_slot(lease: Any, *, ttl: float) -> bool:
    """Hold the slot `ttl` seconds more from now (a holder that goes on with it); False when
    the lease expired meanwhile (the slot may be someone else's: take one again)."""
    return backend().renew_slot(lease, ttl=ttl)


def release_slot(lease: Any) -> None:
    """Give the slot back, unless its lease expired and someone else holds it now."""
    backend().release_slot(lease)


def take_rate_token(provider: str, *, per_second: int, count: int = 1) -> float:
    """Count `count` requests (all or none) in this second's window: 0 when allowed, else
    seconds to wait. More than `per_second` at once is never allowed."""
    if count > per_second:
        raise ValueError(f"{count} requests at once exceed the rate of {per_second} a second")
    return backend().take_rate_token(provider, per_second=per_second, count=count)


def purge_expired(older_than_seconds: int = 3600) -> int:
    """Housekeeping (correctness never needs it): drop expired leases and old windows."""
    return backend().purge_expired(older_than_seconds)


@contextlib.contextmanager
def concurrency_slot(
    workspace_id: int, provider: str, *, limit: int, ttl: float, wait: float = 0.0
) -> Iterator[Any]:
    """Hold a slot for the duration of one call; raise SlotUnavailable after `wait` seconds."""
    deadline = time.monotonic() + wait
    while True:
        lease = acquire_slot(workspace_id, provider, limit=limit, ttl=ttl)
        if lease is not None:
            break
        if time.monotonic() >= deadline:
            raise SlotUnavailable(provider)
        time.sleep(0.05 + secrets.randbelow(50) / 1000)
    try:
        yield lease
    finally:
        release_slot(lease)


def wait_for_rate(provider: str, *, per_second: int, max_wait: float = 5.0, count: int = 1) -> bool:
    """Block until `count` requests may be sent (True), or give up after `max_wait` seconds."""
    deadline = time.monotonic() + max_wait
    while True:
        delay = take_rate_token(provider, per_second=per_second, count=count)
        if delay == 0:
            return True
        if time.monotonic() + delay > deadline:
            return False
        time.sleep(delay)
