"""Dropcontact batch API: `POST /v1/enrich/all`, then poll `GET /v1/enrich/all/{request_id}`.

Docs: https://developer.dropcontact.com/en/quickstart/, /en/errors/, /en/rate-limits/,
/en/credits/. Quirks kept on purpose: "not ready" is HTTP 200 with `success: false`, and an
unknown (or another key's) request id gets exactly the same answer; results are ordered by
input index; qualifications are localised by `language`; insufficient credits is a 403.
Where the docs give no body (401, 403, 429) the body follows the documented `reason` shape.
"""

from __future__ import annotations

import json
import secrets
import string
import time
from dataclasses import dataclass
from typing import Any

from ..protocol import Request, Response, json_response
from ..world import CATCH_ALL, DO_NOT_CONTACT, VERIFIED, Person
from .base import Job, JobVendor, retry_after_header, split_full_name

MAX_RECORDS = 250
MAX_RECORD_BYTES = 15_000
NOT_READY = "Request not ready yet, try again in 30 seconds"

QUALIFICATIONS = {
    "fr": {
        VERIFIED: "nominatif@pro",
        CATCH_ALL: "catch-all@pro",
        DO_NOT_CONTACT: "Ne_Pas_Contacter@pro",
    },
    "en": {
        VERIFIED: "nominative@pro",
        CATCH_ALL: "catch-all@pro",
        DO_NOT_CONTACT: "Do_Not_Contact@pro",
    },
}


def _reason(status: int, reason: str, **kwargs: Any) -> Response:
    return json_response(status, {"error": True, "reason": reason, "success": False}, **kwargs)


@dataclass
class _Job(Job):
    records: list[dict[str, Any]]
    language: str
    siren: bool


