"""Reading the CSV files French sales teams actually send: encodings, delimiters, headers."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from .. import normalize, services
from .checks import ImportFileError, cell_too_long, check_records, number, scan_utf8

# The targets a column can feed: the keys `services.clean_prospect_data` reads.
FIELD_LABELS = services.FIELD_LABELS
IGNORE = ""

# Header spellings, compared once folded (accents, case, spaces and punctuation removed).
_ALIASES = {
    "first_name": ("prenom", "firstname", "first", "givenname", "forename"),
    "last_name": ("nom", "nomdefamille", "lastname", "last", "surname", "familyname"),
    "email": (
        "email",
        "mail",
        "courriel",
        "adresseemail",
        "adressemail",
        "adressecourriel",
        "adresseelectronique",
        "emailpro",
        "emailprofessionnel",
        "emailaddress",
        "workemail",
    ),
    "phone": (
        "telephone",
        "tel",
        "telephonemobile",
        "telephoneportable",
        "portable",
        "mobile",
        "numerodetelephone",
        "phone",
        "phonenumber",
        "mobilephone",
    ),
    "job_title": (
        "fonction",
        "poste",
        "intitule",
        "intituledeposte",
        "titre",
        "jobtitle",
        "title",
        "position",
    ),
    "linkedin_url": (
        "linkedin",
        "urllinkedin",
        "profillinkedin",
        "linkedinurl",
        "linkedinprofile",
        "linkedinprofileurl",
    ),
    "company_name": (
        "societe",
        "entreprise",
        "raisonsociale",
        "nomdelentreprise",
        "nomdelasociete",
        "organisation",
        "employeur",
        "company",
        "companyname",
        "organization",
        "account",
        "accountname",
    ),
    "company_website": ("siteweb", "siteinternet", "site", "website", "companywebsite", "web"),
    "company_domain": ("domaine", "nomdedomaine", "domain", "domainname", "companydomain"),
}
_ALIAS_TO_FIELD = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}

DELIMITERS = (";", ",", "\t")
SNIFF_BYTES = 64 * 1024
READ_BLOCK = 1024 * 1024
# Far above any real cell (the checks refuse cells past a spreadsheet's limit well before):
# it bounds the memory an unclosed quote can take.
csv.field_size_limit(1024 * 1024)
MAX_COLUMNS = 200


def max_columns() -> int:
    return getattr(settings, "SOURCIER_IMPORT_MAX_COLUMNS", MAX_COLUMNS)


@dataclass
class CsvHeader:
    """What we learned from a file's first bytes and first line."""

    encoding: str
    delimiter: str
    columns: list[str]
    fields: list[str]  # the target of each column, IGNORE when unknown
    samples: list[list[str]] = field(default_factory=list)  # first rows, for the mapping step

    @property
    def unknown_columns(self) -> list[str]:
        return [col for col, target in zip(self.columns, self.fields, strict=True) if not target]

    def mapping(self) -> dict:
        return {"columns": self.columns, "fields": self.fields}


def guess_field(header: str) -> str:
    """The target field of a column header, or IGNORE: 'E-mail', 'Prénom', 'first_name'..."""
    return _ALIAS_TO_FIELD.get(normalize.fold(header).replace(" ", ""), IGNORE)


def has_identity(fields: Iterable[str]) -> bool:
    """Whether mapped columns can recognise a person again (the import's match keys)."""
    targets = set(fields)
    has_company = bool(targets & {"company_name", "company_domain", "company_website"})
    has_name = {"first_name", "last_name"} <= targets
    return bool(targets & {"email", "linkedin_url"}) or (has_name and has_company)


def identity_error() -> str:
    return _(
        "This file has no column that identifies a person: it needs an email, a LinkedIn URL, "
        "or first name, last name and company columns."
    )


# --- Encoding and delimiter ----------------------------------------------------------------


