"""The email finders' columns of the ground truth: what each answers for each exported prospect.

Each answer comes from the very function the HTTP vendor serves, fed the body the app would
send from the prospects export's columns for that person, so querying the sandbox over HTTP
gives exactly these columns. Prospeo is asked with `only_verified_email`, the adapter's default.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .coverage import Entry
from .protocol import MissingInput
from .vendors import findymail, leadmagic, prospeo
from .world import World, normalize_domain

EMAIL_FINDERS = ("prospeo", "leadmagic", "findymail")
VENDOR_COLUMNS = (*(f"{slug}_email" for slug in EMAIL_FINDERS), "stale_vendors")


def _prospeo(world: World, body: dict[str, Any]) -> Entry | None:
    match = prospeo.enrich(world, body)
    return match[1] if match else None


_LOOKUPS: dict[str, Callable[[World, dict[str, Any]], Entry | None]] = {
    "prospeo": _prospeo,
    "leadmagic": leadmagic.find_email,
    "findymail": findymail.search_name,
}


def finder_requests(row: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The body each email finder receives for one prospects-export row (French headers)."""
    first, last = row.get("Prénom", ""), row.get("Nom", "")
    company, website = row.get("Société", ""), row.get("Site web", "")
    domain = normalize_domain(website)
    datapoints = {"first_name": first, "last_name": last, "company_name": company,
                  "company_website": website, "linkedin_url": row.get("LinkedIn", "")}
    finder = {"first_name": first, "last_name": last, "domain": domain, "company_name": company}
    return {
        "prospeo": {"data": _filled(datapoints), "only_verified_email": True},
        "leadmagic": _filled(finder),
        "findymail": {"name": f"{first} {last}".strip(), "domain": domain},
    }


def finder_answers(world: World, row: dict[str, str]) -> dict[str, Entry | None]:
    """What each email finder answers for one prospects-export row (None: no match)."""
    answers: dict[str, Entry | None] = {}
    for slug, body in finder_requests(row).items():
        try:
            answers[slug] = _LOOKUPS[slug](world, body)
        except MissingInput:
            # The row lacks what this vendor's API takes: the app cannot even ask.
            answers[slug] = None
    return answers


def vendor_columns(world: World) -> list[dict[str, str]]:
    """The email finders' columns, one dict per person, in the prospects export's order."""
    columns = []
    for row in world.prospect_rows():
        answers = finder_answers(world, row)
        values = {f"{slug}_email": found.email if found else "" for slug, found in answers.items()}
        values["stale_vendors"] = " ".join(
            slug for slug, found in answers.items() if found is not None and found.stale
        )
        columns.append(values)
    return columns


def _filled(values: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in values.items() if value}
