"""Writing one chunk of classified rows: companies, prospects, rejected rows, counters."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import companies, normalize, services
from ..models import FieldProvenance, ImportBatch, Prospect, RejectedRow, Source
from ..signals import notify_prospects_created
from .classify import DUPLICATE, KEYS, SUPPRESSED, ImportCounts, Row, reject_existing
from .lease import lease_deadline
from .reading import row_as_dict


@contextmanager
def bulk_write_tuning() -> Iterator[None]:
    """On SQLite, a larger page cache and rarer WAL checkpoints while this connection imports.

    The three unique match-key indexes take random keys: each 1,000-row commit dirties a few
    thousand pages, and with the defaults (2 MB cache, checkpoint every 1,000 WAL pages) most of
    the import's time went to re-reading and re-writing them. Both pragmas are per connection
    and are restored afterwards; other connections are unaffected.
    """
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        cache_size = cursor.fetchone()[0]
        cursor.execute("PRAGMA wal_autocheckpoint")
        checkpoint = cursor.fetchone()[0]
        cursor.execute("PRAGMA cache_size = -65536")  # 64 MiB
        cursor.execute("PRAGMA wal_autocheckpoint = 20000")  # pages, about 80 MB of WAL
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(cache_size)}")
            cursor.execute(f"PRAGMA wal_autocheckpoint = {int(checkpoint)}")


def refresh_statistics(added: int) -> bool:
    """PostgreSQL: ANALYZE the prospects table after an import that grew it by a fifth or more
    of what the planner knows, as PostgreSQL's guide advises after a bulk load: the next
    preview or re-import of a large file then probes the key indexes instead of reading the
    whole workspace (autovacuum would get there, a minute or so later). Only the columns those
    lookups filter on, in half the time of the whole table: autovacuum does the rest. True if
    it ran."""
    if connection.vendor != "postgresql" or not added:
        return False
    table = Prospect._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        known = max(cursor.fetchone()[0], 0)
        if added < known / 5:
            return False
        quote = connection.ops.quote_name
        columns = ", ".join(quote(name) for name in ("workspace_id", *KEYS))
        cursor.execute(f"ANALYZE {quote(table)} ({columns})")
    return True


class Superseded(Exception):
    """Another run of the same batch committed this chunk first; this run stops."""


# SQLite compiles a multi-row INSERT into one program whose size grows with its rows: past a
# few hundred rows a statement costs memory (over 200 MB of RSS for 2,500) and no more speed.
ROWS_PER_STATEMENT = 500


@dataclass(frozen=True)
class Encoded:
    """Rows for `BulkInsert.insert`, with their JSON document on PostgreSQL (else None)."""

    rows: Sequence[Sequence[Any]]
    document: str | None


class BulkInsert:
    """Many rows of one model from tuples of values, in one statement.

    `bulk_create` compiles every value of every row through the field machinery, which cost
    more than the database's own work for a 22-column prospect; an import aims at 10,000 rows
    a second, so values go to the database as they are: as parameters of a multi-row INSERT on
    SQLite, as one JSON document on PostgreSQL: an object of one array per column, which the
    server reads into arrays of the columns' own types (`json_to_record`) and unnests into
    rows. Either way a handful of parameters instead of one per value, and on PostgreSQL no
    array for psycopg to quote value by value in Python. (A list of one object per row cost
    three times as much to encode.) Columns not given
    take the model's default (or now, for auto_now fields), prepared once per call.

    Meant for plain columns (text, numbers, foreign keys, JSON): a field that converts its
    value before storing it would need that conversion here.
    """

    def __init__(self, model: type[models.Model], varying: Sequence[str]) -> None:
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        by_name = {f.attname: f for f in self.fields}
        self.varying = [by_name[name] for name in varying]
        if not self.varying:
            raise ValueError("BulkInsert needs at least one varying column.")
        self.constant = [f for f in self.fields if f.attname not in set(varying)]
        # JSON values go in as text, everything else as given (on PostgreSQL, a JSON list
        # inside a column's array would be read as one more dimension of that array).
        self.as_json = [
            i for i, f in enumerate(self.varying) if f.get_internal_type() == "JSONField"
        ]

    def _constants(self, overrides: dict[str, Any]) -> list[Any]:
        now = timezone.now()
        values = []
        for f in self.constant:
            if f.attname in overrides:
                value = overrides[f.attname]
            elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value = now
            else:
                value = f.get_default()
            values.append(f.get_db_prep_save(value, connection))
        return values

    def encode(self, rows: Sequence[Sequence[Any]]) -> Encoded:
        """The rows ready for `insert`: on PostgreSQL, their JSON document, which the import
        builds in its reading thread rather than in its writer."""
        if connection.vendor != "postgresql":
            return Encoded(rows, None)
        names = [f.column for f in self.varying]
        columns = [list(column) for column in zip(*rows, strict=True)] or [[] for _ in names]
        for i in self.as_json:
            columns[i] = [json.dumps(value, cls=DjangoJSONEncoder) for value in columns[i]]
        return Encoded(
            rows, json.dumps(dict(zip(names, columns, strict=True)), cls=DjangoJSONEncoder)
        )

    def insert(
        self,
        rows: Sequence[Sequence[Any]] | Encoded,
        *,
        returning: Sequence[str] = (),
        skip_conflicts: bool = False,
        **constants: Any,
    ) -> list[tuple]:
        """Insert rows (values in `varying` order) with `constants`.

        Returns (id, *returning) for each row inserted. With `skip_conflicts`, a row that
        would break a unique constraint is left out (ON CONFLICT DO NOTHING) instead of
        failing the statement: the caller tells which ones from what comes back.
        """
        encoded = rows if isinstance(rows, Encoded) else self.encode(rows)
        rows = encoded.rows
        if not rows:
            return []
        quote = connection.ops.quote_name
        table = quote(self.model._meta.db_table)
        columns = ", ".join(quote(f.column) for f in [*self.varying, *self.constant])
        back = ", ".join(quote(c) for c in [self.model._meta.pk.column, *returning])
        tail = (" ON CONFLICT DO NOTHING" if skip_conflicts else "") + f" RETURNING {back}"
        fixed = self._constants(constants)
        # Table and column names come from the model, values are always parameters.
        with connection.cursor() as cursor:
            if encoded.document is not None:
                names, arrays, selected = [], [], []
                for i, f in enumerate(self.varying):
                    name, kind = quote(f.column), f.db_type(connection)
                    names.append(name)
                    # JSON values arrive as text (see `encode`) and are cast back here.
                    as_text = i in self.as_json
                    arrays.append(f"{name} {'text' if as_text else kind}[]")
                    selected.append(f"CAST(u.{name} AS {kind})" if as_text else f"u.{name}")
                selected += [f"CAST(%s AS {f.db_type(connection)})" for f in self.constant]
                cursor.execute(
                    f"INSERT INTO {table} ({columns}) SELECT {', '.join(selected)} "  # noqa: S608
                    f"FROM json_to_record(%s::json) AS r({', '.join(arrays)}), "
                    f"unnest({', '.join(f'r.{name}' for name in names)}) AS u({', '.join(names)})"
                    f"{tail}",
                    [*fixed, encoded.document],
                )
                return cursor.fetchall()
            # Straight to sqlite3 with its own placeholders: Django's cursor would first rewrite
            # each of a chunk's 20,000 `%s` with a regular expression.
            placeholders = "(" + ", ".join(["?"] * (len(self.varying) + len(fixed))) + ")"
            raw = connection.connection
            size = max(1, min(ROWS_PER_STATEMENT, _rows_per_statement(len(self.fields))))
            inserted: list[tuple] = []
            for start in range(0, len(rows), size):
                batch = rows[start : start + size]
                params: list[Any] = []
                for row in batch:
                    if self.as_json:
                        row = list(row)
                        for i in self.as_json:
                            row[i] = json.dumps(row[i], cls=DjangoJSONEncoder)
                    params.extend(row)
                    params.extend(fixed)
                with connection.wrap_database_errors:
                    inserted.extend(
                        raw.execute(
                            f"INSERT INTO {table} ({columns}) "  # noqa: S608
                            f"VALUES {', '.join([placeholders] * len(batch))}{tail}",
                            params,
                        ).fetchall()
                    )
        return inserted


def _rows_per_statement(columns: int) -> int:
    """As many rows per INSERT as SQLite takes: Django assumes the old limit of 999 parameters,
    while the SQLite Python ships with takes 32,766 or more (one statement per chunk)."""
    raw = connection.connection
    limit = raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) if raw else 999
    return limit // columns


_PROSPECT_VALUES = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "job_title",
    "linkedin_url",
    "company_id",
    "email_key",
    "linkedin_key",
    "name_key",
    "seniority",
    "department",
)
_prospects = BulkInsert(Prospect, _PROSPECT_VALUES)
_rejected = BulkInsert(RejectedRow, ("line_number", "reason", "detail", "data"))


def import_detail(filename: str, line: int) -> str:
    """Where an imported value came from, as the provenance panel shows it."""
    return (_("%(file)s, line %(line)s") % {"file": filename, "line": line})[:255]


class CompanyCache:
    """Each row's company, resolved as every path resolves it (`companies.resolve_companies`):
    one lookup per company per import."""

    def __init__(self, workspace_id: int, *, filename: str = "") -> None:
        self.workspace_id = workspace_id
        self.filename = filename
        # (domain, company key) as the row gives them -> (company id, the company's key in
        # prospects' name keys)
        self.ids: dict[tuple[str, str], tuple[int, str]] = {}

    @staticmethod
    def key(row: Row) -> tuple[str, str] | None:
        assert row.clean is not None
        return (row.clean.company["domain"], row.company_key) if row.company_key else None

    def assign(self, rows: list[Row]) -> list[Row]:
        """Set each new row's company id (found, identified or created) and its name key at
        that company: before the chunk's own transaction, as creating a company does not
        depend on whether its prospects are written."""
        rows = [row for row in rows if not row.reason]
        keys = [self.key(row) for row in rows]
        missing: dict[tuple[str, str], Row] = {}
        for key, row in zip(keys, rows, strict=True):
            if key and key not in self.ids:
                missing.setdefault(key, row)
        if missing:
            found = companies.resolve_companies(
                self.workspace_id,
                [row.clean.company for row in missing.values()],
                source=Source.IMPORT,
                details=[import_detail(self.filename, row.line) for row in missing.values()],
            )
            for key, row in missing.items():
                company = found[companies.Identity.of(row.clean.company)]
                self.ids[key] = (company.pk, normalize.company_key(company.domain, company.name))
        for row, key in zip(rows, keys, strict=True):
            row.company_id = None
            if key:
                row.company_id, company_key = self.ids[key]
                if company_key != row.company_key:
                    # The key a prospect keeps is its company's (see `Prospect.refresh_keys`).
                    p = row.clean.prospect
                    row.name_key = normalize.name_key(p["first_name"], p["last_name"], company_key)
        return rows


def _prospect_values(row: Row) -> tuple:
    assert row.clean is not None
    p = row.clean.prospect
    return (
        p["first_name"],
        p["last_name"],
        p["email"],
        p["phone"],
        p["job_title"],
        p["linkedin_url"],
        row.company_id,
        row.email_key,
        row.linkedin_key,
        row.name_key,
        # Derived here rather than updated after the insert: on PostgreSQL an UPDATE of every
        # row just written cost a third of the import's time.
        *services.derived_prospect_fields(p["job_title"]),
    )


def encode_new(rows: list[Row]) -> Encoded:
    """The chunk's new rows as `_insert_prospects` inserts them (company ids assigned)."""
    return _prospects.encode([_prospect_values(row) for row in rows if not row.reason])


