"""The `Import` provenance of every value an import brings: file and line, 100 %, stored.

One FieldProvenance row per value, as every other path writes them (the prospect page's
panel, the merge rules and the enrichment read those rows), written by the database from the
prospects it has just stored: the values are not sent twice, and no row costs a query.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import services
from ..models import FieldProvenance, ImportBatch, Prospect, Source

# What the provenance rows are made of, in this order.
COLUMNS = (
    "workspace_id",
    "prospect_id",
    "field",
    "value",
    "detail",
    "source",
    "confidence",
    "observed_at",
    "is_current",
)
# What the insert of the prospects hands over to the provenance insert on PostgreSQL.
RETURNED = (*services.PROSPECT_FIELDS, "import_line")

_FILE, _LINE = "\x00file\x00", "\x00line\x00"


def import_detail(filename: str, line: int) -> str:
    """Where an imported value came from, as the provenance panel shows it."""
    return (_("%(file)s, line %(line)s") % {"file": filename, "line": line})[:255]


def _detail_sql(filename: str, line: str) -> tuple[str, list[str]]:
    """`import_detail` in SQL, for the line number held by the column `line`.

    The translated sentence is cut around its line number, so the database only puts the
    number in: the same text as `import_detail`, whatever the language's word order.
    """
    text = _("%(file)s, line %(line)s") % {"file": _FILE, "line": _LINE}
    before, after = (part.replace(_FILE, filename) for part in text.split(_LINE, 1))
    postgresql = connection.vendor == "postgresql"
    number = f"CAST({line} AS text)" if postgresql else f"CAST({line} AS TEXT)"
    # SUBSTR counts characters on both databases, as Python's slice does.
    return f"SUBSTR(%s || {number} || %s, 1, 255)", [before, after]


def _constants() -> tuple[list[str], list[Any]]:
    """SQL and parameters of the columns that are the same for every row."""
    meta = FieldProvenance._meta
    given = {
        "source": Source.IMPORT.value,
        "confidence": 100,
        "observed_at": timezone.now(),
        "is_current": True,
    }
    postgresql = connection.vendor == "postgresql"
    # PostgreSQL needs the parameters' types; SQLite would turn a date cast to "datetime"
    # into a number.
    sql = [
        f"CAST(%s AS {meta.get_field(name).db_type(connection)})" if postgresql else "%s"
        for name in given
    ]
    params = [meta.get_field(name).get_db_prep_save(v, connection) for name, v in given.items()]
    return sql, params


def _insert_into() -> str:
    quote = connection.ops.quote_name
    table = quote(FieldProvenance._meta.db_table)
    return f"INSERT INTO {table} ({', '.join(quote(c) for c in COLUMNS)}) "


def after_prospects(batch: ImportBatch, back: Sequence[str]) -> tuple[str, list[Any]]:
    """PostgreSQL: the provenance insert that follows the prospects' insert in its statement
    (`BulkInsert.insert(then=...)`, the inserted rows being `ins`), then SELECT id and `back`.

    The values come from the rows the insert returns: no second read of the prospects, no
    second round trip.
    """
    quote = connection.ops.quote_name
    detail, detail_params = _detail_sql(batch.filename, f"ins.{quote('import_line')}")
    constants, constant_params = _constants()
    fields = ", ".join(
        f"('{name}', CAST(ins.{quote(name)} AS text))" for name in services.PROSPECT_FIELDS
    )
    # Names come from the models and the field list; values are parameters.
    sql = (
        f", provenance AS ({_insert_into()}"  # noqa: S608
        f"SELECT %s, ins.{quote('id')}, f.name, f.value, {detail}, {', '.join(constants)} "
        f"FROM ins CROSS JOIN LATERAL (VALUES {fields}) AS f(name, value) "
        f"WHERE f.value <> '') "
        f"SELECT {', '.join(quote(c) for c in ('id', *back))} FROM ins"
    )
    return sql, [batch.workspace_id, *detail_params, *constant_params]


def insert_provenance(batch: ImportBatch, prospect_ids: list[int]) -> None:
    """SQLite: one INSERT … SELECT from the prospects just written, crossed with their fields.

    Only the prospects' ids travel, as one JSON parameter (binding a chunk's values one by one
    doubled the import's time).
    """
    if not prospect_ids:
        return
    quote = connection.ops.quote_name
    prospect = quote(Prospect._meta.db_table)
    fields = services.PROSPECT_FIELDS
    names = " UNION ALL ".join(f"SELECT '{name}' AS name" for name in fields)
    value = " ".join(f"WHEN '{name}' THEN p.{quote(name)}" for name in fields)
    detail, detail_params = _detail_sql(batch.filename, f"p.{quote('import_line')}")
    constants, constant_params = _constants()
    # Names come from the models and the field list above; values are parameters.
    sql = (
        f"{_insert_into()}"  # noqa: S608
        f"SELECT %s, v.id, v.name, v.value, v.detail, {', '.join(constants)} FROM ("
        f"SELECT p.id AS id, f.name AS name, CASE f.name {value} END AS value, "
        f"{detail} AS detail FROM json_each(%s) AS j "
        f"JOIN {prospect} p ON p.id = j.value CROSS JOIN ({names}) AS f"
        f") AS v WHERE v.value <> ''"
    )
    params = [batch.workspace_id, *constant_params, *detail_params, json.dumps(prospect_ids)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
