"""What happens to each row: invalid, suppressed, duplicate or new (preview and import agree).

Each row goes through `services.clean_prospect_data`, the rules the admin and the API use.
Then, per chunk, one objection-list lookup (`services.objection_entries`) and one query per
match key kind; keys of rows of this file already accepted are kept in memory, so a person
twice in a file is created once.
"""

from __future__ import annotations

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
    """Match keys of this file's rows accepted so far, with the line that brought each."""

    def __init__(self) -> None:
        self.lines: dict[str, dict[str, int]] = {key: {} for key in KEYS}

    def add(self, row: Row) -> None:
        for key in KEYS:
            value = getattr(row, key)
            if value:
                self.lines[key].setdefault(value, row.line)


def reject_existing(workspace_id: int, rows: list[Row]) -> None:
    """Mark as duplicates the rows whose email, LinkedIn profile or name at the company is
    already a prospect's in the workspace, saying whose."""
    existing = {
        key: _existing_keys(workspace_id, key, {getattr(r, key) for r in rows} - {""})
        for key in KEYS
    }
    for row in rows:
        for key in KEYS:
            value = getattr(row, key)
            if value and value in existing[key]:
                row.reject(DUPLICATE, _existing_detail(key, existing[key][value]))
                break


def classify(
    workspace_id: int,
    rows: list[Row],
    fields: list[str],
    seen: SeenKeys,
    *,
    look_up_existing: bool = True,
) -> list[Row]:
    """Set each row's outcome: invalid, then suppressed, then duplicate, else new.

    The import passes `look_up_existing=False`: people already in the workspace are left to
    its insert, whose unique indexes find them without a lookup per key (`reject_existing`
    then says whom they duplicate). The preview writes nothing, so it looks them up here.
    """
    for row in rows:
        clean_row(row, fields)
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
    lines = seen.lines
    for row in candidates:
        if row.reason:
            continue
        for key in KEYS:
            value = getattr(row, key)
            if value and value in lines[key]:
                row.reject(DUPLICATE, _earlier_detail(key, lines[key][value]))
                break
        else:
            seen.add(row)
    return rows
