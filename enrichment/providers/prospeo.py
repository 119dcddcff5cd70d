"""Prospeo Enrich Person API: one person in, profile, company and email out.

Docs: https://prospeo.io/api-docs/enrich-person. Caveat (SOURCES.md): no verbatim response
sample exists, only the beginning of the docs sample (`error`, `free_enrichment`, `person` with
`person_id`, names, `linkedin_url`, `current_job_title`, ...) and the typed shapes of the
vendor's MCP server (`src/types.ts`: email `{status: VERIFIED|UNVERIFIED, revealed, email,
verification_method, email_mx_provider}`, `error_code`, `filter_error`). Failures come as
`error: true` + `error_code`, with HTTP 200 or an error status: both are read the same way.
`NO_MATCH` is not an error here: it is an answer with `matched=False` (and costs nothing).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, StrictBool

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

SLUG = "prospeo"
ENRICH_PERSON_PATH = "/enrich-person"

_ERROR_KINDS = {
    "INSUFFICIENT_CREDITS": ErrorKind.QUOTA,
    "INVALID_API_KEY": ErrorKind.AUTH,
    "ACCOUNT_RESTRICTED": ErrorKind.AUTH,
    "RATE_LIMITED": ErrorKind.RATE_LIMITED,
    "RATE_LIMIT_EXCEEDED": ErrorKind.RATE_LIMITED,
    "INVALID_DATAPOINTS": ErrorKind.PERMANENT,
    "INVALID_REQUEST": ErrorKind.PERMANENT,
    "INTERNAL_ERROR": ErrorKind.TEMPORARY,
}


class ProspeoEmail(VendorModel):
    status: str = ""
    revealed: bool = False
    email: str = ""
    verification_method: str = ""
    email_mx_provider: str = ""

    @property
    def is_verified(self) -> bool:
        return self.status == "VERIFIED" and bool(self.email)


class ProspeoPerson(VendorModel):
    person_id: str
    first_name: str = ""
    last_name: str = ""
    full_name: str = ""
    linkedin_url: str = ""
    current_job_title: str = ""
    headline: str = ""
    email: ProspeoEmail | None = None


class ProspeoCompany(VendorModel):
    company_id: str = ""
    name: str = ""
    website: str = ""
    domain: str = ""
    industry: str = ""
    employee_count: int | None = None
    linkedin_url: str = ""


class EnrichPersonResult(Answer):
    """A match (person, company, maybe an email) or `matched=False`."""

    error: StrictBool = False
    matched: bool = True
    free_enrichment: bool = False
    person: ProspeoPerson | None = None
    company: ProspeoCompany | None = None

    @property
    def email(self) -> ProspeoEmail | None:
        return self.person.email if self.person and self.person.email else None

    @property
    def found(self) -> bool:
        # A match is what Prospeo bills; NO_MATCH is free.
        return self.matched and self.person is not None


class _Data(BaseModel):
    """The `data` datapoints; empty values are left out of the payload."""

    first_name: str = ""
    last_name: str = ""
    full_name: str = ""
    linkedin_url: str = ""
    email: str = ""
    company_name: str = ""
    company_website: str = ""
    company_linkedin_url: str = ""


def auth_headers(api_key: str) -> dict[str, str]:
    return {"X-KEY": api_key}


def build_enrich_person_request(
    *,
    first_name: str = "",
    last_name: str = "",
    full_name: str = "",
    linkedin_url: str = "",
    email: str = "",
    company_name: str = "",
    company_website: str = "",
    only_verified_email: bool = True,
) -> ProviderRequest:
    """POST /enrich-person (https://prospeo.io/api-docs/enrich-person)."""
    data = _Data(
        first_name=first_name,
        last_name=last_name,
        full_name=full_name,
        linkedin_url=linkedin_url,
        email=email,
        company_name=company_name,
        company_website=company_website,
    ).model_dump(exclude_defaults=True)
    if not data:
        raise ValueError("Prospeo needs at least one datapoint")
    return ProviderRequest(
        method="POST",
        path=ENRICH_PERSON_PATH,
        json={"data": data, "only_verified_email": only_verified_email},
    )


def _error_from(status: int, payload: Any, retry_after: float | None) -> ProviderError:
    code = str(payload.get("error_code") or "") if isinstance(payload, dict) else ""
    kind = _ERROR_KINDS.get(code) or (
        classify_status(status) if status >= 400 else ErrorKind.PERMANENT
    )
    detail = payload.get("filter_error") if isinstance(payload, dict) else None
    message = " ".join(part for part in (code or f"HTTP {status}", detail or "") if part)
    return ProviderError(message, kind=kind, status=status, retry_after=retry_after)


def parse_enrich_person_response(
    status: int, body: bytes | str, *, retry_after: float | None = None
) -> EnrichPersonResult:
    """Read an enrich-person answer: a match, no match, or a classified error."""
    payload = decode_json(body, status=status) if body else None
    if isinstance(payload, dict) and payload.get("error") is True:
        if payload.get("error_code") == "NO_MATCH":
            return EnrichPersonResult(matched=False)
        raise _error_from(status, payload, retry_after)
    if status != 200:
        raise ProviderError(
            f"HTTP {status}", kind=classify_status(status), status=status, retry_after=retry_after
        )
    if not isinstance(payload, dict):
        raise ProviderError(
            "unexpected enrich-person answer", kind=ErrorKind.TEMPORARY, status=status
        )
    result = validate_answer(EnrichPersonResult, payload, status=status, what="enrich-person")
    return result.model_copy(update={"matched": result.person is not None})


class ProspeoErrorBody(BaseModel):
    """The documented failure envelope, for tests and logs."""

    error: StrictBool
    error_code: str = Field(min_length=1)
    filter_error: str | None = None
