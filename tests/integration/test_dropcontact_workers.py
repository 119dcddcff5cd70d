"""Dropcontact end to end: real workers, PostgreSQL, Redis and the sandbox's ground truth."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from enrichment import credentials, sweeper
from enrichment.engine import ledger
from enrichment.engine.money import paris_day
from enrichment.models import CreditEntry, EnrichmentItem, ProviderAttempt, ProviderBatch
from enrichment.providers.registry import get_provider
from prospects import services as prospect_services
from prospects.models import Prospect, Source

from .conftest import settle

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

EXPECTED_STATUS = {
    "verified": Prospect.Status.VERIFIED,
    "catch_all": Prospect.Status.NOT_VERIFIED,
    "mailbox_gone": Prospect.Status.NOT_VERIFIED,
    "no_mail": Prospect.Status.NOT_VERIFIED,
    "do_not_contact": Prospect.Status.NOT_VERIFIED,
}


def import_people(workspace, people) -> dict[int, object]:
    """Create prospects as an import would (names + company + website); id -> true person."""
    created = {}
    for person in people:
        try:
            prospect = prospect_services.create_prospect(
                workspace,
                data={
                    "first_name": person.first_name,
                    "last_name": person.last_name,
                    "company_name": person.company.name,
                    "company_website": person.company.website,
                },
                source=Source.IMPORT,
            )
        except prospect_services.ProspectRejected:
            continue  # two people with one name at one company: the import keeps the first
        created[prospect.pk] = person
    return created


def assert_matches_ground_truth(workspace, created) -> None:
    prospects = Prospect.objects.for_workspace(workspace).in_bulk(list(created))
    wrong = []
    for pk, person in created.items():
        prospect = prospects[pk]
        expected = EXPECTED_STATUS[person.expected_verdict]
        if prospect.status != expected:
            wrong.append((person.full_name, person.expected_verdict, prospect.status))
        if person.expected_verdict == "verified" and prospect.email != person.true_email:
            wrong.append((person.full_name, "email", prospect.email, person.true_email))
        if person.expected_verdict == "do_not_contact" and not prospect_services.find_suppression(
            workspace, email=person.true_email or person.pattern_email
        ):
            wrong.append((person.full_name, "not suppressed"))
    assert not wrong, wrong[:10]


def dropcontact_posts(sandbox) -> list:
    return [
        c
        for c in sandbox.calls
        if c.vendor == "dropcontact" and c.endpoint.endswith("/enrich/all") and c.status == 200
    ]


def people_for(sandbox, count: int):
    people = sandbox.world.people
    assert len(people) >= count, "the sandbox world is too small for this test"
    return people[:count]


def assert_money_settled(workspace) -> None:
    """Every batch's reservation closed; Dropcontact paid once per record that came back
    with an address; the ledger's entries add up to its balance."""
    found = (
        ProviderAttempt.objects.for_workspace(workspace)
        .filter(provider="dropcontact", result="found")
        .count()
    )
    assert ledger.in_flight(workspace.pk) == 0
    each = get_provider("dropcontact").cost_per_success
    assert ledger.spent_by_provider(workspace.pk)["dropcontact"] == each * found
    total = CreditEntry.objects.for_workspace(workspace).aggregate(total=Sum("amount"))["total"]
    assert total == ledger.balance(workspace.pk) == Decimal("100") - each * found


@pytest.fixture
def keyed(workspace):
    credentials.set_api_key(workspace, "dropcontact", "sandbox-key")
    ledger.top_up(workspace.pk, Decimal("100"), key="test-top-up")
    return workspace


def test_300_imported_prospects_end_as_the_ground_truth_predicts(keyed, sandbox, workers_factory):
    workers = workers_factory()
    workers.start(concurrency=4)
    created = import_people(keyed, people_for(sandbox, 300))
    assert len(created) >= 290
    settle(keyed.pk, expected=len(created), timeout=120, workers=workers)
    assert_matches_ground_truth(keyed, created)
    # Each prospect was submitted exactly once, in batches of at most 250.
    posts = dropcontact_posts(sandbox)
    assert sum(c.records for c in posts) == len(created)
    assert max(c.records for c in posts) <= 250
    assert sandbox.stats()["credits_used"]["dropcontact"]["sandbox-key"] == len(created)
    assert_money_settled(keyed)


