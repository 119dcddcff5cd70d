"""Discovered contacts: adding them (de-duplicated, within quotas), recording the address the
verification found, and the approval that turns them into prospects.

Nothing reaches the prospects before a person approves: approval creates the prospect (source
"discovery", the address's provenance at its score) or links the one that already exists, and
never for a person on the objection list. Unapproved contacts are purged after the retention
period (`purge_unapproved`, run by the sweeper). The quotas are in `quotas`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from prospects import normalize
from prospects import services as prospect_services
from prospects.models import Company, Prospect, Source, Workspace

from ..models import DiscoveredContact
from .domains import clean_domain
from .quotas import DiscoveryRefused, check_contact_quotas

Contact = DiscoveredContact
RETENTION_DAYS = 30


def person_key(first_name: str, last_name: str, domain: str) -> str:
    """One contact per person and domain, whatever the accents, case and spacing."""
    name = " ".join(normalize.fold(f"{first_name} {last_name}").split())
    return f"{name}@{domain}"[:600]


def _site_name(workspace: Workspace, contact: DiscoveredContact) -> str:
    """The site's own name for a company the workspace does not know yet, "" (the company is
    then named after its domain) when a company of the workspace already has that name: a
    name read off a page is no proof that it is that company, and matching it would give the
    domain to a company that has none."""
    name = contact.company_name
    key = normalize.company_name_key(name)
    if not key or Company.objects.for_workspace(workspace).filter(name_key=key).exists():
        return ""
    return name


def add_contact(
    workspace: Workspace,
    *,
    first_name: str,
    last_name: str,
    domain: str,
    method: str,
    job_title: str = "",
    source: str = "",
    confidence: int = 50,
    company: Any = None,
    company_name: str = "",
    user: Any = None,
    allowance: Any = None,
) -> tuple[DiscoveredContact, bool]:
    """The contact for this person at this domain: (contact, created). An existing one is
    returned as it is (and costs no quota). A job's `allowance` (`quotas.JobContacts`) holds
    its requester's contacts quota: reserved, then counted, in the transaction that adds.
    `company_name`: the company's name as its site gives it, for approval to create the
    company under (without it, the company is named after its domain)."""
    first_name = normalize.clean_text(first_name)[:150]
    last_name = normalize.clean_text(last_name)[:150]
    domain = clean_domain(domain)
    if not (first_name and last_name and domain):
        raise DiscoveryRefused(
            _("A discovered contact needs a first name, a last name and a domain."),
            code="invalid_contact",
        )
    key = person_key(first_name, last_name, domain)
    contacts = Contact.objects.for_workspace(workspace)
    existing = contacts.filter(person_key=key).first()
    if existing is not None:
        return existing, False
    with transaction.atomic():
        if allowance is not None:
            allowance.reserve()
        check_contact_quotas(workspace, domain, user)
        try:
            with transaction.atomic():
                contact = Contact.objects.create(
                    workspace=workspace,
                    company=company,
                    company_name=normalize.clean_text(company_name)[:255],
                    domain=domain,
                    first_name=first_name,
                    last_name=last_name,
                    job_title=normalize.clean_text(job_title)[:255],
                    person_key=key,
                    method=method,
                    source=source[:500],
                    confidence=max(0, min(100, confidence)),
                    created_by=user if getattr(user, "pk", None) else None,
                )
        except IntegrityError:
            # Added meanwhile by another request: that one is the contact.
            return contacts.get(person_key=key), False
        if allowance is not None:
            allowance.count()
    return contact, True


def record_address(
    contact: DiscoveredContact,
    *,
    email: str,
    status: str,
    score: int | None,
    reason: str = "",
    catch_all: bool | None = None,
    evidence: str = "",
    patterns_tried: list[str] | None = None,
) -> None:
    """What the verification found for a contact still to review (an approved or rejected
    one keeps what the person decided on)."""
    Contact.objects.for_workspace(contact.workspace_id).filter(
        pk=contact.pk, status=Contact.Status.PENDING
    ).update(
        email=email,
        email_status=status,
        email_score=score,
        email_reason=reason[:255],
        catch_all=catch_all,
        evidence=evidence[:255],
        patterns_tried=list(patterns_tried or []),
        checked_at=timezone.now(),
        updated_at=timezone.now(),
    )


@dataclass
class Decision:
    done: list[DiscoveredContact] = field(default_factory=list)
    refused: list[tuple[DiscoveredContact, str]] = field(default_factory=list)
    # Why each refused contact was refused, as a stable code (contact id -> code).
    codes: dict[int, str] = field(default_factory=dict)

    def refuse(self, contact: DiscoveredContact, message: str, code: str) -> None:
        self.refused.append((contact, message))
        self.codes[contact.pk] = code


def _already_decided(contact: DiscoveredContact) -> str:
    return _("Already decided: %(status)s.") % {"status": contact.get_status_display()}


def approve_contacts(workspace: Workspace, ids: list[int], *, user: Any = None) -> Decision:
    """Approve contacts still to review: each becomes a prospect (or is linked to the one that
    exists), one transaction per contact so that one refusal never undoes the others.

    Each contact is locked while it is approved, so two people approving it at once make one
    prospect; an address or a person another prospect took meanwhile (another approval, an
    import) leaves the contact to review, with who took it."""
    decision = Decision()
    pending = Contact.objects.for_workspace(workspace).filter(pk__in=ids)
    for contact in pending.select_related("company"):
        if contact.status != Contact.Status.PENDING:
            decision.refuse(contact, _already_decided(contact), "already_decided")
            continue
        _approve_one(workspace, contact, decision, user=user)
    return decision


def link_contact(
    workspace: Workspace, contact: DiscoveredContact, prospect: Prospect, *, user: Any = None
) -> Decision:
    """Approve a contact still to review as this existing prospect of the workspace: its
    address is merged into the prospect under the merge rules."""
    decision = Decision()
    if prospect.workspace_id != workspace.pk or contact.workspace_id != workspace.pk:
        raise Prospect.DoesNotExist
    if contact.status != Contact.Status.PENDING:
        decision.refuse(contact, _already_decided(contact), "already_decided")
        return decision
    _approve_one(workspace, contact, decision, user=user, prospect=prospect)
    return decision


def _approve_one(
    workspace: Workspace,
    contact: DiscoveredContact,
    decision: Decision,
    *,
    user: Any,
    prospect: Prospect | None = None,
) -> None:
    """Approve one contact, locked meanwhile: two people approving it at once make one
    prospect, the second is told it is already decided."""
    try:
        with transaction.atomic():
            locked = (
                Contact.objects.for_workspace(workspace)
                .select_for_update()
                .filter(pk=contact.pk)
                .values_list("status", flat=True)
                .first()
            )
            if locked != Contact.Status.PENDING:
                contact.status = locked or contact.status
                decision.refuse(contact, _already_decided(contact), "already_decided")
                return
            _approve(workspace, contact, user=user, prospect=prospect)
    except prospect_services.ProspectRejected as error:
        if error.reason == "duplicate":
            # Another approval or an import made this person a prospect meanwhile.
            decision.refuse(contact, _taken(workspace, contact), "duplicate")
            return
        _decide(contact, Contact.Status.REJECTED, user=user, note=str(error))
        code = "objected" if error.reason == "suppressed" else error.reason
        decision.refuse(contact, str(error), code)
    except IntegrityError:
        # The address is another prospect's (taken meanwhile, or the linked prospect is not
        # the one that has it): nothing changed, the contact waits for a decision.
        decision.refuse(contact, _taken(workspace, contact), "address_taken")
    else:
        decision.done.append(contact)


def _taken(workspace: Workspace, contact: DiscoveredContact) -> str:
    """The contact's address or person was taken by another prospect while it was approved."""
    contact.refresh_from_db()
    holder = None
    if contact.email:
        holder = (
            Prospect.objects.for_workspace(workspace)
            .filter(email_key=normalize.email_key(contact.email))
            .first()
        )
    if holder is not None:
        return _(
            "The address %(email)s is already taken by %(prospect)s: the contact stays to "
            "review; approve it again to link it to that prospect."
        ) % {"email": contact.email, "prospect": holder}
    return _(
        "Another prospect was created for this person meanwhile: the contact stays to review; "
        "approve it again to link it."
    )


