"""What a Dropcontact batch does with the workspace's credits: sized to what the ledger allows,
its most reserved before it is sent, settled to what Dropcontact bills when its answer is
applied, given back when it fails for good.

The reservation's key is the batch's (`batch:{id}:dropcontact`): a batch is sent under one
reservation however many times its submit step runs (a slot busy, a worker that died), and
settled or released once. Dropcontact takes a credit per record sent and gives it back when it
finds no address, so the most a batch can cost is `max_cost` per record, and its real cost
`cost_per_call` per record plus `cost_per_success` per record that came back with an email
(what the batch's calls and jobs are charged too).

When the money does not allow even one record, no batch is formed: the workspace's queued
Dropcontact items wait, with the waterfall's outcome codes and pause, until the next Paris
midnight (the daily cap) or a quarter of an hour (the balance), unless batches still in flight
may give some of their reservations back, in which case the items wait for those.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

from django.db import transaction

from ..engine import ledger, outcomes
from ..engine.jobs import pause_queued_work
from ..models import EnrichmentItem, EnrichmentJob, ProviderBatch
from ..providers import dropcontact
from ..providers.registry import get_provider

log = logging.getLogger(__name__)

SLUG = dropcontact.SLUG
Item = EnrichmentItem.Status
# Without enough balance, queued items look again this much later (as the waterfall's do).
NO_CREDITS_WAIT = dt.timedelta(minutes=15)
REFUSALS = (ledger.DailyCapReached, ledger.InsufficientCredits)
Refusal = ledger.DailyCapReached | ledger.InsufficientCredits


def batch_key(batch: ProviderBatch) -> str:
    return f"batch:{batch.pk}:{SLUG}"


def most_per_record() -> Decimal:
    return get_provider(SLUG).max_cost


def affordable(workspace_id: int, wanted: int, *, now: dt.datetime) -> tuple[int, str]:
    """How many of `wanted` records one batch may carry now, and what bounds it."""
    room, bound = ledger.room(workspace_id, now=now)
    unit = most_per_record()
    if not unit:
        return (wanted if room >= 0 else 0), bound
    return max(0, min(wanted, int(room // unit))), bound


def reserve(batch: ProviderBatch) -> ledger.Reservation:
    """Hold the batch's most before sending it (a replay holds nothing more); raises the
    ledger's refusals. Sized on the records claimed, so that every try asks the same."""
    return ledger.reserve(
        batch.workspace_id, most_per_record() * batch.size, key=batch_key(batch), provider=SLUG
    )


def cost_of(records: int, found: int) -> Decimal:
    """What Dropcontact bills for `records` sent of which `found` came back with an email."""
    spec = get_provider(SLUG)
    return spec.cost_per_call * records + spec.cost_per_success * found


def settle(batch: ProviderBatch, *, records: int, found: int) -> None:
    """Charge the batch's real cost, once, inside the transaction that applies its answer.

    A batch sent before its reservation existed (none under its key) has nothing to settle."""
    try:
        ledger.settle(batch.workspace_id, key=batch_key(batch), cost=cost_of(records, found))
    except ledger.UnknownReservation:
        log.warning("dropcontact batch %s: applied without a reservation", batch.pk)


def release(batch: ProviderBatch) -> None:
    """Give the batch's reservation back (it failed for good, or has nothing left to send)."""
    ledger.release_held(batch.workspace_id, key=batch_key(batch))


def code_of(bound_or_refusal: str | Refusal) -> str:
    refused_by_balance = bound_or_refusal == "balance" or isinstance(
        bound_or_refusal, ledger.InsufficientCredits
    )
    return outcomes.Outcome.NO_CREDITS if refused_by_balance else outcomes.Outcome.DAILY_CAP


def resume_time(code: str, *, now: dt.datetime) -> dt.datetime:
    if code == outcomes.Outcome.NO_CREDITS:
        return now + NO_CREDITS_WAIT
    return ledger.next_midnight(now)


def wait_for_money(workspace_id: int, bound: str | Refusal, *, now: dt.datetime) -> str:
    """Not even one record fits (`bound`: what the ledger's room or refusal said): wait for
    the batches in flight to settle if there are any (they give back what they did not
    spend), else pause the workspace's Dropcontact work."""
    in_flight = (
        ProviderBatch.objects.for_workspace(workspace_id)
        .filter(provider=SLUG, status__in=ProviderBatch.LIVE_STATUSES)
        .exists()
    )
    if in_flight:
        return "waiting"
    code = code_of(bound)
    resume_at = resume_time(code, now=now)
    with transaction.atomic():
        pause_queued_work(
            workspace_id,
            code,
            resume_at=resume_at,
            providers=(SLUG,),
            job_kinds=(EnrichmentJob.Kind.DROPCONTACT,),
        )
    log.info("workspace %s: dropcontact paused until %s (%s)", workspace_id, resume_at, code)
    return "paused"
