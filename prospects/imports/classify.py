"""What happens to each row: invalid, suppressed, duplicate or new (preview and import agree).

Each row goes through `services.clean_prospect_data`, the rules the admin and the API use.
Then, per chunk, one objection-list lookup (`services.objection_entries`) and one query per
match key kind. A person twice in a file is created once, in memory that does not grow with
the file: within a chunk a dict tells, across chunks the import's own unique indexes do (the
earlier row is in the database by then, with its line), and the preview, which writes
nothing, keeps 128-bit digests of the keys on disk (`SeenKeys`).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from django.utils.translation import gettext as _

from .. import normalize, services
from ..lookups import in_workspace
from ..models import Prospect, RejectedRow, SuppressionEntry
from .reading import row_values

CHUNK_SIZE = 2500
NEW = "new"
DUPLICATE = RejectedRow.Reason.DUPLICATE.value
SUPPRESSED = RejectedRow.Reason.SUPPRESSED.value
INVALID = RejectedRow.Reason.INVALID.value
KEYS = ("email_key", "linkedin_key", "name_key")


@dataclass
class ImportCounts:
    total: int = 0
    new: int = 0
    duplicate: int = 0
    suppressed: int = 0
    invalid: int = 0

    def add(self, outcome: str) -> None:
        self.total += 1
        setattr(self, outcome, getattr(self, outcome) + 1)

    @property
    def rejected(self) -> int:
        return self.duplicate + self.suppressed + self.invalid


@dataclass(slots=True)
class Row:
    line: int
    cells: list[str]
    data: dict[str, str] = field(default_factory=dict)
    clean: services.CleanProspect | None = None
    reason: str = ""
    detail: str = ""
    email_key: str = ""
    linkedin_key: str = ""
    name_key: str = ""
    company_key: str = ""
    hashes: list[tuple[str, str]] = field(default_factory=list)
    suppression_id: int | None = None
    company_id: int | None = None
    prospect_id: int | None = None

    @property
    def outcome(self) -> str:
        return self.reason or NEW

    def reject(self, reason: str, detail: str) -> None:
        self.reason, self.detail = reason, detail


def chunks(records: Iterable[tuple[int, list[str]]], size: int) -> Iterator[list[Row]]:
    iterator = iter(records)
    while chunk := list(islice(iterator, size)):
        yield [Row(line, cells) for line, cells in chunk]


def _existing_detail(key: str, pk: int) -> str:
    messages = {
        "email_key": _("Already exists: same email as prospect #%(id)s."),
        "linkedin_key": _("Already exists: same LinkedIn profile as prospect #%(id)s."),
        "name_key": _("Already exists: same name at the same company as prospect #%(id)s."),
    }
    return messages[key] % {"id": pk}


def _earlier_detail(key: str, line: int) -> str:
    messages = {
        "email_key": _("Same email as line %(line)s of this file."),
        "linkedin_key": _("Same LinkedIn profile as line %(line)s of this file."),
        "name_key": _("Same name at the same company as line %(line)s of this file."),
    }
    return messages[key] % {"line": line}


def _suppressed_detail(kind: str) -> str:
    if kind == SuppressionEntry.Kind.PHONE:
        return _("The phone number is on the objection list.")
    return _("The email address is on the objection list.")


def clean_row(row: Row, fields: list[str], *, storable: bool = False) -> None:
    """Normalise one row with the shared rules and compute its match keys, or reject it.

    `storable`: no cell of the row holds a NUL character (see `classify`)."""
    row.data = row_values(row.cells, fields)
    try:
        clean = services.clean_prospect_data(row.data, storable=storable)
    except services.ProspectRejected as exc:
        row.reject(INVALID, str(exc))
        return
    prospect = clean.prospect
    row.company_key = clean.company_key
    row.email_key = normalize.email_key(prospect["email"])
    row.linkedin_key = prospect["linkedin_url"].lower()
    row.name_key = clean.name_key
    row.clean = clean
    row.hashes = services.objection_hashes(email=prospect["email"], phone=prospect["phone"])


def _existing_keys(workspace_id: int, key: str, values: set[str]) -> dict[str, int]:
    if not values:
        return {}
    # The partial unique index's own condition, spelled as its definition spells it: SQLite
    # uses a partial index only for a query that repeats that term.
    return dict(
        in_workspace(Prospect, workspace_id, key, sorted(values), where=f" AND NOT (t.{key} = '')")
    )


class SeenKeys:
    """Match keys of this file's rows accepted in earlier chunks, with the line of each: for
    the preview, which writes nothing (the import asks its unique indexes instead).

    Kept on disk in a temporary SQLite file, as 16-byte BLAKE2b digests of (kind, key), under
    a page cache of a few megabytes: a file of millions of rows previews in bounded memory.
    Two different keys sharing a 128-bit digest is a 1 in 10^20 chance even among 10^9 keys
    (the birthday bound n^2 / 2^129), far below a disk's undetected error rate: a collision
    could only ever call one person a duplicate of another, never merge or write anything.
    """

    CACHE_KIB = 4096

    def __init__(self) -> None:
        self._db: sqlite3.Connection | None = None
        self._dir: tempfile.TemporaryDirectory | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self._dir = tempfile.TemporaryDirectory(prefix="sourcier-seen-")
            self._db = sqlite3.connect(os.path.join(self._dir.name, "seen.sqlite3"))
            # Nothing here outlives the preview: no journal, no flush to the disk.
            self._db.executescript(
                f"PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; "
                f"PRAGMA cache_size = -{self.CACHE_KIB}; "
                "CREATE TABLE seen (digest BLOB PRIMARY KEY, line INTEGER) WITHOUT ROWID;"
            )
        return self._db

    @staticmethod
    def digest(key: str, value: str) -> bytes:
        return hashlib.blake2b(f"{key}\x00{value}".encode(), digest_size=16).digest()

    def lines(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """The line of each (kind, key) pair seen in an earlier chunk."""
        if self._db is None:
            return {}
        by_digest = {self.digest(*pair): pair for pair in pairs}
        found: dict[tuple[str, str], int] = {}
        wanted = list(by_digest)
        for start in range(0, len(wanted), 10_000):
            part = wanted[start : start + 10_000]
            marks = ",".join("?" * len(part))
            for digest, line in self._db.execute(
                f"SELECT digest, line FROM seen WHERE digest IN ({marks})",  # noqa: S608
                part,
            ):
                found[by_digest[digest]] = line
        return found

    def add(self, lines: dict[tuple[str, str], int]) -> None:
        """Remember these pairs (the first line of each wins)."""
        if lines:
            self._connection().executemany(
                "INSERT OR IGNORE INTO seen VALUES (?, ?)",
                ((self.digest(*pair), line) for pair, line in lines.items()),
            )

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> SeenKeys:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _matches(
    workspace_id: int, key: str, values: set[str], *, few: bool
) -> dict[str, tuple[int, int, int]]:
    """key value -> (prospect id, its import batch id, its import line) in the workspace."""
    if not values:
        return {}
    found = in_workspace(
        Prospect,
        workspace_id,
        key,
        sorted(values),
        where=f" AND NOT (t.{key} = '')",
        also=("import_batch_id", "import_line"),
        probe_each=few,
    )
    return {value: (pk, batch_id, line) for value, pk, batch_id, line in found}


def reject_existing(
    workspace_id: int, rows: list[Row], *, batch_id: int | None = None, few: bool = False
) -> None:
    """Mark as duplicates the rows whose email, LinkedIn profile or name at the company is
    already a prospect's in the workspace, saying whose.

    A prospect that an earlier row of the same batch created is that row's duplicate, as
    `classify` says within a chunk: those matches come first, as they always did. `few`: the
    rows are the few an insert left out (see `lookups.in_workspace`'s `probe_each`).
    """
    existing = {
        key: _matches(workspace_id, key, {getattr(r, key) for r in rows} - {""}, few=few)
        for key in KEYS
    }
    for row in rows:
        matches = [
            (key, existing[key][value])
            for key in KEYS
            if (value := getattr(row, key)) and value in existing[key]
        ]
        earlier = [
            (key, line) for key, (_pk, batch, line) in matches if batch_id and batch == batch_id
        ]
        if earlier and earlier[0][1] is not None:
            row.reject(DUPLICATE, _earlier_detail(*earlier[0]))
        elif matches:
            key, (pk, _batch, _line) = matches[0]
            row.reject(DUPLICATE, _existing_detail(key, pk))


def classify(
    workspace_id: int,
    rows: list[Row],
    fields: list[str],
    seen: SeenKeys | None = None,
    *,
    look_up_existing: bool = True,
) -> list[Row]:
    """Set each row's outcome: invalid, then suppressed, then duplicate, else new.

    Duplicates within the chunk are found here, and those of earlier chunks through `seen`.
    The import passes no `seen` and `look_up_existing=False`: people already in the workspace,
    or brought by an earlier chunk of the file, are left to its insert, whose unique indexes
    find them without a lookup per key (`reject_existing` then says whom they duplicate). The
    preview writes nothing, so it looks them up here.
    """
    # A NUL is the one character a decoded file can hold that a database cannot store (strict
    # decoding never yields a lone surrogate): one scan of the chunk's cells, in C, spares
    # nearly every chunk the check of each value of each row.
    storable = "\x00" not in "".join(["".join(row.cells) for row in rows])
    for row in rows:
        clean_row(row, fields, storable=storable)
    candidates = [row for row in rows if not row.reason]
    suppressed = services.objection_entries(
        workspace_id, (pair for row in candidates for pair in row.hashes)
    )
    if suppressed:
        for row in candidates:
            for kind, key_hash in row.hashes:
                if (kind, key_hash) in suppressed:
                    row.reject(SUPPRESSED, _suppressed_detail(kind))
                    row.suppression_id = suppressed[kind, key_hash]
                    break
        candidates = [row for row in candidates if not row.reason]
    if look_up_existing:
        reject_existing(workspace_id, candidates)
    candidates = [row for row in candidates if not row.reason]
    earlier = (
        seen.lines((key, v) for row in candidates for key in KEYS if (v := getattr(row, key)))
        if seen is not None
        else {}
    )
    here: dict[tuple[str, str], int] = {}
    for row in candidates:
        for key in KEYS:
            value = getattr(row, key)
            if value and (line := earlier.get((key, value)) or here.get((key, value))):
                row.reject(DUPLICATE, _earlier_detail(key, line))
                break
        else:
            for key in KEYS:
                if value := getattr(row, key):
                    here.setdefault((key, value), row.line)
    if seen is not None:
        seen.add(here)
    return rows
