"""The sandbox world is deterministic, French-flavoured, and tells the truth about mailboxes."""

import csv
import re

import pytest
from stdnum.fr import siren, siret

from enrichment.sandbox import names
from enrichment.sandbox import world as w
from enrichment.sandbox.world import World, local_part


def test_same_seed_and_size_build_the_same_world():
    first, second = World.build(7, 20), World.build(7, 20)
    assert first.truth_rows() == second.truth_rows()
    assert first.prospect_rows() == second.prospect_rows()
    assert [c.siren for c in first.companies] == [c.siren for c in second.companies]


def test_another_seed_builds_another_world():
    assert World.build(7, 20).truth_rows() != World.build(8, 20).truth_rows()


def test_size_is_the_number_of_companies(world):
    assert len(world.companies) == 60
    assert 2 * 60 <= len(world.people) <= 6 * 60


def test_a_larger_staff_draws_a_thousand_people_as_deterministically():
    world = World.build(11, 100, staff=(8, 12))
    assert world.truth_rows() == World.build(11, 100, staff=(8, 12)).truth_rows()
    assert len(world.people) >= 1000
    by_domain: dict[str, list] = {}
    for person in world.people:
        by_domain.setdefault(person.company.domain, []).append(person)
    assert all(8 <= len(staff) <= 12 for staff in by_domain.values())
    # No one's name, under any pattern, spells a colleague's mailbox: the truth stays clear.
    patterns = [pattern for pattern, _weight in names.EMAIL_PATTERNS]
    for staff in by_domain.values():
        mailboxes = {p.pattern_email for p in staff}
        for person in staff:
            spelled = {
                f"{local_part(pattern, person.first_name, person.last_name)}@"
                f"{person.company.domain}"
                for pattern in patterns
            }
            assert spelled & mailboxes <= {person.pattern_email}


def test_a_world_needs_a_company():
    with pytest.raises(ValueError):
        World.build(1, 0)


def test_every_domain_is_reserved_and_unique(world):
    domains = [company.domain for company in world.companies]
    assert len(set(domains)) == len(domains)
    assert all(re.fullmatch(r"[a-z0-9-]+\.example", domain) for domain in domains)
    emails = [p.pattern_email for p in world.people if p.pattern_email]
    assert all(email.endswith(".example") for email in emails)
    assert all(c.website == f"https://www.{c.domain}" for c in world.companies)


def test_french_companies_have_valid_registry_numbers(world):
    french = [c for c in world.companies if c.country == "FR"]
    assert len(french) >= 30
    for company in french:
        assert siren.is_valid(company.siren), company
        assert siret.is_valid(company.siret), company
        assert company.siret.startswith(company.siren)
        assert re.fullmatch(r"\d{2}\.\d{2}[A-Z]", company.naf)
        assert company.naf_label and company.address
    for company in world.companies:
        if company.country != "FR":
            assert company.siren == company.siret == company.naf == ""


@pytest.mark.parametrize("seed", [1, 42, 2024])
def test_the_tricky_french_names_exist_whatever_the_seed(seed):
    people = World.build(seed, 3).people
    names = {(p.first_name, p.last_name) for p in people}
    assert {("Éloïse", "Lefèvre"), ("Jean-Pierre", "de La Fontaine"), ("Anaïs", "N'Diaye")} <= names


def test_names_with_accents_particles_and_apostrophes_are_common(world):
    last_names = [p.last_name for p in world.people]
    assert any(" " in name for name in last_names)
    assert any("'" in name for name in last_names)
    assert any(re.search(r"[éèêëïîôûüç]", p.first_name + p.last_name) for p in world.people)


def test_every_verdict_occurs(world):
    assert {p.expected_verdict for p in world.people} == set(w.VERDICTS)


def test_verdicts_agree_with_the_mailbox_facts(world):
    for person in world.people:
        company = person.company
        local = local_part(company.pattern, person.first_name, person.last_name)
        verdict = person.expected_verdict
        if verdict == w.NO_MAIL:
            assert not company.has_mx and person.true_email == "" and not person.mailbox_exists
            continue
        assert person.pattern_email == f"{local}@{company.domain}"
        if verdict == w.MAILBOX_GONE:
            assert person.true_email == "" and not person.mailbox_exists
            assert not company.catch_all
        else:
            assert person.true_email == person.pattern_email and person.mailbox_exists
        assert (verdict == w.DO_NOT_CONTACT) == person.do_not_contact
        if verdict == w.CATCH_ALL:
            assert company.catch_all
        if verdict == w.VERIFIED:
            assert not company.catch_all and company.has_mx


