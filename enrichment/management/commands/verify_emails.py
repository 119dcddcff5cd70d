from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from tqdm import tqdm

from config.file_errors import describe_os_error
from enrichment.discovery.services import Discovery, Verdict
from enrichment.discovery.smtp import ProbeConfigError
from enrichment.discovery.warning_texts import warning_text
from enrichment.management.verify_files import RESULT_COLUMNS, InputFile, read_input
from prospects.models import Workspace
from prospects.services import spreadsheet_safe


def _cells(verdict: Verdict) -> dict[str, str]:
    recheck = verdict.recheck_at
    return {
        "email": verdict.email,
        "status": verdict.status,
        "score": str(verdict.score),
        "catch_all": "true" if verdict.catch_all else "false",
        "reason": verdict.reason,
        "pattern": verdict.pattern,
        "evidence": verdict.evidence,
        "mx_ok": "true" if verdict.mx_ok else "false",
        "smtp_code": "" if verdict.smtp_code is None else str(verdict.smtp_code),
        "recheck_at": recheck.astimezone(dt.UTC).isoformat() if recheck else "",
    }


def _same_file(read: Path, written: Path) -> bool:
    """Is `written` the file `read` (the same path, a link to it, another name of it)?"""
    try:
        return written.exists() and read.exists() and read.samefile(written)
    except OSError:
        return False


class Command(BaseCommand):
    help = "Verify a CSV of addresses, or find each person's best address, into a result CSV."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "input",
            metavar="IN.csv",
            help="an 'email' column, or 'first_name,last_name,domain' columns",
        )
        parser.add_argument("--out", required=True, metavar="OUT.csv")
        parser.add_argument("--workspace", help="slug of the workspace the probes belong to")
        parser.add_argument(
            "--no-smtp",
            action="store_true",
            help="stop at syntax and DNS: no mail host is contacted",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        translation.activate("fr")
        out_path = Path(options["out"])
        if _same_file(Path(options["input"]), out_path):
            # Opened for writing, the file read would be emptied before its rows are read.
            raise CommandError(
                _("%(path)s is the file being read: give --out another file.")
                % {"path": out_path}
            )
        source = read_input(Path(options["input"]))
        workspace_id = None
        if options["workspace"]:
            workspace = Workspace.objects.filter(slug=options["workspace"]).first()
            if workspace is None:
                raise CommandError(
                    _("No workspace with the slug “%(slug)s”.") % {"slug": options["workspace"]}
                )
            workspace_id = workspace.pk
        try:
            discovery = Discovery(workspace_id=workspace_id, smtp=not options["no_smtp"])
        except ProbeConfigError as exc:
            raise CommandError(_("%(error)s (or run with --no-smtp)") % {"error": exc}) from exc
        try:
            with discovery, open(out_path, "w", encoding="utf-8", newline="") as handle:
                statuses = self._write(discovery, source, csv.writer(handle))
                warnings = sorted(discovery.warnings)
        except OSError as exc:
            raise CommandError(
                _("Cannot write %(path)s: %(reason)s")
                % {"path": out_path, "reason": describe_os_error(exc)}
            ) from exc
        for warning in warnings:
            self.stderr.write(self.style.WARNING(warning_text(warning)))
        summary = ", ".join(
            f"{statuses[s]} {s}" for s in ("verified", "unknown", "risky", "invalid") if statuses[s]
        )
        self.stdout.write(
            ngettext(
                "%(rows)s row → %(path)s (%(summary)s)",
                "%(rows)s rows → %(path)s (%(summary)s)",
                source.rows,
            )
            % {"rows": source.rows, "path": out_path, "summary": summary or _("nothing to verify")}
        )

    def _write(self, discovery: Discovery, source: InputFile, writer: Any) -> Counter[str]:
        """The header, then one row per input row: its columns, then its result. The rows
        are read ROWS_AT_ONCE at a time: the people among them are looked up together
        (`find_best_across`: each domain's people in rounds, the domains side by side)."""
        kept = source.output_columns()
        writer.writerow([spreadsheet_safe(c) for c in (*(n for _i, n in kept), *RESULT_COLUMNS)])
        statuses: Counter[str] = Counter()
        with tqdm(
            total=source.rows, desc="verify_emails", unit=" " + _("rows"), disable=None
        ) as bar:
            for chunk in _chunks(source.records(), ROWS_AT_ONCE):
                for cells, result in zip(
                    chunk, self._results(discovery, source, chunk), strict=True
                ):
                    statuses[result["status"]] += 1
                    row = [cells[index] if index < len(cells) else "" for index, _name in kept]
                    row += [result[name] for name in RESULT_COLUMNS]
                    writer.writerow([spreadsheet_safe(cell) for cell in row])
                    bar.update()
        return statuses

    def _results(
        self, discovery: Discovery, source: InputFile, chunk: list[list[str]]
    ) -> list[dict[str, str]]:
        """Each row's result: a row with an address has it checked; a row without one is
        looked up by name when the file has the person's columns (first_name, last_name,
        domain), those of the chunk together. A row that breaks anything becomes a row with
        the reason: when the people's lookup together fails, each is looked up alone."""
        people = {
            at: [_cell(cells, index) for index in source.person]
            for at, cells in enumerate(chunk)
            if source.person is not None
            and not (source.email is not None and _cell(cells, source.email).strip())
        }
        found: dict[int, Verdict] = {}
        if len(people) > 1:
            try:
                batch = discovery.find_best_across([tuple(person) for person in people.values()])
                found = dict(zip(people, batch, strict=True))
            except Exception:  # each row is then asked alone, and tells its own reason
                found = {}
        results = []
        for at, cells in enumerate(chunk):
            email = _cell(cells, source.email).strip()
            try:
                if at in found:
                    verdict = found[at]
                elif at in people:
                    verdict = discovery.find_best(*people[at])
                else:
                    verdict = discovery.verify(email)
            except Exception as exc:  # one bad row never stops the file
                verdict = Verdict(email, "unknown", 0, f"error:{type(exc).__name__}")
            results.append(_cells(verdict))
        return results


# Rows read and looked up together (their people asked side by side).
ROWS_AT_ONCE = 200


def _cell(cells: list[str], index: int | None) -> str:
    return cells[index] if index is not None and index < len(cells) else ""


def _chunks(rows: Iterable[list[str]], size: int) -> Iterator[list[list[str]]]:
    chunk: list[list[str]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
