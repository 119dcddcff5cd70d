"""Events are recorded once per transition, in the transaction that makes it, for the
endpoints subscribed to them, and their payloads stay thin."""

import json

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from enrichment import bulk
from enrichment.engine import retry
from enrichment.engine.jobs import refresh_jobs
from enrichment.models import EnrichmentItem, EnrichmentJob
from enrichment.pipelines import waterfall
from enrichment.webhooks import events, services
from enrichment.webhooks.models import EventType, WebhookDelivery, WebhookEvent
from prospects.models import Prospect
from tests.enrichment.conftest import _server, email_ws, sandbox, world  # noqa: F401
from tests.enrichment.test_waterfall import import_world, run_job
from tests.factories import ProspectFactory

from .conftest import emit_one

pytestmark = pytest.mark.django_db
Item = EnrichmentItem.Status
Job = EnrichmentJob.Status


def recorded(workspace, event_type=None):
    rows = WebhookEvent.objects.for_workspace(workspace)
    if event_type:
        rows = rows.filter(type=event_type)
    return list(rows)


def job_with_items(workspace, statuses, **fields) -> EnrichmentJob:
    job = EnrichmentJob.objects.create(
        workspace=workspace, kind=EnrichmentJob.Kind.EMAIL, status=Job.RUNNING, **fields
    )
    for status in statuses:
        EnrichmentItem.objects.create(
            workspace=workspace,
            job=job,
            prospect=ProspectFactory(workspace=workspace),
            provider=waterfall.PIPELINE,
            status=status,
        )
    return job


@pytest.mark.parametrize(
    ("statuses", "event_type"),
    [
        ([Item.DONE, Item.DONE], EventType.JOB_COMPLETED),
        ([Item.DONE, Item.NEEDS_REVIEW], EventType.JOB_PARTIALLY_COMPLETED),
        ([Item.NEEDS_REVIEW], EventType.JOB_FAILED),
    ],
)
def test_a_job_that_ends_is_announced_once(workspace, endpoint, statuses, event_type):
    job = job_with_items(workspace, statuses)

    refresh_jobs([job.pk])
    refresh_jobs([job.pk])  # a second worker settling the same job

    (event,) = recorded(workspace)
    assert event.type == event_type
    data = json.loads(event.payload)["data"]
    assert data["id"] == job.pk and data["total_items"] == len(statuses)
    assert data["links"]["self"] == f"/api/v1/enrichment-jobs/{job.pk}"
    assert WebhookDelivery.objects.for_workspace(workspace).count() == 1


def test_a_running_job_announces_nothing(workspace, endpoint):
    job = job_with_items(workspace, [Item.DONE, Item.PENDING])
    refresh_jobs([job.pk])
    assert recorded(workspace) == []


def test_a_cancelled_job_is_announced_once(workspace, endpoint):
    job = job_with_items(workspace, [Item.PENDING, Item.PENDING])

    bulk.cancel_job(workspace, job.pk)
    with pytest.raises(bulk.JobRefused):
        bulk.cancel_job(workspace, job.pk)
    refresh_jobs([job.pk])

    assert [e.type for e in recorded(workspace)] == [EventType.JOB_CANCELLED]


def test_a_paused_job_is_announced_once_per_pause(workspace, endpoint):
    job = job_with_items(workspace, [Item.SUBMITTED, Item.PENDING])
    item = EnrichmentItem.objects.for_workspace(workspace).filter(status=Item.SUBMITTED).get()
    midnight = timezone.now() + timezone.timedelta(hours=3)

    waterfall.pause(item, "daily_cap", resume_at=midnight)
    assert bulk.resume_paused_jobs(now=midnight) == 1
    EnrichmentItem.objects.for_workspace(workspace).filter(pk=item.pk).update(status=Item.SUBMITTED)
    waterfall.pause(item, "daily_cap", resume_at=midnight + timezone.timedelta(days=1))

    paused = recorded(workspace, EventType.JOB_PAUSED)
    assert len(paused) == 2
    data = json.loads(paused[0].payload)["data"]
    assert data["id"] == job.pk and data["pause_reason"] == "daily_cap"


