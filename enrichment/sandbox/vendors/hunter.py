"""Hunter v2: `GET /v2/email-finder` and `GET /v2/email-verifier`, key in `api_key`.

Docs: https://hunter.io/api/v2/docs. Status codes kept: 202 (verification still running, retry),
222 (the remote SMTP server answered unexpectedly), 403 (rate limit, *not* auth), 429 (usage
quota spent), 451 (the person claimed their data: do not process). Error envelope
`{"errors": [{"id", "code", "details"}]}` as in the documented 400 sample; the ids and details
of 202/222/403/429/451 are not in the samples and are the sandbox's wording.
"""

from __future__ import annotations

from typing import Any

from ..coverage import entry
from ..protocol import Request, Response, json_response
from ..world import CATCH_ALL, VERIFIED, normalize_domain
from .base import Vendor, retry_after_header, stable_fraction

# https://hunter.io/pricing and the API docs: a finder request costs a credit only when it
# returns an address; a verification costs half a credit.
FINDER_COST = 1
VERIFIER_COST = 0.5
_STATUS = {VERIFIED: "valid", CATCH_ALL: "accept_all"}


def _error(status: int, error_id: str, details: str, **kwargs: Any) -> Response:
    body = {"errors": [{"id": error_id, "code": status, "details": details}]}
    return json_response(status, body, **kwargs)


class Hunter(Vendor):
    slug = "hunter"
    routes = (
        ("GET", "/v2/email-finder", "email_finder"),
        ("GET", "/v2/email-verifier", "email_verifier"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._seen: set[tuple[str, str]] = set()

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self._seen.clear()

    def api_key(self, request: Request) -> str:
        return request.query.get("api_key", "") or request.header("X-API-KEY")

    def unauthorized(self, request: Request) -> Response:
        return _error(401, "authentication_failed", "No user found for the API key supplied")

    def too_many_requests(self, retry_after: float) -> Response:
        # Hunter answers its rate limit with 403; 429 means the monthly quota is spent.
        return _error(
            403, "too_many_requests", "You have reached the rate limit. Please slow down.",
            headers=retry_after_header(retry_after), outcome="rate_limited",
        )

    def server_error(self, status: int) -> Response:
        return _error(status, "server_error", "Something went wrong on our side.")

    def no_route(self, request: Request) -> Response:
        return _error(404, "not_found", "The requested route doesn't exist.", outcome="no_route")

    def _quota(self) -> Response:
        return _error(
            429, "too_many_requests",
            "You have reached your usage limit. Upgrade your plan if necessary.", outcome="quota",
        )

    def _claimed(self) -> Response:
        return _error(
            451, "claimed_email",
            "The person behind this email address has asked us to stop processing their data.",
            outcome="claimed",
        )

    def _first_time(self, key: str, email: str) -> bool:
        with self._lock:
            if (key, email) in self._seen:
                return False
            self._seen.add((key, email))
            return True

    def email_finder(self, request: Request, key: str, params: dict[str, str]) -> Response:
        query = request.query
        domain = normalize_domain(query.get("domain", ""))
        company = query.get("company", "")
        if not domain and not company:
            return _error(400, "wrong_params", "You are missing the domain parameter",
                          outcome="invalid")
        first, last = query.get("first_name", ""), query.get("last_name", "")
        if not (first and last) and query.get("full_name"):
            first, _, last = query["full_name"].strip().partition(" ")
        if not (first and last):
            return _error(400, "wrong_params", "You are missing the first_name parameter",
                          outcome="invalid")
        person = self.world.find_person(
            first_name=first, last_name=last, domain=domain or None, company_name=company or None
        )
        # A claim binds Hunter whether or not it holds an address for the person.
        if person is not None and person.do_not_contact:
            return self._claimed()
        found = entry(self.world, self.slug, person) if person else None
        email = found.email if found else ""
        # Credits are only spent when an address is returned.
        if found and not self.credits.spend(key, FINDER_COST):
            return self._quota()
        found_domain = person.company.domain if person else domain
        data = {
            "first_name": person.first_name if person else first,
            "last_name": person.last_name if person else last,
            "email": email or None,
            "score": (97 if found.verdict == VERIFIED else 71) if found else None,
            "domain": found_domain,
            "accept_all": bool(person and person.company.catch_all),
            "position": person.job_title if email and person else None,
            "twitter": None,
            "linkedin_url": person.linkedin_url if email and person else None,
            "phone_number": None,
            "company": person.company.name if person else None,
            "sources": [],
            "verification": {
                "date": "2024-01-15" if email else None,
                "status": _STATUS[found.verdict] if found else None,
            },
        }
        meta = {"params": {
            "first_name": query.get("first_name") or None,
            "last_name": query.get("last_name") or None,
            "full_name": query.get("full_name") or None,
            "domain": query.get("domain") or None,
            "company": company or None,
            "max_duration": query.get("max_duration") or None,
        }}
        return json_response(200, {"data": data, "meta": meta}, outcome="ok" if email else "empty")

    def email_verifier(self, request: Request, key: str, params: dict[str, str]) -> Response:
        email = request.query.get("email", "").strip().lower()
        if "@" not in email:
            return _error(400, "wrong_params", "You are missing the email parameter",
                          outcome="invalid")
        person = self.world.find_person(email=email)
        if person is not None and person.do_not_contact:
            return self._claimed()
        # A few mail servers are slow (202) or odd (222) the first time: retrying works.
        roll = stable_fraction("hunter-smtp", email)
        if roll < 0.10 and self._first_time(key, email):
            if roll < 0.05:
                return json_response(202, {"data": None, "meta": {"params": {"email": email}}},
                                     outcome="accepted")
            return _error(
                222, "verification_failed",
                "The email verification failed because of an unexpected response from the "
                "remote SMTP server. This failure is outside of our control. We advise you to "
                "retry later.",
                outcome="smtp_failure",
            )
        if not self.credits.spend(key, VERIFIER_COST):
            return self._quota()
        company = self.world.find_company(domain=email.rpartition("@")[2])
        has_mx = bool(company and company.has_mx)
        accept_all = bool(company and company.catch_all)
        deliverable = bool(person and person.mailbox_exists)
        status = "accept_all" if accept_all else "valid" if deliverable else "invalid"
        data = {
            "status": status,
            "result": {"valid": "deliverable", "invalid": "undeliverable"}.get(status, "risky"),
            "_deprecation_notice": "Using result is deprecated, use status instead",
            "score": {"valid": 100, "accept_all": 72, "invalid": 0}[status],
            "email": email,
            "regexp": True,
            "gibberish": False,
            "disposable": False,
            "webmail": False,
            "mx_records": has_mx,
            "smtp_server": has_mx,
            "smtp_check": deliverable and not accept_all,
            "accept_all": accept_all,
            "block": False,
            "sources": [],
        }
        return json_response(200, {"data": data, "meta": {"params": {"email": email}}})

