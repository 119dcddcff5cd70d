"""Queueing prospects for a waterfall: one item per prospect (never two live at once), each
handed to a worker; the automatic email waterfall of the workspaces that chose it (on import,
or after Dropcontact)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from prospects import services as prospect_services
from prospects.models import OBJECTION_REASONS, Prospect

from . import credentials
from .engine import bulk_sql
from .models import EnrichmentItem, EnrichmentJob
from .pipelines import waterfall

Item = EnrichmentItem.Status
# What a bulk job enriches when no status is given: everyone not yet verified.
DEFAULT_STATUSES = (
    Prospect.Status.NEW,
    Prospect.Status.NOT_VERIFIED,
    Prospect.Status.NEEDS_REVIEW,
)


def queue_auto_waterfall(workspace_id: int, prospect_ids: list[int]) -> list[int]:
    """The email waterfall for prospects their workspace enriches automatically: never for a
    person on the objection list; the items wait, visibly, while no finder has a key."""
    prospects = list(
        Prospect.objects.for_workspace(workspace_id)
        .filter(pk__in=prospect_ids, status__in=DEFAULT_STATUSES)
        .exclude(verification_reason__in=OBJECTION_REASONS)
        .only("pk", "email", "phone")
    )
    blocked = prospect_services.objecting_prospect_ids(workspace_id, prospects)
    chosen = [p.pk for p in prospects if p.pk not in blocked]
    if not chosen:
        return []
    with transaction.atomic():
        return queue_waterfall(workspace_id, chosen)


def queue_after_dropcontact(workspace_id: int, prospect_ids: list[int]) -> list[int]:
    """Where the workspace chose "Dropcontact, then the email waterfall": the prospects
    Dropcontact did not verify (no address, or an unverified one) go on to the waterfall."""
    if prospect_services.auto_enrich_steps(workspace_id) != ("dropcontact", "email"):
        return []
    unverified = list(
        Prospect.objects.for_workspace(workspace_id)
        .filter(
            pk__in=prospect_ids,
            status=Prospect.Status.NOT_VERIFIED,
            verification_reason__in=(
                Prospect.Reason.NO_EMAIL_FOUND,
                Prospect.Reason.UNVERIFIED,
                Prospect.Reason.UNCONFIRMED,
            ),
        )
        .values_list("pk", flat=True)
    )
    return queue_auto_waterfall(workspace_id, unverified) if unverified else []


def queue_waterfall(
    workspace_id: int,
    prospect_ids: list[int],
    *,
    job: EnrichmentJob | None = None,
    pipeline: str = waterfall.PIPELINE,
) -> list[int]:
    """Items for a waterfall (never twice while one is live), then a worker per item.

    The prospects are put *En cours* by the dispatch that first hands their items to workers
    (`start_items`), not here: a 1,000-prospect job is created in a request (the admin, the
    API), and rewriting 1,000 prospect rows there was most of its time."""
    if not prospect_ids:
        return []
    now = timezone.now()
    plan = waterfall.PLANS[pipeline]
    order = [p for p in (job.providers if job else []) if p in plan.finders]
    order = order or plan.default_order
    keyed = any(credentials.has_usable_key(workspace_id, p) for p in order)
    status = Item.PENDING if keyed else Item.WAITING_KEY
    template = EnrichmentItem(
        workspace_id=workspace_id,
        provider=pipeline,
        job=job,
        status=status,
        outcome="" if keyed else "no_provider",
        next_attempt_at=now,
    )
    # One statement whatever the count (a live item for the prospect already: skipped).
    queued = bulk_sql.insert_for_each(template, "prospect_id", prospect_ids)
    if queued is None:  # a database that cannot say which rows it wrote
        queued = list(
            EnrichmentItem.objects.for_workspace(workspace_id)
            .filter(provider=pipeline, status=status, prospect_id__in=bulk_sql.in_ids(prospect_ids))
            .filter(job=job)
            .values_list("prospect_id", flat=True)
        )
    # One message, not one per item: a 1,000-prospect job is created in a request (the admin,
    # the API), and sending 500 task messages there took as long as creating the job.
    transaction.on_commit(lambda: dispatch_waterfall_later(workspace_id))
    return queued


def dispatch_waterfall_later(workspace_id: int) -> None:
    """Have a worker hand the workspace's due waterfall items to workers (the sweeper would
    too, within a few seconds, were the message lost)."""
    from .tasks import dispatch_waterfall_task

    dispatch_waterfall_task.delay(workspace_id)


def dispatch_waterfall(workspace_id: int | None = None, *, limit: int = 500) -> int:
    """Hand due waterfall items (and items whose worker died) to workers: each once, not again
    at every sweep while its message waits in the broker's queue."""
    from .tasks import run_waterfall_items_task

    now = timezone.now()
    lost = now - dt.timedelta(seconds=settings.SOURCIER_REDISPATCH_SECONDS)
    due = EnrichmentItem.objects.unscoped().filter(
        Q(dispatched_at__isnull=True)
        | Q(dispatched_at__lt=F("next_attempt_at"))
        | Q(dispatched_at__lte=lost),
        provider__in=list(waterfall.PLANS),
        status__in=(Item.PENDING, Item.SUBMITTED),
        next_attempt_at__lte=now,
    )
    if workspace_id is not None:
        due = due.filter(workspace_id=workspace_id)
    # One row past the page says whether more items wait behind it.
    items = list(
        due.order_by("next_attempt_at").values_list("pk", "started_at", "workspace_id")[: limit + 1]
    )
    more, items = len(items) > limit, items[:limit]
    ready = {pk for pk, started_at, _ws in items if started_at is not None}
    ready.update(start_items([pk for pk, started_at, _ws in items if started_at is None]))
    if ready:
        EnrichmentItem.objects.unscoped().filter(pk__in=bulk_sql.in_ids(ready)).update(
            dispatched_at=now
        )
    by_workspace: dict[int, list[int]] = {}
    for pk, _started_at, ws in items:
        if pk in ready:
            by_workspace.setdefault(ws, []).append(pk)
    for ids in by_workspace.values():
        for chunk in chunks(ids, more=more):
            run_waterfall_items_task.delay(chunk)
    return len(ready)


