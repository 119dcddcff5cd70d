"""Someone who objects is never sent to Dropcontact, even if they objected after being queued."""

import json

import pytest
import responses
from django.urls import reverse

from enrichment import services
from enrichment.models import EnrichmentItem, ProviderBatch
from enrichment.pipelines import dropcontact as pipeline
from enrichment.tasks import process_dropcontact_batch_task, submit_dropcontact_task
from prospects import services as prospect_services
from prospects.models import Prospect
from tests.enrichment.test_dropcontact_pipeline import (
    POLL_URL,
    SUBMIT_URL,
    echo_ready,
    make_due,
    record,
    submit_ok,
)
from tests.factories import ProspectFactory

OBJECTION = "Cette personne est sur la liste d'opposition."


@pytest.fixture
def people(keyed):
    """Two prospects of the workspace queued for Dropcontact (their items are due)."""
    eloise = Prospect.objects.create(
        workspace=keyed, first_name="Éloïse", last_name="Lefèvre", email="eloise@acme.example"
    )
    jules = Prospect.objects.create(
        workspace=keyed, first_name="Jules", last_name="Moreau", email="jules@acme.example"
    )
    services.queue_enrichment(keyed.pk, [eloise.pk, jules.pk])
    return eloise, jules


def sent_emails(http):
    """Every address that left for Dropcontact, from the request bodies themselves."""
    posts = [call.request for call in http.calls if call.request.method == "POST"]
    return [row["email"] for post in posts for row in json.loads(post.body)["data"]]


def item_of(prospect):
    return EnrichmentItem.objects.for_workspace(prospect.workspace_id).get(prospect=prospect)


def test_a_person_who_objected_after_being_queued_is_not_sent(keyed, people, http):
    eloise, jules = people
    submit_ok(http)
    # The objection arrives while the item waits (its after-commit hook never ran here).
    prospect_services.suppress_person(keyed, email="Eloise@Acme.example")

    assert submit_dropcontact_task(keyed.pk) == "submitted"

    assert sent_emails(http) == ["jules@acme.example"]
    item = item_of(eloise)
    assert (item.status, item.batch_id, item.last_error) == ("cancelled", None, OBJECTION)
    eloise.refresh_from_db()
    assert (eloise.status, eloise.last_error) == (Prospect.Status.NOT_VERIFIED, OBJECTION)
    assert item_of(jules).status == "submitted"


def test_only_objectors_in_the_queue_sends_nothing(keyed, people, http):
    for prospect in people:
        prospect_services.suppress_person(keyed, email=prospect.email)
    assert submit_dropcontact_task(keyed.pk) == "nothing-due"
    assert len(http.calls) == 0
    assert not ProviderBatch.objects.for_workspace(keyed).exists()
    assert set(EnrichmentItem.objects.for_workspace(keyed).values_list("status", flat=True)) == {
        "cancelled"
    }


def test_objecting_cancels_the_live_items_once_committed(
    keyed, people, other_workspace, django_capture_on_commit_callbacks
):
    eloise, jules = people
    # The same address in another workspace is another workspace's business.
    elsewhere = Prospect.objects.create(
        workspace=other_workspace, first_name="É", last_name="L", email="eloise@acme.example"
    )
    services.queue_enrichment(other_workspace.pk, [elsewhere.pk])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        prospect_services.suppress_person(keyed, email="eloise@acme.example")
    assert item_of(eloise).status == "pending"  # nothing before the commit
    for callback in callbacks:
        callback()
    assert item_of(eloise).status == "cancelled"
    assert item_of(jules).status == "pending"
    assert item_of(elsewhere).status == "waiting_key"
    assert Prospect.objects.for_workspace(other_workspace).get().status == "enriching"


def test_an_objection_while_the_request_is_out_keeps_the_answer_away_from_that_person(
    keyed, people, http, django_capture_on_commit_callbacks
):
    eloise, jules = people
    submit_ok(http)
    echo_ready(http, email=[{"email": "trouve@acme.example", "qualification": "nominatif@pro"}])
    assert submit_dropcontact_task(keyed.pk) == "submitted"
    with django_capture_on_commit_callbacks(execute=True):
        prospect_services.suppress_person(keyed, email="eloise@acme.example")
    assert item_of(eloise).status == "cancelled"

    make_due(keyed)
    batch = ProviderBatch.objects.for_workspace(keyed).get()
    assert process_dropcontact_batch_task(batch.pk) == "applied"
    eloise.refresh_from_db()
    assert (eloise.status, eloise.enriched_at, eloise.job_title) == ("not_verified", None, "")
    assert not eloise.provenance.filter(source="dropcontact").exists()
    assert item_of(eloise).status == "cancelled"
    assert item_of(jules).status == "done"


