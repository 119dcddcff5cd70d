"""Concurrency slots and rate windows live in the database, so every worker shares them."""

import datetime as dt
import time

import pytest
from django.utils import timezone

from enrichment.engine import limits
from enrichment.models import ProviderLease

pytestmark = pytest.mark.django_db


def test_at_most_limit_slots_are_held_at_once():
    leases = [limits.acquire_slot(1, "dropcontact", limit=3, ttl=60) for _ in range(3)]
    assert all(leases)
    assert sorted(lease.slot for lease in leases) == [0, 1, 2]
    assert limits.acquire_slot(1, "dropcontact", limit=3, ttl=60) is None
    # Another workspace has its own slots.
    assert limits.acquire_slot(2, "dropcontact", limit=3, ttl=60) is not None


def test_a_released_slot_can_be_taken_again():
    leases = [limits.acquire_slot(1, "dropcontact", limit=2, ttl=60) for _ in range(2)]
    limits.release_slot(leases[0])
    again = limits.acquire_slot(1, "dropcontact", limit=2, ttl=60)
    assert again is not None and again.slot == leases[0].slot


def test_a_dead_holders_slot_comes_back_when_its_lease_expires():
    dead = limits.acquire_slot(1, "dropcontact", limit=1, ttl=60)
    assert limits.acquire_slot(1, "dropcontact", limit=1, ttl=60) is None
    ProviderLease.objects.filter(pk=dead.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    taken_over = limits.acquire_slot(1, "dropcontact", limit=1, ttl=60)
    assert taken_over is not None
    assert taken_over.token != dead.token
    # The dead holder's late release must not free the slot its successor holds.
    limits.release_slot(dead)
    assert limits.acquire_slot(1, "dropcontact", limit=1, ttl=60) is None


def test_concurrency_slot_gives_up_after_waiting():
    limits.acquire_slot(1, "dropcontact", limit=1, ttl=60)
    with (
        pytest.raises(limits.SlotUnavailable),
        limits.concurrency_slot(1, "dropcontact", limit=1, ttl=60, wait=0.1),
    ):
        pass


def test_rate_window_allows_per_second_then_asks_to_wait():
    for attempt in range(5):
        start = int(time.time())
        answers = [limits.take_rate_token(f"vendor-{attempt}", per_second=5) for _ in range(6)]
        if int(time.time()) == start:
            break  # all six fell in one wall-clock second, as the assertion needs
    assert answers[:5] == [0.0] * 5
    assert 0 < answers[5] <= 1.0
