"""Rejected rows as a CSV file Excel opens directly: semicolons, UTF-8 with a BOM."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import PurePath

from django.utils.text import slugify
from django.utils.translation import gettext as _

from ..models import ImportBatch, RejectedRow
from ..spreadsheet import Echo as _Echo
from ..spreadsheet import spreadsheet_safe


def iter_rejected_csv(batch: ImportBatch) -> Iterator[str]:
    """The batch's rejected rows, line by line: line, reason, detail, then the row as read."""
    columns = list(batch.mapping.get("columns", []))
    known = set(columns)
    writer = csv.writer(_Echo(), delimiter=";")
    yield "\ufeff"
    # Column names come from the file too.
    yield writer.writerow([_("Line"), _("Reason"), _("Detail"), *map(spreadsheet_safe, columns)])
    rows = (
        RejectedRow.objects.for_workspace(batch.workspace_id)
        .filter(batch=batch)
        .order_by("line_number", "pk")
    )
    for row in rows.iterator(chunk_size=2000):
        data = row.data or {}
        cells = [data.get(column, "") for column in columns]
        cells += [value for key, value in data.items() if key not in known]
        # The detail may quote a value from the file.
        yield writer.writerow(
            [
                row.line_number,
                row.get_reason_display(),
                *map(spreadsheet_safe, [row.detail, *cells]),
            ]
        )


def rejected_filename(batch: ImportBatch) -> str:
    stem = slugify(PurePath(batch.filename).stem) or "import"
    suffix = _("rejected-rows")
    return f"{stem}-{suffix}.csv"
