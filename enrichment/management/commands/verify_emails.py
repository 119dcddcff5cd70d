from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
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
from enrichment.management.probe_warnings import warning_text
from prospects.models import Workspace
from prospects.services import spreadsheet_safe

RESULT_COLUMNS = (
    "email", "status", "score", "catch_all", "reason", "pattern", "evidence", "mx_ok",
    "smtp_code", "recheck_at",
)
PERSON_COLUMNS = ("first_name", "last_name", "domain")


def _decode(raw: bytes) -> str:
    """UTF-8 (BOM allowed), UTF-16 with its BOM, else Excel's Windows-1252."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows of a CSV (UTF-8, UTF-16 or Windows-1252) separated by commas,
    semicolons or tabs."""
    try:
        text = _decode(path.read_bytes())
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(
            _("Cannot read %(path)s: %(error)s") % {"path": path, "error": describe_os_error(exc)}
        ) from exc
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.DictReader(text.splitlines(), delimiter=delimiter)
    header = [name.strip() for name in (reader.fieldnames or [])]
    reader.fieldnames = header
    rows = [{k: (v or "") for k, v in row.items() if k is not None} for row in reader]
    return header, rows


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


class Command(BaseCommand):
    help = "Verify a CSV of addresses, or find each person's best address, into a result CSV."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("input", metavar="IN.csv",
                            help="an 'email' column, or 'first_name,last_name,domain' columns")
        parser.add_argument("--out", required=True, metavar="OUT.csv")
        parser.add_argument("--workspace", help="slug of the workspace the probes belong to")
        parser.add_argument("--no-smtp", action="store_true",
                            help="stop at syntax and DNS: no mail host is contacted")

    def handle(self, *args: Any, **options: Any) -> None:
        translation.activate("fr")
        header, rows = _read(Path(options["input"]))
        lowered = {name.lower(): name for name in header}
        if "email" in lowered:
            mode = "email"
        elif all(column in lowered for column in PERSON_COLUMNS):
            mode = "person"
        else:
            raise CommandError(
                _(
                    "The file needs an “email” column, or “first_name”, “last_name” and "
                    "“domain” columns; its columns are: %(columns)s"
                )
                % {"columns": ", ".join(header) or _("no header line")}
            )
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
            raise CommandError(
                _("%(error)s (or run with --no-smtp)") % {"error": exc}
            ) from exc
        kept = [name for name in header if name.lower() not in RESULT_COLUMNS]
        statuses: Counter[str] = Counter()
        out_path = Path(options["out"])
        try:
            with discovery, open(out_path, "w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow([spreadsheet_safe(c) for c in (*kept, *RESULT_COLUMNS)])
                for row in tqdm(rows, desc="verify_emails", unit=" " + _("rows"), disable=None):
                    result = self._one(discovery, mode, lowered, row)
                    statuses[result["status"]] += 1
                    cells = [row.get(name, "") for name in kept]
                    cells += [result[name] for name in RESULT_COLUMNS]
                    writer.writerow([spreadsheet_safe(cell) for cell in cells])
                warnings = sorted(discovery.warnings)
        except OSError as exc:
            raise CommandError(
                _("Cannot write %(path)s: %(reason)s")
                % {"path": out_path, "reason": describe_os_error(exc)}
            ) from exc
        for warning in warnings:
            self.stderr.write(self.style.WARNING(warning_text(warning)))
        summary = ", ".join(f"{statuses[s]} {s}" for s in ("verified", "unknown", "risky",
                                                           "invalid") if statuses[s])
        self.stdout.write(
            ngettext(
                "%(rows)s row → %(path)s (%(summary)s)",
                "%(rows)s rows → %(path)s (%(summary)s)",
                len(rows),
            )
            % {"rows": len(rows), "path": out_path, "summary": summary or _("nothing to verify")}
        )

    def _one(
        self, discovery: Discovery, mode: str, columns: dict[str, str], row: dict[str, str]
    ) -> dict[str, str]:
        """One row's result; a row that breaks anything becomes a row with the reason."""
        try:
            if mode == "email":
                verdict = discovery.verify(row.get(columns["email"], "").strip())
            else:
                first, last, domain = (row.get(columns[c], "") for c in PERSON_COLUMNS)
                verdict = discovery.find_best(first, last, domain)
        except Exception as exc:  # one bad row never stops the file
            email = row.get(columns["email"], "").strip() if mode == "email" else ""
            verdict = Verdict(email, "unknown", 0, f"error:{type(exc).__name__}")
        return _cells(verdict)
