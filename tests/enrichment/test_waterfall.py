"""The email waterfall against the sandbox world: Prospeo, then LeadMagic, then FindyMail, each
knowing its own share of the people (the ground truth says which), with real money rules."""

from decimal import Decimal

import pytest
import redis
from django.utils import timezone

from enrichment import bulk, credentials
from enrichment.engine import ledger
from enrichment.models import (
    CreditEntry,
    EnrichmentItem,
    EnrichmentJob,
    ProviderAttempt,
    ProviderCall,
    attempt_key,
)
from enrichment.pipelines import waterfall
from enrichment.sandbox.world import World
from prospects import services as prospect_services
from prospects.models import Prospect, Source
from tests.sandbox.conftest import _server, sandbox  # noqa: F401
from tests.sandbox.support import KEY

FINDERS = ("prospeo", "leadmagic", "findymail")
COLUMNS = {
    "Prénom": "first_name",
    "Nom": "last_name",
    "Société": "company_name",
    "Site web": "company_website",
    "LinkedIn": "linkedin_url",
    "Fonction": "job_title",
}


@pytest.fixture(scope="module")
def world():
    return World.build(42, 60)


@pytest.fixture
def keyed(workspace, sandbox, settings):  # noqa: F811
    """A workspace with a key for each email finder, 100 € of credit, nothing automatic."""
    workspace.auto_enrich = "none"
    workspace.save()
    settings.PROVIDER_BASE_URLS = {
        **settings.PROVIDER_BASE_URLS,
        **{slug: sandbox.base_url(slug) for slug in FINDERS},
    }
    for slug in FINDERS:
        credentials.set_api_key(workspace, slug, KEY)
    ledger.top_up(workspace.pk, Decimal("100"), key="test-top-up")
    if settings.REDIS_URL:
        # Breakers live in Redis across tests on PostgreSQL + Redis: start with closed ones.
        redis.Redis.from_url(settings.REDIS_URL).delete(
            *(f"sourcier:breaker:{slug}" for slug in FINDERS)
        )
    return workspace


def import_world(workspace, world, limit=None):
    """The world's import rows as prospects, in the world's order: (prospect, truth, row)."""
    pairs = []
    rows = world.prospect_rows()[:limit]
    for row, truth in zip(rows, world.truth_rows(), strict=False):
        data = {field: row[column] for column, field in COLUMNS.items() if row.get(column)}
        try:
            prospect = prospect_services.create_prospect(workspace, data=data)
        except prospect_services.ProspectRejected:
            continue
        pairs.append((prospect, truth, row))
    return pairs


def run_job(workspace, django_capture_on_commit_callbacks, **options):
    estimate = bulk.estimate_job(workspace.pk, **options)
    with django_capture_on_commit_callbacks(execute=True):
        job = bulk.start_job(workspace, estimate)
    job.refresh_from_db()
    return job


def test_the_waterfall_stops_at_the_first_verified_address_and_asks_each_vendor_once(
    keyed, world, sandbox, django_capture_on_commit_callbacks  # noqa: F811
):
    # Two thirds of the world: the vendors' rate limits (5 requests/s) set the pace here.
    pairs = import_world(keyed, world, limit=40)
    job = run_job(keyed, django_capture_on_commit_callbacks)

    assert job.status in (EnrichmentJob.Status.COMPLETED, EnrichmentJob.Status.PARTIALLY_COMPLETED)
    assert job.total_items == len(pairs)
    sources = set()
    for prospect, truth, row in pairs:
        prospect.refresh_from_db()
        asked = set(
            ProviderAttempt.objects.for_workspace(keyed)
            .filter(item__prospect=prospect)
            .exclude(result="not_asked")
            .values_list("provider", flat=True)
        )
        if truth["prospeo_email"]:
            # Prospeo only gives verified addresses: nobody after it is asked.
            assert (prospect.email, prospect.status) == (truth["prospeo_email"], "verified")
            assert prospect.enrichment_source == Source.PROSPEO
            assert asked == {"prospeo"}
        elif not any(truth[f"{slug}_email"] for slug in FINDERS):
            if prospect.company and prospect.company.domain and not row["Site web"]:
                # Another row gave the company its domain: FindyMail can be asked after all.
                assert asked <= set(FINDERS)
                continue
            assert prospect.email == ""
            assert prospect.status == Prospect.Status.NOT_VERIFIED
            assert prospect.verification_reason == Prospect.Reason.NO_EMAIL_FOUND
        else:
            found = {truth[f"{slug}_email"] for slug in FINDERS} - {""}
            assert prospect.email in found
        if prospect.status == Prospect.Status.VERIFIED:
            sources.add(prospect.enrichment_source)
    # The world is made so that the waterfall goes past its first step.
    assert {"prospeo", "leadmagic"} <= sources

    calls_by_vendor = {slug: 0 for slug in FINDERS}
    for call in sandbox.calls:
        if call.vendor in calls_by_vendor:
            calls_by_vendor[call.vendor] += 1
    attempts = ProviderAttempt.objects.for_workspace(keyed).exclude(call=None)
    for slug in FINDERS:
        assert calls_by_vendor[slug] == attempts.filter(provider=slug).count()