def test_with_30_percent_faults_everything_still_settles_correctly(keyed, sandbox, workers_factory):
    sandbox.set_faults(
        "dropcontact",
        error_rate=0.3,
        kinds=["500", "429", "timeout", "reset", "malformed", "html"],
        retry_after=1,
        hang_seconds=3,
    )
    # More retries than production's three: this test is about settling correctly, and a
    # 30 % fault rate would otherwise send a few unlucky batches to review.
    workers = workers_factory(
        SOURCIER_DROPCONTACT_BATCH_SIZE="10", SOURCIER_RETRY_DELAYS="1,1,1,1,1,1,1,1"
    )
    workers.start(concurrency=4)
    created = import_people(keyed, people_for(sandbox, 300))
    settle(keyed.pk, expected=len(created), timeout=240, workers=workers)
    assert not EnrichmentItem.objects.for_workspace(keyed).filter(status="needs_review").exists()
    assert_matches_ground_truth(keyed, created)
    assert_money_settled(keyed)
    stats = sandbox.stats()["counts"]["dropcontact"]
    faults = sum(n for endpoint in stats.values() for o, n in endpoint.items() if "fault" in o)
    # About 30 % of 60+ calls: the run really went through faults of several kinds.
    assert faults >= 8, stats
    assert len({o for endpoint in stats.values() for o in endpoint if "fault" in o}) >= 3


def test_a_worker_killed_mid_batch_loses_nothing_and_enriches_nobody_twice(
    keyed, sandbox, workers_factory
):
    sandbox.ready_after = 4.0
    for vendor in sandbox.vendors.values():
        vendor.ready_after = 4.0
    workers = workers_factory(SOURCIER_DROPCONTACT_BATCH_SIZE="25")
    victim = workers.start(concurrency=3)
    created = import_people(keyed, people_for(sandbox, 300))
    batches_expected = -(-len(created) // 25)
    # Wait until every batch has been submitted and its request id recorded, so the kill lands
    # while batches are being polled. (A kill between Dropcontact's answer to a submit and its
    # recording would resend that batch: the at-least-once window the README documents.)
    batches = ProviderBatch.objects.for_workspace(keyed)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        sweeper.dispatch_due_work()
        if (
            len(dropcontact_posts(sandbox)) >= batches_expected
            and not batches.filter(status=ProviderBatch.Status.SENDING).exists()
        ):
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"not every batch was submitted within 60 s\n{workers.logs()}")
    polling = batches.filter(status=ProviderBatch.Status.POLLING).count()
    assert polling > 0, workers.logs()
    workers.kill(victim)
    workers.start(concurrency=3)
    settle(keyed.pk, expected=len(created), timeout=120, workers=workers)
    assert_matches_ground_truth(keyed, created)
    posts = dropcontact_posts(sandbox)
    assert sum(c.records for c in posts) == len(created)
    assert sandbox.stats()["credits_used"]["dropcontact"]["sandbox-key"] == len(created)
    assert_money_settled(keyed)


def test_never_more_than_10_concurrent_dropcontact_calls_per_workspace(
    keyed, sandbox, workers_factory
):
    sandbox.set_faults("dropcontact", latency_ms=200)
    workers = workers_factory(SOURCIER_DROPCONTACT_BATCH_SIZE="5")
    for _ in range(3):
        workers.start(concurrency=6)
    created = import_people(keyed, people_for(sandbox, 300))
    settle(keyed.pk, expected=len(created), timeout=180, workers=workers)
    high_water = sandbox.stats()["high_water"]["dropcontact"]["sandbox-key"]
    assert high_water <= 10
    # 18 processes competed for the slots: calls really overlapped (how many depends on the
    # machine's load; the limit itself is the assertion above).
    assert high_water >= 3, high_water
    assert_matches_ground_truth(keyed, created)