def reject_contacts(workspace: Workspace, ids: list[int], *, user: Any = None) -> Decision:
    """Reject the workspace's contacts still to review; one decided already is refused with
    why (`already_decided`), another workspace's is not found."""
    decision = Decision()
    for contact in Contact.objects.for_workspace(workspace).filter(pk__in=ids).order_by("pk"):
        if contact.status != Contact.Status.PENDING:
            decision.refuse(contact, why_not_rejected(contact), "already_decided")
            continue
        _decide(contact, Contact.Status.REJECTED, user=user)
        decision.done.append(contact)
    return decision


def why_not_rejected(contact: DiscoveredContact) -> str:
    """Why a contact decided already cannot be rejected."""
    if contact.status == Contact.Status.APPROVED:
        return _(
            "already approved: an approved contact can no longer be rejected, its prospect "
            "exists."
        )
    return _("already rejected.")


def _decide(contact: DiscoveredContact, status: str, *, user: Any, note: str = "") -> None:
    contact.status = status
    contact.decided_by = user if getattr(user, "pk", None) else None
    contact.decided_at = timezone.now()
    contact.decision_note = note[:255]
    contact.save(
        update_fields=[
            "status",
            "decided_by",
            "decided_at",
            "decision_note",
            "prospect",
            "company",
            "updated_at",
        ]
    )


