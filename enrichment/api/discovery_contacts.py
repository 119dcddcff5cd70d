"""Discovered contacts: the approval queue through the API. List and read them (with the
addresses tried and their answers), approve one (creates or links the prospect, as the admin
does), link one to a prospect of the workspace, delete one (admin key)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from config.api_support.errors import ApiError, errors, not_found
from config.api_support.pagination import Page, PageQuery, paginate
from config.api_support.params import BodyId, FilterText, ObjectId, id_path
from config.api_support.principal import principal, require_admin, workspace_of
from prospects.models import Prospect

from ..discovery import contacts
from ..discovery.domains import domain_filter
from ..discovery_jobs import DiscoveryJob
from ..models import DiscoveredContact, EmailProbe

router = Router(tags=["discovery"])
# Literals of their own: enum classes named alike (every model's `Status`) would share one
# schema component.
ContactStatus = Literal[tuple(DiscoveredContact.Status.values)]
Method = Literal[tuple(DiscoveredContact.Method.values)]
EmailStatus = Literal[tuple(DiscoveredContact.EmailStatus.values)]

# A refused approval: (HTTP status) by code.
DECISION_STATUS = {"already_decided": 409, "address_taken": 409, "duplicate": 409}


class ContactOut(Schema):
    id: int
    status: ContactStatus
    first_name: str
    last_name: str
    job_title: str
    domain: str
    company_id: int | None
    method: Method
    source: str
    confidence: int = Field(description="confidence in the person, 0-100")
    email: str = Field(description="the best address found ('' when none)")
    email_status: EmailStatus
    score: int | None = Field(description="the address's score, 0-100")
    reason: str
    catch_all: bool | None
    evidence: str
    checked_at: dt.datetime | None
    prospect_id: int | None
    decision_note: str
    decided_at: dt.datetime | None
    lawful_basis: str
    created_at: dt.datetime


class CandidateOut(Schema):
    email: str
    pattern: str
    answer: str = Field(description="the mail host's answer to the last probe ('' unasked)")
    reply_code: int | None
    mail_host: str
    checked_at: dt.datetime | None


class ContactDetailOut(ContactOut):
    candidates: list[CandidateOut] = Field(description="the addresses tried, in order")


class ContactFilters(Schema):
    status: ContactStatus | None = None
    domain: FilterText = Field(None, max_length=253)
    job: ObjectId | None = Field(None, description="the contacts a discovery job named")


class LinkIn(Schema):
    prospect_id: BodyId


def contact_out(contact: DiscoveredContact) -> dict:
    data = {
        name: getattr(contact, name)
        for name in ContactOut.model_fields
        if name not in ("score", "reason")
    }
    data["score"] = contact.email_score
    data["reason"] = contact.email_reason
    return data


def candidates_of(contact: DiscoveredContact) -> list[dict]:
    tried = [str(address) for address in contact.patterns_tried or []]
    latest: dict[str, EmailProbe] = {}
    probes = EmailProbe.objects.for_workspace(contact.workspace_id).filter(email__in=tried)
    for probe in probes.order_by("email", "attempt"):
        latest[probe.email] = probe
    out = []
    for address in tried:
        probe = latest.get(address)
        out.append(
            {
                "email": address,
                "pattern": probe.pattern if probe else "",
                "answer": probe.status if probe else "",
                "reply_code": probe.reply_code if probe else None,
                "mail_host": probe.mail_host if probe else "",
                "checked_at": probe.finished_at if probe else None,
            }
        )
    return out


def get_contact(request: HttpRequest, contact_id: int) -> DiscoveredContact:
    """The workspace's contact, else the 404 a missing one gets."""
    contact = (
        DiscoveredContact.objects.for_workspace(workspace_of(request))
        .select_related("company")
        .filter(pk=contact_id)
        .first()
    )
    if contact is None:
        raise not_found()
    return contact


def decide_one(request: HttpRequest, contact_id: int, decide: Callable) -> dict:
    """Approve or reject (`decide`, as the admin's actions do) the workspace's contact."""
    contact = get_contact(request, contact_id)
    who = principal(request)
    return decided(request, decide(who.workspace, [contact.pk], user=who.user), contact.pk)


