"""The email waterfall against the sandbox world: Prospeo, then LeadMagic, then FindyMail, each
knowing its own share of the people (the ground truth says which), with real money rules."""

from collections import Counter
from decimal import Decimal

import pytest
from django.utils import timezone

from enrichment import bulk
from enrichment.engine import ledger
from enrichment.engine.claims import LeaseLost
from enrichment.models import (
    CreditEntry,
    EnrichmentItem,
    EnrichmentJob,
    ProviderAttempt,
    ProviderCall,
    attempt_key,
)
from enrichment.pipelines import waterfall, waterfall_attempts, waterfall_steps
from enrichment.providers.finders import EMAIL_FINDERS
from prospects import services as prospect_services
from prospects.models import Prospect, Source
from tests.enrichment.conftest import FINDERS
from tests.sandbox.support import KEY


def import_world(workspace, world, limit=None):
    """The world's import rows as prospects, in the world's order: (prospect, truth, row)."""
    pairs = []
    rows = world.prospect_rows()[:limit]
    for row, data, truth in zip(rows, world.prospect_data(), world.truth_rows(), strict=False):
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
    email_ws, world, sandbox, django_capture_on_commit_callbacks
):
    # Two thirds of the world: the vendors' rate limits (5 requests/s) set the pace here.
    pairs = import_world(email_ws, world, limit=40)
    job = run_job(email_ws, django_capture_on_commit_callbacks)

    assert job.status in (EnrichmentJob.Status.COMPLETED, EnrichmentJob.Status.PARTIALLY_COMPLETED)
    assert job.total_items == len(pairs)
    sources = set()
    for prospect, truth, row in pairs:
        prospect.refresh_from_db()
        asked = set(
            ProviderAttempt.objects.for_workspace(email_ws)
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
    attempts = ProviderAttempt.objects.for_workspace(email_ws).exclude(call=None)
    for slug in FINDERS:
        assert calls_by_vendor[slug] == attempts.filter(provider=slug).count()


def test_money_adds_up_and_the_verified_badge_names_its_source(
    email_ws, world, django_capture_on_commit_callbacks
):
    import_world(email_ws, world, limit=25)
    job = run_job(email_ws, django_capture_on_commit_callbacks)

    spent = sum(
        ProviderCall.objects.for_workspace(email_ws).values_list("cost", flat=True), Decimal(0)
    )
    assert spent > 0
    assert ledger.spent_total(email_ws.pk) == spent
    assert ledger.balance(email_ws.pk) == Decimal("100") - spent
    assert ledger.in_flight(email_ws.pk) == 0
    job.refresh_from_db()
    assert job.spent_credits == spent
    assert job.estimated_credits >= spent


def test_running_an_item_again_asks_nobody_and_pays_nothing(
    email_ws, world, sandbox, django_capture_on_commit_callbacks
):
    import_world(email_ws, world, limit=8)
    run_job(email_ws, django_capture_on_commit_callbacks)
    calls, balance = len(sandbox.calls), ledger.balance(email_ws.pk)

    for item in EnrichmentItem.objects.for_workspace(email_ws):
        assert waterfall.process_item(item.pk) == "not-due"
        # Even a claim the sweeper would make (its lease gone) finds every answer kept.
        EnrichmentItem.objects.for_workspace(email_ws).filter(pk=item.pk).update(status="pending")
        waterfall.process_item(item.pk)

    assert len(sandbox.calls) == calls
    assert ledger.balance(email_ws.pk) == balance


def test_the_daily_cap_pauses_the_job_until_midnight_and_nothing_is_lost(
    email_ws, world, django_capture_on_commit_callbacks
):
    ledger.set_daily_cap(email_ws.pk, Decimal("0.20"))
    pairs = import_world(email_ws, world, limit=30)
    job = run_job(email_ws, django_capture_on_commit_callbacks)

    assert job.status == EnrichmentJob.Status.PAUSED
    assert job.pause_reason == "daily_cap"
    assert job.paused_until is not None
    assert ledger.spent_today(email_ws.pk) <= Decimal("0.20")
    waiting = EnrichmentItem.objects.for_workspace(email_ws).filter(status="pending")
    assert waiting.exists()
    assert all(item.next_attempt_at == job.paused_until for item in waiting)
    assert waiting.first().last_error.startswith("Plafond de dépenses du jour atteint")
    assert EnrichmentItem.objects.for_workspace(email_ws).count() == len(pairs)


def test_a_vendor_that_is_down_is_skipped_for_the_next_one(
    email_ws, world, sandbox, django_capture_on_commit_callbacks
):
    sandbox.set_faults("prospeo", error_rate=1.0, kinds=["500"])
    import_world(email_ws, world, limit=20)
    run_job(email_ws, django_capture_on_commit_callbacks)

    prospeo_calls = [c for c in sandbox.calls if c.vendor == "prospeo"]
    # The breaker opens after five failures in its window: later prospects skip Prospeo.
    assert 5 <= len(prospeo_calls) <= 6
    assert Prospect.objects.for_workspace(email_ws).filter(enrichment_source="leadmagic").exists()
    # The others say why Prospeo was not asked, not "no answer yet".
    results = Counter(
        ProviderAttempt.objects.for_workspace(email_ws)
        .filter(provider="prospeo")
        .values_list("result", flat=True)
    )
    assert results["temporary"] == len(prospeo_calls)
    assert results["skipped"] == 20 - len(prospeo_calls)
    assert results[""] == 0


def test_a_vendor_asked_again_after_a_passing_failure_pays_under_a_new_key(
    email_ws, world, sandbox, django_capture_on_commit_callbacks
):
    # Someone only Prospeo knows: while it answers 500 the item waits for a retry.
    index, truth = next(
        (i, t)
        for i, t in enumerate(world.truth_rows())
        if t["prospeo_email"] and not t["leadmagic_email"] and not t["findymail_email"]
    )
    prospect = prospect_services.create_prospect(email_ws, data=world.prospect_data()[index])
    sandbox.set_faults("prospeo", error_rate=1.0, kinds=["500"])
    job = run_job(email_ws, django_capture_on_commit_callbacks)
    item = EnrichmentItem.objects.for_workspace(email_ws).get(prospect=prospect)
    assert (item.status, item.attempts) == ("pending", 1)
    assert item.last_error == "Prospeo a répondu par une erreur (HTTP 500)"

    sandbox.clear_faults("prospeo")
    EnrichmentItem.objects.for_workspace(email_ws).filter(pk=item.pk).update(
        next_attempt_at=timezone.now()
    )
    assert waterfall.process_item(item.pk) == "verified"

    prospect.refresh_from_db()
    assert (prospect.email, prospect.status) == (truth["prospeo_email"], "verified")
    key = attempt_key(item, "email", "prospeo")
    closes = CreditEntry.objects.for_workspace(email_ws).filter(kind__in=["settle", "release"])
    assert sorted(closes.values_list("idempotency_key", "kind")) == [
        (key, "release"),
        (f"{key}#2", "settle"),
    ]
    price = Decimal("0.036")
    assert ledger.in_flight(email_ws.pk) == 0
    assert ledger.balance(email_ws.pk) == Decimal("100") - price
    job.refresh_from_db()
    assert job.spent_credits == price


def test_a_job_refuses_unknown_providers_and_providers_without_a_key(email_ws):
    with pytest.raises(bulk.JobRefused, match="nope"):
        bulk.estimate_job(email_ws.pk, providers=["prospeo", "nope"])
    with pytest.raises(bulk.JobRefused):
        bulk.estimate_job(email_ws.pk, providers=["hunter"])
    with pytest.raises(bulk.JobRefused):
        bulk.estimate_job(email_ws.pk, fields=["salary"])


def test_another_workspaces_prospects_are_never_in_a_job(
    email_ws, other_workspace, world, django_capture_on_commit_callbacks
):
    theirs = prospect_services.create_prospect(
        other_workspace, data={"first_name": "Paul", "last_name": "Martin", "company_name": "X"}
    )
    estimate = bulk.estimate_job(email_ws.pk, prospect_ids=[theirs.pk])
    assert estimate.count == 0


def test_a_second_job_buys_nothing_again_within_the_cache_period(
    email_ws, world, sandbox, django_capture_on_commit_callbacks, settings
):
    import_world(email_ws, world, limit=10)
    run_job(email_ws, django_capture_on_commit_callbacks)
    Prospect.objects.for_workspace(email_ws).update(status="not_verified")
    calls, balance = len(sandbox.calls), ledger.balance(email_ws.pk)

    second = run_job(email_ws, django_capture_on_commit_callbacks)

    assert len(sandbox.calls) == calls
    assert ledger.balance(email_ws.pk) == balance
    attempts = ProviderAttempt.objects.for_workspace(email_ws).filter(item__job=second)
    assert attempts.exists()
    assert set(attempts.exclude(result="not_asked").values_list("from_cache", flat=True)) == {True}
    # Misses are remembered too: nobody was asked again about a person nobody knew.
    assert attempts.filter(result="not_found").exists()

    settings.ENRICHMENT_CACHE_DAYS = 0
    Prospect.objects.for_workspace(email_ws).update(status="not_verified")
    run_job(email_ws, django_capture_on_commit_callbacks)
    assert len(sandbox.calls) > calls


def test_a_worker_that_lost_its_item_while_its_call_was_out_still_settles_the_money(
    email_ws, world
):
    (prospect, _truth, _row), *_ = [
        p for p in import_world(email_ws, world, limit=20) if p[1]["prospeo_email"]
    ]
    item = EnrichmentItem.objects.create(
        workspace=email_ws, prospect=prospect, provider=waterfall.PIPELINE
    )
    claimed = waterfall.claim_item(item.pk)
    attempt = waterfall_attempts.attempt_for(claimed, "prospeo", "email")
    reply = waterfall_steps.ask_with_backoff(
        claimed,
        EMAIL_FINDERS["prospeo"],
        waterfall.person_of(claimed),
        api_key=KEY,
        key=attempt.idempotency_key,
    )
    assert ledger.in_flight(email_ws.pk) > 0
    # The answer was slow: the lease ran out and another worker took the item over.
    EnrichmentItem.objects.for_workspace(email_ws).filter(pk=item.pk).update(
        next_attempt_at=timezone.now()
    )
    assert waterfall.claim_item(item.pk) is not None

    with pytest.raises(LeaseLost):
        waterfall_steps.record_reply(claimed, attempt, reply)

    assert ledger.in_flight(email_ws.pk) == 0
    assert ledger.spent_total(email_ws.pk) == reply.cost > 0
    attempt.refresh_from_db()
    assert attempt.result == ""  # the item's new holder asks again, under a new ledger key
    assert ledger.open_key(email_ws.pk, attempt.idempotency_key) != attempt.idempotency_key


def test_a_finished_job_cannot_be_cancelled(email_ws, world, django_capture_on_commit_callbacks):
    import_world(email_ws, world, limit=3)
    job = run_job(email_ws, django_capture_on_commit_callbacks)
    assert job.status in (EnrichmentJob.Status.COMPLETED, EnrichmentJob.Status.PARTIALLY_COMPLETED)
    with pytest.raises(bulk.JobRefused):
        bulk.cancel_job(email_ws, job.pk)
    job.refresh_from_db()
    assert job.status != EnrichmentJob.Status.CANCELLED


def test_at_most_is_rounded_up_to_the_cent():
    estimate = bulk.Estimate(
        prospect_ids=[1, 2, 3],
        providers=["prospeo"],
        per_prospect=Decimal("0.058"),
        subtotal=Decimal("0.174"),
    )
    assert estimate.most == Decimal("0.18")
