"""Clearbit (legacy) Combined API: person and company from an email address.

Docs: https://dashboard.clearbit.com/docs#enrichment-api-combined-api (legacy). Caveat
(SOURCES.md): no sample at all, only prose: 200 `{person, company}`, 202 "queued, ask again"
(raised as a temporary error), 404 unknown (a miss), 422 invalid email; errors are
`{"error": {"type", "message"}}`. The product is now part of HubSpot (free platform sunset
2025-04-30): kept for per-job waterfall configs only.
"""

from __future__ import annotations

from typing import Any

from .base import (
    Answer,
    ErrorKind,
    ProviderError,
    ProviderRequest,
    VendorModel,
    classify_status,
    decode_json,
    validate_answer,
)

SLUG = "clearbit"
COMBINED_FIND_PATH = "/v2/combined/find"
QUEUED_RETRY_SECONDS = 10.0


class _Handle(VendorModel):
    handle: str | None = None


class PersonName(VendorModel):
    fullName: str | None = None
    givenName: str | None = None
    familyName: str | None = None


class Employment(VendorModel):
    domain: str | None = None
    name: str | None = None
    title: str | None = None
    role: str | None = None
    seniority: str | None = None


class ClearbitPerson(VendorModel):
    id: str
    name: PersonName | None = None
    email: str | None = None
    employment: Employment | None = None
    linkedin: _Handle | None = None


class _Category(VendorModel):
    industry: str | None = None
    sector: str | None = None


class _Metrics(VendorModel):
    employees: int | None = None


class ClearbitCompany(VendorModel):
    id: str
    name: str | None = None
    legalName: str | None = None
    domain: str | None = None
    category: _Category | None = None
    metrics: _Metrics | None = None
    linkedin: _Handle | None = None


class CombinedResult(Answer):
    person: ClearbitPerson | None = None
    company: ClearbitCompany | None = None

    @property
    def found(self) -> bool:
        return self.person is not None or self.company is not None


def auth_headers(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}


def build_combined_find_request(email: str) -> ProviderRequest:
    """GET /v2/combined/find?email= (legacy Combined API)."""
    return ProviderRequest(method="GET", path=COMBINED_FIND_PATH, params={"email": email})


def _error_from(status: int, payload: Any, retry_after: float | None) -> ProviderError:
    message = f"HTTP {status}"
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        message = f"{error.get('type', '')}: {error.get('message', '')}".strip(": ")
    return ProviderError(
        message, kind=classify_status(status), status=status, retry_after=retry_after
    )


def parse_combined_find_response(
    status: int, body: bytes | str, *, retry_after: float | None = None
) -> CombinedResult:
    """Read a combined lookup: person/company, a miss (404), or an error (202 = retry later)."""
    if status == 202:
        raise ProviderError(
            "lookup queued, ask again later",
            kind=ErrorKind.TEMPORARY,
            status=status,
            retry_after=retry_after or QUEUED_RETRY_SECONDS,
        )
    if status == 404:
        return CombinedResult()
    payload = decode_json(body, status=status) if body else None
    if status != 200:
        raise _error_from(status, payload, retry_after)
    if not isinstance(payload, dict) or not ({"person", "company"} & payload.keys()):
        raise ProviderError(
            "answer without person or company", kind=ErrorKind.TEMPORARY, status=status
        )
    return validate_answer(CombinedResult, payload, status=status, what="combined answer")
