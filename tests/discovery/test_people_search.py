"""The vendors' people searches as a discovery source (AI Ark, Apollo): the people they name
at a company join the site's, wait for approval like them, and are checked in-house; each
search is paid once per domain (cached), through the gateway and the ledger, and never stops a
discovery."""

from decimal import Decimal

import pytest

from enrichment import credentials
from enrichment.discovery.company import discover_company
from enrichment.discovery.people_search import NO_KEY
from enrichment.discovery.people_sources import REVEAL_LIMIT
from enrichment.engine import ledger
from enrichment.models import DiscoveredContact, ProviderCall
from enrichment.sandbox.mail_world import NORMAL
from enrichment.sandbox.server import start_sandbox
from enrichment.sandbox.websites import has_team_page
from tests.factories import WorkspaceFactory

KEY = "sandbox-key"


@pytest.fixture(scope="module")
def vendors(world):
    # The world of the DNS and mail servers: the same companies and people.
    with start_sandbox(seed=world.seed, size=world.size) as server:
        yield server


@pytest.fixture
def searching(settings, vendors, mail_sandbox):
    settings.SOURCIER_DISCOVERY_SITE_URL = f"{vendors.url}/sites/{{domain}}"
    settings.PROVIDER_BASE_URLS = {
        **settings.PROVIDER_BASE_URLS,
        "aiark": vendors.base_url("aiark"),
        "apollo": vendors.base_url("apollo"),
    }
    return vendors


@pytest.fixture
def company(world, plan):
    """A company whose site has no team page, with ordinary mail hosts."""
    return next(
        c
        for c in world.companies
        if not has_team_page(c)
        and plan.kinds.get(c.domain) == NORMAL
        and c.domain not in plan.catch_all
        and sum(p.company is c and not p.do_not_contact for p in world.people) >= 2
    )


def keyed_workspace(*vendors):
    workspace = WorkspaceFactory()
    for vendor in vendors or ("aiark",):
        credentials.set_api_key(workspace, vendor, KEY)
    ledger.top_up(workspace.pk, Decimal("5"), key="people-search-top-up")
    return workspace


def test_the_vendors_people_wait_for_approval_and_the_search_is_paid_once(searching, company):
    workspace = keyed_workspace()
    run = discover_company(workspace, company.domain, search_people=True)

    found = DiscoveredContact.objects.for_workspace(workspace)
    named = found.filter(method=DiscoveredContact.Method.PROVIDER)
    assert run.provider_people == named.count() > 0
    assert set(named.values_list("source", flat=True)) == {"aiark"}
    assert all(c.checked_at is not None for c in named)  # checked in-house, like the site's
    calls = ProviderCall.objects.for_workspace(workspace).filter(provider="aiark")
    assert calls.count() == 1
    assert run.cost > 0 and ledger.spent_total(workspace.pk) == run.cost

    # Again (a retried job, a second click): the cached answer, no call, nothing paid.
    again = discover_company(workspace, company.domain, search_people=True)
    assert again.added == 0 and again.cost == 0
    assert calls.count() == 1
    assert ledger.spent_total(workspace.pk) == run.cost


def test_without_a_key_the_site_alone_is_read_and_the_run_says_so(searching, company):
    workspace = WorkspaceFactory()
    run = discover_company(workspace, company.domain, search_people=True)
    assert str(NO_KEY) in run.warnings
    assert run.provider_people == 0
    assert not ProviderCall.objects.for_workspace(workspace).exists()


def test_a_vendor_that_fails_leaves_the_site_s_people_and_charges_nothing(searching, company):
    workspace = keyed_workspace()
    searching.set_faults("aiark", error_rate=1.0, kinds=["500"])
    try:
        run = discover_company(workspace, company.domain, search_people=True)
    finally:
        searching.clear_faults("aiark")
    assert run.provider_people == 0
    assert any("AI Ark" in warning for warning in run.warnings)
    assert ledger.spent_total(workspace.pk) == 0
    assert ledger.balance(workspace.pk) == Decimal("5")


