"""Checks a file passes before anything of it is stored: its encoding, its quotes, its cells.

Each check streams the file (millions of rows exist) and names the lines a person must fix,
as a text editor numbers them.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

READ_BLOCK = 1024 * 1024
# What a spreadsheet cell can hold (Excel: 32,767 characters, 253 line breaks); a cell past
# either came from a quote left open, not from a spreadsheet.
MAX_CELL_CHARS = 32_767
MAX_CELL_BREAKS = 253
SHOWN_LINES = 10

_BREAK = re.compile(r"\r\n|\r|\n")
_ACCENT = re.compile(r"[^\x00-\x7f]")
# What a UTF-8 line holds and a cp1252 line almost never makes by chance: Latin letters and
# signs (U+00A0-U+017F), or three- and four-byte characters. Two cp1252 bytes can form a
# valid sequence ("É" then a no-break space is U+0260), but one outside these ranges.
_PLAUSIBLE = re.compile("[\u00a0-\u017f\u0800-\U0010ffff]")
_HIGH_BYTES = bytes(range(0x80, 0x100))


class ImportFileError(ValueError):
    """A file that cannot be imported; the message is shown to the user as is."""


def number(value: int) -> str:
    return formats.number_format(value, force_grouping=True)


def _excerpt(text: str, at: int | None = None) -> str:
    """Some 40 characters of a line around `at` (its first non-ASCII one by default)."""
    if at is None:
        found = _ACCENT.search(text)
        at = found.start() if found else 0
    return text[max(at - 20, 0) : at + 20].strip()


def line_list(lines: list[int], total: int) -> str:
    shown = ", ".join(number(line) for line in lines)
    if total > len(lines):
        more = total - len(lines)
        shown += " " + ngettext("and %(count)s other line", "and %(count)s other lines", more) % {
            "count": number(more)
        }
    return shown


# --- Encoding ------------------------------------------------------------------------------


@dataclass
class Utf8Scan:
    """How much of a file decodes as UTF-8, line by line."""

    utf8_lines: int = 0  # lines beyond ASCII that decode (at least: a block counts its accents)
    chance_lines: int = 0  # lines that decode, but to what cp1252 bytes could form by chance
    bad_lines: list[int] = field(default_factory=list)  # the first SHOWN_LINES that do not
    bad_count: int = 0
    sample: str = ""  # the first bad line around its first bad byte, shown as U+FFFD
    utf8_numbers: list[int] = field(default_factory=list)  # the first UTF-8 lines in bad blocks
    utf8_sample: str = ""

    def encoding(self) -> str:
        """utf-8 when every line decodes, cp1252 when (almost) no line beyond ASCII does, else
        the file mixes both and is refused.

        A file that is UTF-8 but for a few lines must not be read as cp1252: every accent of
        the UTF-8 lines would be stored garbled (É as Ã‰). Guessing those few lines' encoding
        could store wrong names too, so the file is refused with the lines to fix. A cp1252
        line may be valid UTF-8 by chance: such lines are tolerated while fewer than the
        others, and one clearly UTF-8 line in a hundred.
        """
        if not self.bad_count:
            return "utf-8"
        if self.utf8_lines * 100 < self.bad_count and self.chance_lines < self.bad_count:
            return "cp1252"
        if self.utf8_lines < self.bad_count and self.utf8_numbers:
            raise self._mostly_cp1252()
        raise ImportFileError(
            ngettext(
                "This file is in UTF-8 except line %(lines)s, written in another encoding "
                "(near “%(sample)s”): read as a whole in that encoding, the accents of every "
                "other line would be garbled. Retype the accented characters of that line, "
                "then upload the file again. Nothing was imported.",
                "This file is in UTF-8 except lines %(lines)s, written in another encoding "
                "(near “%(sample)s” on the first one): read as a whole in that encoding, the "
                "accents of every other line would be garbled. Retype the accented characters "
                "of those lines, then upload the file again. Nothing was imported.",
                self.bad_count,
            )
            % {"lines": line_list(self.bad_lines, self.bad_count), "sample": self.sample}
        )

    def _mostly_cp1252(self) -> ImportFileError:
        return ImportFileError(
            ngettext(
                "This file mixes two encodings: most of its accented lines are in Windows-1252, "
                "but some, line %(lines)s among them, are in UTF-8 (near “%(sample)s”): read in "
                "either encoding, some accents would be garbled. Retype the accented characters "
                "of the UTF-8 lines, then upload the file again. Nothing was imported.",
                "This file mixes two encodings: most of its accented lines are in Windows-1252, "
                "but some, lines %(lines)s among them, are in UTF-8 (near “%(sample)s” on the "
                "first one): read in either encoding, some accents would be garbled. Retype the "
                "accented characters of the UTF-8 lines, then upload the file again. Nothing "
                "was imported.",
                len(self.utf8_numbers),
            )
            % {
                "lines": ", ".join(number(line) for line in self.utf8_numbers),
                "sample": self.utf8_sample,
            }
        )

    def add_lines(self, chunk: bytes, first_line: int) -> None:
        for offset, line in enumerate(chunk.split(b"\n")):
            if line.isascii():
                continue
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                self.add_bad(line, exc.start, first_line + offset)
            else:
                if not _PLAUSIBLE.search(text):
                    self.chance_lines += 1
                    continue
                self.utf8_lines += 1
                if len(self.utf8_numbers) < SHOWN_LINES:
                    self.utf8_numbers.append(first_line + offset)
                    self.utf8_sample = self.utf8_sample or _excerpt(text)

    def add_bad(self, line: bytes, start: int, number: int) -> None:
        self.bad_count += 1
        if len(self.bad_lines) < SHOWN_LINES:
            self.bad_lines.append(number)
        if not self.sample:
            before = line[:start].decode("utf-8", "replace")
            self.sample = _excerpt(before + line[start:].decode("utf-8", "replace"), len(before))


def scan_utf8(fh: BinaryIO) -> Utf8Scan:
    """Read the file from where it is to its end, telling UTF-8 lines from the others."""
    scan = Utf8Scan()
    newlines = 0
    carry = b""
    for block in iter(lambda: fh.read(READ_BLOCK), b""):
        data = carry + block
        # Whole lines only, or at least no cut UTF-8 sequence (a file with no line feed).
        cut = data.rfind(b"\n") + 1 or len(data.rstrip(_HIGH_BYTES))
        chunk, carry = data[:cut], data[cut:]
        _scan_chunk(scan, chunk, newlines + 1)
        newlines += chunk.count(b"\n")
    _scan_chunk(scan, carry, newlines + 1)
    return scan


def _scan_chunk(scan: Utf8Scan, chunk: bytes, first_line: int) -> None:
    if chunk.isascii():
        return
    try:
        text = chunk.decode("utf-8")
    except UnicodeDecodeError:
        scan.add_lines(chunk, first_line)
    else:
        # Valid as a whole: the count of accents bounds the count of lines that hold one.
        scan.utf8_lines += len(chunk) - len(text)


# --- Quotes and cells ----------------------------------------------------------------------


class _PhysicalLines:
    """A text file's lines as the csv reader pulls them; those of the current record are kept."""

    __slots__ = ("_lines", "record")

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self.record: list[str] = []

    def __iter__(self) -> _PhysicalLines:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.record.append(line)
        return line


