"""Rejected rows as a CSV file Excel opens directly: semicolons, UTF-8 with a BOM."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import PurePath

from django.utils.text import slugify
from django.utils.translation import gettext as _

from ..models import ImportBatch, RejectedRow

_FORMULA_START = ("=", "@", "\t", "\r")


class _Echo:
    def write(self, value: str) -> str:
        return value


def _safe_cell(value: object) -> str:
    """A cell Excel shows as text: a leading '=' or '@' would make it a formula."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START) or (
        text[:1] in "+-" and len(text) > 1 and not text[1].isdigit() and text[1] != " "
    ):
        return "'" + text
    return text


def iter_rejected_csv(batch: ImportBatch) -> Iterator[str]:
    """The batch's rejected rows, line by line: line, reason, detail, then the row as read."""
    columns = list(batch.mapping.get("columns", []))
    known = set(columns)
    writer = csv.writer(_Echo(), delimiter=";")
    yield "\ufeff"
    yield writer.writerow([_("Line"), _("Reason"), _("Detail"), *columns])
    rows = (
        RejectedRow.objects.for_workspace(batch.workspace_id)
        .filter(batch=batch)
        .order_by("line_number", "pk")
    )
    for row in rows.iterator(chunk_size=2000):
        data = row.data or {}
        cells = [data.get(column, "") for column in columns]
        cells += [value for key, value in data.items() if key not in known]
        yield writer.writerow(
            [row.line_number, row.get_reason_display(), row.detail, *map(_safe_cell, cells)]
        )


def rejected_filename(batch: ImportBatch) -> str:
    stem = slugify(PurePath(batch.filename).stem) or "import"
    suffix = _("rejected-rows")
    return f"{stem}-{suffix}.csv"
