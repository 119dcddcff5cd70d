from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from tqdm import tqdm

from config.file_errors import describe_os_error
from enrichment import bulk
from enrichment.models import EnrichmentItem, EnrichmentJob
from prospects import services as prospect_services
from prospects.models import Prospect, Workspace

POLL_SECONDS = 0.5
Item = EnrichmentItem.Status
# A job stops being waited for when it is settled, or paused (until midnight, or a top-up).
STOPPED = {
    EnrichmentJob.Status.COMPLETED,
    EnrichmentJob.Status.PARTIALLY_COMPLETED,
    EnrichmentJob.Status.FAILED,
    EnrichmentJob.Status.CANCELLED,
    EnrichmentJob.Status.PAUSED,
}


def _list(value: str) -> list[str]:
    return [part.strip().lower() for part in value.split(",") if part.strip()]


def job_counts(job: EnrichmentJob) -> dict[str, int]:
    """The job's items by state, with every key present."""
    rows = dict(
        EnrichmentItem.objects.for_workspace(job.workspace_id)
        .filter(job=job)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {
        "total": sum(rows.values()),
        "pending": rows.get(Item.PENDING, 0),
        "waiting_key": rows.get(Item.WAITING_KEY, 0),
        "in_flight": rows.get(Item.SUBMITTED, 0),
        "done": rows.get(Item.DONE, 0),
        "needs_review": rows.get(Item.NEEDS_REVIEW, 0),
        "cancelled": rows.get(Item.CANCELLED, 0),
    }


class Command(BaseCommand):
    help = "Enrich a workspace's prospects through the provider waterfall, as one job."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True, help="slug of the workspace")
        parser.add_argument(
            "--fields", required=True, help="what to find: email, company, or email,company"
        )
        parser.add_argument(
            "--providers", help="provider order, e.g. prospeo,leadmagic,findymail (default)"
        )
        parser.add_argument(
            "--only-status",
            help="comma-separated prospect statuses (default: new,not_verified,needs_review)",
        )
        parser.add_argument(
            "--csv",
            metavar="FILE",
            help="only the prospects this CSV names (an email, LinkedIn or id column)",
        )
        parser.add_argument(
            "--estimate", action="store_true", help="print what it would cost and stop"
        )
        parser.add_argument(
            "--wait", action="store_true", help="return when the job finishes or pauses"
        )
        parser.add_argument("--timeout", type=float, default=0, help="seconds --wait may take")
        parser.add_argument("--json", action="store_true", help="last line: one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        translation.activate("fr")
        workspace = Workspace.objects.filter(slug=options["workspace"]).first()
        if workspace is None:
            raise CommandError(
                _("No workspace with the slug “%(slug)s”.") % {"slug": options["workspace"]}
            )
        if options["timeout"] < 0:
            # Refused before the job starts: it spends money, and could not be waited for.
            raise CommandError(
                _("--timeout is a number of seconds, 0 or more (0: no limit): %(value)s.")
                % {"value": f"{options['timeout']:g}"}
            )
        statuses = _list(options["only_status"] or "") or list(bulk.DEFAULT_STATUSES)
        valid = set(Prospect.Status.values)
        if unknown := [s for s in statuses if s not in valid]:
            raise CommandError(
                _("Unknown status: %(statuses)s. Available: %(available)s.")
                % {"statuses": ", ".join(unknown), "available": ", ".join(sorted(valid))}
            )
        selection = self.select(workspace, options["csv"]) if options["csv"] else None
        try:
            estimate = bulk.estimate_job(
                workspace.pk,
                selection.prospect_ids if selection else None,
                fields=_list(options["fields"]),
                providers=_list(options["providers"]) if options["providers"] else None,
                statuses=statuses,
            )
        except bulk.JobRefused as refused:
            raise CommandError(str(refused)) from refused
        self.stdout.write(bulk.describe_estimate(estimate))
        if options["estimate"]:
            if options["json"]:
                self.stdout.write(
                    json.dumps(
                        {
                            "job": None,
                            "status": "estimated",
                            "counts": {"total": estimate.count},
                            "estimate": {
                                "providers": estimate.providers,
                                "most": float(estimate.most),
                            },
                            **self.csv_json(selection),
                        }
                    )
                )
            return
        job = bulk.start_job(workspace, estimate)
        self.stdout.write(_("Job #%(job)s started.") % {"job": job.pk})
        timed_out = options["wait"] and not self.wait(job, options["timeout"])
        job.refresh_from_db()
        if job.status == EnrichmentJob.Status.PAUSED:
            self.stdout.write(_("Paused until %(when)s.") % {"when": job.paused_until})
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "job": job.pk,
                        "status": job.status,
                        "counts": job_counts(job),
                        **self.csv_json(selection),
                    }
                )
            )
        if timed_out:
            raise CommandError(_("Not finished after %(s)s s.") % {"s": options["timeout"]})

    def select(self, workspace: Workspace, path: str) -> Any:
        """The prospects the file names, with a line saying how many rows named no one."""
        try:
            selection = prospect_services.select_prospects_from_csv(workspace.pk, path)
        except OSError as error:
            raise CommandError(
                _("Cannot read %(path)s: %(error)s")
                % {"path": path, "error": describe_os_error(error)}
            ) from error
        except prospect_services.SelectionFileError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            ngettext(
                "%(path)s: %(rows)s row read; prospects of the workspace it names: %(found)s.",
                "%(path)s: %(rows)s rows read; prospects of the workspace they name: %(found)s.",
                selection.rows,
            )
            % {"path": path, "rows": selection.rows, "found": len(selection.prospect_ids)}
        )
        if selection.unmatched:
            self.stdout.write(
                _("Rows naming no prospect of the workspace: %(lines)s")
                % {"lines": selection.unmatched_text()}
            )
        return selection

    @staticmethod
    def csv_json(selection: Any) -> dict[str, Any]:
        if selection is None:
            return {}
        return {
            "csv": {
                "rows": selection.rows,
                "matched": len(selection.prospect_ids),
                "unmatched_lines": selection.unmatched,
            }
        }

    def wait(self, job: EnrichmentJob, timeout: float) -> bool:
        """A progress bar until the job stops; False if `timeout` ran out first."""
        deadline = time.monotonic() + timeout if timeout else None
        with tqdm(total=job.total_items, unit="prospect", file=self.stderr) as bar:
            while True:
                job.refresh_from_db()
                counts = job_counts(job)
                bar.n = counts["done"] + counts["needs_review"] + counts["cancelled"]
                bar.refresh()
                if job.status in STOPPED:
                    return True
                if deadline is not None and time.monotonic() > deadline:
                    return False
                time.sleep(POLL_SECONDS)
