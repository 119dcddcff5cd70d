"""Dropcontact pipeline: claim due items into a batch, submit it, poll it, apply the results.

Each step is driven by a row (`DropcontactBatch.status` + `next_attempt_at`), claimed with a
conditional UPDATE so that two workers given the same step do it once, and re-dispatched by the
beat sweeper if a worker dies: a lost message or a killed worker delays work, never loses it.
A claim writes a new `lease_token`; every later write of the batch is conditional on it, so a
worker that outlived its lease stops (`LeaseLost`) instead of overwriting its successor's work.
No transaction is held open across a provider call.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from prospects import normalize
from prospects import services as prospect_services
from prospects.models import Company, Prospect, Source, SuppressionEntry

from .. import limits
from .. import services as enrichment_services
from ..models import DropcontactBatch, EnrichmentItem, EnrichmentJob, ProviderCall
from ..providers import dropcontact
from ..providers import http as provider_http
from ..providers.base import ErrorKind, ProviderError
from ..providers.registry import get_provider

log = logging.getLogger(__name__)

SLUG = dropcontact.SLUG
Item = EnrichmentItem.Status
Batch = DropcontactBatch.Status
LIVE = (Batch.SENDING, Batch.POLLING)

# What applying a result sets on a prospect, besides the merged fields.
VERDICT_FIELDS = [
    "status",
    "email_qualification",
    "verified_at",
    "enrichment_source",
    "enriched_at",
    "last_error",
    "verification_reason",
    "company",
]

# Confidence given to what Dropcontact returns (0-100), by what it says of the address.
EMAIL_CONFIDENCE = {"nominative": 95, "catch_all": 50}
OTHER_EMAIL_CONFIDENCE = 30
FIELD_CONFIDENCE = 80


def lease_seconds() -> float:
    """How long a step belongs to the worker doing it before another may take it over."""
    return float(settings.ENRICHMENT_LEASE_SECONDS)


class LeaseLost(Exception):
    """Another worker claimed this batch's step after our lease expired: write nothing more."""


def write_batch(batch: DropcontactBatch, *, statuses=LIVE, **values) -> None:
    """Update the batch only while this worker still holds its claim; else raise LeaseLost."""
    updated = (
        DropcontactBatch.objects.unscoped()
        .filter(pk=batch.pk, lease_token=batch.lease_token, status__in=statuses)
        .update(**values)
    )
    if not updated:
        raise LeaseLost(batch.pk)


# --- Claiming ----------------------------------------------------------------------------


def claim_batch(workspace_id: int, *, api_key_present: bool) -> DropcontactBatch | None:
    """Move up to one batch worth of due items into a new batch; None when nothing is due."""
    now = timezone.now()
    due = EnrichmentItem.objects.for_workspace(workspace_id).due(now).filter(provider=SLUG)
    if not api_key_present:
        park_items_without_key(workspace_id)
        return None
    rows = list(
        due.order_by("next_attempt_at", "id").values_list("id", "next_attempt_at")[
            : settings.DROPCONTACT_BATCH_SIZE
        ]
    )
    if not rows:
        return None
    window = dt.timedelta(seconds=settings.DROPCONTACT_BATCH_WINDOW_SECONDS)
    if len(rows) < settings.DROPCONTACT_BATCH_SIZE and rows[0][1] > now - window:
        return None  # a partial batch waits a moment: more items may join it
    ids = [pk for pk, _due in rows]
    # Someone may have objected since the item was queued: such a person is never sent.
    objecting = enrichment_services.cancel_objecting_items(workspace_id, item_ids=ids)
    ids = [pk for pk in ids if pk not in objecting]
    if not ids:
        return None
    with transaction.atomic():
        batch = DropcontactBatch.objects.create(
            workspace_id=workspace_id, next_attempt_at=now, lease_token=uuid.uuid4().hex
        )
        # Conditional: an item another worker claimed meanwhile is no longer PENDING.
        claimed = (
            EnrichmentItem.objects.for_workspace(workspace_id)
            .filter(pk__in=ids, status=Item.PENDING)
            .update(status=Item.SUBMITTED, batch=batch, updated_at=now)
        )
        if not claimed:
            batch.delete()
            return None
        batch.size = claimed
        batch.save(update_fields=["size"])
    return batch