def _colleagues(world, company):
    return [p for p in world.people if p.company is company and not p.do_not_contact]


def test_with_an_apollo_key_only_its_listed_people_are_revealed_and_paid_per_person(
    searching, company, world
):
    workspace = keyed_workspace("apollo")
    run = discover_company(workspace, company.domain, search_people=True)

    found = DiscoveredContact.objects.for_workspace(workspace)
    named = found.filter(method=DiscoveredContact.Method.PROVIDER)
    on_site = {(c.first_name, c.last_name) for c in found.exclude(pk__in=named)}
    people = {(p.first_name, p.last_name) for p in _colleagues(world, company)} - on_site
    # Whole names, not masks; nobody the site named (the legal notice's) is bought again.
    assert {(c.first_name, c.last_name) for c in named} == people
    assert run.provider_people == named.count() == min(len(people), REVEAL_LIMIT) > 0
    assert set(named.values_list("source", flat=True)) == {"apollo"}
    assert all(c.checked_at is not None for c in named)
    calls = ProviderCall.objects.for_workspace(workspace).filter(provider="apollo")
    assert calls.count() == 1 + run.provider_people  # the free search, then one reveal each
    assert not ProviderCall.objects.for_workspace(workspace).filter(provider="aiark").exists()
    assert run.cost == Decimal("0.10") * run.provider_people == ledger.spent_total(workspace.pk)

    again = discover_company(workspace, company.domain, search_people=True)
    assert again.added == 0 and again.cost == 0
    assert calls.count() == 1 + run.provider_people
    assert ledger.spent_total(workspace.pk) == run.cost


def test_apollo_reveals_nobody_ai_ark_already_named(searching, company):
    workspace = keyed_workspace("aiark", "apollo")
    run = discover_company(workspace, company.domain, search_people=True)

    named = DiscoveredContact.objects.for_workspace(workspace).filter(
        method=DiscoveredContact.Method.PROVIDER
    )
    by_ai_ark = named.filter(source="aiark").count()
    by_apollo = named.filter(source="apollo").count()
    assert by_ai_ark > 0 and run.provider_people == by_ai_ark + by_apollo
    reveals = ProviderCall.objects.for_workspace(workspace).filter(provider="apollo").count() - 1
    assert reveals == by_apollo  # only those AI Ark did not name were bought
    assert run.cost == ledger.spent_total(workspace.pk)


def test_apollo_failing_midway_keeps_what_it_revealed_and_says_so(searching, company):
    workspace = WorkspaceFactory()
    credentials.set_api_key(workspace, "apollo", KEY)
    ledger.top_up(workspace.pk, Decimal("0.15"), key="one-reveal-only")
    run = discover_company(workspace, company.domain, search_people=True)
    assert run.provider_people == 1
    assert any("Apollo" in warning for warning in run.warnings)
    assert ledger.balance(workspace.pk) == Decimal("0.05")


def test_apollo_s_free_search_goes_out_with_no_credit_left_and_only_the_reveals_wait(
    searching, company
):
    """The search consumes no credit, so it reserves none: a workspace with less than one
    reveal's price left still learns who works there; each reveal is what money refuses."""
    workspace = WorkspaceFactory()
    credentials.set_api_key(workspace, "apollo", KEY)
    ledger.top_up(workspace.pk, Decimal("0.05"), key="people-search-top-up")
    run = discover_company(workspace, company.domain, search_people=True)

    calls = ProviderCall.objects.for_workspace(workspace).filter(provider="apollo")
    assert list(calls.values_list("endpoint", flat=True)) == ["/api/v1/mixed_people/api_search"]
    assert run.provider_people == 0 and run.cost == 0
    assert any("Apollo" in w and "crédits insuffisants" in w for w in run.warnings), run.warnings
    assert ledger.spent_total(workspace.pk) == 0
    assert ledger.balance(workspace.pk) == Decimal("0.05")