def chunks(ids: list[int], *, more: bool = False) -> list[list[int]]:
    """One workspace's items in messages of at most SOURCIER_WATERFALL_ROUND_SIZE, smaller
    towards the end of the queue (unless `more` items wait behind these): at least twice as
    many messages left as the workspace may have calls to one provider at once, so that a
    short queue keeps every worker busy and the last messages end close together."""
    most = max(1, settings.SOURCIER_WATERFALL_ROUND_SIZE)
    spread = 2 * settings.PROVIDER_CONCURRENCY
    out, start = [], 0
    while start < len(ids):
        left = len(ids) - start
        size = most if more else max(1, min(most, -(-left // spread)))
        out.append(ids[start : start + size])
        start += size
    return out


def start_items(item_ids: list[int]) -> list[int]:
    """Mark never-started items started and put the email waterfall's prospects *En cours*,
    in one transaction; the items started (those still live and not locked by someone else).

    A worker applies a verdict only to a prospect *En cours*, so an item is sent to workers
    only once this has committed. The items are locked first: a cancel that got there before
    leaves nothing to start, and one that comes after finds the prospects *En cours* and puts
    them back.
    """
    if not item_ids:
        return []
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            EnrichmentItem.objects.unscoped()
            .filter(
                pk__in=bulk_sql.in_ids(item_ids),
                started_at__isnull=True,
                status__in=(Item.PENDING, Item.SUBMITTED),
            )
            .select_for_update(skip_locked=True)
            .values_list("pk", "workspace_id", "prospect_id", "provider")
        )
        marked: dict[int, list[int]] = {}
        for _pk, workspace_id, prospect_id, provider in rows:
            if provider == waterfall.PIPELINE:
                marked.setdefault(workspace_id, []).append(prospect_id)
        for workspace_id, prospect_ids in marked.items():
            # Only the rows that change: each new row version goes into every index.
            Prospect.objects.for_workspace(workspace_id).filter(
                pk__in=bulk_sql.in_ids(prospect_ids)
            ).exclude(status=Prospect.Status.ENRICHING).update(
                status=Prospect.Status.ENRICHING, updated_at=now
            )
        started = [row[0] for row in rows]
        EnrichmentItem.objects.unscoped().filter(pk__in=bulk_sql.in_ids(started)).update(
            started_at=now
        )
    return started
