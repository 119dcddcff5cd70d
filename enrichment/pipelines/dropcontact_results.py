"""Applying a ready Dropcontact answer: merge each record into its prospect and company, keep
every candidate as provenance, and set the verdict (verified only when the stored address is).

Runs in one transaction that first re-checks the batch's claim (so a late answer rolls back
whole) and locks the prospects (so an edit made while the request was out survives). The number
of queries does not depend on the number of records: the records are merged in memory
(`dropcontact_records`), read for and written in a few statements (`dropcontact_writes`).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from prospects import normalize
from prospects import services as prospect_services
from prospects.models import Company, Prospect, SuppressionEntry

from ..engine import attempts, claims, outcomes, retry
from ..engine.jobs import charge_jobs, refresh_jobs
from ..models import EnrichmentItem, ProviderBatch, ProviderCall
from ..providers import dropcontact
from ..providers.registry import get_provider
from ..webhooks import events
from . import dropcontact_money as money
from . import dropcontact_writes as writes
from .dropcontact_records import Applying, apply_do_not_contact, apply_record, clean

Item = EnrichmentItem.Status
Batch = ProviderBatch.Status


def apply_results(
    batch: ProviderBatch,
    items: list[EnrichmentItem],
    records: list[dropcontact.EnrichedRecord],
    *,
    call: ProviderCall,
) -> None:
    """Apply a ready result to every item of the batch, in one transaction."""
    by_item_id = {
        str(record.custom_fields.get("sourcier_item")): record
        for record in records
        if record.custom_fields.get("sourcier_item")
    }
    now = timezone.now()
    missing = []
    found: list[int] = []
    empty: list[int] = []
    suppressed = suppressed_emails(batch.workspace_id, records)
    with transaction.atomic():
        in_flight = hold_for_applying(batch, items)
        # Read the prospects again, locked, now that the answer is here: a person may have
        # edited one while the request was out, and that edit must survive.
        fresh = (
            Prospect.objects.for_workspace(batch.workspace_id)
            .select_for_update(of=("self",))
            .select_related("company", "workspace")
            .in_bulk([item.prospect_id for item in items])
        )
        pairs: list[tuple[Prospect, dropcontact.EnrichedRecord]] = []
        for index, item in enumerate(items):
            record = by_item_id.get(str(item.pk))
            if record is None and not by_item_id and index < len(records):
                record = records[index]  # documented order: input index
            if item.prospect_id not in fresh or item.pk not in in_flight:
                continue  # deleted meanwhile (its item goes with it), or cancelled
            if record is None:
                missing.append(item)
                continue
            item.prospect = fresh[item.prospect_id]
            (found if record.email else empty).append(item.pk)
            pairs.append((item.prospect, record))
        absorbed = apply_records(
            batch.workspace_id, pairs, call_id=call.pk, now=now, suppressed=suppressed
        )
        events.emit_prospect_verdicts(
            batch.workspace_id,
            [
                (f"item:{item.pk}", item.prospect_id)
                for item in items
                if item.pk in in_flight and item.prospect_id in fresh and item not in missing
            ],
        )
        merge_absorbed(batch.workspace_id, absorbed)
        # Job titles, industries and companies written above: their derived fields, in bulk.
        prospect_services.apply_normalizers(
            batch.workspace_id,
            prospects=list(fresh.values()),
            companies={prospect.company_id for prospect in fresh.values()},
        )
        EnrichmentItem.objects.for_workspace(batch.workspace_id).filter(
            pk__in=[item.pk for item in items if item not in missing], status=Item.SUBMITTED
        ).update(status=Item.DONE, outcome="", outcome_detail="", finished_at=now, updated_at=now)
        attempts.settle_batch_attempts(batch, "found", item_ids=found, call_id=call.pk)
        charge_found(batch, items, found, call)
        money.settle(batch, records=len(items), found=len(found))
        attempts.settle_batch_attempts(batch, "not_found", item_ids=empty, call_id=call.pk)
        if missing:
            attempts.settle_batch_attempts(
                batch, outcomes.Outcome.MISSING_FROM_ANSWER, item_ids=[i.pk for i in missing]
            )
            retry.fail_items(
                batch.workspace_id,
                missing,
                outcomes.Outcome.MISSING_FROM_ANSWER,
                provider=batch.provider,
                now=now,
            )
        claims.write_claimed(
            batch,
            statuses=(Batch.POLLING,),
            status=Batch.DONE,
            outcome="",
            outcome_detail="",
            finished_at=now,
            polls=batch.polls,
        )
    refresh_jobs(item.job_id for item in items if item.job_id)
    automatic = [item.prospect_id for item in items if not item.job_id and item not in missing]
    if automatic:
        from ..waterfall_queue import queue_after_dropcontact

        queue_after_dropcontact(batch.workspace_id, automatic)


def apply_records(
    workspace_id: int,
    pairs: list[tuple[Prospect, dropcontact.EnrichedRecord]],
    *,
    call_id: int,
    now: dt.datetime,
    suppressed: set[str],
) -> dict[int, int]:
    """Merge each record into its (locked) prospect and its company, in answer order, and
    write them all. Returns {bare company id: the existing company it turned out to be}."""
    if not pairs:
        return {}
    prospects = [prospect for prospect, _record in pairs]
    do_not_contact = {prospect.pk for prospect, record in pairs if record.is_do_not_contact}
    # Before any record is written, as Dropcontact's word that these persons object.
    prospect_services.suppress_emails(
        workspace_id,
        (
            clean(normalize.normalize_email, email)
            for prospect, record in pairs
            if record.is_do_not_contact
            for email in [prospect.email, *(c.email for c in record.email)]
        ),
        reason=SuppressionEntry.Reason.PROVIDER,
    )
    companies, created, domains, sirens = writes.load_companies(workspace_id, pairs)
    state = Applying(
        workspace_id=workspace_id,
        call_id=call_id,
        now=now,
        suppressed=suppressed,
        merged=prospect_services.ProvenanceBuffer(
            workspace_id, prospects=prospects, companies=list(companies.values())
        ),
        companies=companies,
        created=created,
        domains=domains,
        sirens=sirens,
    )
    for prospect, record in pairs:
        if record.is_do_not_contact:
            apply_do_not_contact(prospect, record, state)
        else:
            apply_record(prospect, record, state)
    writes.refuse_unstorable(workspace_id, prospects, state, do_not_contact=do_not_contact)
    writes.write_batch_rows(state, prospects, do_not_contact=do_not_contact)
    state.merged.flush()
    return state.absorbed


def charge_found(
    batch: ProviderBatch, items: list[EnrichmentItem], found: list[int], call: ProviderCall
) -> None:
    """What Dropcontact charges for the emails it found: on the poll's call and on the jobs."""
    cost = get_provider(batch.provider).cost_per_success
    if not found or not cost:
        return
    found_ids = set(found)
    charge_jobs([item for item in items if item.pk in found_ids], cost * len(found))
    ProviderCall.objects.for_workspace(batch.workspace_id).filter(pk=call.pk).update(
        cost=cost * len(found)
    )


