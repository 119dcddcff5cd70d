"""Merging Dropcontact records into their prospects and companies, in memory, in answer order.

Nothing here queries the database: `dropcontact_writes` reads, once per batch, what the records
need (companies by identity, domains taken, objections, match keys) and writes the outcome in a
few statements, whatever the number of records. Records are merged one after the other, as a
save per record used to do it: what one record changes (a company given its domain) is what
the next one sees.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from prospects import normalize
from prospects import services as prospect_services
from prospects.models import Company, Prospect, Source

from ..providers import dropcontact
from .verdict import VERDICT_FIELDS

# Confidence given to what Dropcontact returns (0-100), by what it says of the address.
EMAIL_CONFIDENCE = {"nominative": 95, "catch_all": 50}
OTHER_EMAIL_CONFIDENCE = 30
FIELD_CONFIDENCE = 80
# What a do-not-contact record sets: the verdict only, never a value from the record.
DO_NOT_CONTACT_FIELDS = [name for name in VERDICT_FIELDS if name != "company"]


@dataclass
class Holders:
    """Which companies hold each domain or SIREN: the database's, then what this batch gave."""

    by_value: dict[str, set[int]] = field(default_factory=dict)

    def first(self, value: str, *, other_than: int) -> int | None:
        """The oldest company (lowest id) holding `value`, other than `other_than`."""
        ids = self.by_value.get(value, set()) - {other_than}
        return min(ids) if ids else None

    def move(self, company_id: int, old: str, new: str) -> None:
        if old:
            self.by_value.get(old, set()).discard(company_id)
        if new:
            self.by_value.setdefault(new, set()).add(company_id)


@dataclass
class Applying:
    """One batch being applied: shared company instances, what was read, what is to write."""

    workspace_id: int
    call_id: int
    now: dt.datetime
    suppressed: set[str]  # addresses on the objection list: never even kept as candidates
    merged: prospect_services.ProvenanceBuffer
    companies: dict[int, Company]  # one instance per company, whichever prospect reaches it
    created: dict[int, Company]  # prospect id -> the company its record named (it had none)
    domains: Holders
    sirens: Holders
    # prospect id -> the fields its row is written with (besides its keys), in answer order
    fields: dict[int, list[str]] = field(default_factory=dict)
    changed: dict[int, list[str]] = field(default_factory=dict)  # merged fields, per prospect
    company_before: dict[int, Company | None] = field(default_factory=dict)
    company_fields: dict[int, set[str]] = field(default_factory=dict)
    absorbed: dict[int, int] = field(default_factory=dict)  # bare company id -> existing one


def clean(func, value: str) -> str:
    try:
        return func(value)
    except normalize.InvalidValue:
        return ""


def siren_of(record: dropcontact.EnrichedRecord) -> str:
    from stdnum.fr import siren

    value = "".join(record.siren.split())
    return value if value and siren.is_valid(value) else ""


def siret_of(record: dropcontact.EnrichedRecord) -> str:
    from stdnum.fr import siret

    value = "".join(record.siret.split())
    return value if value and siret.is_valid(value) else ""


def apply_do_not_contact(
    prospect: Prospect, record: dropcontact.EnrichedRecord, state: Applying
) -> None:
    """The person asked not to be contacted: not verified, whatever was found (the addresses go
    on the objection list before any record is written)."""
    prospect.status = Prospect.Status.NOT_VERIFIED
    prospect.email_qualification = record.email[0].qualification if record.email else ""
    prospect.verification_reason = Prospect.Reason.DO_NOT_CONTACT
    prospect.last_error = prospect.not_verified_reason
    prospect.enrichment_source = Source.DROPCONTACT
    prospect.enriched_at = state.now
    prospect.verified_at = None
    state.fields[prospect.pk] = list(DO_NOT_CONTACT_FIELDS)
    state.changed[prospect.pk] = []
    state.company_before[prospect.pk] = prospect.company
    prospect.refresh_keys()


