"""Two workers and one batch: a worker whose lease expired must not undo its successor's work.

The interleaving is driven step by step in one process (no timing): worker A claims a step, its
lease runs out, worker B claims the same step and finishes the batch, then A tries every write
it could still make. Each must raise LeaseLost and leave the database exactly as B left it.
"""

import datetime as dt

import pytest
import responses
from django.utils import timezone

from enrichment import services
from enrichment.models import (
    EnrichmentItem,
    EnrichmentJob,
    ProviderBatch,
    ProviderCall,
    ProviderCredential,
)
from enrichment.pipelines import dropcontact as pipeline
from enrichment.providers import dropcontact
from enrichment.providers.base import ErrorKind, ProviderError
from prospects.models import FieldProvenance, Prospect, SuppressionEntry
from tests.enrichment.test_dropcontact_pipeline import (
    SUBMIT_URL,
    echo_ready,
    record,
    submit_ok,
)
from tests.samples import sample_text

KEY = "dc-secret-key-1234"


@pytest.fixture
def queued(keyed):
    """Two prospects queued for Dropcontact, claimed into one batch nobody has worked on."""
    prospects = [
        Prospect.objects.create(workspace=keyed, first_name="Éloïse", last_name="Lefèvre"),
        Prospect.objects.create(workspace=keyed, first_name="Jules", last_name="Moreau"),
    ]
    services.queue_enrichment(keyed.pk, [p.pk for p in prospects])
    return pipeline.claim_batch(keyed.pk, api_key_present=True)


def claimed_items(batch):
    """What `run_step` loads right after its claim: the batch's items in flight."""
    return list(
        EnrichmentItem.objects.for_workspace(batch.workspace_id)
        .filter(batch=batch, status="submitted")
        .select_related("prospect__company", "prospect__workspace")
        .order_by("id")
    )


def expire_lease(batch):
    ProviderBatch.objects.unscoped().filter(pk=batch.pk).update(
        next_attempt_at=timezone.now() - dt.timedelta(seconds=1)
    )


def snapshot(workspace):
    """Every row a Dropcontact step may write, as plain values."""
    models = (
        ProviderBatch,
        EnrichmentItem,
        EnrichmentJob,
        Prospect,
        FieldProvenance,
        SuppressionEntry,
        ProviderCredential,
    )
    return {
        model.__name__: list(model.objects.for_workspace(workspace).order_by("pk").values())
        for model in models
    }


def attempt_each(writes):
    """Run every write of the stale worker; each must refuse with LeaseLost."""
    for name, write in writes:
        with pytest.raises(pipeline.LeaseLost):
            write()
        assert name  # the name shows in the traceback when a write goes through


def test_a_stale_sender_writes_nothing_once_another_worker_took_the_batch_over(
    keyed, queued, http, settings
):
    settings.DROPCONTACT_POLL_INTERVAL_SECONDS = 3600
    submit_ok(http)
    echo_ready(http)
    worker_a = pipeline.claim_step(queued.pk)
    items_a = claimed_items(worker_a)
    expire_lease(queued)

    worker_b = pipeline.claim_step(queued.pk)
    assert worker_b is not None and worker_b.lease_token != worker_a.lease_token
    # B holds the step but has written nothing yet: the status alone cannot stop A.
    attempt_each(
        [
            ("reschedule", lambda: pipeline.reschedule(worker_a, seconds=1.0)),
            ("finish", lambda: pipeline.finish_batch(worker_a, ProviderBatch.Status.DONE)),
        ]
    )
    assert pipeline.run_step(worker_b, api_key=KEY) == "submitted"
    expire_lease(queued)
    assert pipeline.process_batch(queued.pk, api_key=KEY) == "applied"
    after_b = snapshot(keyed)
    assert after_b["ProviderBatch"][0]["status"] == "done"
    assert {row["status"] for row in after_b["EnrichmentItem"]} == {"done"}

    attempt_each(
        [
            ("submit", lambda: pipeline.submit(worker_a, items_a, api_key=KEY)),
            ("reschedule", lambda: pipeline.reschedule(worker_a, seconds=1.0)),
            ("finish", lambda: pipeline.finish_batch(worker_a, ProviderBatch.Status.FAILED)),
            (
                "fail (refused key)",
                lambda: pipeline.fail_batch(
                    worker_a, items_a, ProviderError("refused", kind=ErrorKind.AUTH, status=401)
                ),
            ),
            (
                "fail (server error)",
                lambda: pipeline.fail_batch(
                    worker_a, items_a, ProviderError("down", kind=ErrorKind.TEMPORARY, status=502)
                ),
            ),
            ("park", lambda: pipeline.park_batch_without_key(worker_a, items_a)),
        ]
    )
    assert snapshot(keyed) == after_b


