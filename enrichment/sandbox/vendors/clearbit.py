"""Clearbit (legacy) `GET /v2/combined/find?email=` (Bearer key, or the key as Basic user).

Only prose survives (SOURCES.md: none): 200 is `{"person", "company"}`, 202 means the lookup
was queued (ask again later), 404 unknown, 422 invalid email; errors are
`{"error": {"type", "message"}}`. About a third of lookups are queued the first time they are
asked for; the retry answers 200. Clearbit knows its own (aged) share of the people
(`coverage.REACH`). The product was folded into HubSpot (free platform sunset
2025-04-30): kept for per-job waterfall configs only.
"""

from __future__ import annotations

import base64
from typing import Any

from ..coverage import knows_person
from ..protocol import Request, Response, json_response
from ..world import Person
from .base import Vendor, company_id, person_id, retry_after_header, stable_fraction


def _error(status: int, kind: str, message: str, **kwargs: Any) -> Response:
    return json_response(status, {"error": {"type": kind, "message": message}}, **kwargs)


class Clearbit(Vendor):
    slug = "clearbit"
    routes = (("GET", "/v2/combined/find", "combined_find"),)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._queued: set[tuple[str, str]] = set()

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self._queued.clear()

    def api_key(self, request: Request) -> str:
        if request.bearer():
            return request.bearer()
        scheme, _, encoded = request.header("Authorization").partition(" ")
        if scheme.lower() == "basic":
            try:
                return base64.b64decode(encoded).decode("utf-8").partition(":")[0]
            except (ValueError, UnicodeDecodeError):
                return ""
        return ""

    def unauthorized(self, request: Request) -> Response:
        return _error(401, "auth_required", "API key required or invalid.")

    def too_many_requests(self, retry_after: float) -> Response:
        return _error(429, "rate_limit", "Rate limit exceeded. Please slow down.",
                      headers=retry_after_header(retry_after))

    def server_error(self, status: int) -> Response:
        return _error(status, "server_error", "Something went wrong.")

    def no_route(self, request: Request) -> Response:
        return _error(404, "not_found", "Resource not found.", outcome="no_route")

    def combined_find(self, request: Request, key: str, params: dict[str, str]) -> Response:
        email = request.query.get("email", "").strip().lower()
        if "@" not in email:
            return _error(422, "email_invalid", "Invalid email.", outcome="invalid")
        person = self.world.find_person(email=email)
        if person is None or person.do_not_contact or not knows_person(
                self.world, self.slug, person):
            return _error(404, "unknown_record", "Unknown email address.", outcome="not_found")
        if stable_fraction("clearbit-queue", email) < 0.35:
            with self._lock:
                first_time = (key, email) not in self._queued
                self._queued.add((key, email))
            if first_time:
                return json_response(202, {}, outcome="queued")
        if not self.credits.spend(key, 1):
            return _error(402, "quota_exceeded", "Monthly quota exceeded.", outcome="quota")
        return json_response(200, {"person": _person(person, email), "company": _company(person)})


def _person(person: Person, email: str) -> dict[str, Any]:
    company = person.company
    return {
        "id": person_id(person),
        "name": {"fullName": person.full_name, "givenName": person.first_name,
                 "familyName": person.last_name},
        "email": email,
        "location": None,
        "employment": {"domain": company.domain, "name": company.name,
                       "title": person.job_title, "role": None, "seniority": None},
        "linkedin": {"handle": person.linkedin_url.split("linkedin.com/", 1)[-1]},
        "emailProvider": False,
    }


def _company(person: Person) -> dict[str, Any]:
    company = person.company
    return {
        "id": company_id(company.domain),
        "name": company.name,
        "legalName": company.name,
        "domain": company.domain,
        "category": {"industry": company.industry, "sector": None},
        "metrics": {"employees": company.headcount},
        "linkedin": {"handle": company.linkedin_url.split("linkedin.com/", 1)[-1]},
        "geo": {"country": company.country, "countryCode": company.country},
        "site": {"url": company.website},
    }