def apply_record(prospect: Prospect, record: dropcontact.EnrichedRecord, state: Applying) -> None:
    """Merge one enriched record into its prospect and company, and set the verdict."""
    provenance = {
        "source": Source.DROPCONTACT,
        "provider_call_id": state.call_id,
        "observed_at": state.now,
    }
    best = record.best_email
    changed: list[str] = []
    # Every address Dropcontact returns is kept as a candidate; the best one may be stored.
    for candidate in record.email:
        email = clean(normalize.normalize_email, candidate.email)
        if not email or email in state.suppressed:
            continue
        confidence = EMAIL_CONFIDENCE.get(candidate.parsed.kind, OTHER_EMAIL_CONFIDENCE)
        # What Dropcontact said of the address: "use this address" offers a verified one.
        options = {**provenance, "confidence": confidence, "detail": candidate.qualification}
        if candidate is best:
            changed += state.merged.merge(prospect, {"email": email}, **options)
        else:
            state.merged.observe(prospect, "email", email, **options)
    mobile = clean(normalize.normalize_phone, record.mobile_phone)
    landline = clean(normalize.normalize_phone, record.phone)
    if mobile and landline and mobile != landline:
        state.merged.observe(prospect, "phone", mobile, confidence=FIELD_CONFIDENCE, **provenance)
    changed += state.merged.merge(
        prospect,
        {
            "first_name": record.first_name,
            "last_name": record.last_name,
            "job_title": record.job,
            "linkedin_url": clean(normalize.canonical_linkedin, record.linkedin),
            "phone": landline or mobile,
        },
        confidence=FIELD_CONFIDENCE,
        **provenance,
    )
    state.company_before[prospect.pk] = prospect.company
    apply_company(prospect, record, state)
    set_verdict(prospect, record, state.now)
    state.fields[prospect.pk] = [*changed, *VERDICT_FIELDS]
    state.changed[prospect.pk] = changed
    # The keys as a save right now would compute them (the company as this record left it).
    prospect.refresh_keys()


def set_verdict(prospect: Prospect, record: dropcontact.EnrichedRecord, now: dt.datetime) -> None:
    """Verified only when the address stored is one Dropcontact verified."""
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


def refuse_address(prospect: Prospect, state: Applying) -> None:
    """The found values cannot be stored (the address belongs to another prospect of the
    workspace, or objected): keep the verdict "address taken", not the values."""
    changed = state.changed.get(prospect.pk, [])
    loaded = getattr(prospect, "_loaded", {})
    for name in changed:
        setattr(prospect, name, loaded[name])
    state.merged.revert(prospect, changed)
    # Perhaps the same person is at the company it was moved to: it stays where it was.
    prospect.company = state.company_before.get(prospect.pk, prospect.company)
    prospect.status = Prospect.Status.NOT_VERIFIED
    prospect.verified_at = None
    prospect.verification_reason = Prospect.Reason.ADDRESS_TAKEN
    prospect.last_error = prospect.not_verified_reason
    state.fields[prospect.pk] = list(VERDICT_FIELDS)
    state.changed[prospect.pk] = []
    prospect.refresh_keys()


def apply_company(prospect: Prospect, record: dropcontact.EnrichedRecord, state: Applying) -> None:
    """Merge the record's company data into the prospect's company, found by its identity.

    When the prospect's company, known only by its name, turns out to be a company the
    workspace has under that name with this domain or SIREN, the prospect moves to it now and
    the two become one after the batch (`state.absorbed`)."""
    company = prospect.company
    domain = clean(normalize.normalize_domain, record.website)
    siren = siren_of(record)
    if company is None:
        company = prospect.company = state.created.get(prospect.pk)
    elif not company.domain and not company.siren and (domain or siren):
        existing_id = (siren and state.sirens.first(siren, other_than=company.pk)) or (
            domain and state.domains.first(domain, other_than=company.pk)
        )
        if existing_id:
            existing = state.companies[existing_id]
            if existing.name_key == company.name_key:
                state.absorbed.setdefault(company.pk, existing.pk)
            company = prospect.company = existing
    if company is None:
        return
    website = record.website
    if website and not website.startswith("http"):
        website = f"https://{website}"
    values = {
        "domain": domain,
        "website": website,
        "siren": siren,
        "siret": siret_of(record),
        "headcount": record.headcount,
        "industry": record.naf5_des,
        "location": record.siret_address,
        "linkedin_url": record.company_linkedin,
    }
    before = {name: getattr(company, name) for name in values}
    changed = state.merged.merge(
        company,
        values,
        source=Source.DROPCONTACT,
        confidence=FIELD_CONFIDENCE,
        provider_call_id=state.call_id,
        observed_at=state.now,
    )
    if "domain" in changed and state.domains.first(company.domain, other_than=company.pk):
        # Another company of the workspace already has this domain: keep ours unchanged.
        for name in changed:
            setattr(company, name, before[name])
        state.merged.revert(company, changed)
        return
    if changed:
        state.domains.move(company.pk, before["domain"], company.domain)
        state.sirens.move(company.pk, before["siren"], company.siren)
        company.updated_at = state.now
        state.company_fields.setdefault(company.pk, set()).update(changed)