def test_money_adds_up_and_the_verified_badge_names_its_source(
    keyed, world, django_capture_on_commit_callbacks
):
    import_world(keyed, world, limit=25)
    job = run_job(keyed, django_capture_on_commit_callbacks)

    spent = sum(
        ProviderCall.objects.for_workspace(keyed).values_list("cost", flat=True), Decimal(0)
    )
    assert spent > 0
    assert ledger.spent_total(keyed.pk) == spent
    assert ledger.balance(keyed.pk) == Decimal("100") - spent
    assert ledger.in_flight(keyed.pk) == 0
    job.refresh_from_db()
    assert job.spent_credits == spent
    assert job.estimated_credits >= spent


def test_running_an_item_again_asks_nobody_and_pays_nothing(
    keyed, world, sandbox, django_capture_on_commit_callbacks  # noqa: F811
):
    import_world(keyed, world, limit=8)
    run_job(keyed, django_capture_on_commit_callbacks)
    calls, balance = len(sandbox.calls), ledger.balance(keyed.pk)

    for item in EnrichmentItem.objects.for_workspace(keyed):
        assert waterfall.process_item(item.pk) == "not-due"
        # Even a claim the sweeper would make (its lease gone) finds every answer kept.
        EnrichmentItem.objects.for_workspace(keyed).filter(pk=item.pk).update(status="pending")
        waterfall.process_item(item.pk)

    assert len(sandbox.calls) == calls
    assert ledger.balance(keyed.pk) == balance


def test_the_daily_cap_pauses_the_job_until_midnight_and_nothing_is_lost(
    keyed, world, django_capture_on_commit_callbacks
):
    ledger.set_daily_cap(keyed.pk, Decimal("0.20"))
    pairs = import_world(keyed, world, limit=30)
    job = run_job(keyed, django_capture_on_commit_callbacks)

    assert job.status == EnrichmentJob.Status.PAUSED
    assert job.pause_reason == "daily_cap"
    assert job.paused_until is not None
    assert ledger.spent_today(keyed.pk) <= Decimal("0.20")
    waiting = EnrichmentItem.objects.for_workspace(keyed).filter(status="pending")
    assert waiting.exists()
    assert all(item.next_attempt_at == job.paused_until for item in waiting)
    assert waiting.first().last_error.startswith("Plafond de dépenses du jour atteint")
    assert EnrichmentItem.objects.for_workspace(keyed).count() == len(pairs)


def test_a_vendor_that_is_down_is_skipped_for_the_next_one(
    keyed, world, sandbox, django_capture_on_commit_callbacks  # noqa: F811
):
    sandbox.set_faults("prospeo", error_rate=1.0, kinds=["500"])
    import_world(keyed, world, limit=20)
    run_job(keyed, django_capture_on_commit_callbacks)

    prospeo_calls = [c for c in sandbox.calls if c.vendor == "prospeo"]
    # The breaker opens after five failures in its window: later prospects skip Prospeo.
    assert 5 <= len(prospeo_calls) <= 6
    assert Prospect.objects.for_workspace(keyed).filter(enrichment_source="leadmagic").exists()


def test_a_vendor_asked_again_after_a_passing_failure_pays_under_a_new_key(
    keyed, world, sandbox, django_capture_on_commit_callbacks  # noqa: F811
):
    # Someone only Prospeo knows: while it answers 500 the item waits for a retry.
    index, truth = next(
        (i, t)
        for i, t in enumerate(world.truth_rows())
        if t["prospeo_email"] and not t["leadmagic_email"] and not t["findymail_email"]
    )
    row = world.prospect_rows()[index]
    prospect = prospect_services.create_prospect(
        keyed, data={field: row[column] for column, field in COLUMNS.items() if row.get(column)}
    )
    sandbox.set_faults("prospeo", error_rate=1.0, kinds=["500"])
    job = run_job(keyed, django_capture_on_commit_callbacks)
    item = EnrichmentItem.objects.for_workspace(keyed).get(prospect=prospect)
    assert (item.status, item.attempts) == ("pending", 1)

    sandbox.clear_faults("prospeo")
    EnrichmentItem.objects.for_workspace(keyed).filter(pk=item.pk).update(
        next_attempt_at=timezone.now()
    )
    assert waterfall.process_item(item.pk) == "verified"

    prospect.refresh_from_db()
    assert (prospect.email, prospect.status) == (truth["prospeo_email"], "verified")
    key = attempt_key(item, "email", "prospeo")
    closes = CreditEntry.objects.for_workspace(keyed).filter(kind__in=["settle", "release"])
    assert sorted(closes.values_list("idempotency_key", "kind")) == [
        (key, "release"),
        (f"{key}#2", "settle"),
    ]
    price = Decimal("0.036")
    assert ledger.in_flight(keyed.pk) == 0
    assert ledger.balance(keyed.pk) == Decimal("100") - price
    job.refresh_from_db()
    assert job.spent_credits == price


def test_a_job_refuses_unknown_providers_and_providers_without_a_key(keyed):
    with pytest.raises(bulk.JobRefused, match="nope"):
        bulk.estimate_job(keyed.pk, providers=["prospeo", "nope"])
    with pytest.raises(bulk.JobRefused):
        bulk.estimate_job(keyed.pk, providers=["hunter"])
    with pytest.raises(bulk.JobRefused):
        bulk.estimate_job(keyed.pk, fields=["salary"])


def test_another_workspaces_prospects_are_never_in_a_job(
    keyed, other_workspace, world, django_capture_on_commit_callbacks
):
    theirs = prospect_services.create_prospect(
        other_workspace, data={"first_name": "Paul", "last_name": "Martin", "company_name": "X"}
    )
    estimate = bulk.estimate_job(keyed.pk, prospect_ids=[theirs.pk])
    assert estimate.count == 0
