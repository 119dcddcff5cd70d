"""Applying a waterfall's findings: one confidence per address, the best one merged under the
merge rules (a typed or imported address is never overwritten), every other one kept as a
candidate, and a verdict that names its real source ("✓ Vérifié par Prospeo")."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from prospects import normalize
from prospects import services as prospect_services
from prospects.models import COMPANY_FIELDS, Company, Prospect

from ..engine import claims
from ..engine.jobs import refresh_jobs
from ..models import EnrichmentItem
from ..webhooks import events
from .verdict import VERDICT_FIELDS

Item = EnrichmentItem.Status

# How far each vendor's word is trusted, 0-1: its measured share of right answers when it
# says an address is good. Multiplied by the vendor's own signal for one confidence 0-100.
RELIABILITY = {
    # Our own SMTP check: a mail host that said yes to this mailbox and no to a random one.
    "discovery": 0.9,
    "aiark": 0.85,
    "firecrawl": 0.7,
    "prospeo": 0.95,
    "findymail": 0.95,
    "leadmagic": 0.9,
    "hunter": 0.85,
    "apollo": 0.8,
}
DEFAULT_RELIABILITY = 0.75


@dataclass
class Address:
    """One address as every provider that gave it sees it."""

    email: str
    confidence: int
    verified_by: str  # the first provider that verified it ("" if none did)
    provider: str  # the provider whose finding weighs most
    call_id: int | None
    detail: str


def confidence_of(provider: str, signal: int) -> float:
    return RELIABILITY.get(provider, DEFAULT_RELIABILITY) * max(0, min(100, signal)) / 100


def settle_addresses(candidates: Iterable) -> list[Address]:
    """One entry per address: sources that agree add up (1 - Π(1 - c)), the best first."""
    by_email: dict[str, list] = {}
    for candidate in candidates:
        try:
            email = normalize.normalize_email(candidate.finding.email)
        except normalize.InvalidValue:
            continue
        if email:
            by_email.setdefault(email, []).append(candidate)
    addresses = []
    for email, group in by_email.items():
        doubt = 1.0
        for candidate in group:
            doubt *= 1 - confidence_of(candidate.provider, candidate.finding.signal)
        strongest = max(group, key=lambda c: confidence_of(c.provider, c.finding.signal))
        verifier = next((c for c in group if c.finding.verified), None)
        addresses.append(
            Address(
                email=email,
                confidence=round(100 * (1 - doubt)),
                verified_by=verifier.provider if verifier else "",
                provider=(verifier or strongest).provider,
                call_id=(verifier or strongest).call_id,
                detail=(verifier or strongest).finding.detail,
            )
        )
    return sorted(addresses, key=lambda a: (bool(a.verified_by), a.confidence), reverse=True)


def settle_item(item: EnrichmentItem, *, now) -> None:
    """The item is done: written first, so a worker that lost its lease writes nothing at all."""
    claims.write_claimed(item, statuses=(Item.SUBMITTED,), **done_values(now))


def done_values(now) -> dict:
    """What an item that is done gets written."""
    return {
        "status": Item.DONE,
        "outcome": "",
        "outcome_detail": "",
        "finished_at": now,
        "updated_at": now,
    }


def apply_candidates(item: EnrichmentItem, candidates: list) -> None:
    """Merge the findings into the prospect and settle the item, in one transaction."""
    now = timezone.now()
    addresses = settle_addresses(candidates)
    suppressed = prospect_services.objecting_emails(item.workspace_id, {a.email for a in addresses})
    addresses = [a for a in addresses if a.email not in suppressed]
    with transaction.atomic():
        settle_item(item, now=now)
        prospect = (
            Prospect.objects.for_workspace(item.workspace_id)
            .select_for_update(of=("self",))
            # Its save reads both (the match keys, the objection check): in the same query.
            .select_related("company", "workspace")
            .filter(pk=item.prospect_id)
            .first()
        )
        if prospect is not None and prospect.status == Prospect.Status.ENRICHING:
            merge_addresses(prospect, addresses, now=now)
            events.emit_prospect_verdicts(item.workspace_id, [(f"item:{item.pk}", prospect.pk)])
    refresh_jobs([item.job_id] if item.job_id else [])


def apply_email_findings(workspace_id: int, token: str, findings: list[tuple]) -> set[int]:
    """`apply_candidates` for several items claimed together under `token` (each with its
    candidates), in one transaction of a few statements; the ids of the items applied (the
    others were taken over by another worker). Should a prospect's save break a constraint
    all the same (a race with another write), each item is applied alone."""
    now = timezone.now()
    addresses = {item.pk: settle_addresses(candidates) for item, candidates in findings}
    every = {a.email for found in addresses.values() for a in found}
    suppressed = prospect_services.objecting_emails(workspace_id, every)
    for pk, found in addresses.items():
        addresses[pk] = [a for a in found if a.email not in suppressed]
    items = {item.pk: item for item, _candidates in findings}
    try:
        with transaction.atomic():
            held = claims.hold_many(
                EnrichmentItem, list(items), token, statuses=(Item.SUBMITTED,), **done_values(now)
            )
            by_prospect = {items[pk].prospect_id: pk for pk in held}
            prospects = list(
                Prospect.objects.for_workspace(workspace_id)
                .select_for_update(of=("self",))
                .select_related("company", "workspace")
                .filter(pk__in=list(by_prospect), status=Prospect.Status.ENRICHING)
            )
            merge_many(prospects, {p.pk: addresses[by_prospect[p.pk]] for p in prospects}, now)
            events.emit_prospect_verdicts(
                workspace_id, [(f"item:{by_prospect[p.pk]}", p.pk) for p in prospects]
            )
    except (IntegrityError, prospect_services.SuppressedPerson):
        held = set()
        for item, candidates in findings:
            try:
                apply_candidates(item, candidates)
                held.add(item.pk)
            except claims.LeaseLost:
                pass
        return held
    refresh_jobs({items[pk].job_id for pk in held if items[pk].job_id})
    return held


def merge_many(prospects: list[Prospect], addresses: dict[int, list[Address]], now) -> None:
    """`merge_addresses` for many prospects: one provenance read, one save statement, one
    provenance write. An address another prospect of the workspace holds (or that two of
    these would take) is not stored: that prospect keeps only its verdict, as alone."""
    if not prospects:
        return
    workspace_id = prospects[0].workspace_id
    buffer = prospect_services.ProvenanceBuffer(workspace_id, prospects=prospects)
    changed: dict[int, list[str]] = {}
    before = {p.pk: {"email": p.email} for p in prospects}
    for prospect in prospects:
        changed[prospect.pk] = merge_email(buffer, prospect, addresses[prospect.pk], now=now)
        prospect.updated_at = now
    new_keys = {p.pk: normalize.email_key(p.email) for p in prospects if "email" in changed[p.pk]}
    taken = set(
        Prospect.objects.for_workspace(workspace_id)
        .filter(email_key__in=[k for k in new_keys.values() if k])
        .exclude(pk__in=list(new_keys))
        .values_list("email_key", flat=True)
    )
    claimed: set[str] = set()
    for prospect in prospects:
        key = new_keys.get(prospect.pk)
        if key is None:
            continue
        if key in taken or key in claimed:
            prospect.email = before[prospect.pk]["email"]
            buffer.revert(prospect, changed[prospect.pk])
            changed[prospect.pk] = []
            prospect.status = Prospect.Status.NOT_VERIFIED
            prospect.verified_at = None
            prospect.verification_reason = Prospect.Reason.ADDRESS_TAKEN
            prospect.last_error = prospect.not_verified_reason
        else:
            claimed.add(key)
    for prospect in prospects:
        prospect.refresh_keys()
    fields = {name for names in changed.values() for name in names}
    Prospect.objects.for_workspace(workspace_id).bulk_update(
        prospects,
        [*sorted(fields), *VERDICT_FIELDS, "email_key", "name_key", "search_key", "updated_at"],
    )
    buffer.flush()


def merge_addresses(prospect: Prospect, addresses: list[Address], *, now) -> None:
    buffer = prospect_services.ProvenanceBuffer(prospect.workspace_id, prospects=[prospect])
    changed = merge_email(buffer, prospect, addresses, now=now)
    try:
        with transaction.atomic():
            prospect.save(update_fields=[*changed, *VERDICT_FIELDS])
    except (IntegrityError, prospect_services.SuppressedPerson):
        # The address belongs to another prospect of the workspace: keep the status only.
        original = Prospect.objects.for_workspace(prospect.workspace_id).get(pk=prospect.pk)
        for field in changed:
            setattr(prospect, field, getattr(original, field))
        buffer.revert(prospect, changed)
        prospect.status = Prospect.Status.NOT_VERIFIED
        prospect.verified_at = None
        prospect.verification_reason = Prospect.Reason.ADDRESS_TAKEN
        prospect.last_error = prospect.not_verified_reason
        prospect.save(update_fields=VERDICT_FIELDS)
    buffer.flush()


def merge_email(buffer, prospect: Prospect, addresses: list[Address], *, now) -> list[str]:
    """The best address merged (under the merge rules), the others kept as candidates, the
    verdict set; the fields changed (the caller saves)."""
    changed: list[str] = []
    for rank, address in enumerate(addresses):
        options = {
            "source": address.provider,
            "confidence": address.confidence,
            "provider_call_id": address.call_id,
            "observed_at": now,
            "detail": address.detail,
        }
        if rank == 0:
            changed += buffer.merge(prospect, {"email": address.email}, **options)
        else:
            buffer.observe(prospect, "email", address.email, **options)
    set_verdict(prospect, addresses, now=now)
    return changed


def set_verdict(prospect: Prospect, addresses: list[Address], *, now) -> None:
    """Verified only when the stored address is one a provider verified."""
    stored = next((a for a in addresses if a.email == (prospect.email or "").lower()), None)
    verified = stored is not None and bool(stored.verified_by)
    prospect.status = Prospect.Status.VERIFIED if verified else Prospect.Status.NOT_VERIFIED
    prospect.verified_at = now if verified else None
    prospect.email_qualification = stored.detail if stored else ""
    prospect.enrichment_source = (
        stored.verified_by
        if verified
        else (addresses[0].provider if addresses else prospect.enrichment_source)
    )
    prospect.enriched_at = now
    if verified:
        prospect.verification_reason = ""
    elif not prospect.email:
        prospect.verification_reason = Prospect.Reason.NO_EMAIL_FOUND
    elif stored is None:
        prospect.verification_reason = Prospect.Reason.UNCONFIRMED
    else:
        prospect.verification_reason = Prospect.Reason.UNVERIFIED
    prospect.last_error = prospect.not_verified_reason


def apply_company_facts(item: EnrichmentItem, candidates: list) -> None:
    """Merge what the company waterfall found into the prospect's company (a person's values
    stay), keep the rest as candidates, and settle the item, in one transaction."""
    now = timezone.now()
    with transaction.atomic():
        settle_item(item, now=now)
        company = (
            Company.objects.for_workspace(item.workspace_id)
            .select_for_update()
            .filter(pk=item.prospect.company_id)
            .first()
        )
        if company is not None and candidates:
            buffer = prospect_services.ProvenanceBuffer(item.workspace_id, companies=[company])
            changed: list[str] = []
            for candidate in candidates:
                facts = {k: v for k, v in candidate.finding.facts.items() if k in COMPANY_FIELDS}
                facts.pop("name", None)  # the name is the company's identity: never replaced
                changed += buffer.merge(
                    company,
                    facts,
                    source=candidate.provider,
                    confidence=round(
                        100 * confidence_of(candidate.provider, candidate.finding.signal)
                    ),
                    provider_call_id=candidate.call_id,
                    observed_at=now,
                )
            if changed:
                try:
                    with transaction.atomic():
                        company.save(update_fields=[*dict.fromkeys(changed), "updated_at"])
                except IntegrityError:
                    # Another company of the workspace has this domain or SIREN: ours stays.
                    company.refresh_from_db()
                    buffer.revert(company, changed)
            buffer.flush()
            # Its industry (and name) as written: the derived code and legal form follow.
            prospect_services.apply_normalizers(item.workspace_id, companies=[company])
    refresh_jobs([item.job_id] if item.job_id else [])