def hold_for_applying(batch: ProviderBatch, items: list[EnrichmentItem]) -> set[int]:
    """Check the claim first, inside the applying transaction (this locks the batch row), and
    return the ids of the items still in flight.

    A worker whose lease was taken over gets LeaseLost here, before touching any item or
    prospect; an item cancelled while the request was out (the person objected) is left out.
    """
    claims.write_claimed(batch, statuses=(Batch.POLLING,), polls=batch.polls)
    return set(
        EnrichmentItem.objects.for_workspace(batch.workspace_id)
        .filter(pk__in=[item.pk for item in items], status=Item.SUBMITTED)
        .values_list("pk", flat=True)
    )


def suppressed_emails(workspace_id: int, records: list[dropcontact.EnrichedRecord]) -> set[str]:
    """The addresses of these records that are on the objection list (one query)."""
    emails = {
        clean(normalize.normalize_email, candidate.email)
        for record in records
        for candidate in record.email
    }
    return prospect_services.objecting_emails(workspace_id, emails - {""})


def merge_absorbed(workspace_id: int, absorbed: dict[int, int]) -> None:
    """Make each bare company one with the existing company it turned out to be."""
    if not absorbed:
        return
    scope = Company.objects.for_workspace(workspace_id)
    found = scope.in_bulk([*absorbed, *absorbed.values()])
    for bare_id, kept_id in absorbed.items():
        if bare_id in found and kept_id in found:
            prospect_services.merge_companies(found[kept_id], [found[bare_id]])
