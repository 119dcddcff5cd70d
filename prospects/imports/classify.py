"""What happens to each row: invalid, suppressed, duplicate or new (preview and import agree).

Each row goes through `services.clean_prospect_data`, the rules the admin and the API use.
Then, per chunk, one `__in` query per suppression kind and per match key kind; keys of rows
of this file already accepted are kept in memory, so a person twice in a file is created once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice

from django.db import connection
from django.db.models import Model
from django.utils.translation import gettext as _

from .. import normalize, services
from ..models import Prospect, RejectedRow, SuppressionEntry
from .reading import row_values

CHUNK_SIZE = 1000
LOOKUP_BATCH = 250
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


def clean_row(row: Row, fields: list[str]) -> None:
    """Normalise one row with the shared rules and compute its match keys, or reject it."""
    row.data = row_values(row.cells, fields)
    try:
        clean = services.clean_prospect_data(row.data)
    except services.ProspectRejected as exc:
        row.reject(INVALID, str(exc))
        return
    prospect = clean.prospect
    row.company_key = clean.company_key
    row.email_key = normalize.email_key(prospect["email"])
    row.linkedin_key = prospect["linkedin_url"].lower()
    row.name_key = clean.name_key
    row.clean = clean
    row.hashes = services.suppression_hashes(email=prospect["email"], phone=prospect["phone"])


def _batched(values: set[str], size: int) -> Iterator[list[str]]:
    iterator = iter(sorted(values))
    while batch := list(islice(iterator, size)):
        yield batch


def _in_workspace(
    model: type[Model],
    workspace_id: int,
    column: str,
    values: list[str],
    *,
    where: str = "",
    where_params: Sequence[str] = (),
) -> list[tuple[str, int]]:
    """(column value, id) of the workspace's rows whose `column` is one of `values`.

    Written as SQL because the ORM prepares every value of an `__in` list through the field,
    and PostgreSQL gets one array parameter instead of a placeholder per value: for a
    1,000-row chunk that was a tenth of the import's time. The workspace filter is explicit.
    """
    quote = connection.ops.quote_name
    if connection.vendor == "postgresql":
        condition, params = f"{quote(column)} = ANY(%s)", [values]
    else:
        condition, params = f"{quote(column)} IN ({', '.join(['%s'] * len(values))})", values
    sql = (
        f"SELECT {quote(column)}, {quote(model._meta.pk.column)} "  # noqa: S608 (names only)
        f"FROM {quote(model._meta.db_table)} WHERE workspace_id = %s AND {condition}{where}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [workspace_id, *params, *where_params])
        return cursor.fetchall()


def _existing_keys(workspace_id: int, key: str, values: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for batch in _batched(values, LOOKUP_BATCH):
        # The partial unique index's own condition, spelled as its definition spells it: SQLite
        # uses a partial index only for a query that repeats that term. A few hundred keys per
        # query keep PostgreSQL on index probes (with a thousand it plans a sequential scan of
        # the whole workspace, and each chunk costs more).
        found.update(
            _in_workspace(Prospect, workspace_id, key, batch, where=f" AND NOT ({key} = '')")
        )
    return found


def _suppressed_hashes(workspace_id: int, rows: list[Row]) -> dict[tuple[str, str], int]:
    by_kind: dict[str, set[str]] = {}
    for row in rows:
        for kind, key_hash in row.hashes:
            by_kind.setdefault(kind, set()).add(key_hash)
    entries: dict[tuple[str, str], int] = {}
    for kind, hashes in by_kind.items():
        found = _in_workspace(
            SuppressionEntry,
            workspace_id,
            "key_hash",
            sorted(hashes),
            where=" AND kind = %s",
            where_params=[kind],
        )
        entries.update({(kind, key_hash): pk for key_hash, pk in found})
    return entries


class SeenKeys:
    """Match keys of this file's rows accepted so far, with the line that brought each."""

    def __init__(self) -> None:
        self.lines: dict[str, dict[str, int]] = {key: {} for key in KEYS}

    def add(self, row: Row) -> None:
        for key in KEYS:
            value = getattr(row, key)
            if value:
                self.lines[key].setdefault(value, row.line)


def classify(workspace_id: int, rows: list[Row], fields: list[str], seen: SeenKeys) -> None:
    """Set each row's outcome: invalid, then suppressed, then duplicate, else new."""
    for row in rows:
        clean_row(row, fields)
    candidates = [row for row in rows if not row.reason]
    suppressed = _suppressed_hashes(workspace_id, candidates)
    existing = {
        key: _existing_keys(workspace_id, key, {getattr(r, key) for r in candidates} - {""})
        for key in KEYS
    }
    for row in candidates:
        for kind, key_hash in row.hashes if suppressed else ():
            if (kind, key_hash) in suppressed:
                row.reject(SUPPRESSED, _suppressed_detail(kind))
                row.suppression_id = suppressed[kind, key_hash]
                break
        if row.reason:
            continue
        for key in KEYS:
            value = getattr(row, key)
            if not value:
                continue
            if value in existing[key]:
                row.reject(DUPLICATE, _existing_detail(key, existing[key][value]))
                break
            if value in seen.lines[key]:
                row.reject(DUPLICATE, _earlier_detail(key, seen.lines[key][value]))
                break
        else:
            seen.add(row)
