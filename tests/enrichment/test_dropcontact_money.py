"""Dropcontact's money in the workspace's credit ledger: a batch's most is reserved before it is
sent, settled to what Dropcontact bills (a credit per record that came back with an email) when
its answer is applied, given back when it fails; the daily cap keeps a batch from going out
until the next Paris day. HTTP is replayed by `responses`."""

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
import responses
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from enrichment import services, sweeper
from enrichment.engine import ledger
from enrichment.engine.money import PARIS, paris_day
from enrichment.models import CreditEntry, EnrichmentItem, EnrichmentJob, ProviderBatch
from enrichment.pipelines import dropcontact as pipeline
from prospects.models import Prospect
from tests.enrichment.test_cost_dashboard import COSTS, row
from tests.enrichment.test_dropcontact_pipeline import (
    POLL_URL,
    SUBMIT_URL,
    make_due,
    record,
    submit_ok,
    submitted_item_ids,
)
from tests.factories import ProspectFactory

KEY = "dc-secret-key-1234"
EACH = Decimal("0.048")  # the registry's price of a record that comes back with an email


@pytest.fixture(autouse=True)
def _no_waiting(settings):
    settings.DROPCONTACT_BATCH_WINDOW_SECONDS = 0
    settings.DROPCONTACT_POLL_INTERVAL_SECONDS = 0


def prospects(workspace, count: int) -> list[Prospect]:
    return ProspectFactory.create_batch(count, workspace=workspace, status=Prospect.Status.NEW)


def answer(http, *, found: int) -> None:
    """Polls answer every record sent, the first `found` of them with an address."""

    def callback(request):
        _ids, payload = submitted_item_ids(http)
        records = []
        for n, sent in enumerate(payload["data"]):
            address = {"email": f"p{n}@acme-conseil.example", "qualification": "nominatif@pro"}
            email = [address] if n < found else []
            records.append(record(custom_fields=sent["custom_fields"], email=email))
        return 200, {}, json.dumps({"success": True, "error": False, "data": records})

    http.add_callback(responses.GET, POLL_URL, callback=callback)


def send_and_apply(workspace, http, *, count: int, found: int) -> ProviderBatch:
    """Queue `count` prospects, send them as one batch, and apply an answer finding `found`."""
    services.queue_enrichment(workspace.pk, [p.pk for p in prospects(workspace, count)])
    submit_ok(http)
    answer(http, found=found)
    batch = pipeline.claim_batch(workspace.pk, api_key_present=True)
    assert pipeline.process_batch(batch.pk, api_key=KEY) == "submitted"
    make_due(workspace)
    assert pipeline.process_batch(batch.pk, api_key=KEY) == "applied"
    return batch


def entries_of(workspace, batch) -> list[tuple[str, Decimal]]:
    rows = CreditEntry.objects.for_workspace(workspace).filter(
        idempotency_key=f"batch:{batch.pk}:dropcontact", provider="dropcontact"
    )
    return list(rows.order_by("id").values_list("kind", "amount"))


def assert_entries_add_up(workspace) -> None:
    total = CreditEntry.objects.for_workspace(workspace).aggregate(total=Sum("amount"))["total"]
    assert total == ledger.balance(workspace.pk)


