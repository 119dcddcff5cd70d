"""Dropcontact pipeline: claim due items into a batch, submit it, poll it, apply the results.

Each step is driven by a `ProviderBatch` row (status + `next_attempt_at`), claimed through the
engine (`engine.claims`: conditional UPDATE, lease token) so that two workers given the same
step do it once, and re-dispatched by the beat sweeper if a worker dies: a lost message or a
killed worker delays work, never loses it. Every later write of the batch is conditional on the
claim's token, so a worker that outlived its lease stops (`LeaseLost`) instead of overwriting
its successor's work. Calls go out through the engine's gateway; failures follow the engine's
retry policy. No transaction is held open across a provider call. Money is the ledger's
(`dropcontact_money`): a batch is sized to what the workspace may still spend, reserved before
it is sent, settled when its answer is applied and released when it fails for good.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .. import services as enrichment_services
from ..engine import attempts, claims, gateway, ledger, limits, outcomes, retry
from ..engine.claims import LeaseLost
from ..engine.jobs import charge_jobs
from ..models import EnrichmentItem, ProviderBatch
from ..providers import dropcontact
from ..providers.base import ErrorKind, ProviderError
from ..providers.registry import get_provider
from . import dropcontact_money as money
from .dropcontact_results import apply_results

log = logging.getLogger(__name__)

SLUG = dropcontact.SLUG
# Dropcontact fills the whole contact record at once: its attempts are for this one field.
FIELD = "contact"
Item = EnrichmentItem.Status
Batch = ProviderBatch.Status
LIVE = (Batch.SENDING, Batch.POLLING)


def lease_seconds() -> float:
    """How long a step belongs to the worker doing it before another may take it over."""
    return float(settings.ENRICHMENT_LEASE_SECONDS)


def write_batch(batch: ProviderBatch, *, statuses=LIVE, **values) -> None:
    """Update the batch only while this worker still holds its claim; else raise LeaseLost."""
    claims.write_claimed(batch, statuses=statuses, **values)


# --- Claiming ----------------------------------------------------------------------------


def claim_batch(workspace_id: int, *, api_key_present: bool) -> ProviderBatch | None:
    """Move up to one batch worth of due items into a new batch, its most reserved in the
    credit ledger; None when nothing is due, or the money does not allow it now."""
    if not api_key_present:
        park_items_without_key(workspace_id)
        return None
    now = timezone.now()
    ids = batch_candidates(workspace_id, now=now)
    if not ids:
        return None
    refusal = None
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            # PostgreSQL: lock the items first, skipping those another claimer holds. Its
            # UPDATE would otherwise wait on them, keep their locks (found no longer pending),
            # and deadlock with that claimer's next write to its own batch's items.
            ids = list(
                EnrichmentItem.objects.for_workspace(workspace_id)
                .filter(pk__in=ids, status=Item.PENDING)
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)
            )
            if not ids:
                return None
        batch = ProviderBatch.objects.create(
            workspace_id=workspace_id,
            provider=SLUG,
            next_attempt_at=now,
            lease_token=claims.new_token(),
        )
        # Conditional: an item another worker claimed meanwhile is no longer PENDING.
        claimed = (
            EnrichmentItem.objects.for_workspace(workspace_id)
            .filter(pk__in=ids, status=Item.PENDING)
            .update(status=Item.SUBMITTED, batch=batch, updated_at=now)
        )
        if not claimed:
            # Another worker claimed them first: the new batch row is rolled back, not deleted
            # (a delete cascades through the items and attempts that point to batches).
            transaction.set_rollback(True)
            return None
        batch.size = claimed
        batch.save(update_fields=["size"])
        attempts.record_batch_attempts(batch, field=FIELD)
        try:
            # With the claim, before anything is sent: the next claim sizes its batch to what
            # is left. Refused when another claim took the room first: nothing happened.
            money.reserve(batch)
        except money.REFUSALS as refused:
            refusal = refused
            transaction.set_rollback(True)
    if refusal is not None:
        money.wait_for_money(workspace_id, refusal, now=now)
        return None
    return batch


def batch_candidates(workspace_id: int, *, now: dt.datetime) -> list[int]:
    """The due items the next batch may carry: as many as the money allows (none: the items
    wait for it), and none while a partial batch waits a moment for more."""
    due = EnrichmentItem.objects.for_workspace(workspace_id).due(now).filter(provider=SLUG)
    rows = list(
        due.order_by("next_attempt_at", "id").values_list("id", "next_attempt_at")[
            : settings.DROPCONTACT_BATCH_SIZE
        ]
    )
    if not rows:
        return []
    window = dt.timedelta(seconds=settings.DROPCONTACT_BATCH_WINDOW_SECONDS)
    if len(rows) < settings.DROPCONTACT_BATCH_SIZE and rows[0][1] > now - window:
        return []  # a partial batch waits a moment: more items may join it
    fits, bound = money.affordable(workspace_id, len(rows), now=now)
    if not fits:
        money.wait_for_money(workspace_id, bound, now=now)
        return []
    ids = [pk for pk, _due in rows[:fits]]
    # Someone may have objected since the item was queued: such a person is never sent.
    objecting = enrichment_services.cancel_objecting_items(workspace_id, item_ids=ids)
    return [pk for pk in ids if pk not in objecting]


def park_items_without_key(workspace_id: int) -> int:
    """Items wait, visibly, until the workspace has an API key (they do not fail)."""
    return (
        EnrichmentItem.objects.for_workspace(workspace_id)
        .filter(provider=SLUG, status=Item.PENDING)
        .update(
            status=Item.WAITING_KEY,
            outcome=enrichment_services.waiting_outcome(workspace_id, SLUG),
            outcome_detail="",
            updated_at=timezone.now(),
        )
    )


def claim_step(batch_id: int) -> ProviderBatch | None:
    """Take the batch's due step (send or poll) for `lease_seconds`; None if not ours to do."""
    return claims.claim(ProviderBatch, batch_id, statuses=LIVE, lease_seconds=lease_seconds())


