"""The sandbox world: seeded companies and people with the truth about their mailboxes.

Pure and deterministic: `World.build(seed, size)` gives the same world on every machine (for a
given Faker version) and needs no Django. Every domain is a label under the reserved `.example`
TLD, so no address in the world can ever reach a real mailbox.
"""

from __future__ import annotations

import csv
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from anyascii import anyascii

VERIFIED = "verified"
CATCH_ALL = "catch_all"
MAILBOX_GONE = "mailbox_gone"
NO_MAIL = "no_mail"
DO_NOT_CONTACT = "do_not_contact"
VERDICTS = (VERIFIED, CATCH_ALL, MAILBOX_GONE, NO_MAIL, DO_NOT_CONTACT)

# The email finders' columns come last: what Prospeo, LeadMagic and FindyMail answer for the
# person's row of the prospects export ("" = no match), and which of them gave a stale address.
TRUTH_COLUMNS = (
    "first_name",
    "last_name",
    "company_domain",
    "linkedin_url",
    "true_email",
    "expected_verdict",
    "prospeo_email",
    "leadmagic_email",
    "findymail_email",
    "stale_vendors",
)
PROSPECT_COLUMNS = ("Prénom", "Nom", "Société", "Site web", "LinkedIn", "Fonction")
# What each column of the prospects export is in the application.
PROSPECT_FIELDS = {
    "Prénom": "first_name",
    "Nom": "last_name",
    "Société": "company_name",
    "Site web": "company_website",
    "LinkedIn": "linkedin_url",
    "Fonction": "job_title",
}


def fold(text: str | None) -> str:
    """Accent-, case- and punctuation-insensitive key: 'Jean-Pierre' == 'jean pierre'."""
    return re.sub(r"[^a-z0-9]", "", anyascii(text or "").lower())


def mail_token(text: str) -> str:
    """A name as it appears in a mailbox: ASCII, lower case, no spaces or apostrophes."""
    ascii_text = anyascii(text).lower()
    return re.sub(r"[^a-z0-9-]", "", ascii_text.replace(" ", ""))


def normalize_domain(value: str | None) -> str:
    """'https://www.Acme.example/contact' -> 'acme.example'."""
    text = (value or "").strip().lower()
    text = re.sub(r"^[a-z]+://", "", text)
    text = text.split("/", 1)[0].split(":", 1)[0]
    return text.removeprefix("www.")


def normalize_linkedin(value: str | None) -> str:
    """'http://fr.linkedin.com/in/Some-One/' -> 'linkedin.com/in/some-one'."""
    text = (value or "").strip().lower()
    text = re.sub(r"^[a-z]+://", "", text).split("?", 1)[0].rstrip("/")
    return re.sub(r"^([a-z]{2,3}|www)\.linkedin\.com", "linkedin.com", text)


def local_part(pattern: str, first_name: str, last_name: str) -> str:
    """Apply a company's email pattern (first.last, flast, ...) to a name."""
    first, last = mail_token(first_name), mail_token(last_name)
    parts = {
        "first.last": f"{first}.{last}",
        "flast": f"{first[:1]}{last}",
        "first": first,
        "firstlast": f"{first}{last}",
        "f.last": f"{first[:1]}.{last}",
        "first_last": f"{first}_{last}",
        "last.first": f"{last}.{first}",
        "firstl": f"{first}{last[:1]}",
        "last": last,
    }
    return parts[pattern]


@dataclass(frozen=True)
class Company:
    name: str
    domain: str
    website: str
    siren: str
    siret: str
    naf: str
    naf_label: str
    industry: str
    headcount: int
    linkedin_url: str
    country: str
    catch_all: bool
    has_mx: bool
    pattern: str
    address: str = ""

    @property
    def is_french(self) -> bool:
        return self.country == "FR"


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    company: Company
    job_title: str
    linkedin_url: str
    true_email: str
    mailbox_exists: bool
    do_not_contact: bool
    expected_verdict: str
    civility: str = ""
    pattern_email: str = field(default="", compare=False)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass
