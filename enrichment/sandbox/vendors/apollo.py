"""Apollo `POST /api/v1/people/match` and `POST /api/v1/mixed_people/api_search` (key in
`X-Api-Key`).

Docs: https://docs.apollo.io/reference/people-enrichment (parameters and behaviour documented,
no response example in the samples: partial). Parameters may come as a JSON body or as query
parameters. A miss is `{"person": null}`. Email status: `verified`, `extrapolated` (catch-all),
`unavailable`. Error bodies are the sandbox's reading of Apollo's usual `{"error": ...}` /
`{"message": ...}` answers. Apollo matches every profile in the world, but holds addresses for
its own share only (`coverage.REACH`).

People API Search (https://docs.apollo.io/reference/people-api-search.md; sample reconstructed
from the documented fields): free, filters as query parameters (`q_organization_domains_list[]`,
`page`, `per_page` up to 100) or a JSON body; it lists the company's people with their `id`,
first name, title and a masked surname ("Hu***n"), never an address; `total_entries` is at the
top level. People Enrichment with that `id` (a credit) gives the person whole.
"""

from __future__ import annotations

from typing import Any

from ..coverage import Entry, entry
from ..protocol import Request, Response, json_response
from ..world import CATCH_ALL, VERIFIED, Person, normalize_domain
from .base import Vendor, company_id, person_id, retry_after_header

# https://docs.apollo.io/reference/people-enrichment: a match consumes a credit; no match is free.
MATCH_COST = 1
MAX_PER_PAGE = 100


class Apollo(Vendor):
    slug = "apollo"
    routes = (
        ("POST", "/api/v1/people/match", "match"),
        ("POST", "/api/v1/mixed_people/api_search", "people_search"),
    )

    def api_key(self, request: Request) -> str:
        return request.header("X-Api-Key") or request.query.get("api_key", "")

    def unauthorized(self, request: Request) -> Response:
        return json_response(401, {"error": "Invalid access credentials.",
                                   "error_code": "INVALID_API_KEY"})

    def too_many_requests(self, retry_after: float) -> Response:
        return json_response(
            429,
            {"message": "The maximum number of api calls allowed for api/v1/people/match is "
                        "reached. Please try again later."},
            headers=retry_after_header(retry_after),
        )

    def server_error(self, status: int) -> Response:
        return json_response(status, {"error": "Internal server error"})

    def bad_json(self, message: str) -> Response:
        return json_response(422, {"error": "Invalid JSON body"}, outcome="invalid")

    def no_route(self, request: Request) -> Response:
        return json_response(404, {"error": "Not found"}, outcome="no_route")

    def match(self, request: Request, key: str, params: dict[str, str]) -> Response:
        data: dict[str, Any] = dict(request.query)
        data.update(request.json_object())
        first, last = str(data.get("first_name") or ""), str(data.get("last_name") or "")
        if not (first and last) and data.get("name"):
            first, _, last = str(data["name"]).strip().partition(" ")
        if not any((data.get("email"), data.get("linkedin_url"), data.get("id"),
                    first and last and (data.get("domain") or data.get("organization_name")))):
            return json_response(422, {"error": "Please provide more information to match a "
                                                "person (name and domain, email or LinkedIn URL)."},
                                 outcome="invalid")
        person = self._by_id(str(data.get("id") or "")) or self.world.find_person(
            email=data.get("email") or None,
            linkedin_url=data.get("linkedin_url") or None,
            first_name=first or None,
            last_name=last or None,
            domain=data.get("domain") or None,
            company_name=data.get("organization_name") or None,
        )
        if person is None or person.do_not_contact:
            return json_response(200, {"person": None}, outcome="empty")
        if not self.credits.spend(key, MATCH_COST):
            return json_response(422, {"error": "You have insufficient credits to complete "
                                                "this request.",
                                       "error_code": "INSUFFICIENT_CREDITS"}, outcome="quota")
        return json_response(200, {"person": _person(person, entry(self.world, self.slug, person))})


    def _by_id(self, wanted: str) -> Person | None:
        if not wanted:
            return None
        return next((p for p in self.world.people if person_id(p) == wanted), None)

    def people_search(self, request: Request, key: str, params: dict[str, str]) -> Response:
        data: dict[str, Any] = dict(request.query)
        data.update(request.json_object())
        asked = data.get("q_organization_domains_list[]") or data.get(
            "q_organization_domains_list"
        ) or []
        domains = {normalize_domain(d) for d in ([asked] if isinstance(asked, str) else asked)}
        try:
            page, per_page = int(data.get("page") or 1), int(data.get("per_page") or 25)
        except (TypeError, ValueError):
            page, per_page = 0, 0
        if not (1 <= page <= 500 and 1 <= per_page <= MAX_PER_PAGE):
            return json_response(422, {"error": "page must be 1 to 500 and per_page 1 to 100"},
                                 outcome="invalid")
        matches = [
            p for p in self.world.people
            if not p.do_not_contact and (not domains or p.company.domain in domains)
        ]
        shown = matches[(page - 1) * per_page:page * per_page]
        body = {"total_entries": len(matches),
                "people": [_listed(p, entry(self.world, self.slug, p)) for p in shown]}
        return json_response(200, body, outcome="ok" if shown else "empty")


def _masked(surname: str) -> str:
    """Apollo's masked surname: its first two letters and its last ("Hudson" -> "Hu***n")."""
    return f"{surname[:2]}***{surname[-1:]}" if len(surname) > 3 else f"{surname[:1]}***"


def _listed(person: Person, found: Entry | None) -> dict[str, Any]:
    return {
        "id": person_id(person),
        "first_name": person.first_name,
        "last_name_obfuscated": _masked(person.last_name),
        "title": person.job_title,
        "has_email": found is not None,
        "has_direct_phone": "Yes",
        "organization": {"name": person.company.name, "has_industry": True},
    }


def _person(person: Person, found: Entry | None) -> dict[str, Any]:
    company = person.company
    return {
        "id": person_id(person),
        "first_name": person.first_name,
        "last_name": person.last_name,
        "name": person.full_name,
        "linkedin_url": person.linkedin_url,
        "title": person.job_title,
        "headline": f"{person.job_title} at {company.name}",
        "email_status": {VERIFIED: "verified", CATCH_ALL: "extrapolated"}[found.verdict]
        if found else "unavailable",
        "email": found.email if found else None,
        "country": company.country,
        "organization_id": company_id(company.domain),
        "organization": {
            "id": company_id(company.domain),
            "name": company.name,
            "website_url": company.website,
            "linkedin_url": company.linkedin_url,
            "primary_domain": company.domain,
            "estimated_num_employees": company.headcount,
            "industry": company.industry,
        },
    }