def park_items_without_key(workspace_id: int) -> int:
    """Items wait, visibly, until the workspace has an API key (they do not fail)."""
    return (
        EnrichmentItem.objects.for_workspace(workspace_id)
        .filter(provider=SLUG, status=Item.PENDING)
        .update(
            status=Item.WAITING_KEY,
            last_error=enrichment_services.waiting_reason(workspace_id, SLUG),
            updated_at=timezone.now(),
        )
    )


def claim_step(batch_id: int) -> DropcontactBatch | None:
    """Take the batch's due step (send or poll) for `lease_seconds`; None if not ours to do."""
    now = timezone.now()
    taken = (
        DropcontactBatch.objects.unscoped()
        .filter(pk=batch_id, status__in=LIVE, next_attempt_at__lte=now)
        .update(
            next_attempt_at=now + dt.timedelta(seconds=lease_seconds()),
            lease_token=uuid.uuid4().hex,
        )
    )
    if not taken:
        return None
    return DropcontactBatch.objects.unscoped().get(pk=batch_id)


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


def run_step(batch: DropcontactBatch, *, api_key: str | None) -> str:
    """The claimed step itself; raises LeaseLost as soon as a write finds the claim gone."""
    items = list(
        EnrichmentItem.objects.for_workspace(batch.workspace_id)
        .filter(batch=batch, status=Item.SUBMITTED)
        .select_related("prospect__company", "prospect__workspace")
        .order_by("id")
    )
    if not items:
        finish_batch(batch, Batch.DONE)
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


def retry_poll(batch: DropcontactBatch, error: ProviderError) -> str:
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
    batch.last_error = error_message(error)
    wait = error.retry_after or max(settings.DROPCONTACT_POLL_INTERVAL_SECONDS, 1.0)
    reschedule(batch, seconds=wait, last_error=batch.last_error)
    return "poll-retry"


def _call(batch: DropcontactBatch, request, *, api_key: str, records: int = 0):
    spec = get_provider(SLUG)
    limit = min(spec.concurrency, settings.PROVIDER_CONCURRENCY)
    with limits.concurrency_slot(
        batch.workspace_id, SLUG, limit=limit, ttl=lease_seconds(), wait=2.0
    ):
        if not limits.wait_for_rate(SLUG, per_second=spec.requests_per_second, max_wait=2.0):
            raise limits.SlotUnavailable(SLUG)
        return provider_http.send(
            SLUG,
            request,
            workspace_id=batch.workspace_id,
            headers=dropcontact.auth_headers(api_key),
            cost=spec.cost_per_call * records,
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


def submit(batch: DropcontactBatch, items: list[EnrichmentItem], *, api_key: str) -> str:
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
        "next_attempt_at": now
        + dt.timedelta(seconds=settings.DROPCONTACT_POLL_INTERVAL_SECONDS),
        "last_error": "",
    }
    with transaction.atomic():
        # Only the step's state changes: a full save would write back every field as read.
        write_batch(batch, statuses=(Batch.SENDING,), **state)
        for name, value in state.items():
            setattr(batch, name, value)
        EnrichmentItem.objects.for_workspace(batch.workspace_id).filter(
            batch=batch, status=Item.SUBMITTED
        ).update(request_id=answer.request_id, updated_at=now)
        charge_jobs(items, Decimal(len(items)) * get_provider(SLUG).cost_per_call)
    return "submitted"


def poll(batch: DropcontactBatch, items: list[EnrichmentItem], *, api_key: str) -> str:
    result = _call(batch, dropcontact.build_poll_request(batch.request_id), api_key=api_key)
    answer = dropcontact.parse_poll_response(
        result.status, result.body, retry_after=result.retry_after
    )
    batch.polls += 1
    if not answer.ready:
        if timezone.now() >= batch.poll_deadline:
            # "Not ready" forever and "unknown request id" are the same answer: give up.
            raise PollDeadlineExceeded(
                _("Dropcontact results did not arrive in time"), kind=ErrorKind.TEMPORARY
            )
        reschedule(batch, seconds=settings.DROPCONTACT_POLL_INTERVAL_SECONDS)
        return "not-ready"
    apply_results(batch, items, answer.records, call=result.call)
    return "applied"


def reschedule(batch: DropcontactBatch, *, seconds: float, **values) -> None:
    """Make the batch's next step due in `seconds` (LeaseLost if the claim is gone)."""
    batch.next_attempt_at = timezone.now() + dt.timedelta(seconds=seconds)
    write_batch(batch, next_attempt_at=batch.next_attempt_at, polls=batch.polls, **values)


