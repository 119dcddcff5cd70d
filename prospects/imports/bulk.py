"""Writing many rows in one statement, faster than `bulk_create`, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.utils import timezone

# Measured (benchmarks/import_prospects.py): 64 MiB imported no faster than 16 MiB, and
# a page cache is resident memory the import's whole process must stay within.
SQLITE_CACHE_KIB = 16384


_tuned = threading.local()


def commits_lazily() -> bool:
    """Whether this thread's connection commits without waiting for the disk already (on
    PostgreSQL, within `bulk_write_tuning`): each chunk need not say so again."""
    return getattr(_tuned, "lazy_commit", False)


@contextmanager
def bulk_write_tuning() -> Iterator[None]:
    """Settings of this connection while it imports, restored afterwards.

    SQLite: a larger page cache and rarer WAL checkpoints. The three unique match-key indexes
    take random keys: each chunk's commit dirties a few thousand pages, and with the defaults
    (2 MB cache, checkpoint every 1,000 WAL pages) much of the import's time went to
    re-reading and re-writing them.

    PostgreSQL: commits that do not wait for their WAL to reach the disk (see
    `writing.write_chunk`), set once for the connection rather than once per chunk: one
    statement less per chunk, each a round trip the writer thread waits for.

    Both are per connection; other connections are unaffected.
    """
    if connection.vendor == "postgresql":
        with _postgresql_tuning():
            yield
        return
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        cache_size = cursor.fetchone()[0]
        cursor.execute("PRAGMA wal_autocheckpoint")
        checkpoint = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = -{int(SQLITE_CACHE_KIB)}")
        cursor.execute("PRAGMA wal_autocheckpoint = 20000")  # pages, about 80 MB of WAL
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(cache_size)}")
            cursor.execute(f"PRAGMA wal_autocheckpoint = {int(checkpoint)}")


@contextmanager
def _postgresql_tuning() -> Iterator[None]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('synchronous_commit')")
        previous = cursor.fetchone()[0]
        cursor.execute("SELECT set_config('synchronous_commit', 'off', false)")
    _tuned.lazy_commit = True
    try:
        yield
    finally:
        _tuned.lazy_commit = False
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('synchronous_commit', %s, false)", [previous])


# SQLite compiles a multi-row INSERT into one program whose size grows with its rows: past a
# few hundred rows a statement costs memory (over 200 MB of RSS for 2,500) and no more speed.
ROWS_PER_STATEMENT = 512


def statement_sizes(count: int, largest: int) -> list[int]:
    """The row counts of the INSERTs that write `count` rows: `largest` (rounded down to a
    power of two) at a time, then the powers of two the rest is made of.

    Python's sqlite3 keeps the last 128 statements it compiled: an INSERT of every leftover
    size (each chunk has its own) would be one more program of up to a few MB held in memory
    (20 MB of RSS over 100,000 rows, measured); with these sizes there are ten at most.
    """
    largest = 1 << (max(largest, 1).bit_length() - 1)
    sizes = [largest] * (count // largest)
    rest = count % largest
    while rest:
        power = 1 << (rest.bit_length() - 1)
        sizes.append(power)
        rest -= power
    return sizes


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
        then: tuple[str, Sequence[Any]] | None = None,
        **constants: Any,
    ) -> list[tuple]:
        """Insert rows (values in `varying` order) with `constants`.

        Returns (id, *returning) for each row inserted. With `skip_conflicts`, a row that
        would break a unique constraint is left out (ON CONFLICT DO NOTHING) instead of
        failing the statement: the caller tells which ones from what comes back.

        `then` (PostgreSQL only: SQL and its parameters) runs in the same statement, on the
        inserted rows as `ins` (a data-modifying WITH): its final SELECT is what returns.
        """
        if then is not None and connection.vendor != "postgresql":
            raise ValueError("BulkInsert.insert(then=...) needs PostgreSQL.")
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
        if encoded.document is not None:
            with connection.cursor() as cursor:
                names, arrays, selected = [], [], []
                for i, f in enumerate(self.varying):
                    name, kind = quote(f.column), f.db_type(connection)
                    names.append(name)
                    # JSON values arrive as text (see `encode`) and are cast back here.
                    as_text = i in self.as_json
                    arrays.append(f"{name} {'text' if as_text else kind}[]")
                    selected.append(f"CAST(u.{name} AS {kind})" if as_text else f"u.{name}")
                selected += [f"CAST(%s AS {f.db_type(connection)})" for f in self.constant]
                sql = (
                    f"INSERT INTO {table} ({columns}) SELECT {', '.join(selected)} "  # noqa: S608
                    f"FROM json_to_record(%s::json) AS r({', '.join(arrays)}), "
                    f"unnest({', '.join(f'r.{name}' for name in names)}) AS u({', '.join(names)})"
                    f"{tail}"
                )
                params = [*fixed, encoded.document]
                if then is not None:
                    sql, params = f"WITH ins AS ({sql}) {then[0]}", [*params, *then[1]]
                cursor.execute(sql, params)
                return cursor.fetchall()
        return self._insert_sqlite(
            rows,
            fixed,
            into=f"INTO {table} ({columns}) ",
            tail=tail,
            key=_row_key(self.varying, returning, rows) if skip_conflicts else None,
            skip_conflicts=skip_conflicts,
        )

    def _insert_sqlite(
        self,
        rows: Sequence[Sequence[Any]],
        fixed: list[Any],
        *,
        into: str,
        tail: str,
        key: tuple[int, int] | None,
        skip_conflicts: bool,
    ) -> list[tuple]:
        """SQLite: `rows` in multi-row INSERTs of `statement_sizes`, with the same outcome as
        plain `INSERT` statements: the same rows written, or the same error raised.

        A plain multi-row INSERT into a table with NOT NULL or CHECK constraints makes SQLite
        keep a statement journal (a copy of every page the statement changes, written to a
        temporary file, so that a failing row can undo its statement alone): at 100,000 rows,
        twice as many bytes written as the database's own WAL, and a tenth of the import's
        CPU time. `INSERT OR IGNORE` needs none: a row breaking a constraint is left out
        instead. So each row left out is inserted again with the plain statement, which does
        what it would have done the first time: raise that constraint's error, or (with
        `skip_conflicts`) leave out again a row whose unique key is taken, writing nothing.
        Rows left out are told apart by `key` (see `_row_key`); without one, an insert with
        `skip_conflicts` uses the plain statements.
        """
        if skip_conflicts and key is None:
            return self._execute_sqlite(rows, fixed, f"INSERT {into}", tail)
        if key is not None:
            return self._insert_sqlite_by_statement(rows, fixed, into, tail, key)
        inserted = self._execute_sqlite(rows, fixed, f"INSERT OR IGNORE {into}", tail)
        if len(inserted) == len(rows):
            return inserted
        # Without `skip_conflicts` the plain statements would have failed: undo these rows
        # (the same transaction's own), then run them, to raise their error.
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {quote(self.model._meta.db_table)} "  # noqa: S608
                f"WHERE {quote(self.model._meta.pk.column)} "
                "IN (SELECT value FROM json_each(%s))",
                [json.dumps([row[0] for row in inserted])],
            )
        return self._execute_sqlite(rows, fixed, f"INSERT {into}", tail)

    def _insert_sqlite_by_statement(
        self,
        rows: Sequence[Sequence[Any]],
        fixed: list[Any],
        into: str,
        tail: str,
        key: tuple[int, int],
    ) -> list[tuple]:
        """`_insert_sqlite` with `skip_conflicts`, one statement's rows at a time.

        Once a statement has left out most of its rows (a file imported again: its people are
        there already), the rest go straight to the plain statements: they write little, so
        their journal is small, and each row would otherwise be tried twice.
        """
        connection.ensure_connection()
        largest = min(ROWS_PER_STATEMENT, _rows_per_statement(len(self.fields)))
        step = statement_sizes(largest, largest)[0]
        lenient = True
        inserted: list[tuple] = []
        for start in range(0, len(rows), step):
            part = rows[start : start + step]
            if not lenient:
                inserted += self._execute_sqlite(part, fixed, f"INSERT {into}", tail)
                continue
            done = self._execute_sqlite(part, fixed, f"INSERT OR IGNORE {into}", tail)
            if len(done) < len(part):
                lenient = len(done) * 2 >= len(part)
                done += self._insert_left_out(part, done, fixed, into, tail, key)
            inserted += done
        return inserted

    def _insert_left_out(
        self,
        rows: Sequence[Sequence[Any]],
        inserted: list[tuple],
        fixed: list[Any],
        into: str,
        tail: str,
        key: tuple[int, int],
    ) -> list[tuple]:
        """The rows `inserted` lacks, with the plain statements (see `_insert_sqlite`)."""
        position, back = key
        written = {row[back] for row in inserted}
        left_out = [row for row in rows if row[position] not in written]
        return self._execute_sqlite(left_out, fixed, f"INSERT {into}", tail)

    def _execute_sqlite(
        self, rows: Sequence[Sequence[Any]], fixed: list[Any], head: str, tail: str
    ) -> list[tuple]:
        # Straight to sqlite3 with its own placeholders: Django's cursor would first rewrite
        # each of a chunk's 20,000 `%s` with a regular expression.
        placeholders = "(" + ", ".join(["?"] * (len(self.varying) + len(fixed))) + ")"
        connection.ensure_connection()
        raw = connection.connection
        largest = min(ROWS_PER_STATEMENT, _rows_per_statement(len(self.fields)))
        inserted: list[tuple] = []
        start = 0
        for size in statement_sizes(len(rows), largest):
            batch = rows[start : start + size]
            start += size
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
                        f"{head}VALUES {', '.join([placeholders] * len(batch))}{tail}",
                        params,
                    ).fetchall()
                )
        return inserted


def _row_key(
    varying: Sequence[models.Field], returning: Sequence[str], rows: Sequence[Sequence[Any]]
) -> tuple[int, int] | None:
    """A varying column that is returned and holds a different value in each row (an
    import's line number), to tell the rows an insert left out: its position in a row and in
    what the insert returns (after the id). None if no column does."""
    for back, name in enumerate(returning, start=1):
        for position, field in enumerate(varying):
            if field.column == name and len({row[position] for row in rows}) == len(rows):
                return position, back
    return None


def _rows_per_statement(columns: int) -> int:
    """As many rows per INSERT as SQLite takes: Django assumes the old limit of 999 parameters,
    while the SQLite Python ships with takes 32,766 or more (one statement per chunk)."""
    raw = connection.connection
    limit = raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) if raw else 999
    return limit // columns
