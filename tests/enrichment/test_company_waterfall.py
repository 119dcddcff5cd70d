"""The company waterfall against the sandbox world: AI Ark's company search, then Firecrawl's
extract of the site (answered later, polled, paid once); one lookup per company."""

import json
from decimal import Decimal

import pytest

from enrichment import credentials
from enrichment.engine import ledger
from enrichment.models import EnrichmentItem, ProviderAttempt
from enrichment.pipelines import waterfall
from enrichment.sandbox import coverage
from prospects.models import Company, FieldProvenance
from tests.enrichment.test_waterfall import import_world, run_job
from tests.sandbox.support import KEY

VENDORS = ("aiark", "firecrawl")


@pytest.fixture
def keyed(workspace, sandbox, settings):
    workspace.auto_enrich = "none"
    workspace.save()
    settings.PROVIDER_BASE_URLS = {
        **settings.PROVIDER_BASE_URLS,
        **{slug: sandbox.base_url(slug) for slug in VENDORS},
    }
    for slug in VENDORS:
        credentials.set_api_key(workspace, slug, KEY)
    ledger.top_up(workspace.pk, Decimal("50"), key="test-top-up")
    return workspace


def test_each_company_is_looked_up_once_and_firecrawl_fills_what_ai_ark_does_not_know(
    keyed,
    world,
    sandbox,
    django_capture_on_commit_callbacks,
):
    import_world(keyed, world, limit=30)
    with_domain = Company.objects.for_workspace(keyed).exclude(domain="")
    job = run_job(keyed, django_capture_on_commit_callbacks, fields=["company"])

    items = EnrichmentItem.objects.for_workspace(keyed)
    companies = Company.objects.for_workspace(keyed).filter(prospects__isnull=False).distinct()
    assert items.count() == companies.count() == job.total_items
    assert set(items.values_list("status", flat=True)) == {"done"}
    filled = {"aiark": 0, "firecrawl": 0}
    for company in with_domain:
        truth = world.find_company(domain=company.domain)
        company.refresh_from_db()
        source = (
            FieldProvenance.objects.for_workspace(keyed)
            .filter(company=company, field="industry", is_current=True)
            .values_list("source", flat=True)
            .first()
        )
        if coverage.knows_company(world, "aiark", truth):
            assert (company.industry, source) == (truth.industry, "aiark")
            assert company.headcount == truth.headcount
        if source:
            filled[source] += 1
    assert filled["aiark"] > 0 and filled["firecrawl"] > 0

    # Firecrawl was paid once per extract it started, whatever the polls.
    started = ProviderAttempt.objects.for_workspace(keyed).filter(provider="firecrawl")
    posts = [c for c in sandbox.calls if c.vendor == "firecrawl" and c.endpoint.endswith("extract")]
    assert len(posts) == started.exclude(result="not_asked").count()
    for attempt in started.filter(result="found"):
        assert json.loads(attempt.value)["industry"]


def test_a_person_typed_company_fact_is_never_replaced(
    keyed,
    world,
    django_capture_on_commit_callbacks,
):
    pairs = import_world(keyed, world, limit=10)
    company = next(p.company for p, _t, _r in pairs if p.company and p.company.domain)
    company.industry = "Conseil tapé à la main"
    company.save()
    FieldProvenance.objects.create(
        workspace=keyed,
        company=company,
        field="industry",
        value=company.industry,
        source="manual",
        confidence=100,
        observed_at=company.updated_at,
        is_current=True,
    )
    run_job(keyed, django_capture_on_commit_callbacks, fields=["company"])
    company.refresh_from_db()
    assert company.industry == "Conseil tapé à la main"


def test_a_slow_extract_is_polled_later_without_starting_another(
    keyed,
    world,
    sandbox,
    django_capture_on_commit_callbacks,
):
    extract = sandbox.vendors["firecrawl"]
    ready_after = extract.ready_after
    try:
        check_slow_extract(keyed, world, sandbox, extract, django_capture_on_commit_callbacks)
    finally:
        extract.ready_after = ready_after


def check_slow_extract(keyed, world, sandbox, extract, django_capture_on_commit_callbacks):
    extract.ready_after = 60.0  # the extract job stays "processing" while the step polls it
    pairs = import_world(keyed, world)
    missed = [
        p
        for p, _t, _r in pairs
        if p.company
        and p.company.domain
        and not coverage.knows_company(world, "aiark", world.find_company(domain=p.company.domain))
    ]
    if not missed:
        pytest.skip("every company of this slice is known to AI Ark")
    run_job(
        keyed, django_capture_on_commit_callbacks, fields=["company"], prospect_ids=[missed[0].pk]
    )
    item = EnrichmentItem.objects.for_workspace(keyed).get()
    attempt = ProviderAttempt.objects.for_workspace(keyed).get(provider="firecrawl")
    assert (item.status, attempt.result) == ("pending", waterfall.SUBMITTED)
    reserved = ledger.in_flight(keyed.pk)
    assert reserved > 0

    extract.ready_after = 0.0
    EnrichmentItem.objects.for_workspace(keyed).update(next_attempt_at=item.created_at)
    waterfall.process_item(item.pk)
    item.refresh_from_db()
    attempt.refresh_from_db()
    assert item.status == "done" and attempt.result == "found"
    posts = [c for c in sandbox.calls if c.vendor == "firecrawl" and c.endpoint.endswith("extract")]
    assert len(posts) == 1
    assert ledger.in_flight(keyed.pk) == 0


def test_a_key_held_at_another_price_is_asked_under_that_hold(
    keyed, world, sandbox, django_capture_on_commit_callbacks
):
    """Prices changed while an earlier try of a company's question held its key: that
    reservation stands (as in the email waterfall's rounds and a Dropcontact batch), AI Ark is
    asked under it and it is closed, instead of the item failing on the same refusal at every
    lease."""
    from enrichment import bulk, waterfall_queue
    from enrichment.models import CreditEntry, attempt_key

    import_world(keyed, world, limit=10)
    estimate = bulk.estimate_job(keyed.pk, fields=["company"])
    with django_capture_on_commit_callbacks(execute=False):
        bulk.start_job(keyed, estimate)
    item = (
        EnrichmentItem.objects.for_workspace(keyed)
        .select_related("prospect__company")
        .exclude(prospect__company__domain="")
        .order_by("pk")
        .first()
    )
    waterfall_queue.start_items([item.pk])
    key = attempt_key(item, "company", "aiark")
    ledger.reserve(keyed.pk, "0.01", key=key, provider="aiark")

    result = waterfall.process_item(item.pk)

    assert result in ("found", "done", "not-found", "verified", "unverified"), result
    domain = item.prospect.company.domain
    asked = [c for c in sandbox.calls if c.vendor == "aiark"]
    assert len(asked) == 1, (domain, asked)
    entries = CreditEntry.objects.for_workspace(keyed).filter(idempotency_key=key)
    assert sorted(entries.values_list("kind", flat=True)) in (
        ["release", "reserve"],
        ["reserve", "settle"],
    )
    assert ledger.in_flight(keyed.pk) == 0
