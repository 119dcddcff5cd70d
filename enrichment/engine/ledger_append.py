"""Appending one entry to the credit ledger and moving the cached balance with it.

The caller holds the workspace's budget row lock (`ledger._locked_budget`). The entry goes in
with `INSERT … ON CONFLICT DO NOTHING`: a key already used for this kind of entry writes
nothing and says so (None), so that a replay needs no read before the write. On PostgreSQL the
balance moves in the same statement (a data-modifying WITH); elsewhere in a second one. An
entry of zero (a settlement at the reserved price) leaves the balance as it is.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from enrichment.models import CreditBudget, CreditEntry

from .money import PLACES


def _insert_sql() -> tuple[str, list]:
    fields = [f for f in CreditEntry._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(CreditEntry._meta.db_table)} "  # noqa: S608 (names only)
        f"({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT DO NOTHING RETURNING {quote(CreditEntry._meta.pk.column)}"
    )
    return sql, fields


def append_entry(
    budget: CreditBudget, kind: str, amount: Decimal, **fields: Any
) -> CreditEntry | None:
    """The new entry, the balance moved by `amount`; None (nothing written) when the
    workspace already has an entry of this kind under this idempotency key."""
    entry = CreditEntry(workspace_id=budget.workspace_id, kind=kind, amount=amount, **fields)
    insert, columns = _insert_sql()
    values = [f.get_db_prep_save(f.pre_save(entry, add=True), connection) for f in columns]
    balance = (budget.balance + amount).quantize(PLACES)
    now = timezone.now()
    with connection.cursor() as cursor:
        if amount and connection.vendor == "postgresql":
            meta, quote = CreditBudget._meta, connection.ops.quote_name
            balance_field, updated_field = meta.get_field("balance"), meta.get_field("updated_at")
            cursor.execute(
                f"WITH e AS ({insert}) UPDATE {quote(meta.db_table)} "  # noqa: S608 (names only)
                f"SET {quote(balance_field.column)} = %s, {quote(updated_field.column)} = %s "
                f"WHERE {quote(meta.pk.column)} = %s AND EXISTS (SELECT 1 FROM e) "
                f"RETURNING (SELECT {quote(CreditEntry._meta.pk.column)} FROM e)",
                [
                    *values,
                    balance_field.get_db_prep_save(balance, connection),
                    updated_field.get_db_prep_save(now, connection),
                    budget.pk,
                ],
            )
            row = cursor.fetchone()
            moved = row is not None
        else:
            cursor.execute(insert, values)
            row = cursor.fetchone()
            moved = False
    if row is None:
        return None
    entry.pk = row[0]
    entry._state.adding = False
    entry._state.db = connection.alias
    if amount:
        budget.balance = balance
        if moved:
            budget.updated_at = now
        else:
            budget.save(update_fields=["balance", "updated_at"])
    return entry
