"""LeadMagic `POST /v1/people/email-finder` and `POST /v1/people/b2b-profile-email`.

Docs: https://leadmagic.io/docs/reference/email-finder and /docs/v1/reference/profile-to-email;
errors are RFC 9457-style (`{"success": false, "errors": [...], "meta": {...}}`, vendor repo
LeadMagic/leadmagic-openapi). Every answer carries rate-limit and credit headers; their exact
names are not in the samples (the sandbox uses the common `X-RateLimit-*` and
`X-Credits-Remaining`). A miss is free (`credits_consumed: 0`). LeadMagic knows its own share
of the world (`coverage.REACH`).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from ..coverage import Entry, entry
from ..protocol import PROBLEM_JSON, MissingInput, Request, Response, json_response
from ..world import VERIFIED, Company, World, normalize_domain
from .base import Vendor, retry_after_header

SLUG = "leadmagic"
RATE_LIMIT_PER_MINUTE = 3000
# Documented `credits_consumed`: 1 per address found, 5 per profile-to-email hit, 0 on a miss.
FINDER_COST = 1
PROFILE_COST = 5


def _problem(status: int, code: str, title: str, **kwargs: Any) -> Response:
    body = {
        "success": False,
        "errors": [{
            "type": f"https://api.leadmagic.io/errors/{code}",
            "title": title,
            "status": status,
            "code": code,
            "docs": "https://leadmagic.io/docs/api-reference/errors",
        }],
        "meta": {
            "request_id": str(uuid.uuid4()),
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        },
    }
    return json_response(status, body, content_type=PROBLEM_JSON, **kwargs)


class LeadMagic(Vendor):
    slug = SLUG
    routes = (
        ("POST", "/v1/people/email-finder", "email_finder"),
        ("POST", "/v1/people/b2b-profile-email", "profile_email"),
    )

    def api_key(self, request: Request) -> str:
        return request.header("X-API-Key") or request.bearer()

    def unauthorized(self, request: Request) -> Response:
        return _problem(401, "unauthorized", "Missing or invalid API key. Send it in X-API-Key.")

    def too_many_requests(self, retry_after: float) -> Response:
        headers = retry_after_header(retry_after)
        headers.update({"X-RateLimit-Limit": str(RATE_LIMIT_PER_MINUTE),
                        "X-RateLimit-Remaining": "0",
                        "X-RateLimit-Reset": headers["Retry-After"]})
        return _problem(429, "rate_limit_exceeded", "Too many requests. Slow down.",
                        headers=headers)

    def server_error(self, status: int) -> Response:
        return _problem(status, "internal_error", "An unexpected error occurred.")

    def bad_json(self, message: str) -> Response:
        return _problem(400, "validation_error",
                        "Request validation failed. Check your input parameters.",
                        outcome="invalid")

    def no_route(self, request: Request) -> Response:
        return _problem(404, "not_found", "Route not found.", outcome="no_route")

    def _headers(self, key: str) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(RATE_LIMIT_PER_MINUTE),
            "X-RateLimit-Remaining": str(RATE_LIMIT_PER_MINUTE - 1),
            "X-RateLimit-Reset": "60",
            "X-Credits-Remaining": f"{self.credits.left(key):g}",
        }

    def _answer(self, key: str, body: dict[str, Any], cost: int) -> Response:
        if cost and not self.credits.spend(key, cost):
            return _problem(402, "insufficient_credits", "Not enough credits.",
                            headers=self._headers(key), outcome="quota")
        body["credits_consumed"] = cost
        return json_response(200, body, headers=self._headers(key),
                             outcome="ok" if cost else "empty")

    def email_finder(self, request: Request, key: str, params: dict[str, str]) -> Response:
        data = request.json_object()
        try:
            found = find_email(self.world, data)
        except MissingInput:
            return _problem(400, "validation_error",
                            "Request validation failed. Check your input parameters.",
                            outcome="invalid")
        if found is None:
            domain = normalize_domain(str(data.get("domain") or ""))
            return self._answer(key, {
                "email": None, "status": "not_found", "message": "No email found.",
                "first_name": data.get("first_name"), "last_name": data.get("last_name"),
                "domain": domain or None,
            }, 0)
        return self._answer(key, _finder_body(found), FINDER_COST)

    def profile_email(self, request: Request, key: str, params: dict[str, str]) -> Response:
        data = request.json_object()
        profile_url = str(data.get("profile_url") or "")
        if not profile_url:
            return _problem(400, "validation_error",
                            "Request validation failed. Check your input parameters.",
                            outcome="invalid")
        person = self.world.find_person(linkedin_url=profile_url)
        found = entry(self.world, SLUG, person) if person else None
        # The profile endpoint only sells addresses it holds as valid.
        if found is None or found.verdict != VERIFIED:
            return self._answer(key, {"email": None, "profile_url": profile_url,
                                      "message": "No email found."}, 0)
        return self._answer(key, {"email": found.email, "profile_url": profile_url,
                                  "message": "Email found."}, PROFILE_COST)


def find_email(world: World, data: dict[str, Any]) -> Entry | None:
    """The address LeadMagic's email finder gives for a request body, or None (not found).

    Raises MissingInput without a first name, a last name, and a domain or company name.
    """
    first, last = str(data.get("first_name") or ""), str(data.get("last_name") or "")
    domain = normalize_domain(str(data.get("domain") or ""))
    company_name = str(data.get("company_name") or "")
    if not (first and last and (domain or company_name)):
        raise MissingInput("first_name, last_name and domain or company_name")
    person = world.find_person(
        first_name=first, last_name=last, domain=domain or None, company_name=company_name or None
    )
    return entry(world, SLUG, person) if person else None


def _finder_body(found: Entry) -> dict[str, Any]:
    person, company = found.person, found.person.company
    verified = found.verdict == VERIFIED
    return {
        "email": found.email,
        "status": "valid" if verified else "catch_all",
        "message": "Valid email found." if verified else "Catch-all email found.",
        "first_name": person.first_name,
        "last_name": person.last_name,
        "domain": company.domain,
        "mx_record": f"mx1.{company.domain}",
        "mx_provider": "Sandbox Mail",
        "mx_security_gateway": False,
        "has_mx": company.has_mx,
        "mx_records_full": [{"priority": 10, "exchange": f"mx1.{company.domain}"}],
        "company_name": company.name,
        "company_industry": company.industry,
        "company_size": _size_band(company.headcount),
        "company_founded": None,
        "company_location": _location(company),
        "company_profile_url": company.linkedin_url.rsplit("/", 1)[-1],
        "company_profile_id": None,
        "company_facebook_url": "",
        "company_twitter_url": "",
        "company_type": "private",
        "employment_verified": True,
    }


def _location(company: Company) -> dict[str, Any]:
    postcode, _, city = company.address.rpartition(", ")[2].partition(" ")
    street = company.address.rpartition(", ")[0] or None
    return {
        "name": f"{city}, {company.country}".lower() if city else company.country.lower(),
        "locality": city.lower() or None,
        "region": None,
        "metro": None,
        "country": company.country.lower(),
        "continent": "europe" if company.country != "US" else "north america",
        "street_address": street,
        "address_line_2": None,
        "postal_code": postcode or None,
        "geo": None,
    }


def _size_band(headcount: int) -> str:
    for low, high in ((1, 10), (11, 50), (51, 200), (201, 500), (501, 1000), (1001, 5000)):
        if headcount <= high:
            return f"{low}-{high}"
    return "5001+"