def test_a_prospect_that_needs_review_is_announced_once(workspace, endpoint, settings):
    settings.ENRICHMENT_RETRY_DELAYS = [60]
    prospect = ProspectFactory(workspace=workspace, status=Prospect.Status.ENRICHING)
    item = EnrichmentItem.objects.create(
        workspace=workspace, prospect=prospect, provider="dropcontact", status=Item.SUBMITTED
    )
    item.attempts = 1

    retry.fail_items(workspace.pk, [item], "http_5xx", provider="dropcontact", now=timezone.now())
    # A late worker replaying the same failure: the prospect is no longer being enriched.
    retry.fail_items(workspace.pk, [item], "http_5xx", provider="dropcontact", now=timezone.now())

    (event,) = recorded(workspace)
    assert event.type == EventType.PROSPECT_NEEDS_REVIEW
    assert json.loads(event.payload)["data"]["id"] == prospect.pk


def test_nothing_is_recorded_without_a_subscribed_endpoint(workspace, other_workspace, receiver):
    services.create_endpoint(other_workspace, url=receiver.url, events=EventType.values)
    services.create_endpoint(workspace, url=receiver.url, events=[EventType.JOB_FAILED])
    job = job_with_items(workspace, [Item.DONE])

    refresh_jobs([job.pk])

    assert recorded(workspace) == [] and recorded(other_workspace) == []


def test_each_subscribed_endpoint_gets_one_delivery(workspace, receiver):
    services.create_endpoint(workspace, url=receiver.url, events=[EventType.JOB_COMPLETED])
    services.create_endpoint(workspace, url=receiver.url + "/2", events=EventType.values)
    services.create_endpoint(workspace, url=receiver.url + "/3", events=[EventType.JOB_FAILED])

    assert len(emit_one(workspace, "k:1")) == 2
    assert emit_one(workspace, "k:1") and len(recorded(workspace)) == 1
    assert WebhookDelivery.objects.for_workspace(workspace).count() == 2


def test_a_contact_found_by_discovery_can_be_announced(workspace, endpoint):
    events.emit_contact_found(workspace.pk, contact_id=7, company_id=3, verdict="verified")
    events.emit_contact_found(workspace.pk, contact_id=7, company_id=3, verdict="verified")

    (event,) = recorded(workspace)
    assert event.type == EventType.DISCOVERY_CONTACT_FOUND
    assert json.loads(event.payload)["data"]["id"] == 7


def test_payloads_are_thin(workspace):
    job = EnrichmentJob(pk=10**12, workspace=workspace, kind="waterfall", status=Job.PAUSED)
    job.pause_reason = "x" * 32
    prospect = ProspectFactory.build(pk=10**12, workspace=workspace, status="verified")
    for event in (
        events.job_event(job),
        events.Event("prospect.verified", "k", events.prospect_data(prospect)),
    ):
        assert len(events.body(event).encode()) < 2_000
    with pytest.raises(ValueError):
        events.body(events.Event("job.failed", "k", {"blob": "x" * 20_001}))


def test_a_waterfall_job_tells_the_receiver_each_verified_prospect_and_its_end(
    email_ws,  # noqa: F811 (the fixture imported above)
    world,  # noqa: F811
    sandbox,  # noqa: F811
    receiver,
    django_capture_on_commit_callbacks,
):
    _endpoint, secret = services.create_endpoint(
        email_ws, url=receiver.url, events=EventType.values
    )
    import_world(email_ws, world, limit=8)

    job = run_job(email_ws, django_capture_on_commit_callbacks)

    verified = Prospect.objects.for_workspace(email_ws).filter(status=Prospect.Status.VERIFIED)
    assert verified.count() >= 1
    told = [json.loads(r["body"]) for r in receiver.requests]
    for request in receiver.requests:
        Webhook(secret).verify(request["body"], request["headers"])
    assert sorted(m["data"]["id"] for m in told if m["type"] == "prospect.verified") == sorted(
        verified.values_list("pk", flat=True)
    )
    ends = [m for m in told if m["type"].startswith("job.")]
    assert [(m["type"], m["data"]["id"]) for m in ends] == [(f"job.{job.status}", job.pk)]
    assert set(
        WebhookDelivery.objects.for_workspace(email_ws).values_list("status", flat=True)
    ) == {WebhookDelivery.Status.DELIVERED}