def _insert_prospects(batch: ImportBatch, rows: list[Row], encoded: Encoded) -> None:
    """Insert the chunk's new people; a row whose key is already taken becomes a duplicate.

    The unique indexes decide (ON CONFLICT DO NOTHING), so nobody is looked up beforehand: a
    person already in the workspace, or created by someone else since the chunk was read, is
    simply not inserted, then found again to say which prospect they duplicate.
    """
    inserted = _prospects.insert(
        encoded,
        returning=KEYS,
        skip_conflicts=True,
        workspace_id=batch.workspace_id,
        source=Source.IMPORT.value,
        import_batch_id=batch.pk,
        created_by_id=batch.created_by_id,
    )
    ids = {tuple(keys): pk for pk, *keys in inserted}
    taken = []
    for row in rows:
        # pop: two rows whose keys became equal once their companies were resolved (the same
        # company named, then given by its domain) are one insert, and the second a duplicate.
        row.prospect_id = ids.pop((row.email_key, row.linkedin_key, row.name_key), None)
        if row.prospect_id is None:
            taken.append(row)
    if taken:
        reject_existing(batch.workspace_id, taken)
        for row in taken:
            if not row.reason:  # gone again since (deleted meanwhile)
                row.reject(
                    DUPLICATE, _("Already exists: created elsewhere while this file was imported.")
                )


