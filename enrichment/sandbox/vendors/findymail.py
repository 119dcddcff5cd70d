"""FindyMail `POST /api/search/name` and `POST /api/verify` (`Authorization: Bearer`).

Docs: https://app.findymail.com/docs. `/api/verify` answers `{"email", "verified"}` (documented
sample). `/api/search/name` is partial in the samples: public clients send `{name, domain}` and
read `contact.email`; the sandbox answers `{"contact": {"name", "email", "domain"}}` and 404 when
nobody is found. Errors are `{"error": "..."}` (documented "Not enough credits"; the docs label
it 200, the sandbox sends 402 so both must be handled by the adapter). FindyMail only returns
verified addresses.
"""

from __future__ import annotations

from typing import Any

from ..protocol import Request, Response, json_response
from ..world import VERIFIED, normalize_domain
from .base import Vendor, retry_after_header, split_full_name


def _error(status: int, message: str, **kwargs: Any) -> Response:
    return json_response(status, {"error": message}, **kwargs)


class FindyMail(Vendor):
    slug = "findymail"
    routes = (
        ("POST", "/api/search/name", "search_name"),
        ("POST", "/api/verify", "verify"),
    )

    def api_key(self, request: Request) -> str:
        return request.bearer()

    def unauthorized(self, request: Request) -> Response:
        # FindyMail is a Laravel app: its 401 is the framework's default body.
        return json_response(401, {"message": "Unauthenticated."})

    def too_many_requests(self, retry_after: float) -> Response:
        return json_response(429, {"message": "Too Many Attempts."},
                             headers=retry_after_header(retry_after))

    def server_error(self, status: int) -> Response:
        return json_response(status, {"message": "Server Error"})

    def bad_json(self, message: str) -> Response:
        return _error(422, "Invalid JSON body", outcome="invalid")

    def no_route(self, request: Request) -> Response:
        return json_response(404, {"message": "Not Found"}, outcome="no_route")

    def _no_credits(self) -> Response:
        return _error(402, "Not enough credits", outcome="quota")

    def search_name(self, request: Request, key: str, params: dict[str, str]) -> Response:
        data = request.json_object()
        name, domain = str(data.get("name") or ""), normalize_domain(str(data.get("domain") or ""))
        if not name or not domain:
            return json_response(422, {"message": "The name and domain fields are required.",
                                       "errors": {"name": ["required"], "domain": ["required"]}},
                                 outcome="invalid")
        first, last = split_full_name(name)
        person = self.world.find_person(first_name=first, last_name=last, domain=domain)
        # Only verified addresses are sold; everything else is "not found" and free.
        if person is None or person.expected_verdict != VERIFIED:
            return _error(404, "Not found", outcome="not_found")
        if not self.credits.spend(key, 1):
            return self._no_credits()
        return json_response(200, {"contact": {
            "name": person.full_name, "email": person.true_email, "domain": person.company.domain,
        }})

    def verify(self, request: Request, key: str, params: dict[str, str]) -> Response:
        email = str(request.json_object().get("email") or "").strip().lower()
        if "@" not in email:
            return json_response(422, {"message": "The email field must be a valid email address.",
                                       "errors": {"email": ["invalid"]}}, outcome="invalid")
        if not self.credits.spend(key, 1):
            return self._no_credits()
        person = self.world.find_person(email=email)
        verified = person is not None and person.expected_verdict == VERIFIED
        return json_response(200, {"email": email, "verified": verified})