# --- Steps -------------------------------------------------------------------------------


def process_batch(batch_id: int, *, api_key: str | None) -> str:
    """Do the batch's due step. Returns a short status word for the task log."""
    batch = claim_step(batch_id)
    if batch is None:
        return "not-due"
    try:
        return run_step(batch, api_key=api_key)
    except LeaseLost:
        # Our lease expired mid-step and another worker took the step over: it owns the batch.
        log.warning("dropcontact batch %s: lease lost to another worker, nothing written", batch_id)
        return "lease-lost"


def run_step(batch: ProviderBatch, *, api_key: str | None) -> str:
    """The claimed step itself; raises LeaseLost as soon as a write finds the claim gone."""
    items = list(
        EnrichmentItem.objects.for_workspace(batch.workspace_id)
        .filter(batch=batch, status=Item.SUBMITTED)
        .select_related("prospect__company", "prospect__workspace")
        .order_by("id")
    )
    if not items:
        with transaction.atomic():
            finish_batch(batch, Batch.DONE)
            money.release(batch)
        return "empty"
    if not api_key:
        park_batch_without_key(batch, items)
        return "no-key"
    try:
        if batch.status == Batch.SENDING:
            return submit(batch, items, api_key=api_key)
        return poll(batch, items, api_key=api_key)
    except limits.SlotUnavailable:
        # All concurrency slots are busy: not anyone's fault, try again in a moment.
        reschedule(batch, seconds=1.0)
        return "deferred"
    except ProviderError as error:
        if batch.status == Batch.POLLING and error.retryable:
            return retry_poll(batch, error)
        fail_batch(batch, items, error)
        return f"failed:{error.kind}"


def retry_poll(batch: ProviderBatch, error: ProviderError) -> str:
    """A failed poll is asked again: the submitted request (already paid for) is still valid.

    Only the poll deadline turns repeated poll failures into a failed attempt.
    """
    if timezone.now() >= batch.poll_deadline:
        items = list(
            EnrichmentItem.objects.for_workspace(batch.workspace_id).filter(
                batch=batch, status=Item.SUBMITTED
            )
        )
        fail_batch(batch, items, error)
        return f"failed:{error.kind}"
    batch.outcome, batch.outcome_detail = outcomes.of_error(error)
    wait = error.retry_after or max(settings.DROPCONTACT_POLL_INTERVAL_SECONDS, 1.0)
    reschedule(batch, seconds=wait, outcome=batch.outcome, outcome_detail=batch.outcome_detail)
    return "poll-retry"


def _call(batch: ProviderBatch, request, *, api_key: str, records: int = 0) -> gateway.Result:
    return gateway.call(
        SLUG,
        request,
        workspace_id=batch.workspace_id,
        headers=dropcontact.auth_headers(api_key),
        cost=get_provider(SLUG).cost_per_call * records,
        records=records,
    )


def input_record(item: EnrichmentItem) -> dropcontact.InputRecord:
    prospect = item.prospect
    company = prospect.company
    return dropcontact.InputRecord(
        first_name=prospect.first_name,
        last_name=prospect.last_name,
        email=prospect.email,
        phone=prospect.phone,
        company=company.name if company else "",
        website=(company.website or company.domain) if company else "",
        num_siren=company.siren if company else "",
        linkedin=prospect.linkedin_url,
        job=prospect.job_title,
        # Results come back ordered by input index; our own id makes the match explicit too.
        custom_fields={"sourcier_item": str(item.pk)},
    )


