"""The vendors' people searches as a discovery source: the people they name at a company join
the site's (names and titles, no addresses: those are generated and checked in-house like the
website's people). They are paid, so they are asked only when the discovery says so, and only
those the workspace has a key for, in `people_sources.SOURCES` order; each later source is told
who is already named (by the site or an earlier source) and skips them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext_lazy

from .. import credentials
from . import people_sources
from .people_sources import HOW
from .website import PersonOnPage

__all__ = ["HOW", "NO_KEY", "PeopleSearch", "keyed_sources", "search_people"]

NO_KEY = gettext_lazy(
    "People search: the workspace has no AI Ark or Apollo key; only the site was read."
)


@dataclass
class PeopleSearch:
    """What the people searches gave: the people, what they cost, and why some gave nothing."""

    people: list[PersonOnPage] = field(default_factory=list)
    cost: Decimal = Decimal("0")
    warnings: list[str] = field(default_factory=list)
    # The vendors asked (or whose cached answer was used), in order.
    sources: list[str] = field(default_factory=list)


def keyed_sources(workspace_id: int) -> list[tuple[str, str]]:
    """(vendor, its key) for each people search the workspace has a key for, in order."""
    found = []
    for slug, _search in people_sources.SOURCES:
        api_key = credentials.get_api_key(workspace_id, slug)
        if api_key is not None:
            found.append((slug, api_key))
    return found


def search_people(
    workspace_id: int, domain: str, *, named: list[PersonOnPage] | None = None
) -> PeopleSearch:
    """The people the workspace's people searches know at `domain` beyond `named`.

    Never raises for the vendors' or the money's reasons: the discovery then goes on with what
    it has, and `warnings` say why."""
    searches = dict(people_sources.SOURCES)
    keyed = keyed_sources(workspace_id)
    if not keyed:
        return PeopleSearch(warnings=[str(NO_KEY)])
    result = PeopleSearch()
    known = list(named or [])
    for slug, api_key in keyed:
        found = searches[slug](workspace_id, domain, api_key=api_key, named=known)
        result.sources.append(slug)
        result.people.extend(found.people)
        result.cost += found.cost
        known.extend(found.people)
        if found.warning:
            result.warnings.append(found.warning)
    return result
