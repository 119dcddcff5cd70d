from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _
from tqdm import tqdm

from enrichment.discovery import contacts
from enrichment.discovery.company import discover_company
from enrichment.discovery.smtp import ProbeConfigError
from enrichment.discovery.warning_texts import warning_text
from prospects.models import Workspace


class Command(BaseCommand):
    help = "Discover a company's people from its website and find their work emails for free."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True, help="slug of the workspace")
        parser.add_argument("--domain", required=True, help="the company's domain, e.g. exemple.fr")
        parser.add_argument(
            "--wait",
            action="store_true",
            help="show a progress bar and return when every person is checked",
        )
        parser.add_argument("--no-smtp", action="store_true", help="stop at syntax and DNS")
        parser.add_argument(
            "--people-search",
            action="store_true",
            help="also ask the people searches the workspace has a key for, AI Ark then Apollo "
            "(paid; cached)",
        )
        parser.add_argument("--json", action="store_true", help="last line: one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        translation.activate("fr")
        workspace = Workspace.objects.filter(slug=options["workspace"]).first()
        if workspace is None:
            raise CommandError(
                _("No workspace with the slug “%(slug)s”.") % {"slug": options["workspace"]}
            )
        bar = tqdm(total=0, unit=" personne", file=self.stderr, disable=not options["wait"])

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        try:
            run = discover_company(
                workspace,
                options["domain"],
                smtp=not options["no_smtp"],
                progress=progress,
                search_people=options["people_search"],
            )
        except (contacts.DiscoveryRefused, ProbeConfigError) as refusal:
            raise CommandError(str(refusal)) from refusal
        finally:
            bar.close()
        self.stdout.write(
            _(
                "%(domain)s: %(pages)s pages read, %(people)s people named, %(added)s new "
                "contacts to review, %(objected)s left out (objection list)."
            )
            % {
                "domain": run.domain,
                "pages": run.pages,
                "people": run.people,
                "added": run.added,
                "objected": run.objected,
            }
        )
        for warning in sorted(run.warnings):
            self.stdout.write(warning_text(warning))
        if run.refused:
            self.stdout.write(run.refused)
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "domain": run.domain,
                        "pages": run.pages,
                        "people": run.people,
                        "added": run.added,
                        "objected": run.objected,
                        "statuses": dict(run.statuses),
                        "contacts": run.contact_ids,
                        "refused": run.refused,
                        "provider_people": run.provider_people,
                        "cost": str(run.cost),
                    }
                )
            )