def _insert_provenance(batch: ImportBatch, rows: list[Row]) -> None:
    """One provenance row per value each new prospect was imported with (100 %, stored).

    One INSERT … SELECT from the prospects just written, crossed with their fields: the
    values are not sent again (a chunk has four or five times as many values as rows, and
    binding them one by one doubled the import's time); only each row's id and line travel,
    as one JSON parameter.
    """
    if not rows:
        return
    template = _("%(file)s, line %(line)s")
    pairs = json.dumps(
        [
            [row.prospect_id, (template % {"file": batch.filename, "line": row.line})[:255]]
            for row in rows
        ]
    )
    quote = connection.ops.quote_name
    prospect = quote(Prospect._meta.db_table)
    postgresql = connection.vendor == "postgresql"
    if postgresql:
        source, pk, detail = "json_array_elements(%s::json)", "(j.value->>0)::bigint", "j.value->>1"
    else:
        source, pk = "json_each(%s)", "json_extract(j.value, '$[0]')"
        detail = "json_extract(j.value, '$[1]')"
    fields = services.PROSPECT_FIELDS
    names = " UNION ALL ".join(f"SELECT '{name}' AS name" for name in fields)
    value = " ".join(f"WHEN '{name}' THEN p.{quote(name)}" for name in fields)
    meta = FieldProvenance._meta
    columns = [
        "workspace_id",
        "prospect_id",
        "field",
        "value",
        "detail",
        "source",
        "confidence",
        "observed_at",
        "is_current",
    ]
    constants = [
        meta.get_field(name).get_db_prep_save(given, connection)
        for name, given in (
            ("source", Source.IMPORT.value),
            ("confidence", 100),
            ("observed_at", timezone.now()),
            ("is_current", True),
        )
    ]
    # PostgreSQL needs the parameters' types; SQLite would turn a date cast to "datetime"
    # into a number.
    typed = [
        f"CAST(%s AS {meta.get_field(n).db_type(connection)})" if postgresql else "%s"
        for n in columns[5:]
    ]
    # Names come from the models and the field list above; values are parameters.
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
        f"SELECT %s, v.id, v.name, v.value, v.detail, {', '.join(typed)} FROM ("
        f"SELECT p.id AS id, f.name AS name, CASE f.name {value} END AS value, "
        f"{detail} AS detail FROM {source} AS j "
        f"JOIN {prospect} p ON p.id = {pk} CROSS JOIN ({names}) AS f"
        f") AS v WHERE v.value <> ''"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [batch.workspace_id, *constants, pairs])