def finish_batch(batch: DropcontactBatch, status: str, error: str = "") -> None:
    """Settle the batch (LeaseLost if the claim is gone): callers write their items after."""
    write_batch(
        batch, status=status, last_error=error, finished_at=timezone.now(), polls=batch.polls
    )


# --- Failures ----------------------------------------------------------------------------


class PollDeadlineExceeded(ProviderError):
    """Still "not ready" at the deadline (an unknown request id answers the same)."""


def error_message(error: ProviderError) -> str:
    if isinstance(error, PollDeadlineExceeded):
        return str(error)
    if error.kind == ErrorKind.AUTH:
        return _("API key refused by Dropcontact")
    if error.kind == ErrorKind.QUOTA:
        return _("Dropcontact credits exhausted")
    if error.kind == ErrorKind.RATE_LIMITED:
        return _("Dropcontact rate limit reached")
    # The vendor's own words stay on the ProviderCall row; people read a French sentence.
    if error.kind == ErrorKind.PERMANENT:
        return _("Dropcontact refused the request (HTTP %(status)s)") % {
            "status": error.status or "?"
        }
    if error.status:
        return _("Dropcontact answered with an error (HTTP %(status)s)") % {"status": error.status}
    return _("Dropcontact did not answer (timeout or network error)")


def fail_batch(batch: DropcontactBatch, items: list[EnrichmentItem], error: ProviderError) -> None:
    """Record a failed step and decide, per item, when to try again."""
    message = error_message(error)
    now = timezone.now()
    with transaction.atomic():
        finish_batch(batch, Batch.FAILED, message)
        scope = EnrichmentItem.objects.for_workspace(batch.workspace_id).filter(
            pk__in=[item.pk for item in items], status=Item.SUBMITTED
        )
        if error.kind == ErrorKind.RATE_LIMITED:
            # The vendor's pace, not the item's fault: not counted as a failed attempt.
            wait = error.retry_after if error.retry_after is not None else 60.0
            scope.update(
                status=Item.PENDING,
                next_attempt_at=now + dt.timedelta(seconds=wait),
                last_error=message,
                updated_at=now,
            )
        elif error.kind == ErrorKind.AUTH:
            # Retrying a refused key is pointless: wait until someone saves another one.
            enrichment_services.mark_key_refused(batch.workspace_id, SLUG)
            scope.update(status=Item.WAITING_KEY, last_error=message, updated_at=now)
        elif error.kind == ErrorKind.QUOTA:
            scope.update(
                status=Item.PENDING,
                next_attempt_at=now + dt.timedelta(hours=1),
                last_error=message,
                updated_at=now,
            )
        else:
            fail_items(batch.workspace_id, items, message, now=now)
    log.warning("dropcontact batch %s failed: %s", batch.pk, message)


def fail_items(workspace_id: int, items: list[EnrichmentItem], message: str, *, now) -> None:
    """One more failed attempt: retry after 1, 5, 15 minutes, then NEEDS_REVIEW."""
    delays = settings.ENRICHMENT_RETRY_DELAYS
    items_scope = EnrichmentItem.objects.for_workspace(workspace_id)
    prospects_scope = Prospect.objects.for_workspace(workspace_id)
    by_attempt: dict[int, list[EnrichmentItem]] = {}
    for item in items:
        by_attempt.setdefault(item.attempts + 1, []).append(item)
    for attempts, group in by_attempt.items():
        ids = [item.pk for item in group]
        prospect_ids = [item.prospect_id for item in group]
        if attempts <= len(delays):
            items_scope.filter(pk__in=ids, status=Item.SUBMITTED).update(
                status=Item.PENDING,
                attempts=attempts,
                next_attempt_at=now + dt.timedelta(seconds=delays[attempts - 1]),
                last_error=message,
                updated_at=now,
            )
            prospects_scope.filter(pk__in=prospect_ids, status=Prospect.Status.ENRICHING).update(
                last_error=message, updated_at=now
            )
        else:
            items_scope.filter(pk__in=ids, status=Item.SUBMITTED).update(
                status=Item.NEEDS_REVIEW,
                attempts=attempts,
                last_error=message,
                finished_at=now,
                updated_at=now,
            )
            # Only prospects still being enriched: a late worker whose lease was taken over
            # must not undo the verdict its successor applied.
            prospects_scope.filter(pk__in=prospect_ids, status=Prospect.Status.ENRICHING).update(
                status=Prospect.Status.NEEDS_REVIEW, last_error=message, updated_at=now
            )
    refresh_jobs({item.job_id for item in items if item.job_id})


