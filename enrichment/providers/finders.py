"""Email finders: one shape over every vendor that finds a work email from a name.

Pure like the adapters it wraps: a `Person` in, a `ProviderRequest` out; a vendor's answer in,
a `Finding` out (the address, whether the vendor verified it, and the vendor's own signal
0-100). The waterfall asks them in turn without knowing any vendor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from . import apollo, findymail, hunter, leadmagic, prospeo
from .base import ProviderRequest


@dataclass(frozen=True)
class Person:
    """What we know of the person we look for (empty strings for unknowns)."""

    first_name: str = ""
    last_name: str = ""
    domain: str = ""
    company: str = ""
    linkedin_url: str = ""

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


@dataclass(frozen=True)
class Finding:
    """A vendor's answer about one person: an address (empty: not found) and how sure it is."""

    email: str = ""
    verified: bool = False
    # The vendor's own signal, 0-100 (its score, or what its status means).
    signal: int = 0
    # The vendor's word for the address ("VERIFIED", "valid", "catch_all", ...), or the id of
    # an asynchronous job still running (`pending`).
    detail: str = ""
    # Company facts (company finders): field name -> value, only what the vendor knew.
    facts: dict = field(default_factory=dict)
    pending: bool = False

    @property
    def found(self) -> bool:
        return bool(self.email or self.facts)


Reader = Callable[[int, bytes, float | None], Finding]


@dataclass(frozen=True)
class EmailFinder:
    slug: str
    # Can this vendor be asked about this person with what we know?
    can_ask: Callable[[Person], bool]
    build: Callable[[Person], ProviderRequest]
    read: Reader
    # How the key travels: headers, or query parameters (Hunter).
    auth_headers: Callable[[str], dict[str, str]] = field(default=lambda key: {})
    auth_params: Callable[[str], dict[str, str]] = field(default=lambda key: {})


def _named(person: Person) -> bool:
    return bool(person.first_name and person.last_name)


# --- Prospeo: by LinkedIn URL, else by name and company -------------------------------------


def _prospeo_can_ask(person: Person) -> bool:
    return bool(person.linkedin_url) or (_named(person) and bool(person.company or person.domain))


def _prospeo_build(person: Person) -> ProviderRequest:
    if person.linkedin_url:
        return prospeo.build_enrich_person_request(linkedin_url=person.linkedin_url)
    return prospeo.build_enrich_person_request(
        first_name=person.first_name,
        last_name=person.last_name,
        company_name=person.company,
        company_website=person.domain,
    )


def _prospeo_read(status: int, body: bytes, retry_after: float | None) -> Finding:
    result = prospeo.parse_enrich_person_response(status, body, retry_after=retry_after)
    email = result.email
    if email is None or not email.email:
        return Finding()
    return Finding(
        email=email.email,
        verified=email.is_verified,
        signal=95 if email.is_verified else 50,
        detail=email.status,
    )


# --- LeadMagic: name and domain (or company) ------------------------------------------------


def _leadmagic_build(person: Person) -> ProviderRequest:
    return leadmagic.build_email_finder_request(
        first_name=person.first_name,
        last_name=person.last_name,
        domain=person.domain,
        company_name="" if person.domain else person.company,
    )


def _leadmagic_read(status: int, body: bytes, retry_after: float | None) -> Finding:
    result = leadmagic.parse_email_finder_response(status, body, retry_after=retry_after)
    if not result.found:
        return Finding()
    signal = 90 if result.is_valid else 50 if result.is_catch_all else 30
    return Finding(
        email=result.email or "", verified=result.is_valid, signal=signal, detail=result.status
    )


# --- FindyMail: full name and domain; it only returns verified addresses ---------------------


def _findymail_build(person: Person) -> ProviderRequest:
    return findymail.build_search_name_request(name=person.full_name, domain=person.domain)


def _findymail_read(status: int, body: bytes, retry_after: float | None) -> Finding:
    result = findymail.parse_search_name_response(status, body, retry_after=retry_after)
    if not result.found:
        return Finding()
    return Finding(email=result.contact.email, verified=True, signal=90, detail="verified")


# --- Hunter: name and domain (or company); a score and a verification status -----------------


def _hunter_build(person: Person) -> ProviderRequest:
    return hunter.build_email_finder_request(
        first_name=person.first_name,
        last_name=person.last_name,
        domain=person.domain,
        company="" if person.domain else person.company,
    )


def _hunter_read(status: int, body: bytes, retry_after: float | None) -> Finding:
    result = hunter.parse_email_finder_response(status, body, retry_after=retry_after)
    if not result.email:
        return Finding()
    verification = result.verification_status or ""
    score = result.data.score if result.data and result.data.score is not None else 50
    return Finding(
        email=result.email,
        verified=verification == "valid",
        signal=max(0, min(100, score)),
        detail=verification,
    )


# --- Apollo: people match by LinkedIn URL or name and company --------------------------------


def _apollo_build(person: Person) -> ProviderRequest:
    return apollo.build_people_match_request(
        first_name=person.first_name,
        last_name=person.last_name,
        domain=person.domain,
        organization_name=person.company,
        linkedin_url=person.linkedin_url,
    )


def _apollo_read(status: int, body: bytes, retry_after: float | None) -> Finding:
    result = apollo.parse_people_match_response(status, body, retry_after=retry_after)
    person = result.person
    if person is None or not person.email:
        return Finding()
    verified = person.has_verified_email
    return Finding(
        email=person.email,
        verified=verified,
        signal=85 if verified else 40,
        detail=person.email_status or "",
    )


EMAIL_FINDERS: dict[str, EmailFinder] = {
    finder.slug: finder
    for finder in (
        EmailFinder(
            slug=prospeo.SLUG,
            can_ask=_prospeo_can_ask,
            build=_prospeo_build,
            read=_prospeo_read,
            auth_headers=prospeo.auth_headers,
        ),
        EmailFinder(
            slug=leadmagic.SLUG,
            can_ask=lambda p: _named(p) and bool(p.domain or p.company),
            build=_leadmagic_build,
            read=_leadmagic_read,
            auth_headers=leadmagic.auth_headers,
        ),
        EmailFinder(
            slug=findymail.SLUG,
            can_ask=lambda p: _named(p) and bool(p.domain),
            build=_findymail_build,
            read=_findymail_read,
            auth_headers=findymail.auth_headers,
        ),
        EmailFinder(
            slug=hunter.SLUG,
            can_ask=lambda p: _named(p) and bool(p.domain or p.company),
            build=_hunter_build,
            read=_hunter_read,
            auth_params=hunter.auth_params,
        ),
        EmailFinder(
            slug=apollo.SLUG,
            can_ask=lambda p: bool(p.linkedin_url) or (_named(p) and bool(p.domain or p.company)),
            build=_apollo_build,
            read=_apollo_read,
            auth_headers=apollo.auth_headers,
        ),
    )
}


def _in_house(*_args: object) -> ProviderRequest:
    raise RuntimeError("in-house discovery is run by the waterfall itself, not over HTTP")


# In-house discovery (permutations, DNS, SMTP): free and keyless, so it can come first. The
# waterfall runs it itself (pipelines/waterfall_discovery.py); no vendor is called.
DISCOVERY = "discovery"
EMAIL_FINDERS[DISCOVERY] = EmailFinder(
    slug=DISCOVERY,
    can_ask=lambda p: _named(p) and bool(p.domain),
    build=_in_house,
    read=_in_house,
)

# The email waterfall's default order (the research behind it: coverage, then price).
DEFAULT_EMAIL_ORDER = (prospeo.SLUG, leadmagic.SLUG, findymail.SLUG)
