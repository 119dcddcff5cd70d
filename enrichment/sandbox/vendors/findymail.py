"""FindyMail `POST /api/search/name` and `POST /api/verify` (`Authorization: Bearer`).

Docs: https://app.findymail.com/docs. `/api/verify` answers `{"email", "verified"}` (documented
sample). `/api/search/name` is partial in the samples: public clients send `{name, domain}` and
read `contact.email`; the sandbox answers `{"contact": {"name", "email", "domain"}}` and 404 when
nobody is found. Errors are `{"error": "..."}` (documented "Not enough credits"; the docs label
it 200, the sandbox sends 402 so both must be handled by the adapter). FindyMail only returns
verified addresses, from its own share of the world (`coverage.REACH`).
"""

from __future__ import annotations

from typing import Any

from ..coverage import Entry, entry
from ..protocol import MissingInput, Request, Response, json_response
from ..world import VERIFIED, World, fold, normalize_domain
from .base import Vendor, retry_after_header, split_full_name

SLUG = "findymail"
# https://app.findymail.com/docs: a search costs a credit only when a contact is found;
# each verification costs one.
SEARCH_COST = 1
VERIFY_COST = 1


def _error(status: int, message: str, **kwargs: Any) -> Response:
    return json_response(status, {"error": message}, **kwargs)


class FindyMail(Vendor):
    slug = SLUG
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
        try:
            found = search_name(self.world, request.json_object())
        except MissingInput:
            return json_response(422, {"message": "The name and domain fields are required.",
                                       "errors": {"name": ["required"], "domain": ["required"]}},
                                 outcome="invalid")
        # Charged only when a contact is found; a miss is free.
        if found is None:
            return _error(404, "Not found", outcome="not_found")
        if not self.credits.spend(key, SEARCH_COST):
            return self._no_credits()
        return json_response(200, {"contact": {
            "name": found.person.full_name, "email": found.email,
            "domain": found.email.rpartition("@")[2],
        }})

    def verify(self, request: Request, key: str, params: dict[str, str]) -> Response:
        email = str(request.json_object().get("email") or "").strip().lower()
        if "@" not in email:
            return json_response(422, {"message": "The email field must be a valid email address.",
                                       "errors": {"email": ["invalid"]}}, outcome="invalid")
        if not self.credits.spend(key, VERIFY_COST):
            return self._no_credits()
        person = self.world.find_person(email=email)
        verified = person is not None and person.expected_verdict == VERIFIED
        return json_response(200, {"email": email, "verified": verified})


def search_name(world: World, data: dict[str, Any]) -> Entry | None:
    """The verified address FindyMail finds for a `{name, domain}` body, or None (404).

    Raises MissingInput without both a name and a domain.
    """
    name = str(data.get("name") or "").strip()
    domain = normalize_domain(str(data.get("domain") or ""))
    if not name or not domain:
        raise MissingInput("name and domain")
    first, last = split_full_name(name)
    person = world.find_person(first_name=first, last_name=last, domain=domain)
    if person is None:
        # "Anne Marie Dupont": the split above guessed the wrong boundary between the names.
        person = next((p for p in world.people
                       if p.company.domain == domain and fold(p.full_name) == fold(name)), None)
    found = entry(world, SLUG, person) if person else None
    # Only addresses FindyMail holds as verified are sold; anything else is "not found".
    return found if found is not None and found.verdict == VERIFIED else None
