"""The exported truth says exactly what each email finder answers over HTTP, and what it costs."""

import csv
import time

import pytest
import requests
from django.core.management import call_command

from enrichment.providers import aiark, apollo, clearbit, findymail, firecrawl, leadmagic, prospeo
from enrichment.providers.base import ErrorKind, ProviderError
from enrichment.sandbox import world as w
from enrichment.sandbox.coverage import entry, knows_company, knows_person
from prospects.normalize import normalize_domain

from .support import KEY, READY_AFTER, send

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def exported(tmp_path_factory, world):
    """The truth and prospects files of the shared sandbox's world, as an operator exports them."""
    folder = tmp_path_factory.mktemp("export")
    truth, prospects = folder / "truth.csv", folder / "prospects.csv"
    call_command("run_sandbox", seed=world.seed, size=world.size, export_truth=str(truth),
                 export_prospects=str(prospects))
    with open(truth, encoding="utf-8", newline="") as handle:
        truth_rows = list(csv.DictReader(handle))
    with open(prospects, encoding="utf-8-sig", newline="") as handle:
        prospect_rows = list(csv.DictReader(handle, delimiter=";"))
    assert len(truth_rows) == len(prospect_rows) == len(world.people)
    return list(zip(prospect_rows, truth_rows, strict=True))


def _ask_prospeo(sandbox, row):
    request = prospeo.build_enrich_person_request(
        first_name=row["Prénom"], last_name=row["Nom"], company_name=row["Société"],
        company_website=row["Site web"], linkedin_url=row["LinkedIn"],
    )
    answer = send(sandbox, "prospeo", request, headers=prospeo.auth_headers(KEY))
    result = prospeo.parse_enrich_person_response(answer.status, answer.body)
    return result.email.email if result.matched and result.email else ""


def _ask_leadmagic(sandbox, row):
    try:
        request = leadmagic.build_email_finder_request(
            first_name=row["Prénom"], last_name=row["Nom"], company_name=row["Société"],
            domain=normalize_domain(row["Site web"]),
        )
    except ValueError:
        return ""
    answer = send(sandbox, "leadmagic", request, headers=leadmagic.auth_headers(KEY))
    try:
        result = leadmagic.parse_email_finder_response(answer.status, answer.body)
    except ProviderError as exc:
        assert exc.kind is ErrorKind.PERMANENT and not row["Prénom"]
        return ""
    # The documented credit behaviour: what an answer consumed is written in it.
    assert result.credits_consumed == (1 if result.found else 0)
    return result.email or ""


def _ask_findymail(sandbox, row):
    name, domain = f"{row['Prénom']} {row['Nom']}".strip(), normalize_domain(row["Site web"])
    request = findymail.build_search_name_request(name=name, domain=domain)
    answer = send(sandbox, "findymail", request, headers=findymail.auth_headers(KEY))
    try:
        result = findymail.parse_search_name_response(answer.status, answer.body)
    except ProviderError as exc:
        assert exc.kind is ErrorKind.PERMANENT and not (name and domain)
        return ""
    return result.contact.email if result.found else ""


ASK = {"prospeo": _ask_prospeo, "leadmagic": _ask_leadmagic, "findymail": _ask_findymail}


@pytest.mark.parametrize("vendor", sorted(ASK))
def test_http_answers_are_exactly_the_truth_column(sandbox, exported, vendor):
    column = f"{vendor}_email"
    live = [ASK[vendor](sandbox, prospect) for prospect, _ in exported]
    assert live == [truth[column] for _, truth in exported]
    found = sum(1 for email in live if email)
    # A real slice of the export: neither everyone nor no one.
    assert 0.05 * len(live) < found < 0.70 * len(live)
    # Documented costs: one credit per address found, nothing for a miss.
    stats = requests.get(f"{sandbox.url}/_sandbox/stats", timeout=5).json()
    assert stats["credits_used"].get(vendor, {}).get(KEY, 0) == found


