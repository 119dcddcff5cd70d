"""What each sandbox vendor knows: its own overlapping slice of the world, a few stale entries.

Real vendors each cover part of the market, so an email waterfall goes past its first step.
Whether a vendor knows a person is a stable hash of (vendor, seed, person) against the vendor's
rate: the same seed gives the same answers on every run, and each vendor's slice overlaps the
others' only by chance (some people are known to FindyMail alone, some to nobody). A small share
of a vendor's addresses are stale (an old employer's domain) or wrong (another pattern at the
right domain), and are handed out as confidently as the good ones, as real vendors do.

Dropcontact is not listed: it knows everyone, as before. The first three companies pin the
cases every demo and adapter test relies on (clean, catch-all and MX-less domains), so every
vendor knows their staff, with current addresses.

Pure and deterministic; the HTTP vendors and the `--export-truth` columns both read from here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .world import CATCH_ALL, VERIFIED, Company, Person, World, local_part

OLD_EMPLOYER = "old_employer"
WRONG_PATTERN = "wrong_pattern"
STALE_KINDS = (OLD_EMPLOYER, WRONG_PATTERN)
SHOWCASE_COMPANIES = 3
_PATTERNS = ("first.last", "flast", "firstlast", "f.last", "first", "first_last", "last.first")


@dataclass(frozen=True)
class Reach:
    """A vendor's share of the people and companies it knows, and of its addresses gone stale."""

    people: float = 1.0
    stale: float = 0.0
    companies: float = 1.0


# Email finders as the issue sizes them; the others from their positioning (Apollo's profile
# database is large but its emails are thinner, Clearbit's data has aged since its sunset).
REACH: dict[str, Reach] = {
    "prospeo": Reach(people=0.60, stale=0.04),
    "leadmagic": Reach(people=0.50, stale=0.04),
    "findymail": Reach(people=0.45, stale=0.03),
    "hunter": Reach(people=0.50, stale=0.04),
    "apollo": Reach(people=0.55, stale=0.05),
    "aiark": Reach(people=0.40, stale=0.05, companies=0.85),
    "clearbit": Reach(people=0.35),
    "firecrawl": Reach(companies=0.90),
}


@dataclass(frozen=True)
class Entry:
    """A vendor's record of one person's address, and what it believes about it."""

    person: Person
    email: str
    verdict: str  # VERIFIED or CATCH_ALL, as the vendor reports it
    stale: str = ""  # "" when the address is current, else OLD_EMPLOYER or WRONG_PATTERN


def stable_fraction(*parts: str) -> float:
    """A number in [0, 1) fixed by its inputs: the same email is slow on every run."""
    digest = hashlib.sha256("|".join(parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _showcase(world: World, company: Company) -> bool:
    return any(c.domain == company.domain for c in world.companies[:SHOWCASE_COMPANIES])


def knows_person(world: World, vendor: str, person: Person) -> bool:
    """Whether `vendor` has `person` in its data at all (objectors and leavers included)."""
    reach = REACH.get(vendor)
    if reach is None or _showcase(world, person.company):
        return True
    return stable_fraction("knows", vendor, str(world.seed), person.linkedin_url) < reach.people


def knows_company(world: World, vendor: str, company: Company) -> bool:
    """Whether `vendor` has data on `company`."""
    reach = REACH.get(vendor)
    if reach is None or _showcase(world, company):
        return True
    return stable_fraction("knows-company", vendor, str(world.seed), company.domain) < (
        reach.companies
    )


def entry(world: World, vendor: str, person: Person) -> Entry | None:
    """The address `vendor` hands out for `person`, or None when it has none to give.

    People who objected, left, or work where there is no mail are never handed out.
    """
    if person.expected_verdict not in (VERIFIED, CATCH_ALL) or not knows_person(
        world, vendor, person
    ):
        return None
    reach = REACH.get(vendor, Reach())
    salt = (vendor, str(world.seed), person.linkedin_url)
    if _showcase(world, person.company) or stable_fraction("stale", *salt) >= reach.stale:
        return Entry(person, person.true_email, person.expected_verdict)
    if stable_fraction("stale-kind", *salt) < 0.5:
        stale = _old_employer(world, person, stable_fraction("old-employer", *salt))
        if stale:
            return stale
    return _wrong_pattern(world, person, stable_fraction("wrong-pattern", *salt))


def _unused(world: World, address: str) -> bool:
    # A stale address must reach nobody: one that lands on a colleague would be a right answer.
    return world.find_person(email=address) is None


def _old_employer(world: World, person: Person, roll: float) -> Entry | None:
    others = [c for c in world.companies if c is not person.company and c.has_mx]
    start = int(roll * len(others))
    for company in others[start:] + others[:start]:
        address = f"{local_part(company.pattern, person.first_name, person.last_name)}@" \
                  f"{company.domain}"
        if _unused(world, address):
            verdict = CATCH_ALL if company.catch_all else VERIFIED
            return Entry(person, address, verdict, OLD_EMPLOYER)
    return None


def _wrong_pattern(world: World, person: Person, roll: float) -> Entry:
    company = person.company
    start = int(roll * len(_PATTERNS))
    for pattern in _PATTERNS[start:] + _PATTERNS[:start]:
        address = f"{local_part(pattern, person.first_name, person.last_name)}@{company.domain}"
        if address != person.true_email and _unused(world, address):
            return Entry(person, address, person.expected_verdict, WRONG_PATTERN)
    # Every pattern taken (a one-letter name): a numbered homonym's mailbox, still nobody's.
    local = local_part(company.pattern, person.first_name, person.last_name)
    return Entry(person, f"{local}2@{company.domain}", person.expected_verdict, WRONG_PATTERN)
