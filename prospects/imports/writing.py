"""Writing one chunk of classified rows: companies, prospects, rejected rows, counters."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import IntegrityError, connection, models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import normalize, services
from ..models import Company, ImportBatch, Prospect, RejectedRow, Source, SuppressionEntry
from ..signals import notify_prospects_created
from .classify import DUPLICATE, SUPPRESSED, ImportCounts, Row
from .reading import row_as_dict

# Values Django passes to the driver unchanged: no per-value preparation needed.
_PLAIN_TYPES = {
    "CharField",
    "TextField",
    "ForeignKey",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "IntegerField",
    "BigIntegerField",
    "BooleanField",
}


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
    """PostgreSQL: ANALYZE the prospects table once `added` new rows grew it by half of what
    the planner knows. A first import into a fresh table otherwise plans every key lookup with
    empty-table estimates (autovacuum analyses about once a minute). True if it ran."""
    if connection.vendor != "postgresql":
        return False
    table = Prospect._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        known = max(cursor.fetchone()[0], 0)
        if added <= known / 2:
            return False
        cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    return True


class Superseded(Exception):
    """Another run of the same batch committed this chunk first; this run stops."""


class BulkInsert:
    """Multi-row INSERT ... RETURNING id for one model, from tuples of values.

    `bulk_create` compiles every value of every row through the field machinery, which cost
    more than SQLite's own work for a 22-column prospect; an import aims at 10,000 rows a
    second, so values that need no conversion go to the driver as they are. Columns not given
    take the model's default (or now, for auto_now fields), prepared once per call.
    """

    def __init__(self, model: type[models.Model], varying: Sequence[str]) -> None:
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        by_name = {f.attname: f for f in self.fields}
        self.varying = list(varying)
        self.positions = {name: i for i, name in enumerate(self.varying)}
        self.prepare = {
            self.positions[name]: by_name[name]
            for name in self.varying
            if by_name[name].get_internal_type() not in _PLAIN_TYPES
        }

    def _constants(self, overrides: dict[str, Any]) -> dict[str, Any]:
        now = timezone.now()
        values = {}
        for f in self.fields:
            if f.attname in self.positions:
                continue
            if f.attname in overrides:
                value = overrides[f.attname]
            elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value = now
            else:
                value = f.get_default()
            values[f.attname] = f.get_db_prep_save(value, connection)
        return values

    def insert(self, rows: Sequence[Sequence[Any]], **constants: Any) -> list[int]:
        """Insert rows (values in `varying` order) with `constants`; returns the new ids."""
        if not rows:
            return []
        fixed = self._constants(constants)
        slots = [
            (True, self.positions[f.attname]) if f.attname in self.positions else (False, f.attname)
            for f in self.fields
        ]
        prepare = self.prepare
        params_rows = []
        for row in rows:
            if prepare:
                row = list(row)
                for index, f in prepare.items():
                    row[index] = f.get_db_prep_save(row[index], connection)
            params_rows.append([row[key] if varies else fixed[key] for varies, key in slots])
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in self.fields)
        table, pk = quote(self.model._meta.db_table), quote(self.model._meta.pk.column)
        # Table and column names come from the model, values are always parameters.
        insert = f"INSERT INTO {table} ({columns})"
        ids: list[int] = []
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # One array per column (as Django's own bulk_create does on PostgreSQL): a
                # handful of parameters instead of 20,000 to bind and plan.
                arrays = ", ".join(
                    f"(%s)::{f.db_type(connection).split('(')[0]}[]" for f in self.fields
                )
                cursor.execute(
                    f"{insert} SELECT * FROM UNNEST({arrays}) RETURNING {pk}",  # noqa: S608
                    [list(column) for column in zip(*params_rows, strict=True)],
                )
                return [row[0] for row in cursor.fetchall()]
            placeholders = "(" + ", ".join(["%s"] * len(self.fields)) + ")"
            size = max(1, _rows_per_statement(len(self.fields)))
            for start in range(0, len(params_rows), size):
                batch = params_rows[start : start + size]
                values = ", ".join([placeholders] * len(batch))
                cursor.execute(
                    f"{insert} VALUES {values} RETURNING {pk}",
                    [value for params in batch for value in params],
                )
                ids.extend(row[0] for row in cursor.fetchall())
        return ids


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
)
_prospects = BulkInsert(Prospect, _PROSPECT_VALUES)
_rejected = BulkInsert(RejectedRow, ("line_number", "reason", "detail", "data"))


class CompanyCache:
    """Company ids by domain, else by folded name: one lookup per company per import."""

    def __init__(self, workspace_id: int) -> None:
        self.workspace_id = workspace_id
        self.ids: dict[tuple[str, str], int] = {}

    @staticmethod
    def key(row: Row) -> tuple[str, str] | None:
        # The row's company key is the domain, else the folded name (normalize.company_key).
        assert row.clean is not None
        if not row.company_key:
            return None
        return ("domain" if row.clean.company["domain"] else "name", row.company_key)

    def _load(self, keys: Sequence[tuple[str, str]]) -> None:
        companies = Company.objects.for_workspace(self.workspace_id)
        domains = [value for kind, value in keys if kind == "domain"]
        names = [value for kind, value in keys if kind == "name"]
        if domains:
            # `<> ''` again lets the partial unique index on the domain serve the lookup.
            found = companies.filter(domain__in=domains).exclude(domain="").order_by()
            found = found.values_list("domain", "pk")
            self.ids.update({("domain", domain): pk for domain, pk in found})
        if names:
            found = companies.filter(domain="", name_key__in=names).order_by("pk")
            for name_key, pk in found.values_list("name_key", "pk"):
                self.ids.setdefault(("name", name_key), pk)

    def resolve(self, rows: list[Row]) -> list[int | None]:
        """Each row's company id (found as `get_or_create_company` finds it, else created)."""
        keys = [self.key(row) for row in rows]
        missing: dict[tuple[str, str], dict[str, str]] = {}
        for key, row in zip(keys, rows, strict=True):
            if key and key not in self.ids:
                missing.setdefault(key, row.clean.company)
        if missing:
            self._load(list(missing))
            to_create = [
                Company(
                    workspace_id=self.workspace_id,
                    name_key=normalize.fold(values["name"]),
                    **{name: value for name, value in values.items() if value},
                )
                for key, values in missing.items()
                if key not in self.ids
            ]
            if to_create:
                # A concurrent import may create the same domain: the unique constraint keeps
                # one, and the reload below picks it up whoever wrote it.
                Company.objects.bulk_create(to_create, ignore_conflicts=True)
                self._load([key for key in missing if key not in self.ids])
        return [self.ids[key] if key else None for key in keys]


