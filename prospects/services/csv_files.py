"""Prospects in CSV files: the ones a file names, and the lines of an export."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ..models import Prospect


class SelectionFileError(ValueError):
    """A selection file that cannot be read; the message is French, for the user."""


def select_prospects_from_csv(workspace_id: int, path: Any) -> Any:
    """The workspace's prospects a CSV names by email, LinkedIn URL or id (nothing is written):
    a `CsvSelection` with their ids, the number of rows and the lines that matched no one."""
    from ..imports.checks import ImportFileError
    from ..imports.selection import select_from_csv

    try:
        return select_from_csv(workspace_id, path)
    except ImportFileError as error:
        raise SelectionFileError(str(error)) from error


def prospects_csv(
    rows: Iterable[tuple[Prospect, list[Any]]], *, extra_header: list[str], bom: bool = True
) -> Iterator[str]:
    """Prospects as the lines of a French-Excel CSV (exports.py), each with extra cells."""
    from ..exports import prospect_header, prospect_row
    from ..spreadsheet import csv_lines

    lines = ([*prospect_row(prospect), *extra] for prospect, extra in rows)
    return csv_lines([*prospect_header(), *extra_header], lines, bom=bom)
