"""The email waterfall's in-house step: the person's address found and checked by our own
discovery (name permutations, the domain's learned pattern, DNS, one RCPT per candidate), for
free. A verified address ends the waterfall before any paid provider; a risky or unknown one is
kept as a candidate and the paid providers are asked as usual.

Nobody on the objection list is probed: when any candidate address of the person is on it,
the step is not run. The step's answer is its attempt row (the same unique key as a vendor's),
so a replayed item does not probe again."""

from __future__ import annotations

from typing import Any

from prospects import services as prospect_services
from prospects.models import Prospect

from ..discovery.patterns import KnownAddress
from ..discovery.permutations import candidates
from ..discovery.scoring import INVALID, VERIFIED
from ..discovery.services import find_best_address
from ..discovery.smtp import ProbeConfigError
from ..models import EnrichmentItem, ProviderAttempt
from ..providers.finders import Finding, Person
from .waterfall_steps import record_attempt, renew_lease

KNOWN_PER_DOMAIN = 200


def objects_to_probing(workspace_id: int, person: Person) -> bool:
    """Is any address we would try for this person on the objection list?"""
    addresses = {c.address(person.domain) for c in candidates(person.first_name, person.last_name)}
    return bool(prospect_services.objecting_emails(workspace_id, addresses))


def known_addresses(workspace_id: int, domain: str) -> list[KnownAddress]:
    """The workspace's verified prospects on the domain: they teach its pattern."""
    rows = (
        Prospect.objects.for_workspace(workspace_id)
        .filter(status=Prospect.Status.VERIFIED, email_key__endswith="@" + domain)
        .values_list("email", "first_name", "last_name")[:KNOWN_PER_DOMAIN]
    )
    return [KnownAddress(email, first, last) for email, first, last in rows if first and last]


def run_discovery_step(
    item: EnrichmentItem, attempt: ProviderAttempt, person: Person
) -> Finding | None:
    """Find and check the person's address; the finding (None when nothing was asked)."""
    if objects_to_probing(item.workspace_id, person):
        record_attempt(item, attempt, result="not_asked", detail="objection_list", cost=0)
        return None
    renew_lease(item, if_needed=False)  # probing a mail host may take long
    try:
        verdict = find_best_address(
            person.first_name,
            person.last_name,
            person.domain,
            known=known_addresses(item.workspace_id, person.domain),
            workspace_id=item.workspace_id,
        )
    except ProbeConfigError:
        # Probing is not set up on this server (HELO / MAIL FROM): the paid providers answer.
        record_attempt(item, attempt, result="not_asked", detail="probing_not_configured", cost=0)
        return None
    found = bool(verdict.email) and verdict.status != INVALID
    finding = Finding(
        email=verdict.email if found else "",
        verified=found and verdict.status == VERIFIED,
        signal=verdict.score if found else 0,
        detail=(verdict.evidence or verdict.reason)[:64],
    )
    values: dict[str, Any] = {
        "result": "found" if found else "not_found",
        "value": finding.email,
        "verified": finding.verified,
        "signal": finding.signal,
        "detail": finding.detail,
        "cost": 0,
    }
    record_attempt(item, attempt, **values)
    return finding