def _prospect_values(row: Row, company_id: int | None) -> tuple:
    assert row.clean is not None
    p = row.clean.prospect
    return (
        p["first_name"],
        p["last_name"],
        p["email"],
        p["phone"],
        p["job_title"],
        p["linkedin_url"],
        company_id,
        row.email_key,
        row.linkedin_key,
        row.name_key,
    )


def _insert_prospects(batch: ImportBatch, rows: list[Row], companies: CompanyCache) -> None:
    company_ids = companies.resolve(rows)
    values = [_prospect_values(row, cid) for row, cid in zip(rows, company_ids, strict=True)]
    constants = {
        "workspace_id": batch.workspace_id,
        "source": Source.IMPORT.value,
        "import_batch_id": batch.pk,
        "created_by_id": batch.created_by_id,
    }
    try:
        with transaction.atomic():
            ids = _prospects.insert(values, **constants)
    except IntegrityError:
        # Someone created one of these people between our lookup and our insert (the admin,
        # the API, another import): insert one by one and count the losers as duplicates.
        ids = []
        for row, row_values in zip(rows, values, strict=True):
            try:
                with transaction.atomic():
                    ids.extend(_prospects.insert([row_values], **constants))
            except IntegrityError:
                row.reject(
                    DUPLICATE, _("Already exists: created elsewhere while this file was imported.")
                )
    created = iter(ids)
    for row in rows:
        if not row.reason:
            row.prospect_id = next(created)


def write_chunk(batch: ImportBatch, rows: list[Row], companies: CompanyCache) -> ImportCounts:
    """Create the chunk's new prospects, keep its rejected rows, count: one transaction."""
    columns = list(batch.mapping.get("columns", []))
    new = [row for row in rows if not row.reason]
    counts = ImportCounts()
    with transaction.atomic():
        if new:
            _insert_prospects(batch, new, companies)
        for row in rows:
            if row.reason == SUPPRESSED and row.suppression_id:
                services.record_blocked_attempt(
                    SuppressionEntry(pk=row.suppression_id, workspace_id=batch.workspace_id)
                )
        _rejected.insert(
            [
                (
                    row.line,
                    row.reason,
                    row.detail,
                    # A person who objected leaves no trace in clear: only the line number.
                    {} if row.reason == SUPPRESSED else row_as_dict(row.cells, columns),
                )
                for row in rows
                if row.reason
            ],
            workspace_id=batch.workspace_id,
            batch_id=batch.pk,
        )
        for row in rows:
            counts.add(row.outcome)
        # Conditional on the count we started from: if another run of this batch committed a
        # chunk meanwhile, ours rolls back and stops, so no row is counted twice.
        updated = (
            ImportBatch.objects.for_workspace(batch.workspace_id)
            .filter(pk=batch.pk, status=ImportBatch.Status.IMPORTING, total_rows=batch.total_rows)
            .update(
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