def _lazy_commit() -> None:
    """PostgreSQL: this transaction's commit does not wait for its WAL to reach the disk.

    A chunk commits with its batch counters, so a server crash can only lose the last chunks
    as a whole (never half of one, never corrupt anything), and the import resumes from the
    counters; meanwhile no chunk waits for a disk flush (a few milliseconds each on most
    servers). SET LOCAL ends with the transaction.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _kept_cells(row: Row, columns: list[str]) -> dict[str, str]:
    """A rejected row as read, for the person to correct: a NUL byte in any cell (which
    PostgreSQL cannot store, and which rejected the row if it fed a field) shows as U+FFFD."""
    raw = row_as_dict(row.cells, columns)
    return {name: normalize.storable_text(value) for name, value in raw.items()}


def write_chunk(
    batch: ImportBatch, rows: list[Row], encoded: Encoded | None = None
) -> ImportCounts:
    """Create the chunk's new prospects, keep its rejected rows, count: one transaction.

    `encoded` is `encode_new(rows)` when the caller built it already."""
    columns = list(batch.mapping.get("columns", []))
    new = [row for row in rows if not row.reason]
    if encoded is None:
        encoded = encode_new(rows)
    counts = ImportCounts()
    with transaction.atomic():
        _lazy_commit()
        if new:
            _insert_prospects(batch, new, encoded)
            new = [row for row in new if row.prospect_id]
            _insert_provenance(batch, new)
            # The prospects' derived fields went in with them (`_prospect_values`).
            services.apply_normalizers(
                batch.workspace_id, companies={row.company_id for row in new}
            )
        services.record_blocked_attempts(
            batch.workspace_id,
            [row.suppression_id for row in rows if row.reason == SUPPRESSED and row.suppression_id],
        )
        _rejected.insert(
            [
                (
                    row.line,
                    row.reason,
                    row.detail,
                    # A person who objected leaves no trace in clear: only the line number.
                    {} if row.reason == SUPPRESSED else _kept_cells(row, columns),
                )
                for row in rows
                if row.reason
            ],
            workspace_id=batch.workspace_id,
            batch_id=batch.pk,
        )
        for row in rows:
            counts.add(row.outcome)
        # Conditional on the count we started from and on still holding the batch: if another
        # run committed a chunk or took the batch over meanwhile, ours rolls back and stops,
        # so no row is counted twice. The same UPDATE renews this run's lease.
        updated = (
            ImportBatch.objects.for_workspace(batch.workspace_id)
            .filter(
                pk=batch.pk,
                status=ImportBatch.Status.IMPORTING,
                total_rows=batch.total_rows,
                lease_token=batch.lease_token,
            )
            .update(
                lease_until=lease_deadline(),
                total_rows=F("total_rows") + counts.total,
                created_count=F("created_count") + counts.new,
                duplicate_count=F("duplicate_count") + counts.duplicate,
                suppressed_count=F("suppressed_count") + counts.suppressed,
                invalid_count=F("invalid_count") + counts.invalid,
            )
        )
        if updated != 1:
            raise Superseded()
        notify_prospects_created(
            batch.workspace_id, [row.prospect_id for row in new if row.prospect_id]
        )
    batch.total_rows += counts.total
    batch.created_count += counts.new
    batch.duplicate_count += counts.duplicate
    batch.suppressed_count += counts.suppressed
    batch.invalid_count += counts.invalid
    return counts