def test_the_waterfall_has_work_past_its_first_step(exported):
    rows = [truth for _, truth in exported]
    answered = [r for r in rows if r["prospeo_email"] or r["leadmagic_email"]
                or r["findymail_email"]]
    past_prospeo = [r for r in answered if not r["prospeo_email"]]
    findymail_only = [r for r in past_prospeo if not r["leadmagic_email"]]
    unanswered = [r for r in rows if r["expected_verdict"] == w.VERIFIED and r not in answered]
    assert past_prospeo and findymail_only and unanswered


def test_stale_answers_are_marked_and_differ_from_the_true_address(exported):
    stale = [truth for _, truth in exported if truth["stale_vendors"]]
    assert stale
    for truth in (t for _, t in exported):
        marked = set(truth["stale_vendors"].split())
        assert marked <= {"prospeo", "leadmagic", "findymail"}
        for vendor in ("prospeo", "leadmagic", "findymail"):
            email = truth[f"{vendor}_email"]
            if vendor in marked:
                assert email and email != truth["true_email"]
            elif email:
                assert email == truth["true_email"]


def test_a_stale_address_fails_verification(sandbox, world):
    stale = next(e for p in world.people if (e := entry(world, "prospeo", p)) and e.stale
                 and not world.find_company(domain=e.email.rpartition("@")[2]).catch_all)
    answer = send(sandbox, "findymail", findymail.build_verify_request(stale.email),
                  headers=findymail.auth_headers(KEY))
    assert findymail.parse_verify_response(answer.status, answer.body).verified is False


def test_leadmagic_profile_email_costs_five_only_when_found(sandbox, world):
    known = next(p for p in world.people[20:] if (e := entry(world, "leadmagic", p))
                 and e.verdict == w.VERIFIED)
    unknown = next(p for p in world.people if p.expected_verdict == w.VERIFIED
                   and not knows_person(world, "leadmagic", p))
    results = [
        leadmagic.parse_profile_email_response(answer.status, answer.body)
        for person in (known, unknown)
        for answer in [send(sandbox, "leadmagic",
                            leadmagic.build_profile_email_request(person.linkedin_url),
                            headers=leadmagic.auth_headers(KEY))]
    ]
    assert [(r.found, r.credits_consumed) for r in results] == [(True, 5), (False, 0)]
    assert sandbox.stats()["credits_used"] == {"leadmagic": {KEY: 5}}


def test_apollo_matches_a_profile_it_holds_no_address_for(sandbox, world):
    person = next(p for p in world.people if p.expected_verdict == w.VERIFIED
                  and not knows_person(world, "apollo", p))
    request = apollo.build_people_match_request(
        first_name=person.first_name, last_name=person.last_name, domain=person.company.domain)
    answer = send(sandbox, "apollo", request, headers=apollo.auth_headers(KEY))
    result = apollo.parse_people_match_response(answer.status, answer.body)
    assert result.found and result.person.email is None
    assert result.person.email_status == "unavailable"


def test_clearbit_does_not_know_everyone(sandbox, world):
    person = next(p for p in world.people if p.expected_verdict == w.VERIFIED
                  and not knows_person(world, "clearbit", p))
    answer = send(sandbox, "clearbit", clearbit.build_combined_find_request(person.true_email),
                  headers=clearbit.auth_headers(KEY))
    assert answer.status == 404
    assert sandbox.stats()["credits_used"] == {}


def test_aiark_and_firecrawl_miss_the_companies_they_do_not_cover(sandbox, world):
    company = next(c for c in world.companies if not knows_company(world, "aiark", c))
    answer = send(sandbox, "aiark", aiark.build_company_search_request(domain=company.domain),
                  headers=aiark.auth_headers(KEY))
    assert aiark.parse_company_search_response(answer.status, answer.body).totalElements == 0
    site = next(c for c in world.companies if not knows_company(world, "firecrawl", c))
    started = send(sandbox, "firecrawl", firecrawl.build_extract_request([site.website]),
                   headers=firecrawl.auth_headers(KEY))
    job = firecrawl.parse_extract_response(started.status, started.body)
    time.sleep(READY_AFTER + 0.1)
    polled = send(sandbox, "firecrawl", firecrawl.build_extract_status_request(job.id),
                  headers=firecrawl.auth_headers(KEY))
    result = firecrawl.parse_extract_status_response(polled.status, polled.body)
    assert result.ready and not result.data
