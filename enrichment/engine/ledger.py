"""The append-only credit ledger of each workspace, and its daily spending cap.

A paid call is three short steps, never one transaction around the network: `reserve` its
price before the call (refused when the balance or the day's cap cannot take it), then
`settle` it to the real cost or `release` it when the call failed or a miss was free. Each step
carries the call's idempotency key, so replaying one (a retried task) writes nothing new, and
replaying it with other parameters is refused.

Every write locks the workspace's `CreditBudget` row first (SELECT … FOR UPDATE on PostgreSQL;
SQLite's IMMEDIATE transactions already serialise writers), then checks and appends. So the
balance never goes below zero and the day's spending never passes the cap, however many
workers reserve at once. Spending counts settled costs plus reservations still in flight, per
Paris day. The balance on the budget row is a cache of the sum of the entries, written in the
same transaction as each entry. The read-only figures (balance, spending, summary) are in
`ledger_figures` and its refusals in `ledger_errors`, all importable from here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from enrichment.models import CreditBudget, CreditEntry

from .ledger_append import append_entry
from .ledger_errors import (
    DailyCapReached,
    IdempotencyConflict,
    InsufficientCredits,
    LedgerError,
    UnknownReservation,
)
from .ledger_figures import (
    balance,
    daily_cap,
    in_flight,
    spent_by_provider,
    spent_of,
    spent_on,
    spent_today,
    spent_total,
    summary,
)
from .money import PLACES, ZERO, InvalidAmount, next_midnight, paris_day, parse_amount

__all__ = [
    "DailyCapReached",
    "IdempotencyConflict",
    "InsufficientCredits",
    "InvalidAmount",
    "LedgerError",
    "Reservation",
    "UnknownReservation",
    "adjust",
    "balance",
    "daily_cap",
    "holds",
    "in_flight",
    "next_midnight",
    "open_key",
    "paris_day",
    "parse_amount",
    "release",
    "release_held",
    "reserve",
    "room",
    "set_daily_cap",
    "settle",
    "spent_by_provider",
    "spent_today",
    "spent_total",
    "summary",
    "top_up",
]

Kind = CreditEntry.Kind
# Any constant: the advisory lock that serialises reservations when a global cap is set.
GLOBAL_CAP_LOCK = 0x536F75726369


@dataclass(frozen=True)
class Reservation:
    """Credits held for one call until it is settled or released."""

    workspace_id: int
    key: str
    provider: str
    amount: Decimal
    day: dt.date
    created_at: dt.datetime
    replayed: bool = False


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()


def _check_key(key: str) -> str:
    if not key or len(key) > CreditEntry._meta.get_field("idempotency_key").max_length:
        raise LedgerError(f"idempotency key must be 1 to 255 characters, got {key!r}")
    return key


def _locked_budget(workspace_id: int) -> CreditBudget:
    """The workspace's budget row, created on first use, locked until the transaction ends."""
    rows = CreditBudget.objects.for_workspace(workspace_id).select_for_update()
    budget = rows.first()
    if budget is None:
        try:
            with transaction.atomic():
                CreditBudget.objects.create(workspace_id=workspace_id)
        except IntegrityError:
            pass  # created by a concurrent first write: take the lock on that row
        budget = rows.get()
    return budget


def _entry(workspace_id: int, key: str, *kinds: str) -> CreditEntry | None:
    return (
        CreditEntry.objects.for_workspace(workspace_id)
        .filter(idempotency_key=key, kind__in=kinds)
        .first()
    )


def _append(budget: CreditBudget, kind: str, amount: Decimal, **fields: Any) -> CreditEntry:
    """Append under the budget lock, where the key was checked already."""
    entry = append_entry(budget, kind, amount, **fields)
    if entry is None:  # pragma: no cover - the key was checked under the same lock
        raise IdempotencyConflict(f"key {fields.get('idempotency_key')!r} is taken")
    return entry


def _global_spent_on(day: dt.date) -> Decimal:
    # Across workspaces on purpose: the global cap is the operator's ceiling.
    return spent_of(CreditEntry.objects.unscoped().filter(day=day))


def _lock_global() -> None:
    # Taken after the budget row, always in that order, so two reservations never deadlock.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [GLOBAL_CAP_LOCK])


def _headroom(
    budget: CreditBudget, day: dt.date, *, lock: bool = True
) -> tuple[Decimal | None, str, Decimal]:
    """What may still be spent on `day` (None: no cap), which cap binds, and its spending."""
    room: Decimal | None = None
    scope, spent = "", ZERO
    if budget.daily_cap is not None:
        spent = spent_on(budget.workspace_id, day)
        room, scope = budget.daily_cap - spent, "workspace"
    if settings.GLOBAL_DAILY_CAP is not None:
        if lock:
            _lock_global()
        global_spent = _global_spent_on(day)
        global_room = settings.GLOBAL_DAILY_CAP - global_spent
        if room is None or global_room < room:
            room, scope, spent = global_room, "global", global_spent
    return room, scope, spent


def _now(now: dt.datetime | None) -> dt.datetime:
    return timezone.now() if now is None else now


def room(workspace_id: int, *, now: dt.datetime | None = None) -> tuple[Decimal, str]:
    """The most one reservation could hold now, and what bounds it ("balance", or the
    "workspace" or "global" daily cap): read without any lock, to size a request before
    reserving it; only `reserve` decides."""
    budget = CreditBudget.objects.for_workspace(workspace_id).first()
    if budget is None:
        budget = CreditBudget(workspace_id=workspace_id, balance=ZERO)
    cap_room, scope, _spent = _headroom(budget, paris_day(_now(now)), lock=False)
    if cap_room is None or budget.balance <= cap_room:
        return budget.balance.quantize(PLACES), "balance"
    return cap_room.quantize(PLACES), scope


