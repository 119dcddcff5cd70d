"""AI Ark company and people data (`X-TOKEN` header), under `/api/developer-portal/v1/`.

Docs: https://docs.ai-ark.com/reference/company-search-1.md, people-search-1.md,
people-export-single.md. No response sample is in the documented samples: answers are Spring-style
pages (`content`, `pageable`, `totalElements`, `totalPages`, ...) built from the docs' prose, and
errors use Spring's default error body. Filters understood: `account.domain.any.include`,
`account.name.any.include.content`, `contact.fullName.any.include.content`.
Documented rate: 5 requests/second (not enforced unless a test sets `rate_limit`). Company search
and single export answer from AI Ark's own share of the world (`coverage.REACH`); people search
lists every profile, without addresses.
"""

from __future__ import annotations

from typing import Any

from ..coverage import entry, knows_company
from ..protocol import Request, Response, json_response
from ..world import CATCH_ALL, VERIFIED, Company, Person, fold, normalize_domain
from .base import Vendor, company_id, iso_now, person_id, retry_after_header

PREFIX = "/api/developer-portal/v1"


class AIArk(Vendor):
    slug = "aiark"
    routes = (
        ("POST", f"{PREFIX}/companies", "companies"),
        ("POST", f"{PREFIX}/people", "people"),
        ("POST", f"{PREFIX}/people/export/single", "export_single"),
    )

    def api_key(self, request: Request) -> str:
        return request.header("X-TOKEN")

    def _spring_error(self, status: int, error: str, message: str, path: str,
                      **kwargs: Any) -> Response:
        body = {"timestamp": iso_now(), "status": status, "error": error, "message": message,
                "path": path}
        return json_response(status, body, **kwargs)

    def unauthorized(self, request: Request) -> Response:
        return self._spring_error(401, "Unauthorized", "Invalid or missing X-TOKEN",
                                  request.path)

    def too_many_requests(self, retry_after: float) -> Response:
        return self._spring_error(429, "Too Many Requests", "Rate limit exceeded", PREFIX,
                                  headers=retry_after_header(retry_after))

    def server_error(self, status: int) -> Response:
        return self._spring_error(status, "Internal Server Error", "", PREFIX)

    def bad_json(self, message: str) -> Response:
        return self._spring_error(400, "Bad Request", "Malformed JSON request", PREFIX,
                                  outcome="invalid")

    def no_route(self, request: Request) -> Response:
        return self._spring_error(404, "Not Found", "No static resource", request.path,
                                  outcome="no_route")

    def _page(self, items: list[dict[str, Any]], page: int, size: int) -> dict[str, Any]:
        chunk = items[page * size : (page + 1) * size] if size else []
        total_pages = (len(items) + size - 1) // size if size else 0
        return {
            "content": chunk,
            "pageable": {"pageNumber": page, "pageSize": size, "offset": page * size,
                         "paged": True, "unpaged": False},
            "totalElements": len(items),
            "totalPages": total_pages,
            "last": page >= total_pages - 1,
            "first": page == 0,
            "size": size,
            "number": page,
            "numberOfElements": len(chunk),
            "empty": not chunk,
        }

    def _paging(self, payload: dict[str, Any], path: str) -> tuple[int, int] | Response:
        page, size = payload.get("page", 0), payload.get("size", 10)
        valid = isinstance(page, int) and isinstance(size, int) and page >= 0
        if not valid or not 0 <= size <= 100:
            return self._spring_error(400, "Bad Request", "page >= 0 and 0 <= size <= 100", path,
                                      outcome="invalid")
        return page, size

    def companies(self, request: Request, key: str, params: dict[str, str]) -> Response:
        payload = request.json_object()
        paging = self._paging(payload, request.path)
        if isinstance(paging, Response):
            return paging
        account = payload.get("account") or {}
        domains = {normalize_domain(d) for d in _include(account.get("domain"))}
        names = {fold(n) for n in _include(account.get("name"))}
        matches = [
            c for c in self.world.companies
            if (not domains or c.domain in domains) and (not names or fold(c.name) in names)
            and knows_company(self.world, self.slug, c)
        ]
        if not self.credits.spend(key, 1):
            return self._spring_error(402, "Payment Required", "Not enough credits",
                                      request.path, outcome="quota")
        body = self._page([_company(c) for c in matches], *paging)
        return json_response(200, body, outcome="ok" if matches else "empty")

    def people(self, request: Request, key: str, params: dict[str, str]) -> Response:
        payload = request.json_object()
        paging = self._paging(payload, request.path)
        if isinstance(paging, Response):
            return paging
        domains = {normalize_domain(d) for d in _include((payload.get("account") or {}).get(
            "domain"))}
        names = {fold(n) for n in _include((payload.get("contact") or {}).get("fullName"))}
        matches = [
            p for p in self.world.people
            if not p.do_not_contact
            and (not domains or p.company.domain in domains)
            and (not names or fold(p.full_name) in names)
        ]
        if not self.credits.spend(key, 1):
            return self._spring_error(402, "Payment Required", "Not enough credits",
                                      request.path, outcome="quota")
        body = self._page([_person(p) for p in matches], *paging)
        body["trackId"] = person_id(matches[0]) if matches else None
        return json_response(200, body, outcome="ok" if matches else "empty")

    def export_single(self, request: Request, key: str, params: dict[str, str]) -> Response:
        payload = request.json_object()
        wanted_id, url = str(payload.get("id") or ""), str(payload.get("url") or "")
        if not wanted_id and not url:
            return self._spring_error(400, "Bad Request", "id or url is required", request.path,
                                      outcome="invalid")
        person = self.world.find_person(linkedin_url=url) if url else next(
            (p for p in self.world.people if person_id(p) == wanted_id), None
        )
        found = entry(self.world, self.slug, person) if person else None
        if found is None:
            return self._spring_error(404, "Not Found", "Data not found", request.path,
                                      outcome="not_found")
        if not self.credits.spend(key, 1):
            return self._spring_error(402, "Payment Required", "Not enough credits",
                                      request.path, outcome="quota")
        body = _person(person)
        body["email"] = {"output": [{
            "address": found.email,
            "status": "VALID" if found.verdict == VERIFIED else "CATCH_ALL",
            "domainType": "CATCH_ALL" if found.verdict == CATCH_ALL else "SMTP",
            "mx": {"found": True, "provider": "Sandbox Mail"},
        }]}
        return json_response(200, body)


