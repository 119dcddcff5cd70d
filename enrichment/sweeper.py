"""The sweeper: every few seconds (beat), dispatch each due step recorded in the database (a
provider batch, a workspace's queued items, a waterfall item, a webhook delivery, a discovery
job), resume paused jobs, release items whose key arrived, and queue prospects whose queueing
message was lost."""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone

from prospects.models import Prospect, Workspace

from .models import EnrichmentItem, ProviderBatch, ProviderCredential
from .providers.registry import PROVIDERS
from .services import DROPCONTACT, queue_new_prospects, release_waiting_items
from .webhooks.delivery import dispatch_due_deliveries

log = logging.getLogger(__name__)

# A new prospect still without an item this long after creation lost its queueing message.
FORGOTTEN_AFTER = dt.timedelta(minutes=2)
Item = EnrichmentItem.Status


def dispatch_due_work(*, limit: int = 500) -> dict[str, int]:
    """Dispatch every due step recorded in the database (run by beat every few seconds).

    Dispatching twice is harmless: each task claims its row with a conditional UPDATE.
    """
    from . import bulk, waterfall_queue
    from .discovery.jobs import dispatch_due_jobs as dispatch_due_discovery_jobs
    from .tasks import process_dropcontact_batch_task, submit_dropcontact_task

    now = timezone.now()
    batch_ids = list(
        ProviderBatch.objects.unscoped()
        .filter(
            status__in=[ProviderBatch.Status.SENDING, ProviderBatch.Status.POLLING],
            next_attempt_at__lte=now,
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for batch_id in batch_ids:
        process_dropcontact_batch_task.delay(batch_id)
    workspace_ids = list(
        EnrichmentItem.objects.unscoped()
        .due(now)
        .filter(provider=DROPCONTACT)
        .values_list("workspace_id", flat=True)
        .distinct()
        .order_by()
    )
    for workspace_id in workspace_ids:
        submit_dropcontact_task.delay(workspace_id)
    resumed = bulk.resume_paused_jobs(now=now)
    items = waterfall_queue.dispatch_waterfall(limit=limit)
    recovered = queue_forgotten_prospects(now=now)
    deliveries = dispatch_due_deliveries(limit=limit)
    discoveries = dispatch_due_discovery_jobs(limit=limit)
    # A key saved by another path (shell, import) releases its waiting items here.
    waiting = (
        EnrichmentItem.objects.unscoped()
        .filter(status=Item.WAITING_KEY)
        .values_list("workspace_id", "provider")
        .distinct()
        .order_by()
    )
    released = 0
    for workspace_id, provider in waiting:
        # Only a usable key: a refused one waits for someone to save a new key.
        if provider in PROVIDERS and (
            ProviderCredential.objects.for_workspace(workspace_id)
            .filter(provider=provider, refused_at__isnull=True)
            .exists()
        ):
            released += release_waiting_items(workspace_id, provider)
    counts = {
        "batches": len(batch_ids),
        "workspaces": len(workspace_ids),
        "released": released,
        "recovered": recovered,
        "items": items,
        "resumed": resumed,
        "deliveries": deliveries,
        "discoveries": discoveries,
    }
    # Every few seconds, and usually with nothing to do: a line only when something was.
    if any(counts.values()):
        log.info(
            "sweeper: %(batches)s batches, %(workspaces)s workspaces and %(items)s items "
            "dispatched, %(released)s items released, %(recovered)s prospects recovered, "
            "%(resumed)s jobs resumed, %(deliveries)s webhook deliveries and %(discoveries)s "
            "discovery jobs dispatched",
            counts,
        )
    return counts


def queue_forgotten_prospects(*, now, limit: int = 1000) -> int:
    """NEW prospects of the last day whose queueing message was lost get queued anyway."""
    forgotten = (
        Prospect.objects.unscoped()
        .filter(
            status=Prospect.Status.NEW,
            created_at__lte=now - FORGOTTEN_AFTER,
            created_at__gte=now - dt.timedelta(days=1),
        )
        .exclude(pk__in=EnrichmentItem.objects.unscoped().values("prospect_id"))
        .exclude(workspace__auto_enrich=Workspace.AutoEnrich.NONE)
        .values_list("workspace_id", "pk")[:limit]
    )
    by_workspace: dict[int, list[int]] = {}
    for workspace_id, pk in forgotten:
        by_workspace.setdefault(workspace_id, []).append(pk)
    return sum(len(queue_new_prospects(ws, ids)) for ws, ids in by_workspace.items())
