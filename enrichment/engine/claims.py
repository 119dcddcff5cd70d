"""Claiming a work row for one worker, and writing to it only while the claim holds.

A work row (a provider batch, an import) has a status, a due time `next_attempt_at` that doubles
as the lease of whoever is doing its step, and a `lease_token`. Claiming is one conditional
UPDATE: due and in a live status, the row gets a new lease and a fresh token. Every later write
is conditional on that token (and on the expected status), so a worker that outlived its lease
finds its claim gone (`LeaseLost`) and writes nothing over its successor's work.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any, TypeVar

from django.db import connection, models
from django.utils import timezone

Row = TypeVar("Row", bound=models.Model)


class LeaseLost(Exception):
    """Another worker claimed this row's step after our lease expired: write nothing more."""


def new_token() -> str:
    return uuid.uuid4().hex


def claim(
    model: type[Row], pk: int, *, statuses: Iterable[str], lease_seconds: float
) -> Row | None:
    """Take the row's due step for `lease_seconds`; None if it is not due or someone has it."""
    now = timezone.now()
    taken = (
        model.objects.unscoped()
        .filter(pk=pk, status__in=list(statuses), next_attempt_at__lte=now)
        .update(next_attempt_at=now + dt.timedelta(seconds=lease_seconds), lease_token=new_token())
    )
    if not taken:
        return None
    return model.objects.unscoped().get(pk=pk)


def write_claimed(row: models.Model, *, statuses: Iterable[str], **values: Any) -> None:
    """Update the row only while this worker still holds its claim; else raise LeaseLost."""
    updated = (
        type(row)
        .objects.unscoped()
        .filter(pk=row.pk, lease_token=row.lease_token, status__in=list(statuses))
        .update(**values)
    )
    if not updated:
        raise LeaseLost(row.pk)


def hold_many(
    model: type[models.Model],
    ids: Iterable[int],
    token: str,
    *,
    statuses: Iterable[str],
    **values: Any,
) -> set[int]:
    """Of rows claimed together under one `token`, the ones this worker still holds, with
    `values` written to them: one UPDATE … RETURNING. Inside a transaction on PostgreSQL the
    rows stay locked until it ends, so no other worker can claim them meanwhile."""
    ids = [int(pk) for pk in ids]
    if not ids:
        return set()
    meta, quote = model._meta, connection.ops.quote_name
    sets, params = [], []
    for name, value in values.items():
        field = meta.get_field(name)
        sets.append(f"{quote(field.column)} = %s")
        params.append(field.get_db_prep_save(value, connection))
    if not sets:  # a no-op write still takes the rows
        sets.append(f"{quote(meta.get_field('lease_token').column)} = %s")
        params.append(token)
    statuses = list(statuses)
    pk = quote(meta.pk.column)
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {', '.join(sets)} "  # noqa: S608 (names only)
        f"WHERE {pk} IN ({', '.join(['%s'] * len(ids))}) "
        f"AND {quote(meta.get_field('lease_token').column)} = %s "
        f"AND {quote(meta.get_field('status').column)} IN ({', '.join(['%s'] * len(statuses))}) "
        f"RETURNING {pk}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *ids, token, *statuses])
        return {row[0] for row in cursor.fetchall()}
