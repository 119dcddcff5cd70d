"""The files `verify_emails` reads and writes.

IN.csv goes through the prospect import's own reading (`prospects.imports`): the same
encodings (UTF-8, UTF-16 with its BOM, Excel's Windows-1252), the same refusal of a file that
mixes UTF-8 and Windows-1252 lines (read whole in either, some accents would be garbled, and
the wrong addresses probed), the same checks of quotes and cells, and quoted line breaks kept
in their cell. A file the import refuses is refused here with the same French message,
before OUT.csv is written.

OUT.csv: the input columns, then the result columns, whose names are a contract. An input
column whose name is a result column's is kept under `input_<name>` (`input_status`), never
dropped; the `email` column that was checked is the result's `email`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from config.file_errors import describe_os_error
from prospects.imports import ImportFileError, count_rows, iter_records, read_header
from prospects.imports.reading import max_columns, too_many_columns

RESULT_COLUMNS = (
    "email", "status", "score", "catch_all", "reason", "pattern", "evidence", "mx_ok",
    "smtp_code", "recheck_at",
)
PERSON_COLUMNS = ("first_name", "last_name", "domain")
INPUT_PREFIX = "input_"


@dataclass(frozen=True)
class InputFile:
    """IN.csv once checked: its columns, where the email and the person are, its rows."""

    path: Path
    encoding: str
    delimiter: str
    columns: list[str]
    rows: int
    email: int | None  # the index of the `email` column
    person: tuple[int, int, int] | None  # first_name, last_name, domain

    def records(self) -> Iterator[list[str]]:
        """The cells of each non-blank data row."""
        for _line, cells in iter_records(self.path, self.encoding, self.delimiter):
            yield cells

    def output_columns(self) -> list[tuple[int, str]]:
        """(input index, name in OUT.csv) of each input column written before the results."""
        return kept_columns(self.columns, skip=self.email)


def read_input(path: Path) -> InputFile:
    """IN.csv checked whole as the import checks a file; CommandError (French) when it
    cannot be read, or has neither an `email` column nor the person's columns."""
    try:
        header = read_header(path, samples=0)
        rows = count_rows(path, header)
        extra = _extra_columns(path, header)
    except ImportFileError as exc:
        raise CommandError(str(exc)) from exc
    except OSError as exc:
        raise CommandError(
            _("Cannot read %(path)s: %(error)s") % {"path": path, "error": describe_os_error(exc)}
        ) from exc
    lowered: dict[str, int] = {}
    for index, name in enumerate(header.columns):
        lowered.setdefault(name.lower(), index)
    person = None
    if all(column in lowered for column in PERSON_COLUMNS):
        person = tuple(lowered[column] for column in PERSON_COLUMNS)
    if "email" not in lowered and person is None:
        raise CommandError(
            _(
                "The file needs an “email” column, or “first_name”, “last_name” and "
                "“domain” columns; its columns are: %(columns)s"
            )
            % {"columns": ", ".join(header.columns) or _("no header line")}
        )
    return InputFile(
        path=path,
        encoding=header.encoding,
        delimiter=header.delimiter,
        columns=header.columns + extra,
        rows=rows,
        email=lowered.get("email"),
        person=person,
    )


def _extra_columns(path: Path, header) -> list[str]:
    """Names for the cells some rows hold past the header's columns ("Colonne 5"), so that
    OUT.csv keeps them too: no input cell is dropped."""
    rows = iter_records(path, header.encoding, header.delimiter)
    widest = max((len(cells) for _line, cells in rows), default=0)
    if widest > max_columns():  # as many as a header may name, no more
        raise too_many_columns(widest)
    taken = {name.lower() for name in header.columns}
    extra = []
    for number in range(len(header.columns) + 1, widest + 1):
        name = _("Column %(number)s") % {"number": number}
        while name.lower() in taken:
            name += "'"
        taken.add(name.lower())
        extra.append(name)
    return extra


def kept_columns(columns: list[str], *, skip: int | None = None) -> list[tuple[int, str]]:
    """Every input column but `skip`, each under a name no result column nor other input
    column has (compared case-insensitively): `status` is written as `input_status`, then
    `input_status_2` if the file has an `input_status` column too."""
    taken = set(RESULT_COLUMNS)
    taken.update(
        name.lower()
        for index, name in enumerate(columns)
        if index != skip and name.lower() not in RESULT_COLUMNS
    )
    kept = []
    for index, name in enumerate(columns):
        if index == skip:
            continue
        if name.lower() in RESULT_COLUMNS:
            renamed, number = f"{INPUT_PREFIX}{name}", 2
            while renamed.lower() in taken:
                renamed, number = f"{INPUT_PREFIX}{name}_{number}", number + 1
            taken.add(renamed.lower())
            name = renamed
        kept.append((index, name))
    return kept
