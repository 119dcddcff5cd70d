"""Firecrawl extract: `POST /v2/extract` starts a job, `GET /v2/extract/{id}` polls it.

Docs: https://docs.firecrawl.dev/api-reference/endpoint/extract and extract-get; errors
`{"success": false, "error", "details"?}` (docs' errors page). The sandbox "extracts" what the
world knows about the company behind each URL, filling the schema's properties it recognises.
A job stays `processing` for `ready_after` seconds.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from ..coverage import knows_company
from ..protocol import Request, Response, json_response
from ..world import Company, normalize_domain
from .base import Job, JobVendor, iso_now, retry_after_header

# Schema property names the sandbox can answer, by what they mean.
_FIELDS = {
    "name": ("name", "company_name", "companyName", "company"),
    "industry": ("industry", "sector"),
    "headcount": ("headcount", "employees", "employee_count", "employeeCount", "nb_employees"),
    "linkedin_url": ("linkedin", "linkedin_url", "linkedinUrl", "company_linkedin"),
    "siren": ("siren",),
    "siret": ("siret",),
    "naf": ("naf", "naf_code", "ape"),
    "address": ("address", "headquarters", "siege"),
    "country": ("country",),
    "website": ("website", "url"),
    "domain": ("domain",),
}


def _error(status: int, message: str, **kwargs: Any) -> Response:
    return json_response(status, {"success": False, "error": message}, **kwargs)


@dataclass
class _Job(Job):
    urls: list[str]
    schema: dict[str, Any]


class Firecrawl(JobVendor[_Job]):
    slug = "firecrawl"
    routes = (
        ("POST", "/v2/extract", "start"),
        ("GET", "/v2/extract/{job_id}", "status"),
    )

    def api_key(self, request: Request) -> str:
        return request.bearer()

    def unauthorized(self, request: Request) -> Response:
        return _error(401, "Unauthorized: Invalid token")

    def too_many_requests(self, retry_after: float) -> Response:
        return _error(
            429, "Rate limit exceeded. Please retry later.", headers=retry_after_header(retry_after)
        )

    def server_error(self, status: int) -> Response:
        return _error(status, "An unexpected error occurred. Please try again later.")

    def bad_json(self, message: str) -> Response:
        return _error(400, "Invalid JSON body", outcome="invalid")

    def no_route(self, request: Request) -> Response:
        return _error(404, "Not Found", outcome="no_route")

    def start(self, request: Request, key: str, params: dict[str, str]) -> Response:
        payload = request.json_object()
        urls = payload.get("urls")
        if not isinstance(urls, list) or not urls:
            return json_response(
                400,
                {
                    "success": False,
                    "error": "Bad Request",
                    "details": [{"path": ["urls"], "message": "Required"}],
                },
                outcome="invalid",
            )
        valid = [u for u in urls if isinstance(u, str) and "." in normalize_domain(u)]
        invalid = [u for u in urls if u not in valid]
        if not self.credits.spend(key, len(valid)):
            return _error(402, "Payment required: insufficient credits.", outcome="quota")
        job_id = str(uuid.uuid4())
        schema = payload.get("schema") if isinstance(payload.get("schema"), dict) else {}
        self.keep_job(job_id, _Job(key, time.monotonic(), valid, schema))
        return json_response(200, {"success": True, "id": job_id, "invalidURLs": invalid})

    def status(self, request: Request, key: str, params: dict[str, str]) -> Response:
        job = self.job_for(params["job_id"], key)
        if job is None:
            return _error(404, "Extract job not found", outcome="not_found")
        if job.elapsed < self.ready_after:
            return json_response(
                200,
                {
                    "success": True,
                    "data": {},
                    "status": "processing",
                    "expiresAt": iso_now(86_400),
                    "tokensUsed": 0,
                },
                outcome="processing",
            )
        # A site Firecrawl cannot read (blocked, empty) completes with nothing extracted.
        companies = [c for u in job.urls if (c := self.world.find_company(domain=u))
                     and knows_company(self.world, self.slug, c)]
        data = _extract(companies[0], job.schema) if companies else {}
        return json_response(
            200,
            {
                "success": True,
                "data": data,
                "status": "completed",
                "expiresAt": iso_now(86_400),
                "tokensUsed": 480,
            },
        )


def _extract(company: Company, schema: dict[str, Any]) -> dict[str, Any]:
    known = {
        "name": company.name,
        "industry": company.industry,
        "headcount": company.headcount,
        "linkedin_url": company.linkedin_url,
        "siren": company.siren or None,
        "siret": company.siret or None,
        "naf": company.naf or None,
        "address": company.address or None,
        "country": company.country,
        "website": company.website,
        "domain": company.domain,
    }
    properties = schema.get("properties")
    if not isinstance(properties, dict) or not properties:
        return {
            "company_name": company.name,
            "industry": company.industry,
            "employee_count": company.headcount,
            "linkedin_url": company.linkedin_url,
            "siren": known["siren"],
            "address": known["address"],
            "country": company.country,
        }
    data: dict[str, Any] = {}
    for prop in properties:
        for meaning, aliases in _FIELDS.items():
            if prop in aliases:
                data[prop] = known[meaning]
                break
        else:
            data[prop] = None
    return data
