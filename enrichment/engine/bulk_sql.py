"""Statements over many ids at once, with the ids as one JSON parameter that the database reads
as rows (a job creation's 1,000 prospects).

The ORM prepares every element of a `pk__in=[…]` list through the field in Python and sends
one parameter per id, and `bulk_create` prepares every value of every row the same way: for a
1,000-prospect job that cost more than the database's own work (two thirds of a job
creation's CPU time went to making its item rows). `in_ids` stands where the list would
(`pk__in=in_ids(ids)`); `insert_for_each` writes one row per id from a template, in one
INSERT … SELECT whose values are prepared once.

The plan is the database's: next to a `workspace_id = …` filter, SQLite (which has no
statistics here) reads the workspace's index and checks each row against the ids, as it did
for a `pk__in` list; prospects/lookups.py's CROSS JOIN makes the ids drive where a workspace
is large and the list short.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from django.db import connection
from django.db.models import Model
from django.db.models.constants import OnConflict
from django.db.models.expressions import RawSQL


def _ids_json(ids: Iterable[int]) -> str:
    return json.dumps([int(pk) for pk in ids])


def in_ids(ids: Iterable[int]) -> RawSQL:
    """A subquery giving these ids, for an `__in` lookup."""
    if connection.vendor == "postgresql":
        sql = "SELECT value::bigint FROM json_array_elements_text(%s::json)"
    else:
        sql = "SELECT value FROM json_each(%s)"
    return RawSQL(sql, [_ids_json(ids)])  # noqa: S611 (fixed SQL, the ids as a parameter)


def insert_for_each(template: Model, column: str, ids: list[int]) -> list[int] | None:
    """One row like `template` for each id, the id in the foreign key `column` (an attname,
    e.g. "prospect_id"), in the ids' order; rows that would break a unique constraint are
    skipped, as `bulk_create(ignore_conflicts=True)` does. No signal is sent (nor was one by
    `bulk_create`). Returns the ids of the rows written where the database can say which
    (RETURNING), else None."""
    if not ids:
        return []
    quote = connection.ops.quote_name
    meta = template._meta
    postgres = connection.vendor == "postgresql"
    columns, selected, params = [], [], []
    for field in meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(quote(field.column))
        if field.attname == column:
            selected.append("k.value::bigint" if postgres else "k.value")
            continue
        # What bulk_create does for each row, once: auto_now(_add) filled in, then prepared.
        value = field.get_db_prep_save(field.pre_save(template, add=True), connection)
        # PostgreSQL reads an untyped parameter of a SELECT list as text, a NULL included: cast
        # to the column's type, but text as text, since a cast to varchar(n) would cut a value
        # too long where the INSERT refuses it (as bulk_create's did).
        cast = "text" if isinstance(value, str) else field.db_type(connection)
        selected.append(f"%s::{cast}" if postgres else "%s")
        params.append(value)
    if postgres:
        source = "json_array_elements_text(%s::json) WITH ORDINALITY AS k(value, n) ORDER BY k.n"
    else:
        source = "json_each(%s) AS k ORDER BY k.key"
    insert = connection.ops.insert_statement(on_conflict=OnConflict.IGNORE)
    conflict = connection.ops.on_conflict_suffix_sql([], OnConflict.IGNORE, [], [])
    returning = connection.features.can_return_rows_from_bulk_insert
    sql = (
        f"{insert} {quote(meta.db_table)} ({', '.join(columns)}) "  # noqa: S608 (names only)
        f"SELECT {', '.join(selected)} FROM {source} {conflict}"
    )
    if returning:
        sql += f" RETURNING {quote(meta.get_field(column).column)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, _ids_json(ids)])
        return [row[0] for row in cursor.fetchall()] if returning else None
