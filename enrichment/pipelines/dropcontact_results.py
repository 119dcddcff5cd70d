"""Applying a ready Dropcontact answer: merge each record into its prospect and company, keep
every candidate as provenance, and set the verdict (verified only when the stored address is).

Runs in one transaction that first re-checks the batch's claim (so a late answer rolls back
whole) and locks the prospects (so an edit made while the request was out survives).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from prospects import normalize
from prospects import services as prospect_services
from prospects.models import Company, Prospect, Source, SuppressionEntry

from ..engine import attempts, claims, outcomes, retry
from ..engine.jobs import charge_jobs, refresh_jobs
from ..models import EnrichmentItem, ProviderBatch, ProviderCall
from ..providers import dropcontact
from ..providers.registry import get_provider
from .verdict import VERDICT_FIELDS

Item = EnrichmentItem.Status
Batch = ProviderBatch.Status

# Confidence given to what Dropcontact returns (0-100), by what it says of the address.
EMAIL_CONFIDENCE = {"nominative": 95, "catch_all": 50}
OTHER_EMAIL_CONFIDENCE = 30
FIELD_CONFIDENCE = 80


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
            (found if record.email else empty).append(item.pk)
            same = apply_record(
                item, record, call_id=call.pk, now=now, merged=merged, suppressed=suppressed
            )
            if same:
                absorbed.setdefault(*same)
        merged.flush()
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
        from ..bulk import queue_after_dropcontact

        queue_after_dropcontact(batch.workspace_id, automatic)


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