def sweep(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sweeper.dispatch_due_work()


def posts(http) -> list[int]:
    """How many records each submit carried."""
    return [
        len(json.loads(c.request.body)["data"]) for c in http.calls if c.request.method == "POST"
    ]


def test_a_batch_reserves_its_most_before_it_is_sent_and_settles_to_the_emails_found(keyed, http):
    held_when_sent = []

    def submit(request):
        held_when_sent.append(ledger.in_flight(keyed.pk))
        return 200, {}, json.dumps({"success": True, "request_id": "r-1", "credits_left": 9})

    http.add_callback(responses.POST, SUBMIT_URL, callback=submit)
    answer(http, found=2)
    services.queue_enrichment(keyed.pk, [p.pk for p in prospects(keyed, 3)])
    batch = pipeline.claim_batch(keyed.pk, api_key_present=True)
    assert pipeline.process_batch(batch.pk, api_key=KEY) == "submitted"
    make_due(keyed)
    assert pipeline.process_batch(batch.pk, api_key=KEY) == "applied"

    assert held_when_sent == [3 * EACH]
    assert entries_of(keyed, batch) == [("reserve", -3 * EACH), ("settle", EACH)]
    assert ledger.balance(keyed.pk) == Decimal("100") - 2 * EACH
    assert ledger.spent_by_provider(keyed.pk) == {"dropcontact": 2 * EACH}
    assert ledger.in_flight(keyed.pk) == 0
    assert_entries_add_up(keyed)


def test_applying_the_same_answer_again_settles_nothing_twice(keyed, http):
    batch = send_and_apply(keyed, http, count=3, found=2)
    balance = ledger.balance(keyed.pk)
    # The apply step run again, as by a worker that did it on a stale copy of the batch.
    ProviderBatch.objects.for_workspace(keyed).filter(pk=batch.pk).update(
        status=ProviderBatch.Status.POLLING
    )
    EnrichmentItem.objects.for_workspace(keyed).filter(batch=batch).update(status="submitted")
    make_due(keyed)
    assert pipeline.process_batch(batch.pk, api_key=KEY) == "applied"

    assert entries_of(keyed, batch) == [("reserve", -3 * EACH), ("settle", EACH)]
    assert ledger.balance(keyed.pk) == balance
    assert_entries_add_up(keyed)


def test_a_batch_that_fails_gives_its_reservation_back(keyed, http):
    http.add(responses.POST, SUBMIT_URL, status=500, json={"error": True})
    services.queue_enrichment(keyed.pk, [p.pk for p in prospects(keyed, 2)])
    batch = pipeline.claim_batch(keyed.pk, api_key_present=True)

    assert pipeline.process_batch(batch.pk, api_key=KEY).startswith("failed")

    assert entries_of(keyed, batch) == [("reserve", -2 * EACH), ("release", 2 * EACH)]
    assert ledger.balance(keyed.pk) == Decimal("100")
    assert ledger.spent_today(keyed.pk) == 0
    assert_entries_add_up(keyed)


def test_the_daily_cap_keeps_a_batch_from_being_sent_until_the_next_paris_day(
    keyed, http, django_capture_on_commit_callbacks
):
    ledger.set_daily_cap(keyed.pk, "0.10")
    ledger.reserve(keyed.pk, "0.10", key="earlier-call", provider="prospeo")
    ledger.settle(keyed.pk, key="earlier-call", cost="0.10")
    prospects(keyed, 3)
    submit_ok(http)
    with django_capture_on_commit_callbacks(execute=True):
        job = services.queue_backfill(keyed)
    sweep(django_capture_on_commit_callbacks)

    assert posts(http) == []
    midnight = ledger.next_midnight(timezone.now())
    job.refresh_from_db()
    assert (job.status, job.pause_reason, job.paused_until) == ("paused", "daily_cap", midnight)
    items = EnrichmentItem.objects.for_workspace(keyed).filter(job=job)
    assert {(i.status, i.outcome, i.next_attempt_at) for i in items} == {
        ("pending", "daily_cap", midnight)
    }
    assert items.first().last_error == (
        "Plafond de dépenses du jour atteint : reprise automatique le "
        f"{timezone.localtime(midnight, PARIS):%d/%m/%Y} 00:00"
    )
    assert not ProviderBatch.objects.for_workspace(keyed).exists()
    assert ledger.spent_today(keyed.pk) == Decimal("0.10")

    # Midnight in Paris: the day's spending becomes yesterday's and the pause's time has come.
    yesterday = paris_day(timezone.now()) - dt.timedelta(days=1)
    CreditEntry.objects.for_workspace(keyed).update(day=yesterday)
    past = timezone.now() - dt.timedelta(seconds=1)
    EnrichmentJob.objects.for_workspace(keyed).filter(pk=job.pk).update(paused_until=past)
    items.update(next_attempt_at=past)
    sweep(django_capture_on_commit_callbacks)

    assert posts(http) == [2]  # what today's cap allows: 2 × 0,048 €
    job.refresh_from_db()
    assert job.status == "running"
    assert ledger.spent_today(keyed.pk) == 2 * EACH
    assert_entries_add_up(keyed)


def test_a_batch_too_big_for_the_cap_waits_for_those_in_flight_to_give_back_their_misses(
    keyed, http, django_capture_on_commit_callbacks, settings
):
    settings.DROPCONTACT_POLL_INTERVAL_SECONDS = 3600
    ledger.set_daily_cap(keyed.pk, "0.10")
    submit_ok(http)
    answer(http, found=1)
    with django_capture_on_commit_callbacks(execute=True):
        services.queue_enrichment(keyed.pk, [p.pk for p in prospects(keyed, 3)])

    # Two records fit under the cap; the third waits, not paused, for that batch's answer.
    assert posts(http) == [2]
    waiting = EnrichmentItem.objects.for_workspace(keyed).get(status="pending")
    assert waiting.outcome == ""
    make_due(keyed)
    sweep(django_capture_on_commit_callbacks)

    # One of the two had no address: its credit came back, and the third record went out.
    assert posts(http) == [2, 1]
    assert ledger.spent_today(keyed.pk) <= Decimal("0.10")
    assert_entries_add_up(keyed)


def test_the_cost_page_and_the_credits_command_show_dropcontacts_spending(
    keyed, http, member_client
):
    send_and_apply(keyed, http, count=3, found=2)

    out = io.StringIO()
    call_command("credits", "--workspace", keyed.slug, "--json", stdout=out)
    figures = json.loads(out.getvalue().splitlines()[-1])
    assert figures["spent_by_provider"] == {"dropcontact": 0.096}
    assert figures["calls_by_provider"] == {"dropcontact": 2}
    assert figures["spent_total"] == figures["spent_today"] == 0.096
    assert figures["balance"] == 99.904

    page = member_client.get(COSTS)
    assert row(page, "data-provider", "dropcontact") == "Dropcontact 2 3 2 66,7 % 0,10 € 0,05 €"


def unreserved_batch(workspace, count: int) -> ProviderBatch:
    """A batch claimed before batches were reserved with their claim (sent or not yet)."""
    services.queue_enrichment(workspace.pk, [p.pk for p in prospects(workspace, count)])
    batch = ProviderBatch.objects.create(workspace=workspace, provider="dropcontact", size=count)
    EnrichmentItem.objects.for_workspace(workspace).update(status="submitted", batch=batch)
    return batch


def test_a_batch_claimed_without_a_reservation_is_not_sent_past_the_cap(keyed, http):
    ledger.set_daily_cap(keyed.pk, "0")
    batch = unreserved_batch(keyed, 2)

    assert pipeline.process_batch(batch.pk, api_key=KEY) == "requeued"

    assert posts(http) == []
    batch.refresh_from_db()
    assert (batch.status, batch.outcome) == ("failed", "daily_cap")
    items = EnrichmentItem.objects.for_workspace(keyed)
    assert set(items.values_list("status", "attempts")) == {("pending", 0)}
    assert not CreditEntry.objects.for_workspace(keyed).exclude(kind="top_up").exists()


def test_a_batch_sent_before_reservations_existed_is_still_applied(keyed, http):
    batch = unreserved_batch(keyed, 2)
    ProviderBatch.objects.for_workspace(keyed).filter(pk=batch.pk).update(
        status=ProviderBatch.Status.POLLING,
        request_id="r-1",
        poll_deadline=timezone.now() + dt.timedelta(hours=1),
    )
    items = EnrichmentItem.objects.for_workspace(keyed).order_by("id")
    data = [record(custom_fields={"sourcier_item": str(item.pk)}) for item in items]
    http.add(responses.GET, POLL_URL, json={"success": True, "data": data})

    assert pipeline.process_batch(batch.pk, api_key=KEY) == "applied"

    assert set(items.values_list("status", flat=True)) == {"done"}
    assert not CreditEntry.objects.for_workspace(keyed).exclude(kind="top_up").exists()


def test_a_top_up_sends_the_work_that_waited_for_credit_at_once(
    workspace, http, django_capture_on_commit_callbacks
):
    """Not a quarter of an hour later: the command says so, the job runs again, and the next
    sweep sends the batch."""
    from enrichment import credentials

    credentials.set_api_key(workspace, "dropcontact", KEY)
    prospects(workspace, 3)
    submit_ok(http)
    with django_capture_on_commit_callbacks(execute=True):
        job = services.queue_backfill(workspace)
    sweep(django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert (job.status, job.pause_reason) == ("paused", "insufficient_credits")
    assert posts(http) == []

    out = io.StringIO()
    call_command("credits", "--workspace", workspace.slug, "--top-up", "5", stdout=out)
    assert "3 enrichissements qui attendaient des crédits repartent maintenant." in out.getvalue()
    job.refresh_from_db()
    assert (job.status, job.pause_reason, job.paused_until) == ("running", "", None)
    items = EnrichmentItem.objects.for_workspace(workspace).filter(job=job)
    assert {(i.status, i.outcome) for i in items} == {("pending", "")}
    sweep(django_capture_on_commit_callbacks)
    assert posts(http) == [3]
