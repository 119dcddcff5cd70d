"""LeadMagic people API: email finder (name + domain) and B2B profile to email.

Docs: https://leadmagic.io/docs/reference/email-finder and
https://leadmagic.io/docs/v1/reference/profile-to-email; RFC 9457-style errors
(`{"success": false, "errors": [{type, title, status, code, docs}], "meta"}`) from the vendor's
own repository. Caveat (SOURCES.md): an older docs version used `/email-finder`,
`is_domain_catch_all` and `company_linkedin_url`; both field sets are accepted. A miss is an
answer with `email: null` and `credits_consumed: 0`, not an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from pydantic import Field, ValidationError

from .base import (
    Answer,
    ErrorKind,
    ProviderError,
    ProviderRequest,
    VendorModel,
    classify_status,
    parse_answer,
)

SLUG = "leadmagic"
EMAIL_FINDER_PATH = "/v1/people/email-finder"
PROFILE_EMAIL_PATH = "/v1/people/b2b-profile-email"

_CODE_KINDS = {
    "validation_error": ErrorKind.PERMANENT,
    "unauthorized": ErrorKind.AUTH,
    "insufficient_credits": ErrorKind.QUOTA,
    "rate_limit_exceeded": ErrorKind.RATE_LIMITED,
}


class CompanyLocation(VendorModel):
    name: str | None = None
    locality: str | None = None
    country: str | None = None


class EmailFinderResult(Answer):
    """POST /v1/people/email-finder answer (v1 fields, plus the older docs' names)."""

    email: str | None = None
    status: str = ""
    credits_consumed: float
    message: str = ""
    first_name: str | None = None
    last_name: str | None = None
    domain: str | None = None
    has_mx: bool | None = None
    mx_provider: str | None = None
    is_domain_catch_all: bool | None = None
    company_name: str | None = None
    company_industry: str | None = None
    company_size: str | None = None
    company_location: CompanyLocation | None = None
    company_profile_url: str | None = None
    company_linkedin_url: str | None = None
    employment_verified: bool | None = None

    @property
    def found(self) -> bool:
        return bool(self.email)

    @property
    def is_valid(self) -> bool:
        return self.found and self.status == "valid"

    @property
    def is_catch_all(self) -> bool:
        return self.status in ("catch_all", "valid_catch_all") or bool(self.is_domain_catch_all)


class ProfileEmailResult(Answer):
    """POST /v1/people/b2b-profile-email answer."""

    email: str | None = None
    profile_url: str = ""
    credits_consumed: float
    message: str = ""

    @property
    def found(self) -> bool:
        return bool(self.email)


class ProblemDetail(VendorModel):
    type: str = ""
    title: str = ""
    status: int | None = None
    code: str = ""
    docs: str = ""


class ErrorBody(VendorModel):
    success: bool = False
    errors: list[ProblemDetail] = Field(min_length=1)
    meta: dict[str, Any] = Field(default_factory=dict)


class CreditsResult(Answer):
    """GET /v1/credits answer."""

    credits: float
    is_frozen: bool = False
    credits_frozen: float = 0
    credits_liquid: float | None = None

    @property
    def found(self) -> bool:
        return True  # the balance was read


def auth_headers(api_key: str) -> dict[str, str]:
    return {"X-API-Key": api_key}


def credits_remaining(headers: Mapping[str, str]) -> float | None:
    """The balance a response advertises in its headers, if any."""
    for name, value in headers.items():
        if name.lower() == "x-credits-remaining":
            try:
                return float(value)
            except ValueError:
                return None
    return None


def build_email_finder_request(
    *, first_name: str, last_name: str, domain: str = "", company_name: str = ""
) -> ProviderRequest:
    """POST /v1/people/email-finder (https://leadmagic.io/docs/reference/email-finder)."""
    if not (domain or company_name):
        raise ValueError("LeadMagic needs a domain or a company name")
    body = {"first_name": first_name, "last_name": last_name}
    if domain:
        body["domain"] = domain
    if company_name:
        body["company_name"] = company_name
    return ProviderRequest(method="POST", path=EMAIL_FINDER_PATH, json=body)


def build_profile_email_request(profile_url: str) -> ProviderRequest:
    """POST /v1/people/b2b-profile-email
    (https://leadmagic.io/docs/v1/reference/profile-to-email)."""
    return ProviderRequest(
        method="POST", path=PROFILE_EMAIL_PATH, json={"profile_url": profile_url}
    )


def _error_from(status: int, payload: Any, retry_after: float | None) -> ProviderError:
    kind = classify_status(status) if status >= 400 else ErrorKind.TEMPORARY
    message = f"HTTP {status}"
    try:
        problem = ErrorBody.model_validate(payload).errors[0]
    except ValidationError:
        problem = None
    if problem is not None:
        message = f"{problem.code}: {problem.title}".strip(": ")
        kind = _CODE_KINDS.get(problem.code, kind)
    return ProviderError(message, kind=kind, status=status, retry_after=retry_after)


_parse = partial(parse_answer, error_from=_error_from, what=f"{SLUG} answer", success_flag=True)


def parse_email_finder_response(
    status: int, body: bytes | str, *, retry_after: float | None = None
) -> EmailFinderResult:
    """Read an email-finder answer: an address with its status, a miss, or an error."""
    return _parse(EmailFinderResult, status, body, retry_after=retry_after)


def parse_profile_email_response(
    status: int, body: bytes | str, *, retry_after: float | None = None
) -> ProfileEmailResult:
    """Read a profile-to-email answer."""
    return _parse(ProfileEmailResult, status, body, retry_after=retry_after)


def parse_credits_response(
    status: int, body: bytes | str, *, retry_after: float | None = None
) -> CreditsResult:
    """Read GET /v1/credits (free)."""
    return _parse(CreditsResult, status, body, retry_after=retry_after)
