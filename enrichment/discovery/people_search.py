"""A vendor's people search as a discovery source: AI Ark names the people it knows at a
company (names and titles, no addresses: those are generated and checked in-house like the
website's people). It is paid, so it is asked only when the discovery says so, through the
gateway (breaker, ledger reservation, limits), and its answer is cached like every bought
answer: the same domain is not bought twice within the cache period.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import credentials
from ..engine import breaker, cache, gateway, ledger, limits
from ..providers import aiark
from ..providers.base import ProviderError
from ..providers.registry import get_provider
from .website import PersonOnPage

SLUG = aiark.SLUG
FIELD = "people"
PAGE_SIZE = 50
# A vendor's directory names people who worked there at some point: below a team page.
CONFIDENCE = 60
HOW = "provider"

NO_KEY = gettext_lazy("People search: the workspace has no AI Ark key; only the site was read.")
UNAVAILABLE = gettext_lazy(
    "People search: AI Ark could not be asked (%(reason)s); only the site was read."
)


@dataclass
class PeopleSearch:
    """What the people search gave: the people, what it cost, and why it gave nothing."""

    people: list[PersonOnPage] = field(default_factory=list)
    cost: Decimal = Decimal("0")
    from_cache: bool = False
    warning: str = ""


def _question(domain: str) -> dict[str, str]:
    return {"domain": domain}


def _people(page: aiark.PeoplePage) -> list[PersonOnPage]:
    found = []
    for person in page.content:
        profile = person.profile
        first, last = (profile.first_name or "").strip(), (profile.last_name or "").strip()
        if first and last:
            title = (profile.title or profile.headline or "").strip()[:200]
            found.append(PersonOnPage(first, last, title, how=HOW, confidence=CONFIDENCE))
    return found


def _from_cache(workspace_id: int, domain: str) -> PeopleSearch | None:
    cached = cache.lookup(workspace_id, SLUG, FIELD, _question(domain))
    if cached is None:
        return None
    rows = json.loads(cached.value) if cached.value else []
    people = [PersonOnPage(*row, how=HOW, confidence=CONFIDENCE) for row in rows]
    return PeopleSearch(people=people, from_cache=True)


def search_people(workspace_id: int, domain: str, *, key: str) -> PeopleSearch:
    """The people AI Ark knows at `domain` (one page), paid once under the ledger `key`.

    Never raises for the vendor's or the money's reasons: the discovery then goes on with the
    website alone, and `warning` says why."""
    known = _from_cache(workspace_id, domain)
    if known is not None:
        return known
    api_key = credentials.get_api_key(workspace_id, SLUG)
    if api_key is None:
        return PeopleSearch(warning=str(NO_KEY))
    spec = get_provider(SLUG)
    try:
        reply = gateway.ask(
            SLUG,
            aiark.build_people_search_request(domain=domain, size=PAGE_SIZE),
            workspace_id=workspace_id,
            key=key,
            read=lambda status, body, retry_after: aiark.parse_people_search_response(
                status, body, retry_after=retry_after
            ),
            cost_of=lambda page: (
                spec.cost_per_call + (spec.cost_per_success if page.found else Decimal("0"))
            ),
            headers=aiark.auth_headers(api_key),
        )
    except breaker.BreakerOpen:
        ledger.release_held(workspace_id, key=key)
        return PeopleSearch(warning=str(UNAVAILABLE % {"reason": _("it is failing for now")}))
    except (ledger.DailyCapReached, ledger.InsufficientCredits) as refusal:
        reason = (
            _("the daily spending cap is reached")
            if isinstance(refusal, ledger.DailyCapReached)
            else _("not enough credits")
        )
        return PeopleSearch(warning=str(UNAVAILABLE % {"reason": reason}))
    except limits.SlotUnavailable:
        ledger.release_held(workspace_id, key=key)
        return PeopleSearch(warning=str(UNAVAILABLE % {"reason": _("it is busy")}))
    with transaction.atomic():
        gateway.settle(reply)
    if reply.error is not None:
        return PeopleSearch(warning=str(UNAVAILABLE % {"reason": _describe(reply.error)}))
    people = _people(reply.value)
    cache.remember(
        workspace_id,
        SLUG,
        FIELD,
        _question(domain),
        result="found" if people else "not_found",
        value=json.dumps([[p.first_name, p.last_name, p.job_title] for p in people]),
    )
    return PeopleSearch(people=people, cost=reply.cost)


def _describe(error: ProviderError) -> str:
    return f"HTTP {error.status}" if error.status else str(error.kind)