def park_batch_without_key(batch: DropcontactBatch, items: list[EnrichmentItem]) -> None:
    reason = enrichment_services.waiting_reason(batch.workspace_id, SLUG)
    with transaction.atomic():
        finish_batch(batch, Batch.FAILED, reason)
        EnrichmentItem.objects.for_workspace(batch.workspace_id).filter(
            pk__in=[item.pk for item in items], status=Item.SUBMITTED
        ).update(status=Item.WAITING_KEY, last_error=reason)


# --- Applying results --------------------------------------------------------------------


def apply_results(
    batch: DropcontactBatch,
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
    absorbed: dict[int, int] = {}  # bare company id -> the existing company it is
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
        merged = prospect_services.ProvenanceBuffer(
            batch.workspace_id,
            prospects=list(fresh.values()),
            companies=list({p.company_id: p.company for p in fresh.values() if p.company}.values()),
        )
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
            same = apply_record(
                item, record, call_id=call.pk, now=now, merged=merged, suppressed=suppressed
            )
            if same:
                absorbed.setdefault(*same)
        merged.flush()
        merge_absorbed(batch.workspace_id, absorbed)
        EnrichmentItem.objects.for_workspace(batch.workspace_id).filter(
            pk__in=[item.pk for item in items if item not in missing], status=Item.SUBMITTED
        ).update(status=Item.DONE, last_error="", finished_at=now, updated_at=now)
        if missing:
            fail_items(batch.workspace_id, missing, _("Missing from Dropcontact's answer"), now=now)
        finish_batch(batch, Batch.DONE)
    refresh_jobs({item.job_id for item in items if item.job_id})


def hold_for_applying(batch: DropcontactBatch, items: list[EnrichmentItem]) -> set[int]:
    """Check the claim first, inside the applying transaction (this locks the batch row), and
    return the ids of the items still in flight.

    A worker whose lease was taken over gets LeaseLost here, before touching any item or
    prospect; an item cancelled while the request was out (the person objected) is left out.
    """
    write_batch(batch, statuses=(Batch.POLLING,), polls=batch.polls)
    return set(
        EnrichmentItem.objects.for_workspace(batch.workspace_id)
        .filter(pk__in=[item.pk for item in items], status=Item.SUBMITTED)
        .values_list("pk", flat=True)
    )


def _clean(func, value: str) -> str:
    try:
        return func(value)
    except normalize.InvalidValue:
        return ""


def suppressed_emails(workspace_id: int, records: list[dropcontact.EnrichedRecord]) -> set[str]:
    """The addresses of these records that are on the objection list (one query)."""
    emails = {
        _clean(normalize.normalize_email, candidate.email)
        for record in records
        for candidate in record.email
    }
    return prospect_services.objecting_emails(workspace_id, emails - {""})


def apply_record(
    item: EnrichmentItem,
    record: dropcontact.EnrichedRecord,
    *,
    call_id: int,
    now,
    merged: prospect_services.ProvenanceBuffer,
    suppressed: set[str],
) -> tuple[int, int] | None:
    """Merge one enriched record into its prospect and company, and set the verdict.

    Returns (bare company id, existing company id) when the record showed that the prospect's
    bare company is one the workspace already has: `merge_absorbed` then makes them one."""
    prospect = item.prospect
    workspace = prospect.workspace
    if record.is_do_not_contact:
        emails = {c.email for c in record.email} | {prospect.email}
        for email in filter(None, emails):
            prospect_services.suppress_person(
                workspace,
                email=_clean(normalize.normalize_email, email),
                reason=SuppressionEntry.Reason.PROVIDER,
            )
        prospect.status = Prospect.Status.NOT_VERIFIED
        prospect.email_qualification = record.email[0].qualification if record.email else ""
        prospect.verification_reason = Prospect.Reason.DO_NOT_CONTACT
        prospect.last_error = prospect.not_verified_reason
        prospect.enrichment_source = Source.DROPCONTACT
        prospect.enriched_at = now
        prospect.verified_at = None
        prospect.save(
            update_fields=[
                "status",
                "email_qualification",
                "last_error",
                "verification_reason",
                "enrichment_source",
                "enriched_at",
                "verified_at",
            ]
        )
        return None

    best = record.best_email
    changed: list[str] = []
    # Every address Dropcontact returns is kept as a candidate; the best one may be stored.
    for candidate in record.email:
        email = _clean(normalize.normalize_email, candidate.email)
        if not email or email in suppressed:
            continue
        confidence = EMAIL_CONFIDENCE.get(candidate.parsed.kind, OTHER_EMAIL_CONFIDENCE)
        options = {
            "source": Source.DROPCONTACT,
            "confidence": confidence,
            "provider_call_id": call_id,
            "observed_at": now,
            # What Dropcontact said of the address: "use this address" offers a verified one.
            "detail": candidate.qualification,
        }
        if candidate is best:
            changed += merged.merge(prospect, {"email": email}, **options)
        else:
            merged.observe(prospect, "email", email, **options)
    mobile = _clean(normalize.normalize_phone, record.mobile_phone)
    landline = _clean(normalize.normalize_phone, record.phone)
    if mobile and landline and mobile != landline:
        merged.observe(
            prospect,
            "phone",
            mobile,
            source=Source.DROPCONTACT,
            confidence=FIELD_CONFIDENCE,
            provider_call_id=call_id,
            observed_at=now,
        )
    changed += merged.merge(
        prospect,
        {
            "first_name": record.first_name,
            "last_name": record.last_name,
            "job_title": record.job,
            "linkedin_url": _clean(normalize.canonical_linkedin, record.linkedin),
            "phone": landline or mobile,
        },
        source=Source.DROPCONTACT,
        confidence=FIELD_CONFIDENCE,
        provider_call_id=call_id,
        observed_at=now,
    )
    company_before = prospect.company
    same = apply_company(prospect, record, call_id=call_id, now=now, merged=merged)

    stored = next(
        (c for c in record.email if prospect.email and c.email.lower() == prospect.email.lower()),
        None,
    )
    verified = stored is not None and stored.parsed.is_verified_pro
    prospect.status = Prospect.Status.VERIFIED if verified else Prospect.Status.NOT_VERIFIED
    prospect.email_qualification = stored.qualification if stored else ""
    prospect.verified_at = now if verified else None
    prospect.enrichment_source = Source.DROPCONTACT
    prospect.enriched_at = now
    prospect.verification_reason = "" if verified else verdict_reason(prospect, record, stored)
    prospect.last_error = prospect.not_verified_reason
    try:
        with transaction.atomic():
            # Only what the enrichment decided: any other field keeps what is in the database.
            prospect.save(update_fields=[*changed, *VERDICT_FIELDS])
    except (IntegrityError, prospect_services.SuppressedPerson):
        # The found address belongs to another prospect of the workspace (or objected since):
        # keep the status, not the address.
        original = Prospect.objects.for_workspace(workspace).get(pk=prospect.pk)
        for field in changed:
            setattr(prospect, field, getattr(original, field))
        merged.revert(prospect, changed)
        # Perhaps the same person is at the company it was moved to: it stays where it was.
        prospect.company = company_before
        prospect.status = Prospect.Status.NOT_VERIFIED
        prospect.verified_at = None
        prospect.verification_reason = Prospect.Reason.ADDRESS_TAKEN
        prospect.last_error = prospect.not_verified_reason
        prospect.save(update_fields=VERDICT_FIELDS)
    return same


def verdict_reason(
    prospect: Prospect,
    record: dropcontact.EnrichedRecord,
    stored: dropcontact.EmailCandidate | None,
) -> str:
    """Why the prospect is not verified (a Prospect.Reason)."""
    if not prospect.email:
        return Prospect.Reason.NO_EMAIL_FOUND
    best = record.best_email
    if best is not None and best is not stored and best.parsed.is_verified_pro:
        return Prospect.Reason.OTHER_VERIFIED
    if stored is None:
        return Prospect.Reason.UNCONFIRMED
    return Prospect.Reason.UNVERIFIED


def apply_company(
    prospect: Prospect,
    record: dropcontact.EnrichedRecord,
    *,
    call_id: int,
    now,
    merged: prospect_services.ProvenanceBuffer,
) -> tuple[int, int] | None:
    """Merge the record's company data into the prospect's company, found by its identity.

    Returns (bare company id, existing company id) when the prospect's company, known only by
    its name, turns out to be a company the workspace has under that name with this domain or
    SIREN: the prospect moves to it now, the two become one after the batch."""
    company = prospect.company
    domain = _clean(normalize.normalize_domain, record.website)
    siren = "".join(record.siren.split())
    siren = siren if normalize_siren_ok(siren) else ""
    siret = "".join(record.siret.split())
    same = None
    if company is None and (record.company or domain):
        company = prospect_services.get_or_create_company(
            prospect.workspace,
            {"name": record.company or domain, "domain": domain, "siren": siren},
        )
        prospect.company = company
    elif company is not None and not company.domain and not company.siren and (domain or siren):
        existing = prospect_services.find_company(
            prospect.workspace_id, siren=siren, domain=domain, exclude=company.pk
        )
        if existing is not None:
            if existing.name_key == company.name_key:
                same = (company.pk, existing.pk)
            company = prospect.company = existing
    if company is None:
        return None
    website = record.website
    if website and not website.startswith("http"):
        website = f"https://{website}"
    values = {
        "domain": domain,
        "website": website,
        "siren": siren,
        "siret": siret if normalize_siret_ok(siret) else "",
        "headcount": record.headcount,
        "industry": record.naf5_des,
        "location": record.siret_address,
        "linkedin_url": record.company_linkedin,
    }
    changed = merged.merge(
        company,
        values,
        source=Source.DROPCONTACT,
        confidence=FIELD_CONFIDENCE,
        provider_call_id=call_id,
        observed_at=now,
    )
    if changed:
        try:
            with transaction.atomic():
                company.save(update_fields=[*changed, "updated_at"])
        except IntegrityError:
            # Another company of the workspace already has this domain: keep ours unchanged.
            company.refresh_from_db()
            merged.revert(company, changed)
    return same


def merge_absorbed(workspace_id: int, absorbed: dict[int, int]) -> None:
    """Make each bare company one with the existing company it turned out to be."""
    if not absorbed:
        return
    scope = Company.objects.for_workspace(workspace_id)
    found = scope.in_bulk([*absorbed, *absorbed.values()])
    for bare_id, kept_id in absorbed.items():
        if bare_id in found and kept_id in found:
            prospect_services.merge_companies(found[kept_id], [found[bare_id]])


def normalize_siren_ok(value: str) -> bool:
    from stdnum.fr import siren

    return bool(value) and siren.is_valid(value)


def normalize_siret_ok(value: str) -> bool:
    from stdnum.fr import siret

    return bool(value) and siret.is_valid(value)


# --- Jobs --------------------------------------------------------------------------------


def charge_jobs(items: list[EnrichmentItem], total: Decimal) -> None:
    """Spread a submit's cost over the jobs its items belong to."""
    per_item = total / len(items) if items else Decimal(0)
    counts: dict[int, int] = {}
    for item in items:
        if item.job_id:
            counts[item.job_id] = counts.get(item.job_id, 0) + 1
    for job_id, count in counts.items():
        EnrichmentJob.objects.unscoped().filter(pk=job_id).update(
            spent_credits=F("spent_credits") + per_item * count
        )


def refresh_jobs(job_ids: set[int]) -> None:
    """Recount a job's items and settle its status once nothing is left in flight."""
    from django.db.models import Count, Q

    for job_id in job_ids:
        job = EnrichmentJob.objects.unscoped().get(pk=job_id)
        counts = (
            EnrichmentItem.objects.for_workspace(job.workspace_id)
            .filter(job=job)
            .aggregate(
                total=Count("id"),
                done=Count("id", filter=Q(status=Item.DONE)),
                failed=Count("id", filter=Q(status=Item.NEEDS_REVIEW)),
                active=Count("id", filter=Q(status__in=EnrichmentItem.ACTIVE_STATUSES)),
            )
        )
        status = EnrichmentJob.Status.RUNNING
        finished_at = None
        if counts["active"] == 0:
            finished_at = timezone.now()
            if counts["failed"] == 0:
                status = EnrichmentJob.Status.COMPLETED
            elif counts["done"] == 0:
                status = EnrichmentJob.Status.FAILED
            else:
                status = EnrichmentJob.Status.PARTIALLY_COMPLETED
        EnrichmentJob.objects.for_workspace(job.workspace_id).filter(pk=job_id).update(
            total_items=counts["total"],
            done_items=counts["done"],
            failed_items=counts["failed"],
            status=status,
            finished_at=finished_at,
        )
