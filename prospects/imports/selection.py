"""Choosing prospects with a CSV file: a list exported from a CRM or a spreadsheet names the
people to enrich, by email, LinkedIn URL or Sourcier id. Nothing is created or changed: each row
is matched against the workspace's prospects, and the rows that match no one are named.

The file goes through the import's own reading (encoding, delimiter, quotes, cell and column
limits), so a file the import refuses is refused here with the same French message."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext as _

from .. import normalize
from ..models import Prospect
from .checks import ImportFileError, check_records, line_list
from .reading import guess_field, read_header

# Header spellings of a Sourcier id (folded: accents, case, spaces and punctuation removed).
ID_HEADERS = {"id", "prospectid", "idprospect", "identifiant", "sourcierid"}
KEYS = ("id", "email", "linkedin_url")
CHUNK = 500


@dataclass
class CsvSelection:
    """The workspace's prospects a file names, in the file's order, and the rows that named
    no one (line numbers, the header being line 1)."""

    prospect_ids: list[int] = field(default_factory=list)
    rows: int = 0
    unmatched: list[int] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)

    def unmatched_text(self) -> str:
        return line_list(self.unmatched[:10], len(self.unmatched))


def _key_columns(path: Path) -> tuple[dict[str, int], str, str]:
    """({key: column index}, encoding, delimiter) for the id, email and LinkedIn columns."""
    header = read_header(path, samples=0)
    folded = [normalize.fold(c).replace(" ", "") for c in header.columns]
    fields = [guess_field(c) for c in header.columns]
    columns = {"id": next((i for i, c in enumerate(folded) if c in ID_HEADERS), None)}
    for key in ("email", "linkedin_url"):
        columns[key] = next((i for i, f in enumerate(fields) if f == key), None)
    found = {key: index for key, index in columns.items() if index is not None}
    if not found:
        raise ImportFileError(
            _(
                "This file has no column that names a prospect: it needs an “email”, a "
                "“LinkedIn” or an “id” column."
            )
        )
    return found, header.encoding, header.delimiter


def _lookup_value(key: str, raw: str) -> str:
    """What the prospect table stores for this cell ('' when it cannot name anyone)."""
    raw = raw.strip()
    try:
        if key == "id":
            return str(int(raw)) if raw.isdigit() and len(raw) < 19 else ""
        if key == "email":
            return normalize.normalize_email(raw)
        return normalize.canonical_linkedin(raw).lower()
    except normalize.InvalidValue:
        return ""


def _row_key(cells: list[str], columns: dict[str, int]) -> tuple[str, str]:
    """The first usable key of a row, in KEYS order: ('', '') when none names anyone."""
    for key in KEYS:
        index = columns.get(key)
        if index is not None and index < len(cells):
            value = _lookup_value(key, cells[index])
            if value:
                return key, value
    return "", ""


def _records(path: Path, encoding: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) per non-blank row, through the import's record checks (an unclosed quote
    or an oversized cell is refused with its line)."""
    with open(path, "rb") as raw, io.TextIOWrapper(raw, encoding, newline="") as text:
        records = check_records(text, delimiter)
        next(records, None)
        for line, cells in enumerate(records, start=2):
            if "".join(cells).strip():
                yield line, cells


def _match(workspace_id: int, keyed: list[tuple[int, str, str]]) -> dict[tuple[str, str], int]:
    """{(key, value): prospect id} for the rows of a chunk, one query per key present."""
    found: dict[tuple[str, str], int] = {}
    for key, column in (("id", "pk"), ("email", "email_key"), ("linkedin_url", "linkedin_key")):
        values = {value for _line, k, value in keyed if k == key}
        if not values:
            continue
        lookup = [int(v) for v in values] if key == "id" else list(values)
        rows = (
            Prospect.objects.for_workspace(workspace_id)
            .filter(**{f"{column}__in": lookup})
            .values_list(column, "pk")
        )
        found.update({(key, str(value)): pk for value, pk in rows})
    return found


def select_from_csv(workspace_id: int, path: Path | str) -> CsvSelection:
    """The prospects of the workspace a CSV file names; ImportFileError if it is unreadable.

    Each row names a prospect by its id, else its email, else its LinkedIn URL."""
    path = Path(path)
    columns, encoding, delimiter = _key_columns(path)
    selection = CsvSelection(keys=[key for key in KEYS if key in columns])
    seen: set[int] = set()
    chunk: list[tuple[int, str, str]] = []

    def flush() -> None:
        found = _match(workspace_id, chunk)
        for line, key, value in chunk:
            pk = found.get((key, value))
            if pk is None:
                selection.unmatched.append(line)
            elif pk not in seen:
                seen.add(pk)
                selection.prospect_ids.append(pk)
        chunk.clear()

    try:
        for line, cells in _records(path, encoding, delimiter):
            selection.rows += 1
            chunk.append((line, *_row_key(cells, columns)))
            if len(chunk) >= CHUNK:
                flush()
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            _("Line %(line)s cannot be decoded: save the file as CSV UTF-8 and try again.")
            % {"line": selection.rows + 2}
        ) from exc
    flush()
    if not selection.rows:
        raise ImportFileError(_("The file has a header line but no data rows."))
    return selection
