"""The vendors' people searches a discovery may ask: each names people at a company (names and
titles, never addresses: those are generated and checked in-house like the website's people).

- AI Ark's people search is one paid page of up to `PAGE_SIZE` people, whole names.
- Apollo's People API Search is free but lists people with a masked surname ("Hu***n"); each
  one the site or an earlier source does not already name (same first name, a surname the mask
  fits) is revealed by People Enrichment with its Apollo id, a credit each, at most
  `REVEAL_LIMIT` per company.

Every call goes through the gateway (breaker, ledger reservation under its own key, limits)
and every bought answer is cached like any other: the same domain (or the same Apollo person)
is not bought twice within the cache period. A source never raises for the vendor's or the
money's reasons: it gives what it has and a warning says why it stopped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from prospects import normalize

from ..engine import breaker, cache, gateway, ledger, limits
from ..providers import aiark, apollo
from ..providers.base import ProviderError, ProviderRequest
from ..providers.registry import get_provider
from .website import PersonOnPage

FIELD = "people"
PAGE_SIZE = 50
# Apollo reveals cost a credit a person: a company's first ten unknown people at most.
REVEAL_LIMIT = 10
# A vendor's directory names people who worked there at some point: below a team page.
CONFIDENCE = 60
HOW = "provider"

UNAVAILABLE = gettext_lazy(
    "People search: %(provider)s could not be asked (%(reason)s); the discovery went on without it."
)


@dataclass
class Named:
    """What one source gave: the people, what it cost, and why it stopped early."""

    people: list[PersonOnPage] = field(default_factory=list)
    cost: Decimal = Decimal("0")
    from_cache: bool = False
    warning: str = ""


def _named(first: str | None, last: str | None, title: str | None, source: str) -> PersonOnPage:
    return PersonOnPage(
        (first or "").strip(),
        (last or "").strip(),
        (title or "").strip()[:200],
        how=HOW,
        confidence=CONFIDENCE,
        source=source,
    )


def _cached(workspace_id: int, slug: str, question: dict[str, str]) -> list[list[str]] | None:
    known = cache.lookup(workspace_id, slug, FIELD, question)
    if known is None:
        return None
    return json.loads(known.value) if known.value else []


def _remember(workspace_id: int, slug: str, question: dict[str, str], rows: list[Any]) -> None:
    cache.remember(
        workspace_id,
        slug,
        FIELD,
        question,
        result="found" if rows else "not_found",
        value=json.dumps(rows),
    )


def _ask(
    slug: str,
    request: ProviderRequest,
    *,
    workspace_id: int,
    key: str,
    read: Callable[..., Any],
    cost_of: Callable[[Any], Decimal],
    headers: dict[str, str],
    most: Decimal | None = None,
) -> gateway.Reply | str:
    """One billable question, settled; or, when it could not be asked or failed, the warning."""
    label = get_provider(slug).label
    try:
        reply = gateway.ask(
            slug,
            request,
            workspace_id=workspace_id,
            key=key,
            read=lambda status, body, retry_after: read(status, body, retry_after=retry_after),
            cost_of=cost_of,
            headers=headers,
            most=most,
        )
    except breaker.BreakerOpen:
        ledger.release_held(workspace_id, key=key)
        return str(UNAVAILABLE % {"provider": label, "reason": _("it is failing for now")})
    except (ledger.DailyCapReached, ledger.InsufficientCredits) as refusal:
        reason = (
            _("the daily spending cap is reached")
            if isinstance(refusal, ledger.DailyCapReached)
            else _("not enough credits")
        )
        return str(UNAVAILABLE % {"provider": label, "reason": reason})
    except limits.SlotUnavailable:
        ledger.release_held(workspace_id, key=key)
        return str(UNAVAILABLE % {"provider": label, "reason": _("it is busy")})
    with transaction.atomic():
        gateway.settle(reply)
    if reply.error is not None:
        return str(UNAVAILABLE % {"provider": label, "reason": _describe(reply.error)})
    return reply


def _describe(error: ProviderError) -> str:
    return f"HTTP {error.status}" if error.status else str(error.kind)


def search_aiark(
    workspace_id: int, domain: str, *, api_key: str, named: list[PersonOnPage]
) -> Named:
    """The people AI Ark knows at `domain`: one page, paid once."""
    question = {"domain": domain}
    rows = _cached(workspace_id, aiark.SLUG, question)
    if rows is not None:
        return Named([_named(*row, aiark.SLUG) for row in rows], from_cache=True)
    spec = get_provider(aiark.SLUG)
    reply = _ask(
        aiark.SLUG,
        aiark.build_people_search_request(domain=domain, size=PAGE_SIZE),
        workspace_id=workspace_id,
        key=ledger.open_key(workspace_id, f"discovery:{domain}:{aiark.SLUG}"),
        read=aiark.parse_people_search_response,
        cost_of=lambda page: (
            spec.cost_per_call + (spec.cost_per_success if page.found else Decimal("0"))
        ),
        headers=aiark.auth_headers(api_key),
    )
    if isinstance(reply, str):
        return Named(warning=reply)
    people = [
        _named(
            p.profile.first_name,
            p.profile.last_name,
            p.profile.title or p.profile.headline,
            aiark.SLUG,
        )
        for p in reply.value.content
    ]
    people = [p for p in people if p.first_name and p.last_name]
    _remember(workspace_id, aiark.SLUG, question, [_row(p) for p in people])
    return Named(people, cost=reply.cost)


def _row(person: PersonOnPage) -> list[str]:
    return [person.first_name, person.last_name, person.job_title]


def search_apollo(
    workspace_id: int, domain: str, *, api_key: str, named: list[PersonOnPage]
) -> Named:
    """The people Apollo lists at `domain` that nobody named yet, revealed one by one."""
    question = {"domain": domain}
    rows = _cached(workspace_id, apollo.SLUG, question)
    if rows is not None:
        return Named([_named(*row, apollo.SLUG) for row in rows], from_cache=True)
    headers = apollo.auth_headers(api_key)
    listed = _ask(
        apollo.SLUG,
        apollo.build_people_search_request(domain=domain, per_page=PAGE_SIZE),
        workspace_id=workspace_id,
        key=ledger.open_key(workspace_id, f"discovery:{domain}:{apollo.SLUG}"),
        read=apollo.parse_people_search_response,
        cost_of=lambda page: Decimal("0"),  # People API Search consumes no credit
        headers=headers,
        most=Decimal("0"),
    )
    if isinstance(listed, str):
        return Named(warning=listed)
    unknown = [
        p
        for p in listed.value.people
        if p.first_name
        and not any(p.may_be(n.first_name, n.last_name, fold=normalize.fold) for n in named)
    ]
    found = Named()
    for person in unknown[:REVEAL_LIMIT]:
        revealed = _reveal(workspace_id, domain, person.id, headers=headers, found=found)
        if found.warning:
            return found  # not cached: the next run reveals the rest
        if revealed is not None:
            found.people.append(revealed)
    _remember(workspace_id, apollo.SLUG, question, [_row(p) for p in found.people])
    return found


def _reveal(
    workspace_id: int, domain: str, person_id: str, *, headers: dict[str, str], found: Named
) -> PersonOnPage | None:
    """One listed person whole (People Enrichment by id), from the cache when already bought."""
    question = {"id": person_id}
    rows = _cached(workspace_id, apollo.SLUG, question)
    if rows is None:
        spec = get_provider(apollo.SLUG)
        reply = _ask(
            apollo.SLUG,
            apollo.build_people_match_request(person_id=person_id),
            workspace_id=workspace_id,
            key=ledger.open_key(workspace_id, f"discovery:{domain}:{apollo.SLUG}:{person_id}"),
            read=apollo.parse_people_match_response,
            cost_of=lambda match: spec.cost_per_success if match.found else Decimal("0"),
            headers=headers,
        )
        if isinstance(reply, str):
            found.warning = reply
            return None
        found.cost += reply.cost
        match = reply.value.person
        rows = [[match.first_name or "", match.last_name or "", match.title or ""]] if match else []
        _remember(workspace_id, apollo.SLUG, question, rows)
    person = _named(*rows[0], apollo.SLUG) if rows else None
    return person if person and person.first_name and person.last_name else None


# In the order they are asked (README, "people search"): AI Ark's one page names many people
# whole for one price; Apollo pays per person revealed, so it comes last and skips everyone
# already named.
SOURCES: tuple[tuple[str, Callable[..., Named]], ...] = (
    (aiark.SLUG, search_aiark),
    (apollo.SLUG, search_apollo),
)