def submit(batch: ProviderBatch, items: list[EnrichmentItem], *, api_key: str) -> str:
    try:
        # Held since the claim, so this finds that reservation; a batch claimed before
        # batches were reserved with their claim reserves here.
        money.reserve(batch)
    except money.REFUSALS as refusal:
        return requeue_refused(batch, refusal)
    except ledger.IdempotencyConflict:
        pass  # held since the claim, at the price of the day: that reservation stands
    request = dropcontact.build_submit_request([input_record(item) for item in items])
    result = _call(batch, request, api_key=api_key, records=len(items))
    answer = dropcontact.parse_submit_response(
        result.status, result.body, retry_after=result.retry_after
    )
    now = timezone.now()
    state = {
        "status": Batch.POLLING,
        "request_id": answer.request_id,
        "submitted_at": now,
        "poll_deadline": now + dt.timedelta(seconds=settings.DROPCONTACT_POLL_DEADLINE_SECONDS),
        "next_attempt_at": now + dt.timedelta(seconds=settings.DROPCONTACT_POLL_INTERVAL_SECONDS),
        "outcome": "",
        "outcome_detail": "",
    }
    with transaction.atomic():
        # Only the step's state changes: a full save would write back every field as read.
        write_batch(batch, statuses=(Batch.SENDING,), **state)
        for name, value in state.items():
            setattr(batch, name, value)
        EnrichmentItem.objects.for_workspace(batch.workspace_id).filter(
            batch=batch, status=Item.SUBMITTED
        ).update(request_id=answer.request_id, updated_at=now)
        # Dropcontact bills per record sent, and gives back the credit of a record with no
        # verified email: what it charges per found email is added when results are applied
        # (and the reservation settled then).
        charge_jobs(items, Decimal(len(items)) * get_provider(SLUG).cost_per_call)
    return "submitted"


def poll(batch: ProviderBatch, items: list[EnrichmentItem], *, api_key: str) -> str:
    result = _call(batch, dropcontact.build_poll_request(batch.request_id), api_key=api_key)
    answer = dropcontact.parse_poll_response(
        result.status, result.body, retry_after=result.retry_after
    )
    batch.polls += 1
    if not answer.ready:
        if timezone.now() >= batch.poll_deadline:
            # "Not ready" forever and "unknown request id" are the same answer: give up.
            raise PollDeadlineExceeded(
                "dropcontact: results did not arrive in time", kind=ErrorKind.TEMPORARY
            )
        reschedule(batch, seconds=settings.DROPCONTACT_POLL_INTERVAL_SECONDS)
        return "not-ready"
    apply_results(batch, items, answer.records, call=result.call)
    return "applied"


def reschedule(batch: ProviderBatch, *, seconds: float, **values) -> None:
    """Make the batch's next step due in `seconds` (LeaseLost if the claim is gone)."""
    batch.next_attempt_at = timezone.now() + dt.timedelta(seconds=seconds)
    write_batch(batch, next_attempt_at=batch.next_attempt_at, polls=batch.polls, **values)


def finish_batch(batch: ProviderBatch, status: str, outcome: str = "", detail: str = "") -> None:
    """Settle the batch (LeaseLost if the claim is gone): callers write their items after."""
    write_batch(
        batch,
        status=status,
        outcome=outcome,
        outcome_detail=detail,
        finished_at=timezone.now(),
        polls=batch.polls,
    )


# --- Failures ----------------------------------------------------------------------------


class PollDeadlineExceeded(ProviderError):
    """Still "not ready" at the deadline (an unknown request id answers the same)."""

    item_outcome = outcomes.Outcome.POLL_DEADLINE


def fail_batch(batch: ProviderBatch, items: list[EnrichmentItem], error: ProviderError) -> None:
    """Record a failed step; the engine's retry policy decides, per item, what comes next."""
    code, detail = outcomes.of_error(error)
    with transaction.atomic():
        finish_batch(batch, Batch.FAILED, code, detail)
        attempts.settle_batch_attempts(batch, str(error.kind))
        retry.settle_failure(batch.workspace_id, items, error, provider=SLUG, now=timezone.now())
        money.release(batch)
    log.warning("dropcontact batch %s failed: %s %s", batch.pk, code, detail)


def park_batch_without_key(batch: ProviderBatch, items: list[EnrichmentItem]) -> None:
    code = enrichment_services.waiting_outcome(batch.workspace_id, SLUG)
    with transaction.atomic():
        finish_batch(batch, Batch.FAILED, code)
        EnrichmentItem.objects.for_workspace(batch.workspace_id).filter(
            pk__in=[item.pk for item in items], status=Item.SUBMITTED
        ).update(status=Item.WAITING_KEY, outcome=code, outcome_detail="")
        money.release(batch)


def requeue_refused(batch: ProviderBatch, refusal: money.Refusal) -> str:
    """The ledger refused the reservation of a batch claimed without one: nothing was sent;
    its items go back to the queue, where the next claim sizes a batch to what is left, or
    pauses them. Not an attempt of theirs."""
    now = timezone.now()
    code = money.code_of(refusal)
    local = timezone.localtime(money.resume_time(code, now=now)).strftime("%d/%m/%Y %H:%M")
    with transaction.atomic():
        finish_batch(batch, Batch.FAILED, code, local)
        EnrichmentItem.objects.for_workspace(batch.workspace_id).filter(
            batch=batch, status=Item.SUBMITTED
        ).update(status=Item.PENDING, next_attempt_at=now, updated_at=now)
    log.info("dropcontact batch %s: not sent, %s", batch.pk, code)
    return "requeued"