def test_adding_an_objection_in_the_admin_cancels_that_persons_items(
    keyed, people, member_client, django_capture_on_commit_callbacks
):
    eloise, jules = people
    with django_capture_on_commit_callbacks(execute=True):
        response = member_client.post(
            reverse("admin:prospects_suppressionentry_add"),
            {"email": "JULES@acme.example", "phone": "", "reason": "objection"},
        )
    assert response.status_code == 302
    assert item_of(jules).status == "cancelled"
    assert item_of(eloise).status == "pending"


def test_do_not_contact_from_dropcontact_cancels_the_same_persons_other_items(
    keyed, http, django_capture_on_commit_callbacks
):
    # Dropcontact says the person behind this prospect must not be contacted, and gives an
    # address that another prospect of the workspace, still queued, holds.
    submit_ok(http)
    http.add(
        responses.GET,
        POLL_URL,
        json={
            "success": True,
            "error": False,
            "data": [
                record(
                    email=[{"email": "e.lefevre@acme.example", "qualification": "Ne_Pas_Contacter"}]
                )
            ],
        },
    )
    first = Prospect.objects.create(workspace=keyed, first_name="Éloïse", last_name="Lefèvre")
    services.queue_enrichment(keyed.pk, [first.pk])
    assert submit_dropcontact_task(keyed.pk) == "submitted"
    second = Prospect.objects.create(
        workspace=keyed, first_name="E.", last_name="Lefèvre", email="e.lefevre@acme.example"
    )
    services.queue_enrichment(keyed.pk, [second.pk])
    make_due(keyed)
    batch = ProviderBatch.objects.for_workspace(keyed).get()
    with django_capture_on_commit_callbacks(execute=True):
        assert pipeline.process_batch(batch.pk, api_key="dc-secret-key-1234") == "applied"
    assert item_of(second).status == "cancelled"
    assert [call.request.url for call in http.calls if call.request.method == "POST"] == [
        SUBMIT_URL
    ]


def test_a_verified_person_who_objects_is_no_longer_verified(workspace, member_client):
    from django.utils import timezone

    from tests.factories import ProspectFactory

    verified = ProspectFactory(
        workspace=workspace,
        email="ines@acme.example",
        status="verified",
        verified_at=timezone.now(),
    )
    member_client.post(
        reverse("admin:prospects_suppressionentry_add"),
        {"email": "ines@acme.example", "phone": "", "reason": "objection"},
    )
    verified.refresh_from_db()
    assert (verified.status, verified.verified_at) == ("not_verified", None)
    assert verified.verification_reason == "objected"
    listed = member_client.get(
        reverse("admin:prospects_prospect_changelist"), {"status__exact": "verified"}
    ).content.decode()
    assert "ines@acme.example" not in listed
    page = member_client.get(
        reverse("admin:prospects_prospect_change", args=[verified.pk])
    ).content.decode()
    assert "liste d&#x27;opposition" in page or "liste d'opposition" in page


def test_a_person_dropcontact_reported_not_to_contact_is_never_enriched_again(workspace):
    """Reported "do not contact" with no address kept (so not on the list by address): left
    out of an email job's estimate as an objector, of the automatic waterfall and of
    Dropcontact, and keeps that reason."""
    from enrichment import bulk, credentials, waterfall_queue

    credentials.set_api_key(workspace, "prospeo", "sandbox-key-1234")
    flagged = ProspectFactory(
        workspace=workspace,
        email="",
        status=Prospect.Status.NOT_VERIFIED,
        verification_reason=Prospect.Reason.DO_NOT_CONTACT,
    )
    other = ProspectFactory(workspace=workspace, status=Prospect.Status.NOT_VERIFIED)
    estimate = bulk.estimate_job(workspace.pk, [flagged.pk, other.pk], fields=["email"])
    assert estimate.prospect_ids == [other.pk]
    assert estimate.excluded["objected"] == 1
    assert waterfall_queue.queue_auto_waterfall(workspace.pk, [flagged.pk]) == []
    statuses = (Prospect.Status.NOT_VERIFIED,)
    assert services.queue_enrichment(workspace.pk, [flagged.pk], statuses=statuses) == []
    flagged.refresh_from_db()
    assert flagged.verification_reason == Prospect.Reason.DO_NOT_CONTACT
    assert not EnrichmentItem.objects.for_workspace(workspace).filter(prospect=flagged).exists()
