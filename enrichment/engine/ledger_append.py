"""Appending entries to the credit ledger and moving the cached balance with them.

The caller holds the workspace's budget row lock (`ledger._locked_budget`). Entries go in with
`INSERT … ON CONFLICT DO NOTHING`: a key already used for this kind of entry writes nothing
and says so, so that a replay needs no read before the write. On PostgreSQL the balance moves
in the same statement (a data-modifying WITH); elsewhere in a second one. Entries of zero (a
settlement at the reserved price) leave the balance as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from enrichment.models import CreditBudget, CreditEntry

from .money import PLACES


def _columns() -> list:
    return [f for f in CreditEntry._meta.concrete_fields if not f.primary_key]


def _insert_sql(rows: int) -> str:
    quote = connection.ops.quote_name
    columns = _columns()
    row = f"({', '.join(['%s'] * len(columns))})"
    meta = CreditEntry._meta
    return (
        f"INSERT INTO {quote(meta.db_table)} "  # noqa: S608 (names only)
        f"({', '.join(quote(f.column) for f in columns)}) "
        f"VALUES {', '.join([row] * rows)} "
        f"ON CONFLICT DO NOTHING RETURNING {quote(meta.pk.column)}, "
        f"{quote(meta.get_field('idempotency_key').column)}, {quote(meta.get_field('kind').column)}"
    )


def append_entry(
    budget: CreditBudget, kind: str, amount: Decimal, **fields: Any
) -> CreditEntry | None:
    """The new entry, the balance moved by `amount`; None (nothing written) when the
    workspace already has an entry of this kind under this idempotency key."""
    entry = CreditEntry(workspace_id=budget.workspace_id, kind=kind, amount=amount, **fields)
    written = append_entries(budget, [entry])
    return written[0] if written else None


def append_entries(budget: CreditBudget, entries: Sequence[CreditEntry]) -> list[CreditEntry]:
    """Append `entries` (unsaved, of the budget's workspace) in one statement; the ones
    written, the balance moved by their sum. An entry whose key is already used for its kind
    is left out (a replay)."""
    if not entries:
        return []
    columns = _columns()
    values = [
        f.get_db_prep_save(f.pre_save(entry, add=True), connection)
        for entry in entries
        for f in columns
    ]
    insert = _insert_sql(len(entries))
    now = timezone.now()
    meta, quote = CreditBudget._meta, connection.ops.quote_name
    balance_column = quote(meta.get_field("balance").column)
    moves = any(entry.amount for entry in entries)
    with connection.cursor() as cursor:
        if moves and connection.vendor == "postgresql":
            amount = quote(CreditEntry._meta.get_field("amount").column)
            cursor.execute(
                f"WITH e AS ({insert}, {amount}), b AS ("  # noqa: S608 (names only)
                f"UPDATE {quote(meta.db_table)} SET {balance_column} = {balance_column} + "
                f"(SELECT COALESCE(SUM({amount}), 0) FROM e), "
                f"{quote(meta.get_field('updated_at').column)} = %s "
                f"WHERE {quote(meta.pk.column)} = %s AND EXISTS (SELECT 1 FROM e) "
                f"RETURNING {balance_column}) "
                f"SELECT e.{quote(CreditEntry._meta.pk.column)}, e.idempotency_key, e.kind "
                "FROM e",
                [
                    *values,
                    meta.get_field("updated_at").get_db_prep_save(now, connection),
                    budget.pk,
                ],
            )
            rows = cursor.fetchall()
            moved = True
        else:
            cursor.execute(insert, values)
            rows = cursor.fetchall()
            moved = False
    by_key = {(entry.idempotency_key, entry.kind): entry for entry in entries}
    written = []
    for pk, key, kind in rows:
        entry = by_key[(key, kind)]
        entry.pk = pk
        entry._state.adding = False
        entry._state.db = connection.alias
        written.append(entry)
    delta = sum((entry.amount for entry in written), Decimal(0))
    if delta:
        budget.balance = (budget.balance + delta).quantize(PLACES)
        if moved:
            budget.updated_at = now
        else:
            budget.save(update_fields=["balance", "updated_at"])
    return written
