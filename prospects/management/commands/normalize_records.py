from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _
from tqdm import tqdm

from prospects import services
from prospects.models import Workspace


class Command(BaseCommand):
    help = (
        "Derive seniority, department, industry code and legal form of existing prospects and "
        "companies (in batches; safe to stop and re-run)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", help="slug of one workspace (default: every one)")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=1000,
            help="records per transaction (default 1000)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        translation.activate(settings.LANGUAGE_CODE)
        if options["batch_size"] < 1:
            raise CommandError(_("The batch size must be at least 1."))
        workspaces = Workspace.objects.order_by("pk")
        if options["workspace"] is not None:
            slug = options["workspace"].strip()
            workspaces = workspaces.filter(slug=slug)
            if not workspaces.exists():
                raise CommandError(_("No workspace has the slug “%(slug)s”.") % {"slug": slug})
        ids = list(workspaces.values_list("pk", flat=True))
        # tqdm rewrites its line with "\r": the raw stream, not the wrapper adding newlines.
        stream = getattr(self.stderr, "_out", self.stderr)
        total = services.count_records(ids)
        with tqdm(total=total, unit=" " + _("records"), file=stream, mininterval=0.5) as bar:
            count = services.normalize_records(
                ids, batch_size=options["batch_size"], progress=bar.update
            )
        self.stdout.write(
            _(
                "Prospects: %(prospects_read)s read, %(prospects_written)s updated; "
                "companies: %(companies_read)s read, %(companies_written)s updated."
            )
            % vars(count)
        )
