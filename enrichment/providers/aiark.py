"""AI Ark company and people data: company search, people search, single-person export.

Docs: https://docs.ai-ark.com/reference/company-search-1.md, people-search-1.md and
people-export-single.md (`X-TOKEN` header, base `https://api.ai-ark.com/api/developer-portal`).
Caveat: no response sample is in tests/provider_samples; the docs describe Spring-style pages
(`content`, `pageable`, `totalElements`, `totalPages`) whose items nest `summary`, `links`,
`location`, ... so only the page envelope and a few well-named fields are required. A 404 from
the single export is a miss, not an error.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from pydantic import Field

from .base import (
    Answer,
    ErrorKind,
    ProviderError,
    ProviderRequest,
    VendorModel,
    classify_status,
    parse_answer,
)

SLUG = "aiark"
PREFIX = "/api/developer-portal/v1"
COMPANIES_PATH = f"{PREFIX}/companies"
PEOPLE_PATH = f"{PREFIX}/people"
EXPORT_SINGLE_PATH = f"{PREFIX}/people/export/single"
MAX_PAGE_SIZE = 100


class _Staff(VendorModel):
    total: int | None = None


class CompanySummary(VendorModel):
    name: str | None = None
    industry: str | None = None
    description: str | None = None
    staff: _Staff | None = None


class CompanyLinks(VendorModel):
    website: str | None = None
    domain: str | None = None
    linkedin: str | None = None


class AIArkCompany(VendorModel):
    id: str
    summary: CompanySummary = Field(default_factory=CompanySummary)
    links: CompanyLinks = Field(default_factory=CompanyLinks)
    location: dict[str, Any] = Field(default_factory=dict)
    industries: list[str] = Field(default_factory=list)

    @property
    def headcount(self) -> int | None:
        return self.summary.staff.total if self.summary.staff else None


class PersonProfile(VendorModel):
    first_name: str | None = None
    last_name: str | None = None
    full_name: str | None = None
    title: str | None = None
    headline: str | None = None


class PersonCompany(VendorModel):
    name: str | None = None
    domain: str | None = None


class ExportedEmail(VendorModel):
    address: str
    status: str = ""
    domainType: str = ""


class _EmailBlock(VendorModel):
    output: list[ExportedEmail] = Field(default_factory=list)


class AIArkPerson(VendorModel):
    id: str
    profile: PersonProfile = Field(default_factory=PersonProfile)
    link: dict[str, Any] = Field(default_factory=dict)
    company: PersonCompany | None = None
    email: _EmailBlock | None = None

    @property
    def linkedin_url(self) -> str:
        return str(self.link.get("linkedin") or "")

    @property
    def emails(self) -> list[ExportedEmail]:
        return self.email.output if self.email else []


class CompanyPage(Answer):
    content: list[AIArkCompany]
    totalElements: int
    totalPages: int
    number: int = 0

    @property
    def found(self) -> bool:
        return bool(self.content)


class PeoplePage(Answer):
    content: list[AIArkPerson]
    totalElements: int
    totalPages: int
    number: int = 0
    trackId: str | None = None

    @property
    def found(self) -> bool:
        return bool(self.content)


class ExportResult(Answer):
    """The exported person with their email(s), or `person=None` (404, a miss)."""

    person: AIArkPerson | None = None

    @property
    def found(self) -> bool:
        return self.person is not None


def auth_headers(api_key: str) -> dict[str, str]:
    return {"X-TOKEN": api_key}


def _any(values: list[str], *, smart: bool = False) -> dict[str, Any]:
    include: Any = {"mode": "SMART", "content": values} if smart else values
    return {"any": {"include": include}}


def _paging(page: int, size: int) -> dict[str, int]:
    if page < 0 or not 0 <= size <= MAX_PAGE_SIZE:
        raise ValueError(f"AI Ark pages are 0-based with 0 to {MAX_PAGE_SIZE} items")
    return {"page": page, "size": size}


def build_company_search_request(
    *, domain: str = "", name: str = "", page: int = 0, size: int = 10
) -> ProviderRequest:
    """POST /v1/companies (https://docs.ai-ark.com/reference/company-search-1.md)."""
    account: dict[str, Any] = {}
    if domain:
        account["domain"] = _any([domain])
    if name:
        account["name"] = _any([name], smart=True)
    return ProviderRequest(
        method="POST", path=COMPANIES_PATH, json={**_paging(page, size), "account": account}
    )


def build_people_search_request(
    *, domain: str = "", full_name: str = "", page: int = 0, size: int = 10
) -> ProviderRequest:
    """POST /v1/people (https://docs.ai-ark.com/reference/people-search-1.md)."""
    body: dict[str, Any] = _paging(page, size)
    if domain:
        body["account"] = {"domain": _any([domain])}
    if full_name:
        body["contact"] = {"fullName": _any([full_name], smart=True)}
    return ProviderRequest(method="POST", path=PEOPLE_PATH, json=body)


def build_export_single_request(*, linkedin_url: str = "", person_id: str = "") -> ProviderRequest:
    """POST /v1/people/export/single (https://docs.ai-ark.com/reference/people-export-single.md)."""
    if not (linkedin_url or person_id):
        raise ValueError("AI Ark needs a LinkedIn URL or a person id")
    body = {"url": linkedin_url} if linkedin_url else {"id": person_id}
    return ProviderRequest(method="POST", path=EXPORT_SINGLE_PATH, json=body)


def _error_from(status: int, payload: Any, retry_after: float | None) -> ProviderError:
    message = f"HTTP {status}"
    if isinstance(payload, dict):
        text = payload.get("message") or payload.get("error")
        message = f"{message}: {text}" if isinstance(text, str) and text else message
    kind = classify_status(status) if status >= 400 else ErrorKind.TEMPORARY
    return ProviderError(message, kind=kind, status=status, retry_after=retry_after)


_parse = partial(parse_answer, error_from=_error_from, what=f"{SLUG} answer")


def parse_company_search_response(
    status: int, body: bytes | str, *, retry_after: float | None = None
) -> CompanyPage:
    """Read a company search page."""
    return _parse(CompanyPage, status, body, retry_after=retry_after)


def parse_people_search_response(
    status: int, body: bytes | str, *, retry_after: float | None = None
) -> PeoplePage:
    """Read a people search page (no emails: export a person for that)."""
    return _parse(PeoplePage, status, body, retry_after=retry_after)


def parse_export_single_response(
    status: int, body: bytes | str, *, retry_after: float | None = None
) -> ExportResult:
    """Read a single export: the person with `email.output`, or a miss on 404."""
    if status == 404:
        return ExportResult()
    return ExportResult(person=_parse(AIArkPerson, status, body, retry_after=retry_after))
