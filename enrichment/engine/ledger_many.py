"""The ledger's reservations and closings for many calls at once: one budget lock and one
statement for a round of calls, instead of one of each per call.

Each request keeps its own idempotency key and is decided exactly as `ledger.reserve`,
`ledger.settle` and `ledger.release` decide it alone, in the order given: a reservation is
refused when what the balance and the caps still allow, after the requests before it, cannot
take it; a replay (the key already reserved with the same amount and provider) stands whatever
they say now. Refusals are returned per key, not raised: the other requests of the round go on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from enrichment.models import CreditEntry

from . import ledger
from .ledger_append import append_entries
from .ledger_errors import (
    DailyCapReached,
    IdempotencyConflict,
    InsufficientCredits,
    LedgerError,
    UnknownReservation,
)
from .money import ZERO, next_midnight, paris_day, parse_amount

Kind = CreditEntry.Kind


@dataclass
class Reserved:
    """What a round of reservations gave: the keys held (new or replayed) and the refusals."""

    held: dict[str, ledger.Reservation] = field(default_factory=dict)
    refused: dict[str, LedgerError] = field(default_factory=dict)


def _existing(workspace_id: int, keys: Iterable[str], kinds: Iterable[str]) -> dict:
    found: dict[str, dict[str, CreditEntry]] = {}
    for entry in CreditEntry.objects.for_workspace(workspace_id).filter(
        idempotency_key__in=list(keys), kind__in=list(kinds)
    ):
        found.setdefault(entry.idempotency_key, {})[entry.kind] = entry
    return found


def reserve_many(
    workspace_id: int,
    requests: Iterable[tuple[str, Decimal, str]],
    *,
    now: dt.datetime | None = None,
) -> Reserved:
    """Hold each `(key, amount, provider)` before its call, in one transaction."""
    now = ledger._now(now)
    day = paris_day(now)
    wanted = []
    for key, amount, provider in requests:
        if not provider:
            raise LedgerError("a reservation names the provider it pays")
        amount = parse_amount(amount)
        fingerprint = ledger._fingerprint(Kind.RESERVE, amount, provider)
        wanted.append((ledger._check_key(key), amount, provider, fingerprint))
    result = Reserved()
    if not wanted:
        return result
    with transaction.atomic():
        budget = ledger._locked_budget(workspace_id)
        known: dict[str, dict[str, CreditEntry]] = {}
        accepted, refused = _decide(budget, wanted, day, now, known)
        if refused:
            # Some are refused: the ones already reserved (replays) stand whatever the money
            # says, and take nothing more from it, so decide again without them.
            known = _existing(workspace_id, [w[0] for w in wanted], [Kind.RESERVE])
            accepted, refused = _decide(budget, wanted, day, now, known)
        entries = [
            CreditEntry(
                workspace_id=workspace_id,
                kind=Kind.RESERVE,
                amount=-amount,
                provider=provider,
                idempotency_key=key,
                fingerprint=fingerprint,
                day=day,
                created_at=now,
            )
            for key, amount, provider, fingerprint in accepted
            if key not in known
        ]
        written = {entry.idempotency_key: entry for entry in append_entries(budget, entries)}
        missing = [w for w in wanted if w[0] not in written and w[0] not in known]
        if missing:
            known.update(_existing(workspace_id, [w[0] for w in missing], [Kind.RESERVE]))
    for key, _amount, _provider, fingerprint in wanted:
        if key in written:
            result.held[key] = ledger._reservation(written[key])
            continue
        existing = known.get(key, {}).get(Kind.RESERVE)
        if existing is None:
            result.refused[key] = refused.get(key) or LedgerError(f"key {key!r}: not written")
        elif existing.fingerprint != fingerprint:
            result.refused[key] = IdempotencyConflict(f"key {key!r} was reserved otherwise")
        else:
            result.held[key] = ledger._reservation(existing, replayed=True)
    return result


def _decide(budget, wanted, day, now, known) -> tuple[list, dict[str, LedgerError]]:
    """Which new requests the balance and the day's caps can take, in order."""
    available = budget.balance
    room, scope, spent = ledger._headroom(budget, day)
    accepted, refused = [], {}
    for request in wanted:
        key, amount = request[0], request[1]
        if key in known:
            accepted.append(request)  # a replay: it holds what it held
            continue
        if available < amount:
            refused[key] = InsufficientCredits(available, amount)
        elif room is not None and amount > room:
            cap = budget.daily_cap if scope == "workspace" else settings.GLOBAL_DAILY_CAP
            refused[key] = DailyCapReached(
                cap=cap, spent=spent, resume_at=next_midnight(now), scope=scope
            )
        else:
            accepted.append(request)
            available -= amount
            if room is not None:
                room -= amount
                spent += amount
    return accepted, refused


def close_many(
    workspace_id: int,
    closings: Iterable[tuple[str, Decimal | None]],
    *,
    now: dt.datetime | None = None,
    savepoint: bool = True,
) -> dict[str, LedgerError]:
    """Settle each `(key, cost)` to its real cost, or release it (`cost` None), once; a
    replay writes nothing. Returns the keys that could not be closed (unknown, or closed
    otherwise before), with why; the others are closed."""
    now = ledger._now(now)
    wanted = []
    for key, cost in closings:
        kind = Kind.RELEASE if cost is None else Kind.SETTLE
        cost = None if cost is None else parse_amount(cost)
        wanted.append((ledger._check_key(key), kind, cost, ledger._fingerprint(kind, cost)))
    problems: dict[str, LedgerError] = {}
    if not wanted:
        return problems
    with transaction.atomic(savepoint=savepoint):
        budget = ledger._locked_budget(workspace_id)
        known = _existing(
            workspace_id, [w[0] for w in wanted], [Kind.RESERVE, Kind.SETTLE, Kind.RELEASE]
        )
        entries: list[CreditEntry] = []
        balance = budget.balance
        # What this call's earlier closings moved each day's spending by (refunds too).
        moved: dict[dt.date, Decimal] = {}
        for key, kind, cost, fingerprint in wanted:
            entries_of_key = known.get(key, {})
            held = entries_of_key.get(Kind.RESERVE)
            if held is None:
                problems[key] = UnknownReservation(f"no reservation with key {key!r}")
                continue
            closed = entries_of_key.get(Kind.SETTLE) or entries_of_key.get(Kind.RELEASE)
            if closed is not None:
                if closed.fingerprint != fingerprint:
                    problems[key] = IdempotencyConflict(f"reservation {key!r} closed otherwise")
                continue
            reserved = -held.amount
            charged = ZERO if cost is None else cost
            if charged > reserved:
                # Above the reservation only what the balance and that day's caps still take.
                room, _scope, _spent = ledger._headroom(budget, held.day)
                extra = min(charged - reserved, balance)
                if room is not None:
                    extra = min(extra, room - moved.get(held.day, ZERO))
                charged = reserved + max(ZERO, extra)
            balance += reserved - charged
            moved[held.day] = moved.get(held.day, ZERO) + charged - reserved
            entries.append(
                CreditEntry(
                    workspace_id=workspace_id,
                    kind=kind,
                    amount=reserved - charged,
                    provider=held.provider,
                    idempotency_key=key,
                    fingerprint=fingerprint,
                    day=held.day,
                    created_at=now,
                )
            )
            # The same key twice in one call: the second is a replay of the first.
            known.setdefault(key, {})[kind] = entries[-1]
        append_entries(budget, entries)
    return problems