def _approve(
    workspace: Workspace, contact: DiscoveredContact, *, user: Any, prospect: Prospect | None
) -> None:
    email = contact.email if contact.email_status != Contact.EmailStatus.INVALID else ""
    if email:
        prospect_services.ensure_not_suppressed(workspace, email=email)
    if prospect is None:
        prospect = _existing_prospect(workspace, contact, email)
    if prospect is None:
        prospect = prospect_services.create_prospect(
            workspace,
            data={
                "first_name": contact.first_name,
                "last_name": contact.last_name,
                "job_title": contact.job_title,
                "company_name": (
                    contact.company.name if contact.company else _site_name(workspace, contact)
                ),
                "company_domain": contact.domain,
            },
            source=Source.DISCOVERY,
            user=user,
            # A name someone typed is as sure as a typed value; one read from a page is as
            # sure as its source.
            confidence=100 if contact.method == Contact.Method.MANUAL else contact.confidence,
        )
    if email:
        _merge_address(prospect, contact, email)
    contact.prospect = prospect
    company = prospect.company
    if contact.company_id is None and company is not None and company.domain == contact.domain:
        # The company its prospect is filed under (not a prospect linked at another one's).
        contact.company_id = company.pk
    _decide(contact, Contact.Status.APPROVED, user=user)


def _existing_prospect(workspace: Workspace, contact: DiscoveredContact, email: str):
    prospects = Prospect.objects.for_workspace(workspace)
    if email:
        found = prospects.filter(email_key=normalize.email_key(email)).first()
        if found is not None:
            return found
    candidate = Prospect(
        workspace=workspace,
        first_name=contact.first_name,
        last_name=contact.last_name,
        company=contact.company,
    )
    if candidate.company is None:
        # The company may have been added since the contact was found.
        candidate.company = prospect_services.find_company(workspace.pk, domain=contact.domain)
    return prospect_services.find_duplicate(workspace, candidate) if candidate.company else None


def _merge_address(prospect: Prospect, contact: DiscoveredContact, email: str) -> None:
    """The address under the merge rules (a typed one stays), at the contact's score; a
    verified one on a prospect not yet verified makes it verified by discovery."""
    now = timezone.now()
    buffer = prospect_services.ProvenanceBuffer(prospect.workspace_id, prospects=[prospect])
    changed = buffer.merge(
        prospect,
        {"email": email},
        source=Source.DISCOVERY,
        confidence=contact.email_score or 0,
        observed_at=now,
        detail=(contact.evidence or contact.email_reason)[:64],
    )
    verified = (
        contact.email_status == Contact.EmailStatus.VERIFIED
        and (prospect.email or "").lower() == email.lower()
        and prospect.status != Prospect.Status.VERIFIED
    )
    if verified:
        prospect.status = Prospect.Status.VERIFIED
        prospect.verified_at = now
        prospect.enrichment_source = Source.DISCOVERY
        prospect.enriched_at = now
        prospect.verification_reason = ""
        prospect.last_error = ""
        changed += [
            "status",
            "verified_at",
            "enrichment_source",
            "enriched_at",
            "verification_reason",
            "last_error",
        ]
    if changed:
        prospect.save(update_fields=list(dict.fromkeys(changed)))
    buffer.flush()


def purge_unapproved(*, now: dt.datetime | None = None) -> int:
    """Delete the contacts nobody approved within the retention period (all workspaces)."""
    days = getattr(settings, "SOURCIER_DISCOVERY_RETENTION_DAYS", RETENTION_DAYS)
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    stale = Contact.objects.unscoped().filter(
        status__in=[Contact.Status.PENDING, Contact.Status.REJECTED], created_at__lt=cutoff
    )
    deleted, _rows = stale.delete()
    return deleted
