from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from tqdm import tqdm

from enrichment import services
from enrichment.engine import ledger
from enrichment.management.commands.credits import euros
from enrichment.models import EnrichmentItem, EnrichmentJob, ProviderBatch, ProviderCredential
from enrichment.providers.registry import get_provider
from prospects.models import Prospect, Workspace

BACKFILL_STATUSES = (
    Prospect.Status.NEW,
    Prospect.Status.NOT_VERIFIED,
    Prospect.Status.NEEDS_REVIEW,
)
POLL_SECONDS = 1.0


def work_overdue(workspace_id: int, seconds: float) -> bool:
    """Whether some step has been due for `seconds` without any worker taking it."""
    cutoff = timezone.now() - dt.timedelta(seconds=seconds)
    items = (
        EnrichmentItem.objects.for_workspace(workspace_id)
        .due(cutoff)
        .filter(provider=services.DROPCONTACT)
    )
    # A worker that takes a batch step pushes its next_attempt_at forward (its lease).
    batches = ProviderBatch.objects.for_workspace(workspace_id).filter(
        status__in=[ProviderBatch.Status.SENDING, ProviderBatch.Status.POLLING],
        next_attempt_at__lte=cutoff,
    )
    return items.exists() or batches.exists()


class Command(BaseCommand):
    help = "Queue a workspace's prospects for Dropcontact enrichment, and optionally wait."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True, help="slug of the workspace")
        parser.add_argument(
            "--status",
            default=Prospect.Status.NEW,
            type=str.lower,
            choices=[status.value for status in BACKFILL_STATUSES],
            help="queue the prospects with this status (default: new)",
        )
        parser.add_argument(
            "--wait", action="store_true", help="show a progress bar until the job settles"
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=3600.0,
            help="with --wait, give up waiting after this many seconds (default: 3600)",
        )
        parser.add_argument(
            "--stall-after",
            type=float,
            default=60.0,
            help="with --wait, warn that no worker runs once due work waited this long",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        translation.activate(settings.LANGUAGE_CODE)
        workspace = self._workspace(options["workspace"])
        if options["wait"] and options["timeout"] <= 0:
            # Refused before anything is queued: it could not be waited for.
            raise CommandError(
                _("--timeout is a number of seconds above 0: %(value)s.")
                % {"value": f"{options['timeout']:g}"}
            )
        status = Prospect.Status(options["status"])
        job = services.queue_backfill(workspace, status=status)
        follow_url = reverse("enrichment:progress") + f"?job={job.pk}"
        if not job.total_items:
            self.stdout.write(
                _("No prospect with the status “%(status)s” to enrich in %(workspace)s.")
                % {"status": status.label, "workspace": workspace}
            )
            return
        self.stdout.write(
            ngettext(
                "%(count)s prospect queued for Dropcontact in %(workspace)s (job #%(job)s).",
                "%(count)s prospects queued for Dropcontact in %(workspace)s (job #%(job)s).",
                job.total_items,
            )
            % {"count": job.total_items, "workspace": workspace, "job": job.pk}
        )
        has_key = (
            ProviderCredential.objects.for_workspace(workspace)
            .filter(provider=services.DROPCONTACT)
            .exists()
        )
        if not has_key:
            self.stderr.write(
                _(
                    "This workspace has no Dropcontact API key: the prospects wait "
                    "(“API key missing”) until an administrator adds one in the admin."
                )
            )
        self._warn_about_money(workspace)
        if not options["wait"]:
            self.stdout.write(_("Follow it in the admin: %(url)s") % {"url": follow_url})
            return
        progress = self._wait(workspace, job, options["timeout"], options["stall_after"])
        self.stdout.write(self._summary(workspace, job, progress))
        if job.status == EnrichmentJob.Status.PAUSED:
            # Until midnight (the daily cap) or a top-up: not worth waiting for here.
            when = timezone.localtime(job.paused_until).strftime("%d/%m/%Y %H:%M")
            self.stdout.write(_("Paused until %(when)s.") % {"when": when})
            return
        if not progress.settled:
            raise CommandError(
                _(
                    "Still not finished after %(seconds)s s; the work goes on in the background. "
                    "Follow it in the admin: %(url)s"
                )
                % {"seconds": f"{options['timeout']:g}", "url": follow_url}
            )

    def _warn_about_money(self, workspace: Workspace) -> None:
        """Dropcontact is paid from the workspace's credits: say so when they cannot pay."""
        each = get_provider(services.DROPCONTACT).max_cost
        balance = ledger.balance(workspace.pk)
        if balance < each:
            self.stderr.write(
                _(
                    "The credit balance (%(balance)s) does not pay for one record "
                    "(%(each)s): the prospects wait until the workspace is topped up "
                    "(manage.py credits --top-up)."
                )
                % {"balance": euros(balance), "each": euros(each)}
            )

    def _workspace(self, slug: str) -> Workspace:
        workspace = Workspace.objects.filter(slug=slug).first()
        if workspace is None:
            known = ", ".join(Workspace.objects.order_by("slug").values_list("slug", flat=True))
            raise CommandError(
                _("No workspace has the slug “%(slug)s”. Existing workspaces: %(known)s.")
                % {"slug": slug, "known": known or "—"}
            )
        return workspace

    def _wait(
        self, workspace: Workspace, job: EnrichmentJob, timeout: float, stall_after: float
    ) -> services.Progress:
        """Poll the job's items until they settle or the timeout passes, with a progress bar."""
        # tqdm rewrites its line with "\r": write to the raw stream, not the wrapper that adds
        # a newline (and a colour) to every write.
        stream = getattr(self.stderr, "_out", self.stderr)
        start = time.monotonic()
        last_seen, last_change, warned = None, start, False
        with tqdm(total=job.total_items, unit=" prospects", file=stream, mininterval=0.5) as bar:
            while True:
                progress = services.enrichment_progress(workspace.pk, job=job)
                # Waiting for a key counts as settled: only a person can move those on.
                bar.n = progress.done + progress.failed + progress.waiting_key
                bar.refresh()
                now = time.monotonic()
                if progress.settled:
                    return progress
                job.refresh_from_db(fields=["status", "paused_until"])
                if job.status == EnrichmentJob.Status.PAUSED:
                    return progress
                seen = (progress.queued, progress.in_flight, bar.n)
                if seen != last_seen:
                    last_seen, last_change = seen, now
                if (
                    not warned
                    and now - last_change >= stall_after
                    and work_overdue(workspace.pk, stall_after)
                ):
                    warned = True
                    bar.write(self._no_worker_message(stall_after), file=stream)
                if now - start >= timeout:
                    return progress
                time.sleep(min(POLL_SECONDS, max(0.0, timeout - (now - start))))

    def _no_worker_message(self, seconds: float) -> str:
        return _(
            "Nothing has moved for %(seconds)s s although work is due: no Celery worker seems "
            "to be running. Start everything with “make run”, or a worker and the scheduler "
            "with “.venv/bin/celery -A config worker --loglevel INFO” and "
            "“.venv/bin/celery -A config beat --loglevel INFO”."
        ) % {"seconds": f"{seconds:g}"}

    def _summary(
        self, workspace: Workspace, job: EnrichmentJob, progress: services.Progress
    ) -> str:
        verdicts = dict(
            Prospect.objects.for_workspace(workspace)
            .filter(enrichment_items__job=job, enrichment_items__status=EnrichmentItem.Status.DONE)
            .values_list("status")
            .annotate(n=Count("id"))
            .order_by()
        )
        return _(
            "Job #%(job)s: verified: %(verified)s · not verified: %(not_verified)s · "
            "to review: %(review)s · waiting for an API key: %(waiting)s · "
            "still in progress: %(pending)s."
        ) % {
            "job": job.pk,
            "verified": verdicts.get(Prospect.Status.VERIFIED, 0),
            "not_verified": progress.done - verdicts.get(Prospect.Status.VERIFIED, 0),
            "review": progress.failed,
            "waiting": progress.waiting_key,
            "pending": progress.queued + progress.in_flight,
        }