def top_up(
    workspace_id: int, amount: Any, *, key: str, note: str = "", now: dt.datetime | None = None
) -> CreditEntry:
    """Add credits; the same key again is a no-op (another amount is a conflict)."""
    return _credit(
        workspace_id, Kind.TOP_UP, parse_amount(amount, allow_zero=False), key, note, now
    )


def adjust(
    workspace_id: int, amount: Any, *, key: str, note: str = "", now: dt.datetime | None = None
) -> CreditEntry:
    """A signed correction by an operator; it may not take the balance below zero."""
    text = str(amount).strip()
    negative = text.startswith("-")
    value = parse_amount(text[1:] if negative else text, allow_zero=False)
    return _credit(workspace_id, Kind.ADJUST, -value if negative else value, key, note, now)


def _credit(
    workspace_id: int,
    kind: str,
    amount: Decimal,
    key: str,
    note: str,
    now: dt.datetime | None,
) -> CreditEntry:
    now = _now(now)
    fingerprint = _fingerprint(kind, amount)
    with transaction.atomic():
        budget = _locked_budget(workspace_id)
        existing = _entry(workspace_id, _check_key(key), kind)
        if existing is not None:
            if existing.fingerprint != fingerprint:
                raise IdempotencyConflict(f"key {key!r} was used for another amount")
            return existing
        if budget.balance + amount < 0:
            raise InsufficientCredits(budget.balance, -amount)
        return _append(
            budget,
            kind,
            amount,
            idempotency_key=key,
            fingerprint=fingerprint,
            day=paris_day(now),
            note=note[:255],
            created_at=now,
        )


def reserve(
    workspace_id: int, amount: Any, *, key: str, provider: str, now: dt.datetime | None = None
) -> Reservation:
    """Hold `amount` for one call before making it; a replay returns the same reservation.
    Refused (InsufficientCredits, DailyCapReached, IdempotencyConflict) when it cannot be held:
    a reservation already made stands whatever the balance and the caps say now."""
    from .ledger_many import reserve_many  # it builds on this module's parts

    result = reserve_many(workspace_id, [(key, amount, provider)], now=now)
    if key in result.refused:
        raise result.refused[key]
    return result.held[key]


def _reservation(entry: CreditEntry, *, replayed: bool = False) -> Reservation:
    return Reservation(
        workspace_id=entry.workspace_id,
        key=entry.idempotency_key,
        provider=entry.provider,
        amount=(-entry.amount).quantize(PLACES),
        day=entry.day,
        created_at=entry.created_at,
        replayed=replayed,
    )


def _close(
    workspace_id: int,
    key: str,
    cost: Decimal | None,
    now: dt.datetime | None,
    savepoint: bool = True,
) -> None:
    """Settle (`cost` given) or release a reservation, once; a replay writes nothing."""
    from .ledger_many import close_many  # it builds on this module's parts

    problems = close_many(workspace_id, [(key, cost)], now=now, savepoint=savepoint)
    if key in problems:
        raise problems[key]


def settle(
    workspace_id: int,
    *,
    key: str,
    cost: Any,
    now: dt.datetime | None = None,
    savepoint: bool = True,
) -> None:
    """Turn the reservation into the real cost: refund the difference (or charge what fits).

    `savepoint=False` when the caller's transaction is the unit (it records the result with
    the money, and what this raises undoes both): no savepoint of its own."""
    _close(workspace_id, key, parse_amount(cost), now, savepoint)


def release(
    workspace_id: int, *, key: str, now: dt.datetime | None = None, savepoint: bool = True
) -> None:
    """Give the whole reservation back (a failed call, a free miss)."""
    _close(workspace_id, key, None, now, savepoint)


def _try_key(base: str, number: int) -> str:
    return base if number == 1 else f"{base}#{number}"


def open_key(workspace_id: int, base: str) -> str:
    """The key for the next try of a question: `base`, or the first of `base#2`, `base#3`, …
    whose reservation is not closed yet.

    A try that was settled or released is over: asking again (after a temporary failure)
    reserves and pays under a new key instead of replaying the closed one, which would send
    the call without holding anything and then refuse its settlement. A try that was reserved
    but never closed (its worker died, or it waits for a slot) keeps its key and its hold.
    """
    closed = CreditEntry.objects.for_workspace(workspace_id).filter(
        kind__in=[Kind.SETTLE, Kind.RELEASE]
    )
    start = 1
    while True:
        keys = [_try_key(base, number) for number in range(start, start + 8)]
        taken = set(
            closed.filter(idempotency_key__in=keys).values_list("idempotency_key", flat=True)
        )
        for key in keys:
            if key not in taken:
                return key
        start += 8


def holds(workspace_id: int, *, key: str) -> bool:
    """Is a reservation made under `key` still open (neither settled nor released)?"""
    kinds = set(
        CreditEntry.objects.for_workspace(workspace_id)
        .filter(idempotency_key=key)
        .values_list("kind", flat=True)
    )
    return Kind.RESERVE in kinds and not kinds & {Kind.SETTLE, Kind.RELEASE}


def release_held(workspace_id: int, *, key: str) -> bool:
    """Give back a reservation still held under `key` (its call was never sent); False when
    there is none, or it is already closed."""
    try:
        release(workspace_id, key=key)
    except (UnknownReservation, IdempotencyConflict):
        return False
    return True


def set_daily_cap(workspace_id: int, amount: Any) -> Decimal | None:
    """Set (or, with None, remove) the workspace's daily spending cap."""
    cap = None if amount is None else parse_amount(amount)
    with transaction.atomic():
        budget = _locked_budget(workspace_id)
        budget.daily_cap = cap
        budget.save(update_fields=["daily_cap", "updated_at"])
    return cap
