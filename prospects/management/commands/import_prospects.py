from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse
from django.utils import formats, translation
from django.utils.translation import gettext as _
from tqdm import tqdm

from prospects import imports
from prospects.models import ImportBatch, Workspace


class Command(BaseCommand):
    help = "Import prospects from a CSV file into a workspace."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="CSV file (any Excel CSV export, UTF-8, cp1252 or UTF-16)")
        parser.add_argument("--workspace", required=True, help="slug of the target workspace")
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would happen, write nothing"
        )
        parser.add_argument(
            "--rejected-out", metavar="FILE", help="also write the rejected rows to this CSV file"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        translation.activate(settings.LANGUAGE_CODE)
        workspace = self._workspace(options["workspace"])
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("File not found: %(path)s") % {"path": path})
        if options["dry_run"]:
            self._dry_run(workspace, path)
            return
        if options["rejected_out"]:
            self._check_writable(Path(options["rejected_out"]))
        try:
            # No size limit here (SOURCIER_IMPORT_MAX_BYTES is the upload page's): the file is
            # already on this machine's disk, and files of millions of rows are imported so.
            with open(path, "rb") as source:
                batch = imports.create_batch(
                    workspace,
                    chunks=iter(lambda: source.read(1024 * 1024), b""),
                    filename=path.name,
                    allow_unknown_columns=False,
                )
        except imports.ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        self._warn_ignored(batch)
        previous = imports.previous_import(batch)
        if previous:
            self.stderr.write(
                _("This file was already imported on %(date)s: expect duplicates.")
                % {"date": formats.date_format(previous.finished_at, "SHORT_DATETIME_FORMAT")}
            )
        with self._progress(batch.mapping["row_count"]) as bar:
            batch = imports.run_import(batch, progress=bar.update)
        if batch.status != ImportBatch.Status.DONE:
            raise CommandError(batch.error or batch.get_status_display())
        self.stdout.write(
            _("Import of %(file)s finished. %(summary)s")
            % {"file": batch.filename, "summary": imports.summary_text(batch)}
        )
        self._report_rejected(batch, options["rejected_out"])

    def _workspace(self, slug: str) -> Workspace:
        workspace = Workspace.objects.filter(slug=slug).first()
        if workspace is None:
            known = ", ".join(Workspace.objects.order_by("slug").values_list("slug", flat=True))
            raise CommandError(
                _('No workspace has the slug "%(slug)s". Existing workspaces: %(known)s.')
                % {"slug": slug, "known": known or "—"}
            )
        return workspace

    def _progress(self, total: int) -> tqdm:
        # tqdm rewrites its line with "\r": write to the raw stream, not the wrapper that adds
        # a newline (and a colour) to every write.
        stream = getattr(self.stderr, "_out", self.stderr)
        return tqdm(total=total, unit=" " + _("rows"), file=stream, mininterval=0.5)

    def _warn_ignored(self, batch: ImportBatch) -> None:
        fields = imports.batch_fields(batch)
        ignored = [c for c, f in zip(imports.batch_columns(batch), fields, strict=True) if not f]
        if ignored:
            self.stderr.write(
                _("Columns not recognised, ignored: %(columns)s") % {"columns": ", ".join(ignored)}
            )

    def _dry_run(self, workspace: Workspace, path: Path) -> None:
        try:
            header = imports.read_header(path)
            total = imports.count_rows(path, header)
        except imports.ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        if not imports.has_identity(header.fields):
            raise CommandError(imports.identity_error())
        batch = ImportBatch(
            workspace=workspace,
            filename=path.name,
            encoding=header.encoding,
            delimiter=header.delimiter,
            mapping={**header.mapping(), "row_count": total},
            stored_file=str(path.resolve()),
        )
        self._warn_ignored(batch)
        counts = imports.preview_import(batch, limit=0).counts
        self.stdout.write(
            _(
                "Dry run, nothing was written. Would create: %(new)s, duplicates: %(duplicates)s, "
                "on the objection list: %(suppressed)s, invalid: %(invalid)s."
            )
            % {
                "new": counts.new,
                "duplicates": counts.duplicate,
                "suppressed": counts.suppressed,
                "invalid": counts.invalid,
            }
        )

    def _check_writable(self, out: Path) -> None:
        """Said before the import rather than after it, when the rows could not be written."""
        folder = out.parent
        if out.is_dir() or not folder.is_dir() or not os.access(folder, os.W_OK):
            raise CommandError(
                _(
                    "Cannot write the rejected rows to %(path)s: choose a file in a folder "
                    "you can write to."
                )
                % {"path": out}
            )

    def _report_rejected(self, batch: ImportBatch, out: str | None) -> None:
        if not batch.rejected_count:
            return
        if out:
            # The rows hold personal data: readable by this account only, like the uploads.
            descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with open(descriptor, "w", encoding="utf-8", newline="") as fh:
                fh.writelines(imports.iter_rejected_csv(batch))
            self.stdout.write(_("Rejected rows written to %(path)s.") % {"path": out})
            return
        url = reverse("admin:prospects_importbatch_rejected", args=[batch.pk])
        self.stdout.write(
            _("Rejected rows, with their reason: %(url)s (in the admin).") % {"url": url}
        )