def test_a_lower_configured_limit_holds_just_the_same(keyed, sandbox, workers_factory):
    # With the same contention as above (which overlaps at least 3 calls), a limit of 2 must
    # cap the sandbox's high-water mark at 2: the cap comes from the limiter, not from luck.
    sandbox.set_faults("dropcontact", latency_ms=200)
    workers = workers_factory(
        SOURCIER_DROPCONTACT_BATCH_SIZE="5", SOURCIER_PROVIDER_CONCURRENCY="2"
    )
    for _ in range(3):
        workers.start(concurrency=6)
    created = import_people(keyed, people_for(sandbox, 100))
    settle(keyed.pk, expected=len(created), timeout=180, workers=workers)
    assert sandbox.stats()["high_water"]["dropcontact"]["sandbox-key"] <= 2
    assert_matches_ground_truth(keyed, created)


def wait_for_the_pause(workspace, workers, *, timeout: float = 60) -> None:
    """Sweep until no batch is in flight and every queued item waits for the cap's reset."""
    items = EnrichmentItem.objects.for_workspace(workspace)
    live = ProviderBatch.objects.for_workspace(workspace).filter(
        status__in=ProviderBatch.LIVE_STATUSES
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sweeper.dispatch_due_work()
        pending = items.filter(status="pending")
        paused = pending.filter(outcome="daily_cap", next_attempt_at__gt=timezone.now())
        if (
            not live.exists()
            and not items.filter(status="submitted").exists()
            and pending.exists()
            and not pending.exclude(pk__in=paused).exists()
        ):
            return
        time.sleep(0.5)
    pytest.fail(f"Dropcontact did not pause within {timeout:.0f} s\n{workers.logs()}")


def test_the_daily_cap_holds_under_several_workers_and_dropcontact_goes_on_the_next_day(
    keyed, sandbox, workers_factory
):
    cap = Decimal("1.00")  # 20 records' most: a few batches of 10, then the cap
    ledger.set_daily_cap(keyed.pk, cap)
    workers = workers_factory(SOURCIER_DROPCONTACT_BATCH_SIZE="10")
    for _ in range(3):
        workers.start(concurrency=2)
    created = import_people(keyed, people_for(sandbox, 80))
    wait_for_the_pause(keyed, workers)

    spent = ledger.spent_today(keyed.pk)
    # Never past the cap, and near it: less than one more record's most was left.
    assert cap - get_provider("dropcontact").max_cost < spent <= cap
    assert ledger.in_flight(keyed.pk) == 0
    first_day = sum(c.records for c in dropcontact_posts(sandbox))
    assert 0 < first_day < len(created)

    # Midnight in Paris: the day's spending becomes yesterday's, the pause's time has come.
    yesterday = paris_day(timezone.now()) - dt.timedelta(days=1)
    CreditEntry.objects.for_workspace(keyed).update(day=yesterday)
    past = timezone.now() - dt.timedelta(seconds=1)
    EnrichmentItem.objects.for_workspace(keyed).filter(status="pending").update(
        next_attempt_at=past
    )
    wait_for_the_pause(keyed, workers)
    assert cap - get_provider("dropcontact").max_cost < ledger.spent_today(keyed.pk) <= cap
    assert sum(c.records for c in dropcontact_posts(sandbox)) > first_day

    # The cap lifted, everything else goes, each prospect sent once and paid once.
    ledger.set_daily_cap(keyed.pk, None)
    EnrichmentItem.objects.for_workspace(keyed).filter(status="pending").update(
        next_attempt_at=past
    )
    settle(keyed.pk, expected=len(created), timeout=120, workers=workers)
    assert_matches_ground_truth(keyed, created)
    assert sum(c.records for c in dropcontact_posts(sandbox)) == len(created)
    assert_money_settled(keyed)
