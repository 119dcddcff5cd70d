"""Apollo People Enrichment (`POST /api/v1/people/match`) and People API Search
(`POST /api/v1/mixed_people/api_search`), with the key in `X-Api-Key`.

Docs: https://docs.apollo.io/reference/people-enrichment. Caveat (SOURCES.md): parameters and
behaviour are documented but no response example survives, so the model only requires the
`person` key (an object, or null for no match) and reads the commonly returned fields.
`email_status` "verified" is the only status treated as a verified address.

People API Search: https://docs.apollo.io/reference/people-api-search.md. It costs no credit,
needs a master key, pages up to 100 people (500 pages) and never returns addresses or phones;
the people it lists carry an `id`, a `first_name`, a `title` and, as third-party copies of the
docs' example show, only a masked surname (`last_name_obfuscated`, "Hu***n"): People
Enrichment with that `id` gives the whole name. Caveat (SOURCES.md): the sample is
reconstructed from the documented fields, so only `people` is required.
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
PEOPLE_SEARCH_PATH = "/api/v1/mixed_people/api_search"
MAX_PER_PAGE = 100
MAX_PAGE = 500


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


class ListedPerson(VendorModel):
    """One person of a People API Search page: no address, and maybe only a masked surname."""

    id: str
    first_name: str | None = None
    last_name: str | None = None
    last_name_obfuscated: str | None = None
    title: str | None = None
    has_email: bool | None = None
    organization: dict[str, Any] | None = None

    def may_be(self, first_name: str, last_name: str, *, fold: Any = str.lower) -> bool:
        """Whether this listed person may be `first_name last_name`: the same first name and
        a surname that the masked one ("Hu***n": its visible start and end) fits."""
        if fold(self.first_name or "") != fold(first_name) or not self.first_name:
            return False
        surname = fold(last_name)
        if self.last_name:
            return fold(self.last_name) == surname
        masked = self.last_name_obfuscated or ""
        start, stars, end = masked.partition("***")
        if not stars:
            return bool(masked) and fold(masked) == surname
        start, end = fold(start), fold(end)
        return (
            len(surname) > len(start) + len(end)
            and surname.startswith(start)
            and surname.endswith(end)
        )


class PeopleSearchPage(Answer):
    people: list[ListedPerson]
    total_entries: int | None = None

    @property
    def found(self) -> bool:
        return bool(self.people)


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
    person_id: str = "",
    reveal_personal_emails: bool = False,
) -> ProviderRequest:
    """POST /api/v1/people/match, parameters in the query string as in the docs' examples
    (https://docs.apollo.io/reference/people-enrichment); `person_id` is the `id` a People API
    Search gave."""
    params: dict[str, Any] = {
        "id": person_id,
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


def build_people_search_request(
    *, domain: str, page: int = 1, per_page: int = 25
) -> ProviderRequest:
    """POST /api/v1/mixed_people/api_search for the people of one employer domain, filters in
    the query string with the docs' `[]` spelling
    (https://docs.apollo.io/reference/people-api-search.md)."""
    if not domain:
        raise ValueError("Apollo's people search needs a domain")
    if not (1 <= page <= MAX_PAGE and 1 <= per_page <= MAX_PER_PAGE):
        raise ValueError(f"Apollo pages are 1 to {MAX_PAGE} of 1 to {MAX_PER_PAGE} people")
    params = {"q_organization_domains_list[]": [domain], "page": page, "per_page": per_page}
    return ProviderRequest(method="POST", path=PEOPLE_SEARCH_PATH, params=params)


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


def parse_people_search_response(
    status: int, body: bytes | str, *, retry_after: float | None = None
) -> PeopleSearchPage:
    """Read a People API Search page: the people listed (maybe none), or an error."""
    payload = decode_json(body, status=status) if body else None
    if status != 200:
        raise _error_from(status, payload, retry_after)
    if not isinstance(payload, dict) or not isinstance(payload.get("people"), list):
        raise ProviderError("answer without people", kind=ErrorKind.TEMPORARY, status=status)
    return validate_answer(PeopleSearchPage, payload, status=status, what="mixed_people/api_search")