class World:
    seed: int
    size: int
    companies: list[Company]
    people: list[Person]
    _by_email: dict[str, Person] = field(default_factory=dict, repr=False)
    _by_linkedin: dict[str, Person] = field(default_factory=dict, repr=False)
    _by_name: dict[str, list[Person]] = field(default_factory=dict, repr=False)
    _companies_by_domain: dict[str, Company] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for person in self.people:
            for email in {person.true_email, person.pattern_email} - {""}:
                self._by_email[email.lower()] = person
            self._by_linkedin[normalize_linkedin(person.linkedin_url)] = person
            key = fold(person.first_name) + "|" + fold(person.last_name)
            self._by_name.setdefault(key, []).append(person)
        self._companies_by_domain = {company.domain: company for company in self.companies}

    @classmethod
    def build(cls, seed: int, size: int, *, staff: tuple[int, int] | None = None) -> World:
        """Build the world of `size` companies from `seed`; same inputs, same world.

        `staff` (least, most) sets how many people each company has; by default 2 to 6, the
        world every test and demo knows. A larger staff draws a different world, as
        deterministic (the benchmarks' thousand people)."""
        from .builder import STAFF, build_world

        return build_world(seed, size, staff or STAFF)

    def find_company(self, *, domain: str | None = None, name: str | None = None) -> Company | None:
        """A company by its domain (or website URL) or by its name, accent-insensitively."""
        if domain:
            company = self._companies_by_domain.get(normalize_domain(domain))
            if company:
                return company
        if name:
            wanted = fold(name)
            for company in self.companies:
                if fold(company.name) == wanted:
                    return company
        return None

    def find_person(
        self,
        *,
        email: str | None = None,
        linkedin_url: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        domain: str | None = None,
        company_name: str | None = None,
    ) -> Person | None:
        """The person these clues point to, or None; names match accent-insensitively."""
        if email and email.strip().lower() in self._by_email:
            return self._by_email[email.strip().lower()]
        if linkedin_url:
            person = self._by_linkedin.get(normalize_linkedin(linkedin_url))
            if person:
                return person
        if not (first_name and last_name):
            return None
        candidates = self._by_name.get(fold(first_name) + "|" + fold(last_name), [])
        if domain:
            wanted = normalize_domain(domain)
            return next((p for p in candidates if p.company.domain == wanted), None)
        if company_name:
            wanted = fold(company_name)
            return next((p for p in candidates if fold(p.company.name) == wanted), None)
        return candidates[0] if len(candidates) == 1 else None

    def truth_rows(self) -> list[dict[str, str]]:
        """One row per person: what a perfect enrichment concludes, and each finder's answer."""
        from .truth import vendor_columns

        return [
            {
                "first_name": p.first_name,
                "last_name": p.last_name,
                "company_domain": p.company.domain,
                "linkedin_url": p.linkedin_url,
                "true_email": p.true_email,
                "expected_verdict": p.expected_verdict,
                **answers,
            }
            for p, answers in zip(self.people, vendor_columns(self), strict=True)
        ]

    def prospect_data(self) -> list[dict[str, str]]:
        """The import rows as `create_prospect` takes them (field names, empty cells left out)."""
        return [
            {field: row[column] for column, field in PROSPECT_FIELDS.items() if row.get(column)}
            for row in self.prospect_rows()
        ]

    def prospect_rows(self) -> list[dict[str, str]]:
        """One import row per person with partial data, keyed by the French CSV headers."""
        rng = random.Random(f"sourcier-prospects:{self.seed}:{self.size}")
        rows = []
        for person in self.people:
            row = dict.fromkeys(PROSPECT_COLUMNS, "")
            roll = rng.random()
            if roll < 0.15:
                row["LinkedIn"] = person.linkedin_url
            else:
                row["Prénom"], row["Nom"] = person.first_name, person.last_name
                if roll < 0.25:
                    row["Site web"] = person.company.website
                else:
                    row["Société"] = person.company.name
                    if roll > 0.75:
                        row["Site web"] = person.company.website
                    if rng.random() < 0.6:
                        row["Fonction"] = person.job_title
            rows.append(row)
        return rows

    def write_truth_csv(self, path: str | Path) -> int:
        """Write the ground truth as a plain UTF-8, comma-separated CSV; returns the row count."""
        rows = self.truth_rows()
        with open(path, "w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=TRUTH_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        return len(rows)

    def write_prospects_csv(self, path: str | Path) -> int:
        """Write the import file the way Excel saves it: UTF-8 with BOM, ';' separated."""
        rows = self.prospect_rows()
        with open(path, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=PROSPECT_COLUMNS, delimiter=";")
            writer.writeheader()
            writer.writerows(rows)
        return len(rows)
