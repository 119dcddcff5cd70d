"""Each sandbox vendor knows its own slice of the world, overlapping the others only in part."""

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enrichment.sandbox import coverage
from enrichment.sandbox import world as w
from enrichment.sandbox.coverage import REACH, entry, knows_company, knows_person
from enrichment.sandbox.world import World

FINDERS = ("prospeo", "leadmagic", "findymail")


@pytest.fixture(scope="module")
def big_world() -> World:
    # A few hundred people: enough for rates to land near their targets.
    return World.build(2024, 100)


def test_the_email_finders_have_the_rates_the_issue_gives():
    assert {slug: REACH[slug].people for slug in FINDERS} == {
        "prospeo": 0.60, "leadmagic": 0.50, "findymail": 0.45,
    }
    assert all(0.03 <= REACH[slug].stale <= 0.05 for slug in FINDERS)


@pytest.mark.parametrize("seed", [2024, 7])
@pytest.mark.parametrize("vendor", sorted(s for s, r in REACH.items() if r.people < 1))
def test_people_coverage_is_near_the_vendors_rate(vendor, seed):
    world = World.build(seed, 100)
    assert len(world.people) >= 300
    share = sum(knows_person(world, vendor, p) for p in world.people) / len(world.people)
    assert abs(share - REACH[vendor].people) <= 0.06, share


@pytest.mark.parametrize("vendor", ["aiark", "firecrawl"])
def test_company_coverage_is_near_the_vendors_rate(big_world, vendor):
    share = sum(knows_company(big_world, vendor, c) for c in big_world.companies) / 100
    assert abs(share - REACH[vendor].companies) <= 0.10, share
    assert share < 1


def test_dropcontact_still_knows_everyone(big_world):
    assert all(knows_person(big_world, "dropcontact", p) for p in big_world.people)
    assert all(entry(big_world, "dropcontact", p) for p in big_world.people
               if p.expected_verdict in (w.VERIFIED, w.CATCH_ALL))


def test_overlap_is_partial(big_world):
    known = {slug: {p.linkedin_url for p in big_world.people if knows_person(big_world, slug, p)}
             for slug in FINDERS}
    everyone = {p.linkedin_url for p in big_world.people}
    findymail_only = known["findymail"] - known["prospeo"] - known["leadmagic"]
    nobody = everyone - known["prospeo"] - known["leadmagic"] - known["findymail"]
    # Independent draws: about 0.4 * 0.5 * 0.45 = 9 % FindyMail alone, 0.4 * 0.5 * 0.55 = 11 %
    # known to none; the waterfall has a reason to reach its last step, and to run dry.
    assert 0.04 * len(everyone) <= len(findymail_only) <= 0.15 * len(everyone)
    assert 0.05 * len(everyone) <= len(nobody) <= 0.18 * len(everyone)
    both = known["prospeo"] & known["leadmagic"]
    assert 0 < len(both) < min(len(known["prospeo"]), len(known["leadmagic"]))


def test_the_showcase_companies_are_known_to_every_vendor_with_current_addresses(big_world):
    showcase = big_world.companies[: coverage.SHOWCASE_COMPANIES]
    for vendor in REACH:
        for company in showcase:
            assert knows_company(big_world, vendor, company)
        for person in (p for p in big_world.people if p.company in showcase):
            assert knows_person(big_world, vendor, person)
            found = entry(big_world, vendor, person)
            if found is not None:
                assert (found.email, found.stale) == (person.true_email, "")


def test_same_seed_same_answers_and_another_seed_other_answers(big_world):
    again = World.build(2024, 100)
    for vendor in FINDERS:
        assert [entry(big_world, vendor, p) for p in big_world.people] == [
            entry(again, vendor, p) for p in again.people
        ]
    # The same people under another seed: who knows whom is drawn again.
    reseeded = replace(big_world, seed=2025)
    for vendor in FINDERS:
        first = [knows_person(big_world, vendor, p) for p in big_world.people]
        second = [knows_person(reseeded, vendor, p) for p in reseeded.people]
        assert first != second


@pytest.mark.parametrize("vendor", FINDERS)
def test_a_few_answers_are_stale_and_reach_nobody(big_world, vendor):
    entries = [e for p in big_world.people if (e := entry(big_world, vendor, p))]
    stale = [e for e in entries if e.stale]
    assert 0 < len(stale) <= 0.10 * len(entries)
    for found in stale:
        assert found.stale in coverage.STALE_KINDS
        assert found.email != found.person.true_email
        assert big_world.find_person(email=found.email) is None
        domain = found.email.rpartition("@")[2]
        if found.stale == coverage.OLD_EMPLOYER:
            assert domain != found.person.company.domain
            assert big_world.find_company(domain=domain) is not None
        else:
            assert domain == found.person.company.domain


def test_both_kinds_of_stale_address_occur(big_world):
    kinds = {e.stale for vendor in REACH for p in big_world.people
             if (e := entry(big_world, vendor, p))}
    assert kinds == {"", coverage.OLD_EMPLOYER, coverage.WRONG_PATTERN}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=10_000), vendor=st.sampled_from(sorted(REACH)))
def test_vendors_only_hand_out_reachable_people(seed, vendor):
    world = World.build(seed, 4)
    for person in world.people:
        found = entry(world, vendor, person)
        if person.expected_verdict not in (w.VERIFIED, w.CATCH_ALL):
            assert found is None
        elif found is not None:
            assert knows_person(world, vendor, person)
            assert found.verdict in (w.VERIFIED, w.CATCH_ALL)
            assert (found.stale == "") == (found.email == person.true_email)