def detect_encoding(path: Path) -> str:
    """BOM first (Excel's 'CSV UTF-8' and 'Unicode text'), else UTF-8 if it decodes, else
    cp1252 if no line beyond ASCII decodes as UTF-8; a file mixing both is refused."""
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
        if not head.strip():
            raise ImportFileError(_("The file is empty."))
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        if head.startswith(b"PK\x03\x04") or head.startswith(b"\xd0\xcf\x11\xe0"):
            raise ImportFileError(
                _(
                    "This is an Excel workbook, not a CSV file. In Excel, use "
                    "File > Save as > CSV UTF-8 (or CSV with semicolons), then upload that file."
                )
            )
        if b"\x00" in head:
            # UTF-16 without a BOM: ASCII text has a zero in every other byte.
            even, odd = head[0::2].count(0), head[1::2].count(0)
            if odd > len(head) // 4:
                return "utf-16-le"
            if even > len(head) // 4:
                return "utf-16-be"
            if _looks_binary(head):
                raise ImportFileError(_("This is not a text file; upload a CSV file."))
            # A few stray NUL bytes in a text file: their rows are refused, one by one.
        # The whole file counts: a cp1252 byte at line 90,000 too.
        fh.seek(0)
        return scan_utf8(fh).encoding()


# Control bytes that no CSV written by a person holds (tab, line ends and form feed aside).
_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\r\x0c")


