"""Hunter v2: Email Finder (name + domain) and Email Verifier, key as the `api_key` parameter.

Docs: https://hunter.io/api/v2/docs. Status quirks: 202 (verification still running) and 222
(the remote SMTP server failed) mean "ask again later"; 403 is Hunter's *rate limit* and 429
its *usage quota*, the reverse of the usual reading; 451 means the person claimed their data
and must not be processed: it is returned as `claimed=True`, not raised. Caveat (SOURCES.md):
some doc copies show the verifier without the deprecated `result`; only `status` is read.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, ValidationError

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

SLUG = "hunter"
EMAIL_FINDER_PATH = "/v2/email-finder"
EMAIL_VERIFIER_PATH = "/v2/email-verifier"
# How long to wait before asking again after a 202 or 222 when no Retry-After is given.
RETRY_LATER_SECONDS = 5.0

_STATUS_KINDS = {
    202: ErrorKind.TEMPORARY,
    222: ErrorKind.TEMPORARY,
    403: ErrorKind.RATE_LIMITED,
    429: ErrorKind.QUOTA,
}


class Source(VendorModel):
    domain: str = ""
    uri: str = ""
    extracted_on: str | None = None
    last_seen_on: str | None = None
    still_on_page: bool | None = None


class Verification(VendorModel):
    date: str | None = None
    status: str | None = None


class EmailFinderData(VendorModel):
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    score: int | None = None
    domain: str | None = None
    accept_all: bool | None = None
    position: str | None = None
    linkedin_url: str | None = None
    company: str | None = None
    sources: list[Source] = Field(default_factory=list)
    verification: Verification | None = None


class EmailFinderResult(Answer):
    """An address with its score and verification, a miss (`email` None) or `claimed`."""

    data: EmailFinderData | None = None
    claimed: bool = False

    @property
    def email(self) -> str | None:
        return self.data.email if self.data else None

    @property
    def verification_status(self) -> str | None:
        return self.data.verification.status if self.data and self.data.verification else None

    @property
    def found(self) -> bool:
        # A claimed person (451) is a miss here: no data, nothing billed, ask the next vendor.
        return bool(self.email) and not self.claimed


class EmailVerifierData(VendorModel):
    status: str
    score: int | None = None
    email: str
    regexp: bool | None = None
    gibberish: bool | None = None
    disposable: bool | None = None
    webmail: bool | None = None
    mx_records: bool | None = None
    smtp_server: bool | None = None
    smtp_check: bool | None = None
    accept_all: bool | None = None
    block: bool | None = None
    sources: list[Source] = Field(default_factory=list)


class EmailVerifierResult(Answer):
    data: EmailVerifierData | None = None
    claimed: bool = False

    @property
    def status(self) -> str | None:
        return self.data.status if self.data else None

    @property
    def found(self) -> bool:
        return self.status == "valid"


class HunterError(VendorModel):
    id: str = ""
    code: int | None = None
    details: str = ""


class ErrorBody(BaseModel):
    errors: list[HunterError] = Field(min_length=1)


def auth_params(api_key: str) -> dict[str, str]:
    return {"api_key": api_key}


def build_email_finder_request(
    *,
    first_name: str = "",
    last_name: str = "",
    full_name: str = "",
    domain: str = "",
    company: str = "",
    max_duration: int | None = None,
) -> ProviderRequest:
    """GET /v2/email-finder (https://hunter.io/api/v2/docs#email-finder)."""
    if not (domain or company):
        raise ValueError("Hunter needs a domain or a company")
    params: dict[str, Any] = {
        "first_name": first_name,
        "last_name": last_name,
        "full_name": full_name,
        "domain": domain,
        "company": company,
        "max_duration": max_duration,
    }
    return ProviderRequest(
        method="GET",
        path=EMAIL_FINDER_PATH,
        params={k: v for k, v in params.items() if v not in ("", None)},
    )


def build_email_verifier_request(email: str) -> ProviderRequest:
    """GET /v2/email-verifier (https://hunter.io/api/v2/docs#email-verifier)."""
    return ProviderRequest(method="GET", path=EMAIL_VERIFIER_PATH, params={"email": email})


def _error_from(status: int, payload: Any, retry_after: float | None) -> ProviderError:
    message = f"HTTP {status}"
    try:
        first = ErrorBody.model_validate(payload).errors[0]
        message = f"{first.id}: {first.details}".strip(": ")
    except ValidationError:
        pass
    kind = _STATUS_KINDS.get(status) or classify_status(status)
    if status in (202, 222) and retry_after is None:
        retry_after = RETRY_LATER_SECONDS
    return ProviderError(message, kind=kind, status=status, retry_after=retry_after)


def _data(status: int, body: bytes | str, retry_after: float | None) -> Any:
    payload = decode_json(body, status=status) if body else None
    if status != 200:
        raise _error_from(status, payload, retry_after)
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        raise ProviderError("answer without data", kind=ErrorKind.TEMPORARY, status=status)
    return payload["data"]


def parse_email_finder_response(
    status: int, body: bytes | str, *, retry_after: float | None = None
) -> EmailFinderResult:
    """Read an email-finder answer; 451 (claimed) is a result, other failures raise."""
    if status == 451:
        return EmailFinderResult(claimed=True)
    data = _data(status, body, retry_after)
    return EmailFinderResult(
        data=validate_answer(EmailFinderData, data, status=status, what="email-finder")
    )


def parse_email_verifier_response(
    status: int, body: bytes | str, *, retry_after: float | None = None
) -> EmailVerifierResult:
    """Read an email-verifier answer (`status`: valid, invalid, accept_all, webmail, ...)."""
    if status == 451:
        return EmailVerifierResult(claimed=True)
    data = _data(status, body, retry_after)
    return EmailVerifierResult(
        data=validate_answer(EmailVerifierData, data, status=status, what="email-verifier")
    )
