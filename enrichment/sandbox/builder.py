"""Draws the sandbox world: companies first, then their staff, in a fixed order per seed."""

from __future__ import annotations

import random
import re

from anyascii import anyascii
from faker import Faker
from stdnum import luhn

from . import names
from .world import (
    CATCH_ALL,
    DO_NOT_CONTACT,
    MAILBOX_GONE,
    NO_MAIL,
    VERIFIED,
    Company,
    Person,
    World,
    fold,
    local_part,
)

# How many people a company has (drawn between these, both included) unless told otherwise.
STAFF = (2, 6)


def build_world(seed: int, size: int, staff: tuple[int, int] = STAFF) -> World:
    """The world of `size` companies for `seed` (see `World.build`)."""
    return _Builder(seed, size, staff).build()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", anyascii(text).lower()).strip("-")


class _Builder:
    """Draws the world in a fixed order so the same seed always gives the same world."""

    def __init__(self, seed: int, size: int, staff: tuple[int, int] = STAFF) -> None:
        if size < 1:
            raise ValueError("a world needs at least one company")
        if not 1 <= staff[0] <= staff[1]:
            raise ValueError("a company's staff is (least, most) people, at least one")
        self.seed, self.size, self.staff_range = seed, size, staff
        self.rng = random.Random(f"sourcier-world:{seed}")
        self.fakers: dict[str, Faker] = {}
        self.domains: set[str] = set()
        self.linkedin_slugs: set[str] = set()

    def faker(self, locale: str) -> Faker:
        if locale not in self.fakers:
            fake = Faker(locale)
            fake.seed_instance(f"{self.seed}:{locale}")
            self.fakers[locale] = fake
        return self.fakers[locale]

    def build(self) -> World:
        companies, people = [], []
        for index in range(self.size):
            company = self.company(index)
            companies.append(company)
            people.extend(self.staff(company, index))
        return World(seed=self.seed, size=self.size, companies=companies, people=people)

    def company(self, index: int) -> Company:
        rng = self.rng
        # The first three companies are French and pin the cases every demo relies on:
        # a clean domain, a catch-all domain and a domain without MX.
        french = index < 3 or rng.random() < 0.72
        if index < 3:
            catch_all, has_mx = index == 1, index != 2
        else:
            has_mx = rng.random() >= 0.08
            catch_all = has_mx and rng.random() < 0.15
        stem = rng.choice(names.COMPANY_STEMS)
        form = rng.choice(names.COMPANY_FORMS_FR if french else names.COMPANY_FORMS_INTL)
        name = f"{stem} {form}"
        domain = f"{_slug(name)}.example"
        suffix = 2
        while domain in self.domains:
            name = f"{stem} {form} {suffix}"
            domain = f"{_slug(name)}.example"
            suffix += 1
        self.domains.add(domain)
        pattern = rng.choices(
            [p for p, _ in names.EMAIL_PATTERNS], [w for _, w in names.EMAIL_PATTERNS]
        )[0]
        siren = siret = naf = naf_label = address = ""
        if french:
            naf, naf_label, industry, (low, high) = rng.choice(names.NAF_CODES)
            country = "FR"
            body = f"{rng.randint(30_000_000, 99_999_999)}"
            siren = body + luhn.calc_check_digit(body)
            nic = f"{rng.randint(1, 99):04d}"
            siret = siren + nic + luhn.calc_check_digit(siren + nic)
            postcode, city = rng.choice(names.FR_CITIES)
            address = f"{rng.randint(1, 180)} {rng.choice(names.FR_STREETS)}, {postcode} {city}"
        else:
            industry, (low, high) = rng.choice(names.INTL_INDUSTRIES)
            country = rng.choice(names.INTL_COUNTRIES)[0]
        return Company(
            name=name,
            domain=domain,
            website=f"https://www.{domain}",
            siren=siren,
            siret=siret,
            naf=naf,
            naf_label=naf_label,
            industry=industry,
            headcount=rng.randint(low, high),
            linkedin_url=f"https://www.linkedin.com/company/{_slug(name)}",
            country=country,
            catch_all=catch_all,
            has_mx=has_mx,
            pattern=pattern,
            address=address,
        )

    def staff(self, company: Company, index: int) -> list[Person]:
        rng = self.rng
        count = rng.randint(*self.staff_range)
        locale = "fr_FR"
        if not company.is_french:
            locale = dict(names.INTL_COUNTRIES)[company.country]
        staff: list[Person] = []
        seen_names: set[str] = set()
        seen_locals: set[str] = set()
        # Every mailbox name a colleague's name gives under any pattern: a verifier trying a
        # person's other spellings must not land on a colleague's mailbox (Benoît Georges
        # gone, "georges@" is Georges Martin's on a first-name domain).
        seen_spellings: set[str] = set()
        pinned = list(names.SIGNATURE_PEOPLE) if index == 0 else []
        target = max(count, len(pinned))
        attempts = 0
        while len(staff) < target and attempts < 50:
            attempts += 1
            if pinned:
                first, last, gender = pinned.pop(0)
                forced_status = "ok"
            else:
                first, last, gender = self.name(locale)
                forced_status = ""
            name_key = fold(first) + "|" + fold(last)
            local = local_part(company.pattern, first, last)
            spellings = {local_part(pattern, first, last) for pattern, _ in names.EMAIL_PATTERNS}
            # Two people with the same name or the same mailbox would make the truth ambiguous.
            if name_key in seen_names or local in seen_locals:
                continue
            if spellings & seen_locals or local in seen_spellings:
                continue
            seen_names.add(name_key)
            seen_locals.add(local)
            seen_spellings |= spellings
            staff.append(self.person(company, first, last, gender, local, forced_status))
        return staff

    def name(self, locale: str) -> tuple[str, str, str]:
        rng, fake = self.rng, self.faker(locale)
        gender = "F" if rng.random() < 0.5 else "M"
        if locale == "fr_FR" and rng.random() < 0.3:
            first, gender = rng.choice(names.TRICKY_FIRST_NAMES)
        else:
            first = fake.first_name_female() if gender == "F" else fake.first_name_male()
        if locale == "fr_FR" and rng.random() < 0.3:
            last = rng.choice(names.TRICKY_LAST_NAMES)
        else:
            last = fake.last_name()
        return first, last, gender

    def job_title(self, company: Company, gender: str) -> str:
        if not company.is_french:
            return self.rng.choice(names.JOB_TITLES_INTL)
        masculine, feminine = self.rng.choice(names.JOB_TITLES_FR)
        return feminine if gender == "F" else masculine

    def person(
        self,
        company: Company,
        first: str,
        last: str,
        gender: str,
        local: str,
        forced_status: str,
    ) -> Person:
        rng = self.rng
        roll = rng.random()
        status = forced_status or ("dnc" if roll < 0.07 else "left" if roll < 0.15 else "ok")
        # A departed mailbox cannot be observed on a catch-all domain (it accepts everything),
        # so people only "leave" where a verifier could tell.
        if status == "left" and company.catch_all:
            status = "ok"
        address = f"{local}@{company.domain}" if company.has_mx else ""
        if not company.has_mx:
            verdict = NO_MAIL
        elif status == "dnc":
            verdict = DO_NOT_CONTACT
        elif status == "left":
            verdict = MAILBOX_GONE
        elif company.catch_all:
            verdict = CATCH_ALL
        else:
            verdict = VERIFIED
        mailbox_exists = company.has_mx and status != "left"
        slug = f"{_slug(first)}-{_slug(last)}"
        linkedin_slug = f"{slug}-{rng.getrandbits(24):06x}"
        while linkedin_slug in self.linkedin_slugs:
            linkedin_slug = f"{slug}-{rng.getrandbits(24):06x}"
        self.linkedin_slugs.add(linkedin_slug)
        return Person(
            first_name=first,
            last_name=last,
            company=company,
            job_title=self.job_title(company, gender),
            linkedin_url=f"https://www.linkedin.com/in/{linkedin_slug}",
            true_email=address if mailbox_exists else "",
            mailbox_exists=mailbox_exists,
            do_not_contact=status == "dnc",
            expected_verdict=verdict,
            civility="Mme" if gender == "F" else "M",
            pattern_email=address,
        )
