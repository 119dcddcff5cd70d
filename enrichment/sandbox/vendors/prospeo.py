"""Prospeo `POST /enrich-person` (key in `X-KEY`).

Docs: https://prospeo.io/api-docs/enrich-person (shape partial: see SOURCES.md; typed shapes
from the vendor's MCP server `src/types.ts`). Vendor-level failures are HTTP 200 with
`error: true` and an `error_code`; only throttling is a real 429. A match costs one credit;
no match is free. People who objected are not in Prospeo's data (no match).
"""

from __future__ import annotations

from typing import Any

from ..protocol import Request, Response, json_response
from ..world import CATCH_ALL, VERIFIED, Person
from .base import Vendor, company_id, person_id, retry_after_header


def _error(code: str, *, status: int = 200, outcome: str = "", **kwargs: Any) -> Response:
    return json_response(
        status, {"error": True, "error_code": code}, outcome=outcome or code.lower(), **kwargs
    )


class Prospeo(Vendor):
    slug = "prospeo"
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
        payload = request.json_object()
        data = payload.get("data")
        if not isinstance(data, dict):
            return _error("INVALID_DATAPOINTS", outcome="invalid")
        first, last = str(data.get("first_name") or ""), str(data.get("last_name") or "")
        if not (first and last) and data.get("full_name"):
            first, _, last = str(data["full_name"]).strip().partition(" ")
        company_hint = data.get("company_website") or data.get("company_name")
        identified = data.get("linkedin_url") or data.get("email") or (
            first and last and company_hint
        )
        if not identified:
            return _error("INVALID_DATAPOINTS", outcome="invalid")
        person = self.world.find_person(
            email=data.get("email") or None,
            linkedin_url=data.get("linkedin_url") or None,
            first_name=first or None,
            last_name=last or None,
            domain=data.get("company_website") or None,
            company_name=data.get("company_name") or None,
        )
        if person is None or person.do_not_contact:
            return _error("NO_MATCH", outcome="no_match")
        verified = person.expected_verdict == VERIFIED
        if payload.get("only_verified_email") and not verified:
            return _error("NO_MATCH", outcome="no_match")
        if not self.credits.spend(key, 1):
            return _error("INSUFFICIENT_CREDITS", outcome="quota")
        return json_response(200, {
            "error": False,
            "free_enrichment": False,
            "person": _person(person),
            "company": _company(person),
        })


def _person(person: Person) -> dict[str, Any]:
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
    if person.expected_verdict in (VERIFIED, CATCH_ALL):
        body["email"] = {
            "status": "VERIFIED" if person.expected_verdict == VERIFIED else "UNVERIFIED",
            "revealed": True,
            "email": person.true_email,
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
