"""Enrichment services: queue prospects, re-enrich, progress (the beat sweeper is `sweeper`).

API keys live in `credentials`; the names below are kept for the pipeline and the tasks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from prospects import services as prospect_services
from prospects.models import OBJECTION_REASONS, Prospect, Workspace, auto_enrich_steps

from .credentials import (  # noqa: F401 (re-exported for the pipeline and tasks)
    get_api_key,
    mark_key_refused,
    set_api_key,
    waiting_outcome,
)
from .engine.outcomes import Outcome
from .models import EnrichmentItem, EnrichmentJob, ProviderCredential
from .providers.registry import get_provider
from .webhooks import events

log = logging.getLogger(__name__)

DROPCONTACT = "dropcontact"
Item = EnrichmentItem.Status
REENRICHABLE = (Prospect.Status.NEEDS_REVIEW, Prospect.Status.NOT_VERIFIED)


# --- Items waiting for a key -------------------------------------------------------------


def release_waiting_items(workspace_id: int, provider: str) -> int:
    """Items waiting for this provider's key start again (a waterfall's, for any of its
    email finders)."""
    from .pipelines.waterfall import PIPELINE
    from .providers.finders import EMAIL_FINDERS
    from .waterfall_queue import dispatch_waterfall

    pipelines = [provider, PIPELINE] if provider in EMAIL_FINDERS else [provider]
    released = (
        EnrichmentItem.objects.for_workspace(workspace_id)
        .filter(provider__in=pipelines, status=Item.WAITING_KEY)
        .update(status=Item.PENDING, next_attempt_at=timezone.now(), outcome="", outcome_detail="")
    )
    if released:
        schedule_submit(workspace_id)
        transaction.on_commit(lambda: dispatch_waterfall(workspace_id))
    return released


def queue_new_prospects(workspace_id: int, prospect_ids: list[int]) -> list[int]:
    """New prospects get what their workspace chose: Dropcontact (then, for those it does not
    verify, the email waterfall), the email waterfall alone, or nothing."""
    # One query for both: a worker queues the prospects an admin form or the API creates one
    # at a time, so what it costs per call is paid per prospect.
    usable_key = ProviderCredential.objects.unscoped().filter(
        workspace_id=OuterRef("pk"), provider=DROPCONTACT, refused_at__isnull=True
    )
    choice, has_key = (
        Workspace.objects.filter(pk=workspace_id)
        .values_list("auto_enrich", Exists(usable_key))
        .first()
    ) or (Workspace.AutoEnrich.NONE, False)
    steps = auto_enrich_steps(choice)
    if not steps:
        return []
    if steps[0] == DROPCONTACT:
        return queue_enrichment(workspace_id, prospect_ids, has_key=has_key)
    from .waterfall_queue import queue_auto_waterfall

    return queue_auto_waterfall(workspace_id, prospect_ids)


# --- Queueing ----------------------------------------------------------------------------


def queue_enrichment(
    workspace_id: int,
    prospect_ids: list[int],
    *,
    statuses: tuple[str, ...] = (Prospect.Status.NEW,),
    job: EnrichmentJob | None = None,
    provider: str = DROPCONTACT,
    has_key: bool | None = None,
) -> list[int]:
    """Queue Dropcontact items for these prospects; returns the prospect ids queued.

    Never for a suppressed person, never twice while one is live (a partial unique constraint
    backs this up under concurrency), never while the email waterfall has one queued for the
    prospect (not yet *En cours* until its dispatch). `has_key`: whether the workspace has a
    usable key for `provider`, when the caller already knows.
    """
    from .pipelines.waterfall import PIPELINE as WATERFALL_PIPELINE

    candidates = list(
        Prospect.objects.for_workspace(workspace_id)
        .filter(pk__in=prospect_ids, status__in=statuses)
        .exclude(verification_reason__in=OBJECTION_REASONS)
        .exclude(
            pk__in=EnrichmentItem.objects.for_workspace(workspace_id)
            .active()
            .filter(provider__in=(provider, WATERFALL_PIPELINE))
            .values("prospect_id")
        )
        .only("pk", "email", "phone")
    )
    blocked = prospect_services.objecting_prospect_ids(workspace_id, candidates)
    chosen = [p.pk for p in candidates if p.pk not in blocked]
    if not chosen:
        return []
    if has_key is None:
        has_key = (
            ProviderCredential.objects.for_workspace(workspace_id)
            .filter(provider=provider, refused_at__isnull=True)
            .exists()
        )
    status = Item.PENDING if has_key else Item.WAITING_KEY
    outcome = "" if has_key else waiting_outcome(workspace_id, provider)
    now = timezone.now()
    with transaction.atomic():
        EnrichmentItem.objects.bulk_create(
            [
                EnrichmentItem(
                    workspace_id=workspace_id,
                    prospect_id=pk,
                    provider=provider,
                    job=job,
                    status=status,
                    outcome=outcome,
                    next_attempt_at=now,
                )
                for pk in chosen
            ],
            ignore_conflicts=True,
            batch_size=500,
        )
        Prospect.objects.for_workspace(workspace_id).filter(pk__in=chosen).update(
            status=Prospect.Status.ENRICHING, updated_at=now
        )
    if has_key:
        schedule_submit(workspace_id)
    return chosen


def cancel_objecting_items(
    workspace_id: int, *, item_ids: list[int] | None = None, prospect_ids: list[int] | None = None
) -> set[int]:
    """Cancel the live items (of these ids, or these prospects) of people on the objection list.

    Returns the ids of the items cancelled. Their prospects stop being enriched: they are left
    not verified, saying why, so that they can never enter a campaign.
    """
    items = EnrichmentItem.objects.for_workspace(workspace_id).active()
    if item_ids is not None:
        items = items.filter(pk__in=item_ids)
    if prospect_ids is not None:
        items = items.filter(prospect_id__in=prospect_ids)
    live = list(items.values_list("pk", "prospect_id", "job_id"))
    if not live:
        return set()
    prospects = Prospect.objects.for_workspace(workspace_id).filter(
        pk__in={prospect_id for _pk, prospect_id, _job in live}
    )
    objecting = prospect_services.objecting_prospect_ids(
        workspace_id, prospects.only("pk", "email", "phone")
    )
    cancelled = {pk for pk, prospect_id, _job in live if prospect_id in objecting}
    if not cancelled:
        return set()
    message = str(Prospect.Reason.OBJECTED.label)
    now = timezone.now()
    with transaction.atomic():
        EnrichmentItem.objects.for_workspace(workspace_id).filter(
            pk__in=cancelled, status__in=EnrichmentItem.ACTIVE_STATUSES
        ).update(
            status=Item.CANCELLED,
            outcome=Outcome.OBJECTED,
            outcome_detail="",
            finished_at=now,
            updated_at=now,
        )
        Prospect.objects.for_workspace(workspace_id).filter(
            pk__in=objecting, status=Prospect.Status.ENRICHING
        ).update(
            status=Prospect.Status.NOT_VERIFIED,
            verified_at=None,
            verification_reason=Prospect.Reason.OBJECTED,
            last_error=message,
            updated_at=now,
        )
    from .engine.jobs import refresh_jobs

    refresh_jobs({job for pk, _prospect, job in live if job and pk in cancelled})
    log.info("workspace %s: %s items cancelled (objection)", workspace_id, len(cancelled))
    return cancelled


def schedule_submit(workspace_id: int) -> None:
    """Ask a worker to submit what is due, once the current transaction commits."""
    from .tasks import submit_dropcontact_task

    # Right after the batching window, so what is queued meanwhile travels together; one
    # scheduled submit per workspace and window is enough (the sweeper backs it up).
    countdown = settings.DROPCONTACT_BATCH_WINDOW_SECONDS
    if countdown and not cache.add(f"sourcier:submit-scheduled:{workspace_id}", 1, countdown):
        return
    transaction.on_commit(
        lambda: submit_dropcontact_task.apply_async((workspace_id,), countdown=countdown)
    )


@dataclass
class RequeueResult:
    queued: list[Prospect] = field(default_factory=list)
    refused: list[tuple[Prospect, str]] = field(default_factory=list)
    busy: set[int] = field(default_factory=set)  # refused: another enrichment holds them


ALREADY_ENRICHING = gettext_lazy("An enrichment of this prospect is already queued or under way.")


def busy_prospect_ids(workspace_id: int, prospect_ids: list[int]) -> set[int]:
    """Those of `prospect_ids` that an enrichment already holds: a live Dropcontact item, or a
    live email-waterfall item (queued, not yet *En cours* until its dispatch)."""
    from .pipelines.waterfall import PIPELINE as WATERFALL_PIPELINE

    return set(
        EnrichmentItem.objects.for_workspace(workspace_id)
        .active()
        .filter(provider__in=(DROPCONTACT, WATERFALL_PIPELINE), prospect_id__in=prospect_ids)
        .values_list("prospect_id", flat=True)
    )


def reenrich_prospects(
    workspace: Workspace, prospect_ids: list[int], *, user: Any = None
) -> RequeueResult:
    """'Relancer l'enrichissement': NEEDS_REVIEW / NOT_VERIFIED prospects go back to the queue.

    Never a prospect another enrichment holds (`result.busy`), and no job when nobody goes."""
    result = RequeueResult()
    prospects = list(Prospect.objects.for_workspace(workspace).filter(pk__in=prospect_ids))
    eligible = []
    for prospect in prospects:
        if prospect.status in REENRICHABLE:
            eligible.append(prospect)
        else:
            result.refused.append(
                (
                    prospect,
                    _(
                        "Only prospects that are not verified or need review can be re-enriched "
                        "(current status: %(status)s)."
                    )
                    % {"status": prospect.get_status_display()},
                )
            )
    busy = busy_prospect_ids(workspace.pk, [p.pk for p in eligible])
    for prospect in eligible:
        if prospect.pk in busy:
            result.busy.add(prospect.pk)
            result.refused.append((prospect, str(ALREADY_ENRICHING)))
    eligible = [p for p in eligible if p.pk not in busy]
    if not eligible:
        return result
    with transaction.atomic():
        job = EnrichmentJob.objects.create(
            workspace=workspace,
            kind=EnrichmentJob.Kind.DROPCONTACT,
            status=EnrichmentJob.Status.RUNNING,
            created_by=user if getattr(user, "pk", None) else None,
        )
        queued = set(
            queue_enrichment(workspace.pk, [p.pk for p in eligible], statuses=REENRICHABLE, job=job)
        )
        if queued:
            job.total_items = len(queued)
            job.estimated_credits = len(queued) * get_provider(DROPCONTACT).max_cost
            job.save(update_fields=["total_items", "estimated_credits"])
        else:
            job.delete()  # an empty job would never end: nothing of it would ever settle
    for prospect in eligible:
        if prospect.pk in queued:
            prospect.status = Prospect.Status.ENRICHING
            result.queued.append(prospect)
        else:
            result.refused.append((prospect, _("This person is on the objection list.")))
    return result


def queue_backfill(
    workspace: Workspace, *, status: str = Prospect.Status.NEW, user: Any = None
) -> EnrichmentJob:
    """Queue every prospect of the workspace with this status, as one job."""
    job = EnrichmentJob.objects.create(
        workspace=workspace,
        kind=EnrichmentJob.Kind.DROPCONTACT,
        status=EnrichmentJob.Status.RUNNING,
        created_by=user if getattr(user, "pk", None) else None,
    )
    ids = list(
        Prospect.objects.for_workspace(workspace).filter(status=status).values_list("pk", flat=True)
    )
    queued = 0
    for start in range(0, len(ids), 1000):
        queued += len(
            queue_enrichment(workspace.pk, ids[start : start + 1000], statuses=(status,), job=job)
        )
    job.total_items = queued
    job.estimated_credits = queued * get_provider(DROPCONTACT).max_cost
    fields = ["total_items", "estimated_credits"]
    if not queued:
        job.status = EnrichmentJob.Status.COMPLETED
        job.finished_at = timezone.now()
        fields += ["status", "finished_at"]
    # Not the status of a queued job: a worker may already have paused it (the daily cap).
    job.save(update_fields=fields)
    if not queued:
        events.emit_job_status(workspace.pk, [job.pk])
    return job


# --- Progress ----------------------------------------------------------------------------


@dataclass
class Progress:
    queued: int
    waiting_key: int
    in_flight: int
    done: int
    failed: int

    @property
    def total(self) -> int:
        return self.queued + self.waiting_key + self.in_flight + self.done + self.failed

    @property
    def settled(self) -> bool:
        return self.queued + self.in_flight == 0


def count_latest_items(workspace_id: int, items: QuerySet) -> dict[str, int]:
    """Items by status, each prospect counted once, by its latest item among `items`.

    A prospect enriched again gets an item per request: counting items said "Terminés 291"
    of a workspace of 288 prospects.
    """
    latest = items.order_by().values("prospect_id").annotate(last=Max("pk")).values("last")
    rows = (
        EnrichmentItem.objects.for_workspace(workspace_id)
        .filter(pk__in=latest)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    return dict(rows)


def enrichment_progress(workspace_id: int, *, job: EnrichmentJob | None = None) -> Progress:
    """Counts of the workspace's (or one job's) items by what a person cares about."""
    items = EnrichmentItem.objects.for_workspace(workspace_id).filter(provider=DROPCONTACT)
    if job is not None:
        items = items.filter(job=job)
    counts = count_latest_items(workspace_id, items)
    return Progress(
        queued=counts.get(Item.PENDING, 0),
        waiting_key=counts.get(Item.WAITING_KEY, 0),
        in_flight=counts.get(Item.SUBMITTED, 0),
        done=counts.get(Item.DONE, 0),
        failed=counts.get(Item.NEEDS_REVIEW, 0),
    )
