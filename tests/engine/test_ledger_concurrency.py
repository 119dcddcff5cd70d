"""Many workers reserving at once, on PostgreSQL: replays and the cap hold as hard limits."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection, connections

from enrichment.engine import ledger
from enrichment.engine.money import PARIS
from enrichment.models import CreditEntry
from tests.factories import WorkspaceFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
NOON = dt.datetime(2026, 6, 15, 12, 0, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks under concurrency need PostgreSQL (the PostgreSQL pass runs this)")


def at_once(calls: list[Callable[[], object]]) -> list[object]:
    """Run every call in its own thread, released together; each result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = calls[index]()
        except Exception as error:
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def kinds(results: list[object]) -> Counter:
    return Counter(type(result).__name__ for result in results)


def test_fifty_workers_replaying_one_reserve_write_one_entry():
    workspace = WorkspaceFactory()
    ledger.top_up(workspace.pk, "10", key="initial")
    results = at_once(
        [
            lambda: ledger.reserve(
                workspace.pk, "0.25", key="7:42:email:hunter", provider="hunter", now=NOON
            )
        ]
        * 50
    )
    assert kinds(results) == {"Reservation": 50}
    assert sum(not r.replayed for r in results) == 1
    assert {(r.amount, r.key) for r in results} == {(Decimal("0.25"), "7:42:email:hunter")}
    assert CreditEntry.objects.for_workspace(workspace).filter(kind="reserve").count() == 1
    assert ledger.balance(workspace.pk) == Decimal("9.75")


def test_thirty_concurrent_reservations_never_pass_a_cap_of_seven():
    workspace = WorkspaceFactory()
    ledger.top_up(workspace.pk, "100", key="initial")
    ledger.set_daily_cap(workspace.pk, "7")
    results = at_once(
        [
            (
                lambda n=n: ledger.reserve(
                    workspace.pk, "1", key=f"k{n}", provider="hunter", now=NOON
                )
            )
            for n in range(30)
        ]
    )
    # Exactly seven: never above the cap, and the cap itself is reachable.
    assert kinds(results) == {"Reservation": 7, "DailyCapReached": 23}
    assert ledger.spent_today(workspace.pk, now=NOON) == Decimal("7")
    assert ledger.balance(workspace.pk) == Decimal("93")


def test_thirty_concurrent_reservations_never_take_the_balance_below_zero():
    workspace = WorkspaceFactory()
    ledger.top_up(workspace.pk, "5", key="initial")
    results = at_once(
        [
            (
                lambda n=n: ledger.reserve(
                    workspace.pk, "1", key=f"k{n}", provider="hunter", now=NOON
                )
            )
            for n in range(30)
        ]
    )
    assert kinds(results) == {"Reservation": 5, "InsufficientCredits": 25}
    assert ledger.balance(workspace.pk) == Decimal("0")


def test_the_global_cap_holds_across_workspaces_reserving_at_once(settings):
    settings.GLOBAL_DAILY_CAP = Decimal("6")
    workspaces = [WorkspaceFactory(), WorkspaceFactory()]
    for workspace in workspaces:
        ledger.top_up(workspace.pk, "100", key="initial")
    results = at_once(
        [
            (
                lambda n=n: ledger.reserve(
                    workspaces[n % 2].pk, "1", key=f"k{n}", provider="hunter", now=NOON
                )
            )
            for n in range(30)
        ]
    )
    assert kinds(results) == {"Reservation": 6, "DailyCapReached": 24}
    assert sum(ledger.spent_today(w.pk, now=NOON) for w in workspaces) == Decimal("6")


def test_a_workspaces_first_writes_at_once_create_one_budget():
    workspace = WorkspaceFactory()
    results = at_once(
        [(lambda n=n: ledger.top_up(workspace.pk, "1", key=f"t{n}")) for n in range(20)]
    )
    assert kinds(results) == {"CreditEntry": 20}
    assert ledger.balance(workspace.pk) == Decimal("20")
