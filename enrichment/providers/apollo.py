"""Apollo People Enrichment: `POST /api/v1/people/match` with the key in `X-Api-Key`.

Docs: https://docs.apollo.io/reference/people-enrichment. Caveat (SOURCES.md): parameters and
behaviour are documented but no response example survives, so the model only requires the
`person` key (an object, or null for no match) and reads the commonly returned fields.
`email_status` "verified" is the only status treated as a verified address.
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

SLUG = "apollo"
PEOPLE_MATCH_PATH = "/api/v1/people/match"


class ApolloOrganization(VendorModel):
    id: str | None = None
    name: str | None = None
    website_url: str | None = None
    linkedin_url: str | None = None
    primary_domain: str | None = None
    estimated_num_employees: int | None = None
    industry: str | None = None


class ApolloPerson(VendorModel):
    id: str
    first_name: str | None = None
    last_name: str | None = None
    name: str | None = None
    linkedin_url: str | None = None
    title: str | None = None
    email_status: str | None = None
    email: str | None = None
    organization: ApolloOrganization | None = None

    @property
    def has_verified_email(self) -> bool:
        return bool(self.email) and self.email_status == "verified"


class PeopleMatchResult(Answer):
    person: ApolloPerson | None

    @property
    def found(self) -> bool:
        return self.person is not None


def auth_headers(api_key: str) -> dict[str, str]:
    return {"X-Api-Key": api_key}


def build_people_match_request(
    *,
    first_name: str = "",
    last_name: str = "",
    name: str = "",
    email: str = "",
    domain: str = "",
    organization_name: str = "",
    linkedin_url: str = "",
    reveal_personal_emails: bool = False,
) -> ProviderRequest:
    """POST /api/v1/people/match, parameters in the query string as in the docs' examples
    (https://docs.apollo.io/reference/people-enrichment)."""
    params: dict[str, Any] = {
        "first_name": first_name,
        "last_name": last_name,
        "name": name,
        "email": email,
        "domain": domain,
        "organization_name": organization_name,
        "linkedin_url": linkedin_url,
    }
    params = {k: v for k, v in params.items() if v}
    if not params:
        raise ValueError("Apollo needs something to match on")
    params["reveal_personal_emails"] = "true" if reveal_personal_emails else "false"
    return ProviderRequest(method="POST", path=PEOPLE_MATCH_PATH, params=params)


def _error_from(status: int, payload: Any, retry_after: float | None) -> ProviderError:
    message = f"HTTP {status}"
    code = ""
    if isinstance(payload, dict):
        text = payload.get("error") or payload.get("message")
        message = text if isinstance(text, str) else message
        code = str(payload.get("error_code") or "")
    kind = classify_status(status) if status >= 400 else ErrorKind.TEMPORARY
    if "credit" in message.lower() or code == "INSUFFICIENT_CREDITS":
        kind = ErrorKind.QUOTA
    return ProviderError(message, kind=kind, status=status, retry_after=retry_after)


def parse_people_match_response(
    status: int, body: bytes | str, *, retry_after: float | None = None
) -> PeopleMatchResult:
    """Read a people/match answer: a person (maybe with an email), none, or an error."""
    payload = decode_json(body, status=status) if body else None
    if status != 200:
        raise _error_from(status, payload, retry_after)
    if not isinstance(payload, dict) or "person" not in payload:
        raise ProviderError("answer without person", kind=ErrorKind.TEMPORARY, status=status)
    return validate_answer(PeopleMatchResult, payload, status=status, what="people/match")
