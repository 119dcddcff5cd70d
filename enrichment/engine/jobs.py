"""Job roll-up: a job's counters and status follow its items; its spend follows its calls; the
workspace's money pauses them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from ..models import EnrichmentItem, EnrichmentJob
from ..webhooks import events

Item = EnrichmentItem.Status


def charge_jobs(items: Iterable[EnrichmentItem], total: Decimal) -> None:
    """Spread one call's cost over the jobs its items belong to."""
    items = list(items)
    per_item = total / len(items) if items else Decimal(0)
    counts: dict[int, int] = {}
    for item in items:
        if item.job_id:
            counts[item.job_id] = counts.get(item.job_id, 0) + 1
    for job_id, count in counts.items():
        EnrichmentJob.objects.unscoped().filter(pk=job_id).update(
            spent_credits=F("spent_credits") + per_item * count
        )


def refresh_jobs(job_ids: Iterable[int]) -> None:
    """Recount each job's items and settle its status once nothing is left in flight.

    The job row is locked before counting: two workers settling a job's last two items at
    once would otherwise each count before the other's commit, and the later write of a stale
    count would leave the job running with nothing left to run."""
    for job_id in sorted(set(job_ids)):
        with transaction.atomic():
            _refresh_job(job_id)


def _refresh_job(job_id: int) -> None:
    jobs = EnrichmentJob.objects.unscoped().filter(pk=job_id)
    job = jobs.select_for_update().only("workspace_id", "status").first()
    if job is None:
        return
    counts = (
        EnrichmentItem.objects.for_workspace(job.workspace_id)
        .filter(job_id=job_id)
        .aggregate(
            total=Count("id"),
            done=Count("id", filter=Q(status=Item.DONE)),
            failed=Count("id", filter=Q(status=Item.NEEDS_REVIEW)),
            active=Count("id", filter=Q(status__in=EnrichmentItem.ACTIVE_STATUSES)),
        )
    )
    rolled_up = rolled_up_status(counts, job.status)
    EnrichmentJob.objects.for_workspace(job.workspace_id).filter(pk=job_id).update(
        total_items=counts["total"],
        done_items=counts["done"],
        failed_items=counts["failed"],
        **rolled_up,
    )
    if rolled_up.get("status", job.status) != job.status:
        # Under the row lock: of two workers settling the last items, one sees the change.
        events.emit_job_status(job.workspace_id, [job_id])


def rolled_up_status(counts: dict[str, int], current: str) -> dict:
    """A job runs (or stays paused) while any item is active; then completed, failed, or
    partially completed. A cancelled job stays cancelled."""
    if current == EnrichmentJob.Status.CANCELLED:
        return {"finished_at": None if counts["active"] else timezone.now()}
    if counts["active"]:
        if current == EnrichmentJob.Status.PAUSED:
            return {}
        return {"status": EnrichmentJob.Status.RUNNING, "finished_at": None}
    if counts["failed"] == 0:
        status = EnrichmentJob.Status.COMPLETED
    elif counts["done"] == 0:
        status = EnrichmentJob.Status.FAILED
    else:
        status = EnrichmentJob.Status.PARTIALLY_COMPLETED
    return {"status": status, "finished_at": timezone.now()}


def pause_queued_work(
    workspace_id: int,
    code: str,
    *,
    resume_at: dt.datetime,
    providers: Iterable[str],
    job_kinds: Iterable[str],
) -> list[int]:
    """The workspace's money says stop (`code`: the daily cap, the balance): its queued items
    of `providers` wait until `resume_at`, saying why, and its running jobs of `job_kinds`
    pause until then; the sweeper resumes them. Nothing is lost. Inside the caller's
    transaction; returns the ids of the jobs it paused (their webhooks are sent)."""
    local = timezone.localtime(resume_at).strftime("%d/%m/%Y %H:%M")
    now = timezone.now()
    EnrichmentItem.objects.for_workspace(workspace_id).filter(
        provider__in=list(providers), status=Item.PENDING, next_attempt_at__lt=resume_at
    ).update(next_attempt_at=resume_at, outcome=code, outcome_detail=local, updated_at=now)
    live_jobs = EnrichmentJob.objects.for_workspace(workspace_id).filter(
        kind__in=list(job_kinds),
        status__in=(EnrichmentJob.Status.PENDING, EnrichmentJob.Status.RUNNING),
    )
    # Locked, so that the jobs told they are paused are exactly the ones this pauses.
    paused = list(live_jobs.select_for_update().values_list("pk", flat=True))
    live_jobs.filter(pk__in=paused).update(
        status=EnrichmentJob.Status.PAUSED, pause_reason=code, paused_until=resume_at
    )
    events.emit_job_status(workspace_id, paused)
    return paused


def resume_money_pauses(workspace_id: int, codes: Iterable[str]) -> int:
    """Money came back (a top-up, a cap raised or removed): the workspace's items waiting
    for it (`codes`: the balance's, the cap's) are due now and its jobs paused for it run
    again, instead of waiting for the pause's end. If the money still falls short, the next
    reservation pauses them again. Returns how many items were released."""
    codes = list(codes)
    now = timezone.now()
    with transaction.atomic():
        released = (
            EnrichmentItem.objects.for_workspace(workspace_id)
            .filter(status=Item.PENDING, outcome__in=codes)
            .update(next_attempt_at=now, outcome="", outcome_detail="", updated_at=now)
        )
        jobs = EnrichmentJob.objects.for_workspace(workspace_id).filter(
            status=EnrichmentJob.Status.PAUSED, pause_reason__in=codes
        )
        resumed = list(jobs.select_for_update().values_list("pk", flat=True))
        jobs.filter(pk__in=resumed).update(
            status=EnrichmentJob.Status.RUNNING, paused_until=None, pause_reason=""
        )
        events.emit_job_status(workspace_id, resumed)
    return released