def _looks_binary(head: bytes) -> bool:
    """More control bytes than a damaged text file would have: over 1 % of the sample (and
    over 8, so that a short file with one bad cell is still read)."""
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return controls > max(8, len(head) // 100)


def _text_sample(path: Path, encoding: str) -> str:
    with open(path, "rb") as fh:
        raw = fh.read(SNIFF_BYTES)
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(raw)
    text = text.lstrip("\ufeff")
    # Sniff whole lines only: a cut line would skew the column counts.
    cut = max(text.rfind("\n"), text.rfind("\r"))
    return text[:cut] if cut > 0 else text


def detect_delimiter(sample: str) -> str:
    """';', ',' or tab: the header line decides when it can, csv.Sniffer when it is ambiguous."""
    first_line = sample.splitlines()[0] if sample else ""
    present = [d for d in DELIMITERS if d in first_line]
    if len(present) == 1:
        return present[0]
    try:
        return csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        if present:
            return max(present, key=first_line.count)
        return ","


# --- Rows ----------------------------------------------------------------------------------


@contextmanager
def open_csv(path: Path, encoding: str, delimiter: str) -> Iterator[Iterator[list[str]]]:
    """A csv.reader streaming the file (quoted newlines and CRLF handled by newline='')."""
    with open(path, "rb") as raw, io.TextIOWrapper(raw, encoding=encoding, newline="") as text:
        yield csv.reader(text, delimiter=delimiter)


def _unique_columns(cells: list[str]) -> list[str]:
    columns: list[str] = []
    for index, cell in enumerate(cells, start=1):
        # Stored in the batch's mapping: a NUL past the sniffed start must not reach it.
        name = normalize.storable_text(normalize.clean_text(cell))
        name = name or _("Column %(number)s") % {"number": index}
        base, n = name, 2
        while name in columns:
            name, n = f"{base} ({n})", n + 1
        columns.append(name)
    return columns


def _undecodable_line(path: Path, encoding: str) -> int:
    """The line of the first byte that does not decode (text is decoded ahead of the reader)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    newlines = 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(READ_BLOCK), b""):
            try:
                newlines += decoder.decode(block).count("\n")
            except UnicodeDecodeError as exc:
                # exc.start counts in the bytes the codec saw (after a BOM it skipped, with
                # those held back from the previous block), not in `block`.
                valid = exc.object[: max(exc.start, 0)].decode(exc.encoding, "replace")
                return newlines + valid.count("\n") + 1
    return newlines + 1


def _read_error(exc: Exception, line: int, path: Path, encoding: str) -> ImportFileError:
    if isinstance(exc, csv.Error) and "field limit" in str(exc):
        return cell_too_long(line)
    if isinstance(exc, UnicodeDecodeError):
        return ImportFileError(
            _("Line %(line)s cannot be decoded: save the file as CSV UTF-8 and try again.")
            % {"line": _undecodable_line(path, encoding)}
        )
    return ImportFileError(
        _("Line %(line)s is not valid CSV (%(error)s).") % {"line": line, "error": exc}
    )


def iter_records(path: Path, encoding: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) for every non-blank data row, the header being line 1.

    Line numbers count records, as Excel numbers its rows (a quoted newline stays in one row).
    The records are read by the rules `count_rows` checked them with (`check_records`): a
    row with a cell past the reader's limit on one line is a row like another.
    """
    line = 1
    with open(path, "rb") as raw, io.TextIOWrapper(raw, encoding=encoding, newline="") as text:
        records = check_records(text, delimiter)
        try:
            next(records, None)
            for line, cells in enumerate(records, start=2):
                # A blank record: no cell with anything but whitespace (joined: one C call).
                if "".join(cells).strip():
                    yield line, cells
        except UnicodeDecodeError as exc:
            raise _read_error(exc, line + 1, path, encoding) from exc


def read_header(path: Path | str, *, samples: int = 3) -> CsvHeader:
    """Encoding, delimiter, columns and their guessed targets; ImportFileError if unusable."""
    path = Path(path)
    encoding = detect_encoding(path)
    delimiter = detect_delimiter(_text_sample(path, encoding))
    with open_csv(path, encoding, delimiter) as reader:
        try:
            cells = next(reader, [])
        except (csv.Error, UnicodeDecodeError) as exc:
            raise _read_error(exc, 1, path, encoding) from exc
    if not any(cell.strip() for cell in cells):
        raise ImportFileError(_("The first line must name the columns; it is empty."))
    if len(cells) > max_columns():
        raise too_many_columns(len(cells))
    columns = _unique_columns(cells)
    header = CsvHeader(
        encoding=encoding,
        delimiter=delimiter,
        columns=columns,
        fields=_dedupe_targets([guess_field(c) for c in columns]),
    )
    for _line, row in iter_records(path, encoding, delimiter):
        header.samples.append(row)
        if len(header.samples) >= samples:
            break
    return header


def too_many_columns(count: int) -> ImportFileError:
    return ImportFileError(
        _(
            "The file has too many columns (%(count)s): %(max)s at most. Delete the "
            "columns you do not need, then upload it again."
        )
        % {"count": number(count), "max": number(max_columns())}
    )


def _dedupe_targets(fields: list[str]) -> list[str]:
    """A target fed by two columns keeps the first; the other is left for the user to map."""
    seen: set[str] = set()
    result = []
    for target in fields:
        result.append(target if target not in seen else IGNORE)
        seen.add(target)
    return result


def count_rows(path: Path | str, header: CsvHeader) -> int:
    """Data rows in the whole file, read once before anything is stored: it must decode, and
    pass the checks of quotes and cells (`checks.check_records`)."""
    path = Path(path)
    with open(path, "rb") as raw, io.TextIOWrapper(raw, header.encoding, newline="") as text:
        records = check_records(text, header.delimiter)
        try:
            next(records, None)  # the header
            # Blank records (nothing but whitespace) are skipped, as iter_records does.
            count = sum(1 for cells in records if "".join(cells).strip())
        except UnicodeDecodeError as exc:
            raise _read_error(exc, 0, path, header.encoding) from exc
    if not count:
        raise ImportFileError(_("The file has a header line but no data rows."))
    return count


def row_values(cells: list[str], fields: list[str]) -> dict[str, str]:
    """The raw values of one row for `clean_prospect_data`, keyed by target field."""
    data: dict[str, str] = {}
    for target, value in zip(fields, cells, strict=False):
        if target and value and not data.get(target):
            data[target] = value
    return data


def row_as_dict(cells: list[str], columns: list[str]) -> dict[str, str]:
    """The row as the user wrote it, by column name (cells beyond the header are kept too)."""
    raw = dict(zip(columns, cells, strict=False))
    for index in range(len(columns), len(cells)):
        if cells[index]:
            raw[_("Column %(number)s") % {"number": index + 1}] = cells[index]
    return raw


# --- Storage -------------------------------------------------------------------------------


def imports_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "imports"


def stored_path(relative: str) -> Path:
    return Path(settings.MEDIA_ROOT) / relative


def private_dir(path: Path) -> Path:
    """A directory only this account may enter (0700, whatever the umask)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def store_file(chunks: Iterable[bytes]) -> tuple[str, str]:
    """Write an uploaded file under MEDIA_ROOT/imports/<uuid>.csv: (relative path, sha256).

    The copy is readable by this account only (it lists people); a write that fails midway
    (a full disk, a refused upload) leaves no partial file behind.
    """
    private_dir(Path(settings.MEDIA_ROOT))
    private_dir(imports_dir())
    relative = f"imports/{uuid.uuid4().hex}.csv"
    path = stored_path(relative)
    digest = hashlib.sha256()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.fchmod(fd, 0o600)
    try:
        with open(fd, "wb") as out:
            for chunk in chunks:
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return relative, digest.hexdigest()


def discard_file(relative: str) -> None:
    if relative:
        stored_path(relative).unlink(missing_ok=True)