class Dropcontact(JobVendor[_Job]):
    slug = "dropcontact"
    routes = (
        ("POST", "/v1/enrich/all", "submit"),
        ("GET", "/v1/enrich/all/{request_id}", "poll"),
    )
    # https://developer.dropcontact.com/en/rate-limits/: "limited to 60 requests per second".
    rate_per_second = 60.0

    def api_key(self, request: Request) -> str:
        return request.header("X-Access-Token")

    def unauthorized(self, request: Request) -> Response:
        return _reason(401, "Invalid or missing X-Access-Token")

    def too_many_requests(self, retry_after: float) -> Response:
        return _reason(429, "Too Many Requests", headers=retry_after_header(retry_after))

    def server_error(self, status: int) -> Response:
        # Documented: 500 answers carry `detail`, not `reason`.
        return json_response(status, {"detail": "Internal Server Error"})

    def no_route(self, request: Request) -> Response:
        return json_response(404, {"detail": "Not Found"}, outcome="no_route")

    def bad_json(self, message: str) -> Response:
        return json_response(422, {"detail": f"Invalid JSON: {message}"}, outcome="invalid")

    def submit(self, request: Request, key: str, params: dict[str, str]) -> Response:
        payload = request.json_object()
        records = payload.get("data")
        if not isinstance(records, list) or not records:
            return _reason(400, "Missing data in JSON", outcome="invalid")
        if len(records) > MAX_RECORDS:
            return _reason(
                400, "Too many records, you can only submit up to 250 records", outcome="invalid"
            )
        for record in records:
            if not isinstance(record, dict):
                return _reason(400, "Missing data in JSON", outcome="invalid")
            if len(json.dumps(record).encode("utf-8")) > MAX_RECORD_BYTES:
                return _reason(
                    400,
                    "Data size is too big, you can only submit up to 15 kB of data in a single "
                    "record",
                    outcome="invalid",
                )
        # The sandbox spends one credit per record submitted (the contract the app budgets on).
        if not self.credits.spend(key, len(records)):
            return _reason(
                403,
                "You don't have enough credits to process this request",
                outcome="quota",
                records=len(records),
            )
        language = "en" if str(payload.get("language", "fr")).lower() == "en" else "fr"
        # Random, not seeded: after a restart, a new batch must never reuse the id of a
        # batch the app is still polling.
        request_id = "".join(secrets.choice(string.ascii_lowercase) for _ in range(15))
        self.keep_job(
            request_id,
            _Job(key, time.monotonic(), records, language, payload.get("siren") is True),
        )
        return json_response(
            200,
            {
                "credits_left": self.credits.left(key),
                "request_id": request_id,
                "error": False,
                "success": True,
            },
            records=len(records),
        )

    def poll(self, request: Request, key: str, params: dict[str, str]) -> Response:
        job = self.job_for(params["request_id"], key)
        if job is None:
            return self._not_ready()
        elapsed = job.elapsed
        force = request.query.get("forceResults", "").lower() == "true"
        ready = elapsed >= self.ready_after
        if not ready and not force:
            return self._not_ready()
        count = len(job.records)
        if not ready:
            # forceResults: the records "already enriched", in input order.
            count = int(count * elapsed / self.ready_after) if self.ready_after else count
        data = [self.enrich(record, job.language, job.siren) for record in job.records[:count]]
        payload: dict[str, Any] = {"data": data, "error": False, "success": True}
        if force:
            payload["status"] = "ready" if ready else "in_progress"
        payload["credits_left"] = self.credits.left(key)
        return json_response(
            200, payload, records=len(data), outcome="ok" if ready else "in_progress"
        )

    def _not_ready(self) -> Response:
        return json_response(
            200, {"error": False, "reason": NOT_READY, "success": False}, outcome="not_ready"
        )

    def find(self, record: dict[str, Any]) -> Person | None:
        first = str(record.get("first_name") or "")
        last = str(record.get("last_name") or "")
        if not (first and last) and record.get("full_name"):
            first, last = split_full_name(str(record["full_name"]))
        return self.world.find_person(
            email=str(record.get("email") or "") or None,
            linkedin_url=str(record.get("linkedin") or "") or None,
            first_name=first or None,
            last_name=last or None,
            domain=str(record.get("website") or "") or None,
            company_name=str(record.get("company") or "") or None,
        )

    def enrich(self, record: dict[str, Any], language: str, siren: bool) -> dict[str, Any]:
        """One output record: the input's fields, plus what the world knows."""
        out: dict[str, Any] = {k: v for k, v in record.items() if k != "custom_fields"}
        out["email"] = []
        person = self.find(record)
        if person is not None:
            company = person.company
            out.update(
                {
                    "civility": person.civility,
                    "first_name": person.first_name,
                    "last_name": person.last_name,
                    "full_name": person.full_name,
                    "job": person.job_title,
                    "linkedin": person.linkedin_url,
                    "company": company.name,
                    "website": f"www.{company.domain}",
                }
            )
            qualification = QUALIFICATIONS[language].get(person.expected_verdict)
            if qualification and person.pattern_email:
                out["email"] = [{"email": person.pattern_email, "qualification": qualification}]
            if siren and company.is_french:
                out.update(
                    {
                        "siren": _spaced(company.siren, 3),
                        "siret": f"{_spaced(company.siren, 3)} {company.siret[9:]}",
                        "siret_address": company.address,
                        "vat": _vat(company.siren),
                        "nb_employees": str(company.headcount),
                        "naf5_code": company.naf,
                        "naf5_des": company.naf_label,
                        "company_linkedin": company.linkedin_url + "/",
                    }
                )
        out["custom_fields"] = record.get("custom_fields") or {}
        return out


def _spaced(digits: str, size: int) -> str:
    # The documented sample prints SIREN/SIRET grouped: "500 500 500", "222 222 222 00022".
    return " ".join(digits[i : i + size] for i in range(0, len(digits), size))


def _vat(siren: str) -> str:
    key = (12 + 3 * (int(siren) % 97)) % 97
    return f"FR{key:02d}{siren}"
