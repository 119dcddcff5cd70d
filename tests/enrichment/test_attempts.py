"""Attempt rows: one per item, provider and field within a job, under a key the database keeps
unique, with the result of the call that answered it."""

import pytest
import responses
from django.db import IntegrityError, transaction

from enrichment import services
from enrichment.engine.attempts import record_batch_attempts
from enrichment.models import EnrichmentItem, ProviderAttempt, ProviderBatch
from enrichment.pipelines import dropcontact as pipeline
from prospects.models import Prospect
from tests.enrichment.test_dropcontact_pipeline import (
    SUBMIT_URL,
    echo_ready,
    make_due,
    new_prospect,
    submit_ok,
    sweep,
)


@pytest.fixture
def people(keyed):
    """Two prospects queued for Dropcontact, not yet claimed."""
    prospects = [
        Prospect.objects.create(workspace=keyed, first_name="Éloïse", last_name="Lefèvre"),
        Prospect.objects.create(workspace=keyed, first_name="Jules", last_name="Moreau"),
    ]
    services.queue_enrichment(keyed.pk, [p.pk for p in prospects])
    return prospects


def test_an_enriched_prospect_has_one_found_attempt_with_its_call(
    keyed, http, django_capture_on_commit_callbacks
):
    submit_ok(http)
    echo_ready(http)
    prospect = new_prospect(keyed, django_capture_on_commit_callbacks)
    make_due(keyed)
    sweep(django_capture_on_commit_callbacks)
    item = EnrichmentItem.objects.for_workspace(keyed).get(prospect=prospect)
    assert item.status == "done"

    attempt = ProviderAttempt.objects.for_workspace(keyed).get()
    assert attempt.idempotency_key == f"auto:{item.pk}:contact:dropcontact"
    assert (attempt.item_id, attempt.provider, attempt.result) == (item.pk, "dropcontact", "found")
    assert attempt.call.endpoint.startswith("/v1/enrich/all/")
    assert attempt.finished_at is not None


def test_a_retried_item_keeps_one_attempt_that_follows_it_to_its_new_batch(
    keyed, http, django_capture_on_commit_callbacks
):
    http.add(responses.POST, SUBMIT_URL, json={"detail": "Internal Server Error"}, status=500)
    prospect = new_prospect(keyed, django_capture_on_commit_callbacks)
    first = ProviderAttempt.objects.for_workspace(keyed).get()
    assert first.result == "temporary"

    http.replace(responses.POST, SUBMIT_URL, json={"detail": "Internal Server Error"}, status=502)
    make_due(keyed)
    sweep(django_capture_on_commit_callbacks)

    again = ProviderAttempt.objects.for_workspace(keyed).get()
    batches = ProviderBatch.objects.for_workspace(keyed).order_by("pk")
    assert batches.count() == 2
    assert again.pk == first.pk
    assert again.batch_id == batches.last().pk
    assert EnrichmentItem.objects.for_workspace(keyed).get(prospect=prospect).attempts == 2


def test_claiming_the_same_batch_again_records_no_second_attempt(keyed, people):
    batch = pipeline.claim_batch(keyed.pk, api_key_present=True)
    assert ProviderAttempt.objects.for_workspace(keyed).count() == len(people)
    record_batch_attempts(batch, field=pipeline.FIELD)
    assert ProviderAttempt.objects.for_workspace(keyed).count() == len(people)


@pytest.mark.django_db(transaction=True)
def test_the_database_refuses_a_second_attempt_with_the_same_key(keyed, people):
    pipeline.claim_batch(keyed.pk, api_key_present=True)
    existing = ProviderAttempt.objects.for_workspace(keyed).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        ProviderAttempt.objects.create(
            workspace=keyed,
            item=existing.item,
            provider="dropcontact",
            field="contact",
            idempotency_key=existing.idempotency_key,
        )
