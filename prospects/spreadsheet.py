"""CSV files a French Excel opens directly (semicolons, UTF-8 with an optional BOM) and whose
cells it shows as text, never as formulas."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

# What a spreadsheet may read as the start of a formula (OWASP, "CSV injection"), with the
# full-width forms some spreadsheets also accept.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
BOM = "\ufeff"


class Echo:
    """A file-like object whose write returns the line: csv.writer then yields lines."""

    def write(self, value: str) -> str:
        return value


def spreadsheet_safe(value: object) -> str:
    """A cell a spreadsheet shows as text: a leading quote neutralises a formula.

    Every such cell is escaped, "+33 6 12 34 56 78" and "-1+cmd|' /C calc'!A0" alike: a
    digit after the sign does not make the rest of the cell harmless.
    """
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_lines(
    header: list[str], rows: Iterable[Iterable[object]], *, bom: bool = True
) -> Iterator[str]:
    """The lines of a `;`-separated file, every cell escaped (headers included)."""
    writer = csv.writer(Echo(), delimiter=";")
    if bom:
        yield BOM
    yield writer.writerow([spreadsheet_safe(cell) for cell in header])
    for row in rows:
        yield writer.writerow([spreadsheet_safe(cell) for cell in row])
