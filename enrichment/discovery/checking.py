"""A discovered contact's best address, found and recorded the same way whatever found the
person (their company's site, a provider's people search, a manual entry) and again when a
greylisting recheck answers one of the addresses tried for them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.utils.translation import gettext as _

from prospects import services as prospect_services
from prospects.models import Workspace

from ..models import DiscoveredContact
from ..webhooks import events
from . import contacts, domains
from .patterns import KnownAddress
from .permutations import candidates
from .services import Discovery, Verdict

Contact = DiscoveredContact
# What a recheck may change: contacts whose answer was waiting on a greylisting host.
WAITING_REASONS = ("greylisted",)


def objecting(workspace_id: int, first_name: str, last_name: str, domain: str) -> bool:
    """Is any likely address of this person on the workspace's objection list?"""
    addresses = {c.address(domain) for c in candidates(first_name, last_name)}
    return bool(prospect_services.objecting_emails(workspace_id, addresses))


def check_contact(
    discovery: Discovery, contact: DiscoveredContact, *, known: Iterable[KnownAddress] = ()
) -> Verdict:
    """Find the contact's best address, record it on the contact (still to review) and tell
    the webhooks when one was found (once per contact: the event's key is the contact)."""
    verdict = discovery.find_best(
        contact.first_name, contact.last_name, contact.domain, known=known
    )
    _record(contact, verdict)
    return verdict


def check_contacts(
    discovery: Discovery,
    found: list[DiscoveredContact],
    *,
    known: Iterable[KnownAddress] = (),
    on_wave: Callable[[], object] | None = None,
) -> list[Verdict]:
    """`check_contact` for many contacts, their people asked together (each domain's in
    rounds, the domains side by side); `known` teaches every domain its pattern; `on_wave`
    is called after each wave of rounds (a job's heartbeat)."""
    known = list(known)
    verdicts = discovery.find_best_across(
        [(c.first_name, c.last_name, c.domain) for c in found],
        known={c.domain: known for c in found},
        on_wave=on_wave,
    )
    for contact, verdict in zip(found, verdicts, strict=True):
        _record(contact, verdict)
    return verdicts


def _record(contact: DiscoveredContact, verdict: Verdict) -> None:
    """The contact's best address recorded (still to review), and the webhooks told when one
    was found (once per contact: the event's key is the contact)."""
    contacts.record_address(
        contact,
        email=verdict.email,
        status=verdict.status,
        score=verdict.score,
        reason=verdict.reason,
        catch_all=verdict.catch_all,
        evidence=verdict.evidence,
        patterns_tried=list(verdict.tried),
    )
    if verdict.email:
        events.emit_contact_found(
            contact.workspace_id,
            contact_id=contact.pk,
            company_id=contact.company_id,
            verdict=verdict.status,
            score=verdict.score,
        )


def add_manual_contact(
    workspace: Workspace,
    *,
    first_name: str,
    last_name: str,
    domain: str,
    job_title: str = "",
    user: Any = None,
) -> tuple[DiscoveredContact, bool]:
    """A person typed in by a user, under the same quotas and de-duplication as the others:
    (contact, created). Their address is then found like any discovered contact's."""
    domain = domains.clean_domain(domain)
    if (
        first_name.strip()
        and last_name.strip()
        and objecting(workspace.pk, first_name, last_name, domain)
    ):
        raise contacts.DiscoveryRefused(
            _("This person is on the objection list and cannot be added.")
        )
    return contacts.add_contact(
        workspace,
        first_name=first_name,
        last_name=last_name,
        domain=domain,
        job_title=job_title,
        method=Contact.Method.MANUAL,
        source="manual",
        confidence=90,
        company=prospect_services.find_company(workspace.pk, domain=domain),
        user=user,
    )


def refresh_after_recheck(
    discovery: Discovery, rechecked: Iterable[tuple[str, str]], *, now: dt.datetime
) -> int:
    """Choose again the best address of every contact still to review whose answer waited on
    one of these (email, domain) rechecks; returns how many were looked at again."""
    rechecked = list(rechecked)
    if discovery.workspace_id is None or not rechecked:
        return 0
    emails = {email for email, _domain in rechecked}
    waiting = Contact.objects.for_workspace(discovery.workspace_id).filter(
        status=Contact.Status.PENDING,
        domain__in={domain for _email, domain in rechecked},
        email_reason__in=WAITING_REASONS,
    )
    again = [
        contact
        for contact in waiting
        if contact.email in emails or emails & set(contact.patterns_tried or ())
    ]
    if again:
        check_contacts(discovery, again)
    return len(again)