def test_a_stale_poller_applies_nothing_once_another_worker_took_the_batch_over(
    keyed, queued, http
):
    submit_ok(http)
    echo_ready(http)
    assert pipeline.process_batch(queued.pk, api_key=KEY) == "submitted"
    expire_lease(queued)
    worker_a = pipeline.claim_step(queued.pk)
    items_a = claimed_items(worker_a)
    expire_lease(queued)
    assert pipeline.process_batch(queued.pk, api_key=KEY) == "applied"
    after_b = snapshot(keyed)
    assert {row["status"] for row in after_b["EnrichmentItem"]} == {"done"}

    # A's answer arrives late, and says something else: none of it may land.
    records = [
        dropcontact.EnrichedRecord.model_validate(
            record(
                custom_fields={"sourcier_item": str(item.pk)},
                email=[{"email": f"autre{item.pk}@ailleurs.example", "qualification": "nominatif"}],
            )
        )
        for item in items_a
    ]
    call = ProviderCall.objects.for_workspace(keyed).order_by("id").last()
    temporary = ProviderError("down", kind=ErrorKind.TEMPORARY, status=502)
    attempt_each(
        [
            ("apply", lambda: pipeline.apply_results(worker_a, items_a, records, call=call)),
            ("poll", lambda: pipeline.poll(worker_a, items_a, api_key=KEY)),
            ("retry poll", lambda: pipeline.retry_poll(worker_a, temporary)),
            ("reschedule", lambda: pipeline.reschedule(worker_a, seconds=30.0)),
            ("fail", lambda: pipeline.fail_batch(worker_a, items_a, temporary)),
        ]
    )
    assert snapshot(keyed) == after_b


def test_a_worker_whose_lease_runs_out_during_its_request_stops_there(keyed, queued, http):
    taken_over = {}

    def slow_answer(request):
        # While A's request is out, its lease runs out and worker B claims the step.
        expire_lease(queued)
        taken_over["b"] = pipeline.claim_step(queued.pk)
        return 200, {}, sample_text("dropcontact-enrich_all-post-response.json")

    http.add_callback(responses.POST, SUBMIT_URL, callback=slow_answer)
    before = snapshot(keyed)

    from enrichment.tasks import process_dropcontact_batch_task

    assert process_dropcontact_batch_task(queued.pk) == "lease-lost"
    after = snapshot(keyed)
    # Only B's claim changed the batch; A charged nothing, moved no item, scheduled nothing.
    (batch_before,), (batch_after,) = before["ProviderBatch"], after["ProviderBatch"]
    assert batch_after["lease_token"] == taken_over["b"].lease_token
    assert {
        k: v for k, v in batch_after.items() if k not in ("lease_token", "next_attempt_at")
    } == {k: v for k, v in batch_before.items() if k not in ("lease_token", "next_attempt_at")}
    assert {name: rows for name, rows in after.items() if name != "ProviderBatch"} == {
        name: rows for name, rows in before.items() if name != "ProviderBatch"
    }
