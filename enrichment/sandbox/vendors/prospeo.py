"""Prospeo `POST /enrich-person` (key in `X-KEY`).

Docs: https://prospeo.io/api-docs/enrich-person (shape partial: see SOURCES.md; typed shapes
from the vendor's MCP server `src/types.ts`). Vendor-level failures are HTTP 200 with
`error: true` and an `error_code`; only throttling is a real 429. A match costs one credit;
no match is free. Prospeo knows its own share of the world (`coverage.REACH`); people who
objected are not in its data (no match).
"""

from __future__ import annotations

from typing import Any

from ..coverage import Entry, entry, knows_person
from ..protocol import MissingInput, Request, Response, json_response
from ..world import VERIFIED, Person, World
from .base import Vendor, company_id, person_id, retry_after_header, split_full_name

SLUG = "prospeo"
# https://prospeo.io/api-docs/enrich-person: a match costs one credit, NO_MATCH is free.
MATCH_COST = 1


def _error(code: str, *, status: int = 200, outcome: str = "", **kwargs: Any) -> Response:
    return json_response(
        status, {"error": True, "error_code": code}, outcome=outcome or code.lower(), **kwargs
    )


class Prospeo(Vendor):
    slug = SLUG
    routes = (("POST", "/enrich-person", "enrich_person"),)

    def api_key(self, request: Request) -> str:
        return request.header("X-KEY")

    def unauthorized(self, request: Request) -> Response:
        return _error("INVALID_API_KEY", outcome="auth")

    def too_many_requests(self, retry_after: float) -> Response:
        return _error(
            "RATE_LIMITED", status=429, outcome="rate_limited",
            headers=retry_after_header(retry_after),
        )

    def server_error(self, status: int) -> Response:
        return _error("INTERNAL_ERROR", status=status, outcome="error")

    def bad_json(self, message: str) -> Response:
        return _error("INVALID_REQUEST", status=400, outcome="invalid")

    def no_route(self, request: Request) -> Response:
        return _error("INVALID_REQUEST", status=404, outcome="no_route")

    def enrich_person(self, request: Request, key: str, params: dict[str, str]) -> Response:
        try:
            found = enrich(self.world, request.json_object())
        except MissingInput:
            return _error("INVALID_DATAPOINTS", outcome="invalid")
        if found is None:
            return _error("NO_MATCH", outcome="no_match")
        if not self.credits.spend(key, MATCH_COST):
            return _error("INSUFFICIENT_CREDITS", outcome="quota")
        return json_response(200, {
            "error": False,
            "free_enrichment": False,
            "person": _person(*found),
            "company": _company(found[0]),
        })


def enrich(world: World, payload: dict[str, Any]) -> tuple[Person, Entry | None] | None:
    """Who Prospeo matches for an enrich-person payload and the address it reveals (None: NO_MATCH).

    Raises MissingInput when the datapoints identify nobody (INVALID_DATAPOINTS).
    """
    data = payload.get("data")
    if not isinstance(data, dict):
        raise MissingInput("data")
    first, last = str(data.get("first_name") or ""), str(data.get("last_name") or "")
    if not (first and last) and data.get("full_name"):
        first, last = split_full_name(str(data["full_name"]))
    company_hint = data.get("company_website") or data.get("company_name")
    if not (data.get("linkedin_url") or data.get("email") or (first and last and company_hint)):
        raise MissingInput("datapoints")
    person = world.find_person(
        email=data.get("email") or None,
        linkedin_url=data.get("linkedin_url") or None,
        first_name=first or None,
        last_name=last or None,
        domain=data.get("company_website") or None,
        company_name=data.get("company_name") or None,
    )
    if person is None or person.do_not_contact or not knows_person(world, SLUG, person):
        return None
    found = entry(world, SLUG, person)
    if payload.get("only_verified_email") and (found is None or found.verdict != VERIFIED):
        return None
    return person, found


def _person(person: Person, found: Entry | None) -> dict[str, Any]:
    company = person.company
    body: dict[str, Any] = {
        "person_id": person_id(person),
        "first_name": person.first_name,
        "last_name": person.last_name,
        "full_name": person.full_name,
        "linkedin_url": person.linkedin_url,
        "current_job_title": person.job_title,
        "current_job_key": person.job_title.lower().replace(" ", "_"),
        "headline": f"{person.job_title} chez {company.name}",
        "linkedin_member_id": person_id(person)[:9],
        "last_job_change_detected_at": None,
        "job_history": [{
            "title": person.job_title, "company_name": company.name, "current": True,
            "company_id": company_id(company.domain),
        }],
        "mobile": {"status": None, "revealed": False},
        "location": {"country": company.country, "country_code": company.country},
        "skills": [],
    }
    if found is not None:
        body["email"] = {
            "status": "VERIFIED" if found.verdict == VERIFIED else "UNVERIFIED",
            "revealed": True,
            "email": found.email,
            "verification_method": "SMTP",
            "email_mx_provider": "Sandbox Mail",
        }
    return body


def _company(person: Person) -> dict[str, Any]:
    company = person.company
    return {
        "company_id": company_id(company.domain),
        "name": company.name,
        "website": company.website,
        "domain": company.domain,
        "other_websites": [],
        "industry": company.industry,
        "employee_count": company.headcount,
        "linkedin_url": company.linkedin_url,
        "location": {"country": company.country, "country_code": company.country},
        "sic_codes": [],
        "naics_codes": [],
        "keywords": [],
    }
