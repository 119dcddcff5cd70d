"""Concurrency slots and rate windows are shared by every worker: the same tests pass on the
database backend (embedded default) and on the Redis backend (when REDIS_URL is set)."""

import threading
import time
import uuid

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enrichment.engine import limits

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(params=["database", "redis"])
def backend(request, settings):
    if request.param == "redis" and not django_settings.REDIS_URL:
        pytest.skip("the Redis backend is tested in the PostgreSQL + Redis pass (REDIS_URL)")
    settings.LIMITS_BACKEND = request.param
    return request.param


@pytest.fixture
def provider(backend):
    """A provider name no earlier run used (Redis keeps its keys between tests)."""
    return f"vendor-{uuid.uuid4().hex[:8]}"


def test_at_most_limit_slots_are_held_at_once(provider):
    leases = [limits.acquire_slot(1, provider, limit=3, ttl=60) for _ in range(3)]
    assert all(leases)
    assert sorted(lease.slot for lease in leases) == [0, 1, 2]
    assert limits.acquire_slot(1, provider, limit=3, ttl=60) is None
    # Another workspace has its own slots.
    assert limits.acquire_slot(2, provider, limit=3, ttl=60) is not None


def test_slots_held_counts_live_leases_only(provider):
    assert limits.slots_held(1, provider) == 0
    first = limits.acquire_slot(1, provider, limit=3, ttl=60)
    limits.acquire_slot(1, provider, limit=3, ttl=60)
    limits.acquire_slot(1, provider, limit=3, ttl=0.05)  # its holder died
    time.sleep(0.1)
    assert limits.slots_held(1, provider) == 2
    limits.release_slot(first)
    assert limits.slots_held(1, provider) == 1
    assert limits.slots_held(2, provider) == 0


def test_a_released_slot_can_be_taken_again(provider):
    leases = [limits.acquire_slot(1, provider, limit=2, ttl=60) for _ in range(2)]
    limits.release_slot(leases[0])
    again = limits.acquire_slot(1, provider, limit=2, ttl=60)
    assert again is not None and again.slot == leases[0].slot


def test_a_dead_holders_slot_comes_back_when_its_lease_expires(provider):
    dead = limits.acquire_slot(1, provider, limit=1, ttl=0.3)
    assert limits.acquire_slot(1, provider, limit=1, ttl=60) is None
    time.sleep(0.45)
    taken_over = limits.acquire_slot(1, provider, limit=1, ttl=60)
    assert taken_over is not None
    assert taken_over.token != dead.token
    # The dead holder's late release must not free the slot its successor holds.
    limits.release_slot(dead)
    assert limits.acquire_slot(1, provider, limit=1, ttl=60) is None


def test_a_renewed_lease_outlives_its_first_term_and_an_expired_one_is_not_renewed(provider):
    held = limits.acquire_slot(1, provider, limit=1, ttl=0.3)
    time.sleep(0.15)
    assert limits.renew_slot(held, ttl=60)
    time.sleep(0.3)  # past its first term: still held
    assert limits.acquire_slot(1, provider, limit=1, ttl=60) is None
    limits.release_slot(held)
    dead = limits.acquire_slot(1, provider, limit=1, ttl=0.05)
    time.sleep(0.1)
    successor = limits.acquire_slot(1, provider, limit=1, ttl=60)
    assert successor is not None
    # The dead holder's renewal takes nothing back from its successor.
    assert not limits.renew_slot(dead, ttl=60)
    limits.release_slot(successor)
    assert limits.acquire_slot(1, provider, limit=1, ttl=60) is not None


def test_concurrency_slot_gives_up_after_waiting(provider):
    limits.acquire_slot(1, provider, limit=1, ttl=60)
    with (
        pytest.raises(limits.SlotUnavailable),
        limits.concurrency_slot(1, provider, limit=1, ttl=60, wait=0.1),
    ):
        pass


def test_rate_window_allows_per_second_then_asks_to_wait(provider):
    for attempt in range(5):
        start = int(time.time())
        answers = [limits.take_rate_token(f"{provider}-{attempt}", per_second=5) for _ in range(6)]
        if int(time.time()) == start:
            break  # all six fell in one wall-clock second, as the assertion needs
    assert answers[:5] == [0.0] * 5
    assert 0 < answers[5] <= 1.0


def test_requests_counted_together_are_allowed_all_or_none(provider):
    for attempt in range(5):
        start = int(time.time())
        name = f"{provider}-batch-{attempt}"
        answers = [
            limits.take_rate_token(name, per_second=5, count=3),  # 3 of 5
            limits.take_rate_token(name, per_second=5, count=3),  # 6 > 5: none counted
            limits.take_rate_token(name, per_second=5, count=2),  # 5 of 5
            limits.take_rate_token(name, per_second=5),  # 6 > 5
        ]
        if int(time.time()) == start:
            break
    assert answers[0] == answers[2] == 0.0
    assert 0 < answers[1] <= 1.0 and 0 < answers[3] <= 1.0
    with pytest.raises(ValueError):
        limits.take_rate_token(provider, per_second=5, count=6)


def test_the_first_request_of_a_second_costs_one_statement_like_the_others(settings):
    """A new second's window is made by the same statement that counts in it: a call's query
    count does not depend on whether it is the first of its second."""
    settings.LIMITS_BACKEND = "database"
    provider = f"vendor-{uuid.uuid4().hex[:8]}"
    with CaptureQueriesContext(connection) as first:
        assert limits.take_rate_token(provider, per_second=5) == 0.0
    with CaptureQueriesContext(connection) as next_one:
        limits.take_rate_token(provider, per_second=5)
    assert len(first) == len(next_one) == 1


def test_many_threads_never_hold_more_than_the_limit(backend, provider):
    if backend == "database" and connection.vendor == "sqlite":
        pytest.skip("the in-memory SQLite test database is not shared by threads")
    held, peak, errors, lock = [0], [0], [], threading.Lock()

    def worker():
        try:
            for _ in range(5):
                with limits.concurrency_slot(7, provider, limit=3, ttl=30, wait=10):
                    with lock:
                        held[0] += 1
                        peak[0] = max(peak[0], held[0])
                    time.sleep(0.01)
                    with lock:
                        held[0] -= 1
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert peak[0] == 3