def _never_closed(line: int) -> ImportFileError:
    return ImportFileError(
        _(
            'Line %(line)s: a quote (") opens a cell that is never closed, so everything '
            "from there to the end of the file would be read as one cell. Add the missing "
            "quote, or remove that one, then upload the file again. Nothing was imported."
        )
        % {"line": number(line)}
    )


def cell_too_long(line: int) -> ImportFileError:
    return ImportFileError(
        _(
            "Line %(line)s: a cell is longer than any spreadsheet cell (more than "
            '%(chars)s characters or %(breaks)s line breaks): a quote (") opened there is '
            "probably never closed, or closed far too late, swallowing the rows after it. "
            "Fix the file, then upload it again. Nothing was imported."
        )
        % {
            "line": number(line),
            "chars": number(MAX_CELL_CHARS),
            "breaks": number(MAX_CELL_BREAKS),
        }
    )


def _closed_inside(start: int, end: int) -> ImportFileError:
    return ImportFileError(
        _(
            'Lines %(start)s to %(end)s: a quote (") opened on line %(start)s is only closed '
            "on line %(end)s, in the middle of a value: a closing quote is probably missing, "
            "and the rows in between would be read as one cell. Fix the file, then upload it "
            "again. Nothing was imported."
        )
        % {"start": number(start), "end": number(end)}
    )


def _check_record(lines: list[str], cells: list[str], start: int, delimiter: str) -> None:
    """A record over several lines holds a cell with line breaks: is it one a person wrote?

    (The last record is checked too, whatever its length: a quote may be left open there.)
    A quote in the middle of a one-line record is left to the lenient reader, as before.
    """
    raw = "".join(lines)
    strict = csv.reader(io.StringIO(raw, newline=""), delimiter=delimiter, strict=True)
    try:
        for _cells in strict:
            pass
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            # The last cell ran to the end of the file: it opened where its breaks say.
            breaks = len(_BREAK.findall(cells[-1])) if cells else 0
            ends_with_break = raw.endswith(("\n", "\r"))
            raise _never_closed(start + len(lines) - 1 - breaks + ends_with_break) from exc
        if len(lines) > 1:
            # Text right after a closing quote: that quote opened another cell, rows ago.
            raise _closed_inside(start, start + strict.line_num - 1) from exc
    if len(lines) == 1:
        return  # a long cell on one line swallowed nothing: its row's own checks judge it
    for cell in cells:
        if len(cell) > MAX_CELL_CHARS or len(_BREAK.findall(cell)) > MAX_CELL_BREAKS:
            raise cell_too_long(start)


def check_records(text: Iterator[str], delimiter: str) -> Iterator[list[str]]:
    """The records of a text file (newline=''), header included, each checked as it is read.

    Only a record over several lines, and the last one, is parsed again (strictly): a quote
    left open is there, and such records are few.
    """
    source = _PhysicalLines(text)
    reader = csv.reader(source, delimiter=delimiter)
    start = 1
    last: tuple[list[str], list[str], int] | None = None
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # Only the field size limit stops this reader: a cell of a megabyte. On one line
            # without a quote it swallowed no other row: that row alone, split as written
            # (its own checks refuse what is too long), and the reader goes on.
            cells = _unquoted_cells(source.record, delimiter)
            if cells is None:
                raise cell_too_long(start) from exc
        lines, source.record = source.record, []
        if len(lines) > 1:
            _check_record(lines, cells, start, delimiter)
        last = (lines, cells, start)
        start += len(lines)
        yield cells
    if last is not None:
        _check_record(*last, delimiter)


def _unquoted_cells(lines: list[str], delimiter: str) -> list[str] | None:
    """The cells of a one-line record without quotes (split as written), else None."""
    if len(lines) != 1 or '"' in lines[0]:
        return None
    return lines[0].rstrip("\r\n").split(delimiter)
