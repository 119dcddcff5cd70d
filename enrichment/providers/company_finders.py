"""Company finders: AI Ark's company search, then Firecrawl's extract of the company's site.

Pure like the adapters: a `CompanyQuery` in, a `ProviderRequest` out; an answer in, a `Finding`
whose `facts` are the company fields the vendor knew (`verified` when they are enough to stop:
the industry or the headcount). Firecrawl answers later: starting a job gives a `pending`
finding carrying the job id, and `poll`/`read_poll` read it until it is done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import aiark, firecrawl
from .base import ErrorKind, ProviderError, ProviderRequest
from .finders import Finding

# Firecrawl extracts what this schema asks for (https://docs.firecrawl.dev/features/extract).
COMPANY_SCHEMA = {
    "type": "object",
    "properties": {
        "company_name": {"type": "string"},
        "industry": {"type": "string"},
        "employee_count": {"type": "integer"},
        "linkedin_url": {"type": "string"},
        "siren": {"type": "string"},
        "address": {"type": "string"},
    },
}
EXTRACT_PROMPT = "The company behind this website: its name, industry, size, LinkedIn page, SIREN."


@dataclass(frozen=True)
class CompanyQuery:
    name: str = ""
    domain: str = ""
    website: str = ""

    @property
    def url(self) -> str:
        if self.website:
            return self.website if "://" in self.website else f"https://{self.website}"
        return f"https://{self.domain}" if self.domain else ""


def _facts(**values: Any) -> dict[str, Any]:
    """Only what is known, as the company model stores it."""
    facts = {}
    for name, value in values.items():
        if value in (None, "", [], {}):
            continue
        facts[name] = str(value)[:255] if name != "headcount" else _headcount(value)
    return {k: v for k, v in facts.items() if v not in (None, "")}


def _headcount(value: Any) -> str:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return ""
    return str(number) if number > 0 else ""


def _finding(facts: dict[str, Any], signal: int) -> Finding:
    enough = bool(facts.get("industry") or facts.get("headcount"))
    return Finding(facts=facts, verified=enough, signal=signal if facts else 0)


@dataclass(frozen=True)
class CompanyFinder:
    slug: str
    can_ask: Callable[[CompanyQuery], bool]
    build: Callable[[CompanyQuery], ProviderRequest]
    read: Callable[[int, bytes, float | None], Finding]
    auth_headers: Callable[[str], dict[str, str]]
    auth_params: Callable[[str], dict[str, str]] = field(default=lambda key: {})
    # Asynchronous vendors: the request that asks how job `id` is doing, and its reading.
    poll: Callable[[str], ProviderRequest] | None = None
    read_poll: Callable[[int, bytes, float | None], Finding] | None = None


def _aiark_build(query: CompanyQuery) -> ProviderRequest:
    if query.domain:
        return aiark.build_company_search_request(domain=query.domain, size=1)
    return aiark.build_company_search_request(name=query.name, size=1)


def _aiark_read(status: int, body: bytes, retry_after: float | None) -> Finding:
    page = aiark.parse_company_search_response(status, body, retry_after=retry_after)
    if not page.content:
        return Finding()
    company = page.content[0]
    location = company.location or {}
    facts = _facts(
        name=company.summary.name,
        domain=company.links.domain,
        website=company.links.website,
        industry=company.summary.industry or (company.industries[0] if company.industries else ""),
        headcount=company.headcount,
        description=company.summary.description,
        linkedin_url=company.links.linkedin,
        location=", ".join(str(v) for v in location.values() if isinstance(v, str)),
    )
    return _finding(facts, signal=85)


def _firecrawl_build(query: CompanyQuery) -> ProviderRequest:
    return firecrawl.build_extract_request(
        [query.url], prompt=EXTRACT_PROMPT, schema=COMPANY_SCHEMA
    )


def _firecrawl_started(status: int, body: bytes, retry_after: float | None) -> Finding:
    started = firecrawl.parse_extract_response(status, body, retry_after=retry_after)
    return Finding(pending=True, detail=started.id)


def _firecrawl_polled(status: int, body: bytes, retry_after: float | None) -> Finding:
    job = firecrawl.parse_extract_status_response(status, body, retry_after=retry_after)
    if job.failed:
        raise ProviderError(f"extract job {job.status}", kind=ErrorKind.PERMANENT, status=status)
    if not job.ready:
        return Finding(pending=True)
    data = job.data or {}
    facts = _facts(
        name=data.get("company_name"),
        industry=data.get("industry"),
        headcount=data.get("employee_count"),
        linkedin_url=data.get("linkedin_url"),
        siren=data.get("siren"),
        location=data.get("address"),
    )
    # Read off the company's own site by a model: less sure than a curated database.
    return _finding(facts, signal=70)


COMPANY_FINDERS: dict[str, CompanyFinder] = {
    finder.slug: finder
    for finder in (
        CompanyFinder(
            slug=aiark.SLUG,
            can_ask=lambda q: bool(q.domain or q.name),
            build=_aiark_build,
            read=_aiark_read,
            auth_headers=aiark.auth_headers,
        ),
        CompanyFinder(
            slug=firecrawl.SLUG,
            can_ask=lambda q: bool(q.url),
            build=_firecrawl_build,
            read=_firecrawl_started,
            auth_headers=firecrawl.auth_headers,
            poll=firecrawl.build_extract_status_request,
            read_poll=_firecrawl_polled,
        ),
    )
}

DEFAULT_COMPANY_ORDER = (aiark.SLUG, firecrawl.SLUG)
