"""Many workers at once, on PostgreSQL: one claim per delivery attempt, one event per
transition, one job end however many workers settle its last items together."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from enrichment import crypto
from enrichment.engine.jobs import refresh_jobs
from enrichment.models import EnrichmentItem, EnrichmentJob
from enrichment.pipelines import waterfall
from enrichment.webhooks import delivery, events, signing
from enrichment.webhooks.models import EventType, WebhookDelivery, WebhookEndpoint, WebhookEvent
from tests.engine.test_ledger_concurrency import at_once
from tests.factories import ProspectFactory, WorkspaceFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks under concurrency need PostgreSQL (the PostgreSQL pass runs this)")


@pytest.fixture
def subscribed():
    workspace = WorkspaceFactory()
    WebhookEndpoint.objects.create(
        workspace=workspace,
        # Refused at connect time (the eager dispatch after commit tries it): nothing goes out.
        url="https://192.0.2.1/hooks",
        events=EventType.values,
        encrypted_secret=crypto.encrypt(signing.generate_secret()),
    )
    return workspace


def test_twenty_emitters_of_one_transition_record_one_event(subscribed):
    event = events.Event(type=EventType.JOB_COMPLETED, key="job.completed:1", data={"id": 1})
    results = at_once([lambda: events.emit(subscribed.pk, [event])] * 20)

    assert sorted(results) == [0] * 19 + [1]
    assert WebhookEvent.objects.for_workspace(subscribed).count() == 1
    assert WebhookDelivery.objects.for_workspace(subscribed).count() == 1


def test_twenty_workers_claiming_one_delivery_give_it_to_one(subscribed):
    event = events.Event(type=EventType.JOB_FAILED, key="job.failed:1", data={"id": 1})
    events.emit(subscribed.pk, [event])
    row = WebhookDelivery.objects.for_workspace(subscribed).get()
    assert row.attempts == 1 and row.error == "address_forbidden"
    WebhookDelivery.objects.for_workspace(subscribed).update(next_attempt_at=timezone.now())

    results = at_once([lambda: delivery.claim_delivery(row.pk)] * 20)

    assert sum(result is not None for result in results) == 1
    assert WebhookDelivery.objects.for_workspace(subscribed).get().attempts == 2


def test_workers_settling_a_job_together_announce_its_end_once(subscribed):
    job = EnrichmentJob.objects.create(
        workspace=subscribed, kind=EnrichmentJob.Kind.EMAIL, status=EnrichmentJob.Status.RUNNING
    )
    for _ in range(3):
        EnrichmentItem.objects.create(
            workspace=subscribed,
            job=job,
            prospect=ProspectFactory(workspace=subscribed),
            provider=waterfall.PIPELINE,
            status=EnrichmentItem.Status.DONE,
        )

    at_once([lambda: refresh_jobs([job.pk])] * 10)

    assert list(WebhookEvent.objects.for_workspace(subscribed).values_list("type", flat=True)) == [
        EventType.JOB_COMPLETED
    ]
