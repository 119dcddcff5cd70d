"""FindyMail: find a verified email from a name and a domain, and verify an address.

Docs: https://app.findymail.com/docs (`Authorization: Bearer`). Caveats (SOURCES.md): the
`/api/verify` sample's email was obfuscated by the archive (`[email protected]`), so emails are
read as plain strings; `POST /api/search/name` is partial (public clients send `{name, domain}`
and read `contact.email`). Errors are `{"error": "..."}`; the documented "Not enough credits"
is labelled 200 in the docs, so it is recognised by its text whatever the status. A 404 or an
empty `contact` is a miss, not an error.
"""

from __future__ import annotations

from typing import Any

from pydantic import StrictBool

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

SLUG = "findymail"
SEARCH_NAME_PATH = "/api/search/name"
VERIFY_PATH = "/api/verify"


class Contact(VendorModel):
    name: str = ""
    email: str
    domain: str = ""


class SearchResult(Answer):
    """A found contact (FindyMail only returns verified addresses) or `contact=None`."""

    contact: Contact | None = None

    @property
    def found(self) -> bool:
        return self.contact is not None and bool(self.contact.email)


class VerifyResult(Answer):
    email: str
    verified: StrictBool
    provider: str | None = None

    @property
    def found(self) -> bool:
        return self.verified


def auth_headers(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}


def build_search_name_request(*, name: str, domain: str, webhook_url: str = "") -> ProviderRequest:
    """POST /api/search/name (https://app.findymail.com/docs)."""
    body = {"name": name, "domain": domain}
    if webhook_url:
        body["webhook_url"] = webhook_url
    return ProviderRequest(method="POST", path=SEARCH_NAME_PATH, json=body)


def build_verify_request(email: str) -> ProviderRequest:
    """POST /api/verify (https://app.findymail.com/docs)."""
    return ProviderRequest(method="POST", path=VERIFY_PATH, json={"email": email})


def _message(payload: Any) -> str:
    if isinstance(payload, dict):
        value = payload.get("error") or payload.get("message")
        if isinstance(value, str):
            return value
    return ""


def _error_from(status: int, payload: Any, retry_after: float | None) -> ProviderError:
    message = _message(payload) or f"HTTP {status}"
    kind = classify_status(status) if status >= 400 else ErrorKind.PERMANENT
    if "credit" in message.lower():
        kind = ErrorKind.QUOTA
    return ProviderError(message, kind=kind, status=status, retry_after=retry_after)


def _payload(status: int, body: bytes | str, retry_after: float | None) -> Any:
    payload = decode_json(body, status=status) if body else None
    if status >= 400 or (isinstance(payload, dict) and isinstance(payload.get("error"), str)):
        raise _error_from(status, payload, retry_after)
    return payload


def parse_search_name_response(
    status: int, body: bytes | str, *, retry_after: float | None = None
) -> SearchResult:
    """Read a search-by-name answer: a contact, a miss, or a classified error."""
    if status == 404:
        return SearchResult()
    payload = _payload(status, body, retry_after)
    if not isinstance(payload, dict) or "contact" not in payload:
        raise ProviderError("unexpected search answer", kind=ErrorKind.TEMPORARY, status=status)
    return validate_answer(SearchResult, payload, status=status, what="search answer")


def parse_verify_response(
    status: int, body: bytes | str, *, retry_after: float | None = None
) -> VerifyResult:
    """Read a verify answer: `verified` true or false, or a classified error."""
    payload = _payload(status, body, retry_after)
    return validate_answer(VerifyResult, payload, status=status, what="verify answer")