def decided(request: HttpRequest, decision: contacts.Decision, contact_id: int) -> dict:
    """The contact after its decision, or the refusal as an error with its code."""
    if decision.refused:
        contact, message = decision.refused[0]
        code = decision.codes.get(contact.pk, "refused")
        # The admin writes the reason after the contact's name; alone, it is a sentence.
        raise ApiError(DECISION_STATUS.get(code, 422), code, message[:1].upper() + message[1:])
    return contact_out(get_contact(request, contact_id))


@router.get(
    "/discovery/contacts",
    response={200: Page[ContactOut], **errors()},
    summary="Discovered contacts, newest first",
)
def list_contacts(request: HttpRequest, page: Query[PageQuery], filters: Query[ContactFilters]):
    workspace = workspace_of(request)
    rows = DiscoveredContact.objects.for_workspace(workspace)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.domain:
        rows = rows.filter(domain=domain_filter(filters.domain))
    if filters.job:
        job = DiscoveryJob.objects.for_workspace(workspace).filter(pk=filters.job).first()
        # Another workspace's job names no contact here, as a missing one.
        rows = rows.filter(pk__in=job.contact_ids if job else [])
    return paginate(rows.order_by("-created_at", "-id"), page, contact_out)


@router.get(
    "/discovery/contacts/{contact_id}",
    response={200: ContactDetailOut, **errors(404)},
    summary="A discovered contact with the addresses tried",
)
def get_contact_detail(request: HttpRequest, contact_id: int = id_path()):
    contact = get_contact(request, contact_id)
    return {**contact_out(contact), "candidates": candidates_of(contact)}


@router.delete(
    "/discovery/contacts/{contact_id}",
    response={204: None, **errors(404)},
    summary="Delete a discovered contact (admin key; a prospect made from it stays)",
)
def delete_contact(request: HttpRequest, contact_id: int = id_path()):
    contact = get_contact(request, contact_id)
    require_admin(request)
    DiscoveredContact.objects.for_workspace(workspace_of(request)).filter(pk=contact.pk).delete()
    return Status(204, None)


@router.post(
    "/discovery/contacts/{contact_id}/approve",
    response={200: ContactOut, **errors(404, 409)},
    summary="Approve a contact: creates its prospect, or links the one that exists",
    description=(
        "The admin's approval. Refused with 409 `already_decided`, 409 `address_taken` (the "
        "address is another prospect's), 409 `duplicate`, or 422 `objected` (objection list; "
        "the contact is then rejected)."
    ),
)
def approve_contact(request: HttpRequest, contact_id: int = id_path()):
    return decide_one(request, contact_id, contacts.approve_contacts)


@router.post(
    "/discovery/contacts/{contact_id}/reject",
    response={200: ContactOut, **errors(404, 409)},
    summary="Reject a contact: it never reaches the prospects",
    description=(
        "The admin's rejection: the contact stays in the queue as rejected (no longer "
        "counted in the company's quota) until it is purged. Refused with 409 "
        "`already_decided` for a contact approved or rejected already."
    ),
)
def reject_contact(request: HttpRequest, contact_id: int = id_path()):
    return decide_one(request, contact_id, contacts.reject_contacts)


@router.post(
    "/discovery/contacts/{contact_id}/link",
    response={200: ContactOut, **errors(404, 409)},
    summary="Approve a contact as an existing prospect of the workspace",
    description=(
        "The contact's address is merged into the prospect under the merge rules. Another "
        "workspace's prospect is a 404 like a missing one. Refused as the approval is."
    ),
)
def link_contact(request: HttpRequest, payload: LinkIn, contact_id: int = id_path()):
    contact = get_contact(request, contact_id)
    who = principal(request)
    prospect = Prospect.objects.for_workspace(who.workspace).filter(pk=payload.prospect_id).first()
    if prospect is None:
        raise not_found()
    decision = contacts.link_contact(who.workspace, contact, prospect, user=who.user)
    return decided(request, decision, contact.pk)
