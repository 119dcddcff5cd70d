"""Read-only figures of a workspace's credit ledger: its balance, its spending (today, in all,
per provider), what reservations hold and its daily cap. Spending counts settled costs plus
reservations still in flight, per Paris day."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from enrichment.models import CreditBudget, CreditEntry

from .money import PLACES, ZERO, next_midnight, paris_day

Kind = CreditEntry.Kind
SPENDING = (Kind.RESERVE, Kind.SETTLE, Kind.RELEASE)


def spent_of(entries) -> Decimal:
    """What `entries` (a queryset of ledger entries) spent: settled costs plus holds."""
    total = entries.filter(kind__in=SPENDING).aggregate(total=Sum("amount"))["total"]
    return ZERO if total is None else (-total).quantize(PLACES)


def spent_on(workspace_id: int, day: dt.date) -> Decimal:
    return spent_of(CreditEntry.objects.for_workspace(workspace_id).filter(day=day))


def balance(workspace_id: int) -> Decimal:
    """Credits available now (reservations in flight are already taken out)."""
    value = (
        CreditBudget.objects.for_workspace(workspace_id).values_list("balance", flat=True).first()
    )
    return ZERO if value is None else value.quantize(PLACES)


def daily_cap(workspace_id: int) -> Decimal | None:
    """The workspace's daily spending cap in euros, None when there is none."""
    cap = (
        CreditBudget.objects.for_workspace(workspace_id).values_list("daily_cap", flat=True).first()
    )
    return None if cap is None else cap.quantize(PLACES)


def spent_today(workspace_id: int, *, now: dt.datetime | None = None) -> Decimal:
    """Settled costs plus reservations in flight, for the current Paris day."""
    return spent_on(workspace_id, paris_day(timezone.now() if now is None else now))


def spent_total(workspace_id: int) -> Decimal:
    """Settled costs plus reservations in flight, since the beginning."""
    return spent_of(CreditEntry.objects.for_workspace(workspace_id))


def spent_by_provider(workspace_id: int) -> dict[str, Decimal]:
    """Settled costs plus reservations in flight, per provider slug."""
    rows = (
        CreditEntry.objects.for_workspace(workspace_id)
        .filter(kind__in=SPENDING)
        .values_list("provider")
        .annotate(total=Sum("amount"))
        .order_by("provider")
    )
    return {provider: (-total).quantize(PLACES) for provider, total in rows}


def in_flight(workspace_id: int) -> Decimal:
    """Credits held by reservations not yet settled or released."""
    entries = CreditEntry.objects.for_workspace(workspace_id)
    closed = entries.filter(kind__in=[Kind.SETTLE, Kind.RELEASE]).values("idempotency_key")
    held = entries.filter(kind=Kind.RESERVE).exclude(idempotency_key__in=closed)
    total = held.aggregate(total=Sum("amount"))["total"]
    return ZERO if total is None else (-total).quantize(PLACES)


def summary(workspace_id: int, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """Balance, spending (today, in all, per provider), credits in flight and the cap."""
    now = timezone.now() if now is None else now
    cap = daily_cap(workspace_id)
    spent = spent_today(workspace_id, now=now)
    return {
        "balance": balance(workspace_id),
        "spent_today": spent,
        "spent_total": spent_total(workspace_id),
        "in_flight": in_flight(workspace_id),
        "daily_cap": cap,
        "cap_reached_until": next_midnight(now) if cap is not None and spent >= cap else None,
        "spent_by_provider": spent_by_provider(workspace_id),
    }