@pytest.mark.parametrize(
    ("pattern", "first", "last", "expected"),
    [
        ("first.last", "Jean-Pierre", "de La Fontaine", "jean-pierre.delafontaine"),
        ("flast", "Jean-Pierre", "de La Fontaine", "jdelafontaine"),
        ("first.last", "Anaïs", "N'Diaye", "anais.ndiaye"),
        ("f.last", "Éloïse", "Lefèvre", "e.lefevre"),
        ("last.first", "Zoé", "d'Arcy", "darcy.zoe"),
        ("firstl", "Loïc", "Le Goff", "loicl"),
    ],
)
def test_local_parts_fold_accents_particles_and_apostrophes(pattern, first, last, expected):
    assert local_part(pattern, first, last) == expected


def test_find_person_ignores_accents_case_and_punctuation(world):
    eloise = next(p for p in world.people if p.last_name == "Lefèvre" and p.first_name == "Éloïse")
    company = eloise.company
    found = world.find_person(first_name="ELOISE", last_name="lefevre", domain=company.domain)
    assert found is eloise
    assert world.find_person(
        first_name="eloise", last_name="LEFEVRE", company_name=company.name.upper()
    ) is eloise
    assert world.find_person(
        first_name="Eloise", last_name="Lefevre", domain=f"https://www.{company.domain}/contact"
    ) is eloise
    jean_pierre = world.find_person(first_name="jean pierre", last_name="DELAFONTAINE",
                                    domain=company.domain)
    assert jean_pierre is not None and jean_pierre.first_name == "Jean-Pierre"


def test_find_person_by_email_and_linkedin_variants(world):
    person = next(p for p in world.people if p.expected_verdict == w.VERIFIED)
    assert world.find_person(email=person.true_email.upper()) is person
    slug = person.linkedin_url.rsplit("/", 1)[1]
    assert world.find_person(linkedin_url=f"http://fr.linkedin.com/in/{slug}/") is person


def test_find_person_returns_none_for_strangers_and_wrong_companies(world):
    person = world.people[0]
    other = next(c for c in world.companies if c is not person.company)
    assert world.find_person(first_name="Personne", last_name="Inconnue") is None
    assert world.find_person(first_name=person.first_name, last_name=person.last_name,
                             domain=other.domain) is None
    assert world.find_person(email="someone@nowhere.example") is None


def test_truth_rows_have_the_documented_columns(world):
    rows = world.truth_rows()
    assert len(rows) == len(world.people)
    # Operators script against these names: columns are only ever added, at the end.
    assert list(rows[0]) == [
        "first_name", "last_name", "company_domain", "linkedin_url", "true_email",
        "expected_verdict", "prospeo_email", "leadmagic_email", "findymail_email",
        "stale_vendors",
    ]
    assert {row["expected_verdict"] for row in rows} == set(w.VERDICTS)


def test_prospect_rows_are_partial_but_identifiable(world):
    rows = world.prospect_rows()
    assert list(rows[0]) == ["Prénom", "Nom", "Société", "Site web", "LinkedIn", "Fonction"]
    linkedin_only = [r for r in rows if r["LinkedIn"]]
    assert linkedin_only and all(not r["Prénom"] and not r["Nom"] for r in linkedin_only)
    named = [r for r in rows if not r["LinkedIn"]]
    assert all(r["Prénom"] and r["Nom"] and (r["Société"] or r["Site web"]) for r in named)
    assert any(r["Société"] and not r["Site web"] for r in named)


def test_exports_are_written_like_excel_for_prospects_and_plain_for_truth(world, tmp_path):
    truth, prospects = tmp_path / "truth.csv", tmp_path / "prospects.csv"
    assert world.write_truth_csv(truth) == len(world.people)
    assert world.write_prospects_csv(prospects) == len(world.people)
    raw = prospects.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.splitlines()[0][3:] == "Prénom;Nom;Société;Site web;LinkedIn;Fonction".encode()
    assert b"\r\n" in raw
    with open(prospects, encoding="utf-8-sig", newline="") as handle:
        assert list(csv.DictReader(handle, delimiter=";")) == world.prospect_rows()
    with open(truth, encoding="utf-8", newline="") as handle:
        assert list(csv.DictReader(handle)) == world.truth_rows()
