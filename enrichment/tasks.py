"""Thin Celery tasks: take ids, call one service, return a short status word.

All are safe to run twice (acks_late redelivers a killed worker's task): every step claims its
database row with a conditional UPDATE before doing anything.
"""

import logging

from celery import shared_task
from django.db import transaction

from . import services, sweeper
from .engine import limits
from .models import EnrichmentItem, ProviderBatch
from .pipelines import dropcontact as pipeline
from .pipelines import waterfall
from .webhooks import delivery as webhook_delivery

log = logging.getLogger(__name__)


@shared_task
def queue_enrichment_task(workspace_id: int, prospect_ids: list[int]) -> str:
    """Queue new prospects as their workspace chose (never twice, never a suppressed person)."""
    return f"queued {len(services.queue_new_prospects(workspace_id, prospect_ids))}"


@shared_task
def submit_dropcontact_task(workspace_id: int) -> str:
    """Claim one batch of due items for the workspace, fan out for the rest, then send it."""
    api_key = services.get_api_key(workspace_id, pipeline.SLUG)
    batch = pipeline.claim_batch(workspace_id, api_key_present=api_key is not None)
    if batch is None:
        return "nothing-due"
    if (
        EnrichmentItem.objects.for_workspace(workspace_id)
        .due()
        .filter(provider=pipeline.SLUG)
        .exists()
    ):
        transaction.on_commit(lambda: submit_dropcontact_task.delay(workspace_id))
    return process_batch(batch.pk, workspace_id, api_key)


@shared_task
def process_dropcontact_batch_task(batch_id: int) -> str:
    """Do a batch's due step: (re)send it or poll it."""
    batch = ProviderBatch.objects.unscoped().filter(pk=batch_id).only("workspace_id").first()
    if batch is None:
        return "gone"
    api_key = services.get_api_key(batch.workspace_id, pipeline.SLUG)
    return process_batch(batch_id, batch.workspace_id, api_key)


def process_batch(batch_id: int, workspace_id: int, api_key: str | None) -> str:
    outcome = pipeline.process_batch(batch_id, api_key=api_key)
    if outcome in ("not-due", "lease-lost"):
        return outcome  # someone else holds this step
    batch = ProviderBatch.objects.for_workspace(workspace_id).get(pk=batch_id)
    if batch.status in (ProviderBatch.Status.SENDING, ProviderBatch.Status.POLLING):
        # Come back when the next step is due; the sweeper does the same if this is lost.
        process_dropcontact_batch_task.apply_async((batch_id,), eta=batch.next_attempt_at)
    elif outcome.startswith("failed") or outcome in ("applied", "requeued"):
        # Retries and the rest of the queue are picked up as they fall due.
        submit_dropcontact_task.delay(workspace_id)
    return outcome


@shared_task
def run_waterfall_item_task(item_id: int) -> str:
    """Run the email waterfall for one item (claimed first: running it twice does nothing).
    The dispatch now sends `run_waterfall_items_task`; this one still runs the messages an
    earlier version left in the queue."""
    return waterfall.process_item(item_id)


@shared_task
def run_waterfall_items_task(item_ids: list[int]) -> str:
    """Run a waterfall for several items of one workspace, together in rounds (claimed first:
    running it twice does nothing)."""
    from collections import Counter

    from .pipelines.waterfall_rounds import process_items

    counts = Counter(process_items([int(pk) for pk in item_ids]).values())
    return ", ".join(f"{word} {n}" for word, n in sorted(counts.items()))


@shared_task
def dispatch_waterfall_task(workspace_id: int) -> str:
    """Hand one workspace's due waterfall items to workers (sent once per queued job)."""
    from .waterfall_queue import dispatch_waterfall

    return f"dispatched {dispatch_waterfall(workspace_id)}"


@shared_task
def deliver_webhook_task(delivery_id: int) -> str:
    """One attempt of one webhook delivery (claimed first: running it twice does nothing)."""
    return webhook_delivery.deliver(delivery_id)


@shared_task
def run_discovery_job_task(job_id: int) -> str:
    """Run one discovery job (claimed first: running it twice does nothing)."""
    from .discovery.jobs import run_job

    return run_job(job_id)


@shared_task
def dispatch_due_work_task() -> str:
    counts = sweeper.dispatch_due_work()
    return "dispatched {batches} batches, {workspaces} workspaces".format(**counts)


@shared_task
def expire_leases_task() -> str:
    purged = limits.purge_expired()
    if purged:
        log.info("%s expired provider leases purged", purged)
    return f"purged {purged}"


@shared_task
def check_discovered_contact_task(workspace_id: int, contact_id: int) -> str:
    """Find and verify the best address of a contact added by hand (SMTP when it is set up,
    else syntax and DNS)."""
    from .discovery.checking import check_contact
    from .discovery.services import Discovery
    from .discovery.smtp import ProbeConfigError
    from .models import DiscoveredContact

    contact = (
        DiscoveredContact.objects.for_workspace(workspace_id)
        .filter(pk=contact_id, status=DiscoveredContact.Status.PENDING, checked_at__isnull=True)
        .first()
    )
    if contact is None:
        return "nothing to check"
    try:
        discovery = Discovery(workspace_id=workspace_id)
    except ProbeConfigError as exc:
        log.warning("manual contact checked without SMTP: %s", exc)
        discovery = Discovery(workspace_id=workspace_id, smtp=False)
    with discovery:
        verdict = check_contact(discovery, contact)
    return verdict.status


@shared_task
def purge_discovered_contacts_task() -> str:
    from .discovery.contacts import purge_unapproved

    purged = purge_unapproved()
    if purged:
        log.info("%s unapproved discovered contacts purged", purged)
    return f"purged {purged}"


@shared_task
def recheck_email_probes_task() -> str:
    """Ask greylisted addresses again once their recheck is due (claimed, so runs twice safely)."""
    from .discovery.services import recheck_due_probes
    from .discovery.smtp import ProbeConfigError

    try:
        asked = recheck_due_probes()
    except ProbeConfigError as exc:
        log.warning("greylisted addresses not rechecked: %s", exc)
        return "probing not configured"
    return f"rechecked {asked}"