def _include(flt: Any) -> list[str]:
    """Values of a `{"any": {"include": [...] | {"mode", "content": [...]}}}` filter."""
    include = ((flt or {}).get("any") or {}).get("include") if isinstance(flt, dict) else None
    if isinstance(include, dict):
        include = include.get("content")
    return [str(v) for v in include] if isinstance(include, list) else []


def _company(company: Company) -> dict[str, Any]:
    return {
        "id": company_id(company.domain),
        "summary": {
            "name": company.name,
            "industry": company.industry,
            "description": f"{company.name} ({company.industry})",
            "staff": {"total": company.headcount},
        },
        "links": {"website": company.website, "domain": company.domain,
                  "linkedin": company.linkedin_url},
        "location": {"headquarter": {"country": company.country, "raw_address": company.address}},
        "industries": [company.industry],
        "keywords": [],
        "technologies": [],
        "sic_codes": [],
        "naics_codes": [],
        "last_updated": "2024-01-15T00:00:00Z",
    }


def _person(person: Person) -> dict[str, Any]:
    return {
        "id": person_id(person),
        "identifier": person.linkedin_url.rsplit("/", 1)[-1],
        "profile": {
            "first_name": person.first_name, "last_name": person.last_name,
            "full_name": person.full_name, "title": person.job_title,
            "headline": f"{person.job_title} - {person.company.name}",
        },
        "link": {"linkedin": person.linkedin_url},
        "location": {"country": person.company.country},
        "company": {"name": person.company.name, "domain": person.company.domain,
                    "id": company_id(person.company.domain)},
        "department": {"title": person.job_title},
    }
