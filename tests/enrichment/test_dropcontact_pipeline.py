"""The Dropcontact path from a new prospect to its verdict, with HTTP replayed by `responses`.

Celery runs inline here (tests/conftest.py); time passing is simulated by making a stored
`next_attempt_at` due, exactly what the beat sweeper looks at.
"""

import datetime as dt
import json
import re

import pytest
import responses
from django.conf import settings
from django.utils import timezone

from enrichment import credentials, services, sweeper
from enrichment.engine import ledger
from enrichment.models import EnrichmentItem, ProviderBatch, ProviderCall, ProviderCredential
from prospects import services as prospect_services
from prospects.models import FieldProvenance, Prospect, Source, SuppressionEntry
from tests.samples import sample_json, sample_text

BASE = settings.PROVIDER_BASE_URLS["dropcontact"]
SUBMIT_URL = f"{BASE}/v1/enrich/all"
POLL_URL = re.compile(re.escape(f"{BASE}/v1/enrich/all/") + r"\w+")
NOT_READY = {"success": False, "reason": "Request not ready yet, try again in 30 seconds"}


@pytest.fixture(autouse=True)
def _fast_polls(settings):
    settings.DROPCONTACT_POLL_INTERVAL_SECONDS = 0


def record(**overrides):
    """A record shaped like the documented sample, with our values."""
    base = sample_json("dropcontact-enrich_all-get-record-legacy.json")
    base.update(
        {
            "first_name": "Éloïse",
            "last_name": "Lefèvre",
            "full_name": "Éloïse Lefèvre",
            "email": [
                {"email": "eloise.lefevre@acme-conseil.example", "qualification": "nominatif@pro"}
            ],
            "company": "Acme Conseil",
            "website": "www.acme-conseil.example",
            "linkedin": "https://fr.linkedin.com/in/eloise-lefevre",
            "siren": "732 829 320",
            "siret": "732 829 320 00074",
            "job": "Directrice commerciale",
            "phone": "04 72 00 00 00",
        }
    )
    base.update(overrides)
    return base


def submit_ok(http):
    http.add(
        responses.POST,
        SUBMIT_URL,
        body=sample_text("dropcontact-enrich_all-post-response.json"),
        status=200,
    )


def submitted_item_ids(http):
    posts = [c for c in http.calls if c.request.method == "POST"]
    payload = json.loads(posts[-1].request.body)
    return [r["custom_fields"]["sourcier_item"] for r in payload["data"]], payload


def new_prospect(workspace, django_capture_on_commit_callbacks, **data):
    values = {"first_name": "Éloïse", "last_name": "Lefèvre", "company_name": "Acme Conseil"}
    values.update(data)
    with django_capture_on_commit_callbacks(execute=True):
        return prospect_services.create_prospect(workspace, data=values, source=Source.IMPORT)


def make_due(workspace):
    past = timezone.now() - dt.timedelta(seconds=1)
    EnrichmentItem.objects.for_workspace(workspace).filter(status="pending").update(
        next_attempt_at=past
    )
    ProviderBatch.objects.for_workspace(workspace).filter(status__in=["sending", "polling"]).update(
        next_attempt_at=past
    )


def sweep(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sweeper.dispatch_due_work()


def echo_ready(http, **overrides):
    """Answer polls with one record per submitted record, carrying its custom_fields back."""

    def callback(request):
        _ids, payload = submitted_item_ids(http)
        records = [
            record(custom_fields=sent["custom_fields"], **overrides) for sent in payload["data"]
        ]
        return 200, {}, json.dumps({"success": True, "error": False, "data": records})

    http.add_callback(responses.GET, POLL_URL, callback=callback)


def test_new_prospect_is_verified_with_provenance_and_company_data(
    keyed, http, django_capture_on_commit_callbacks, settings
):
    settings.DROPCONTACT_POLL_INTERVAL_SECONDS = 3600
    submit_ok(http)
    http.add(responses.GET, POLL_URL, json=NOT_READY)
    echo_ready(http)

    prospect = new_prospect(keyed, django_capture_on_commit_callbacks)
    _ids, payload = submitted_item_ids(http)
    assert payload["siren"] is True
    assert payload["data"][0]["first_name"] == "Éloïse"
    assert http.calls[0].request.headers["X-Access-Token"] == "dc-secret-key-1234"
    assert Prospect.objects.for_workspace(keyed).get().status == Prospect.Status.ENRICHING

    # The first poll said "not ready"; the next due poll gets the results.
    make_due(keyed)
    sweep(django_capture_on_commit_callbacks)
    make_due(keyed)
    sweep(django_capture_on_commit_callbacks)

    prospect.refresh_from_db()
    assert prospect.status == Prospect.Status.VERIFIED
    assert prospect.email == "eloise.lefevre@acme-conseil.example"
    assert prospect.email_qualification == "nominatif@pro"
    assert prospect.enrichment_source == Source.DROPCONTACT
    assert prospect.enriched_at and prospect.verified_at
    assert prospect.job_title == "Directrice commerciale"
    assert prospect.linkedin_url == "https://www.linkedin.com/in/eloise-lefevre"
    assert prospect.phone == "+33472000000"
    company = prospect.company
    assert company.siren == "732829320"
    assert company.siret == "73282932000074"
    assert company.headcount == 202
    assert company.industry == "Culture de la vigne"
    email_history = FieldProvenance.objects.for_workspace(keyed).filter(
        prospect=prospect, field="email"
    )
    (row,) = email_history
    assert (row.source, row.confidence, row.is_current) == ("dropcontact", 95, True)
    assert (
        row.provider_call_id == ProviderCall.objects.for_workspace(keyed).order_by("id").last().pk
    )
    item = EnrichmentItem.objects.for_workspace(keyed).get(prospect=prospect)
    assert item.status == "done"
    assert item.request_id == "qzmxkpvlrtdnhwa"


def test_catch_all_address_is_not_verified(keyed, http, django_capture_on_commit_callbacks):
    submit_ok(http)
    echo_ready(http, email=[{"email": "contact@acme.example", "qualification": "catch-all@pro"}])
    prospect = new_prospect(keyed, django_capture_on_commit_callbacks)
    prospect.refresh_from_db()
    assert prospect.status == Prospect.Status.NOT_VERIFIED
    assert prospect.email_qualification == "catch-all@pro"
    assert prospect.verified_at is None


def test_typed_email_is_never_overwritten(keyed, http, django_capture_on_commit_callbacks):
    submit_ok(http)
    echo_ready(
        http,
        email=[
            {"email": "e.lefevre@acme.example", "qualification": "nominative@pro"},
            {"email": "typed@acme.example", "qualification": "catch_all@pro"},
        ],
    )
    prospect = new_prospect(keyed, django_capture_on_commit_callbacks, email="typed@acme.example")
    prospect.refresh_from_db()
    assert prospect.email == "typed@acme.example"
    # The typed address itself is only catch-all: honest verdict, not the other address's.
    assert prospect.status == Prospect.Status.NOT_VERIFIED
    candidates = FieldProvenance.objects.for_workspace(keyed).filter(
        prospect=prospect, field="email"
    )
    # Every address Dropcontact returned is kept as a candidate, with who said what.
    assert {(c.value, c.source, c.is_current, c.confidence) for c in candidates} == {
        ("typed@acme.example", "import", True, 100),
        ("e.lefevre@acme.example", "dropcontact", False, 95),
        ("typed@acme.example", "dropcontact", False, 50),
    }


def test_do_not_contact_puts_the_person_on_the_suppression_list(
    keyed, http, django_capture_on_commit_callbacks
):
    submit_ok(http)
    echo_ready(
        http, email=[{"email": "eloise@acme.example", "qualification": "Ne_Pas_Contacter@pro"}]
    )
    prospect = new_prospect(keyed, django_capture_on_commit_callbacks)
    prospect.refresh_from_db()
    assert prospect.status == Prospect.Status.NOT_VERIFIED
    assert prospect.email == ""
    assert prospect_services.find_suppression(keyed, email="eloise@acme.example")
    assert SuppressionEntry.objects.for_workspace(keyed).get().reason == "provider"
    with pytest.raises(prospect_services.SuppressedPerson):
        prospect_services.create_prospect(
            keyed, data={"email": "Eloise@acme.example", "first_name": "E", "last_name": "L"}
        )


def test_failures_retry_after_1_5_15_minutes_then_need_review(
    keyed, http, django_capture_on_commit_callbacks
):
    http.add(responses.POST, SUBMIT_URL, json={"detail": "Internal Server Error"}, status=500)
    prospect = new_prospect(keyed, django_capture_on_commit_callbacks)
    item = EnrichmentItem.objects.for_workspace(keyed).get(prospect=prospect)
    delays = []
    for _ in range(3):
        item.refresh_from_db()
        assert item.status == "pending"
        delays.append(round((item.next_attempt_at - item.updated_at).total_seconds()))
        make_due(keyed)
        sweep(django_capture_on_commit_callbacks)
    item.refresh_from_db()
    prospect.refresh_from_db()
    assert delays == [60, 300, 900]
    assert item.status == "needs_review"
    assert item.attempts == 4
    assert prospect.status == Prospect.Status.NEEDS_REVIEW
    assert prospect.last_error == "Dropcontact a répondu par une erreur (HTTP 500)"
    assert len([c for c in http.calls if c.request.method == "POST"]) == 4


def test_429_waits_for_retry_after_without_counting_an_attempt(
    keyed, http, django_capture_on_commit_callbacks
):
    http.add(
        responses.POST,
        SUBMIT_URL,
        json={"error": True, "reason": "Too many requests", "success": False},
        status=429,
        headers={"retry-after": "42"},  # header names are case-insensitive
    )
    prospect = new_prospect(keyed, django_capture_on_commit_callbacks)
    item = EnrichmentItem.objects.for_workspace(keyed).get(prospect=prospect)
    assert item.status == "pending"
    assert item.attempts == 0
    wait = (item.next_attempt_at - timezone.now()).total_seconds()
    assert 35 < wait <= 42


def test_polling_is_bounded_and_then_counts_as_a_failure(
    keyed, http, django_capture_on_commit_callbacks, settings
):
    settings.DROPCONTACT_POLL_INTERVAL_SECONDS = 3600
    submit_ok(http)
    http.add(responses.GET, POLL_URL, json=NOT_READY)
    prospect = new_prospect(keyed, django_capture_on_commit_callbacks)
    batch = ProviderBatch.objects.for_workspace(keyed).get()
    assert batch.status == "polling"
    ProviderBatch.objects.for_workspace(keyed).update(
        poll_deadline=timezone.now() - dt.timedelta(seconds=1)
    )
    make_due(keyed)
    sweep(django_capture_on_commit_callbacks)
    item = EnrichmentItem.objects.for_workspace(keyed).get(prospect=prospect)
    batch.refresh_from_db()
    assert batch.status == "failed"
    assert item.status == "pending"
    assert item.attempts == 1
    assert item.outcome == "poll_deadline"
    assert item.last_error == "Les résultats de Dropcontact ne sont pas arrivés à temps"


def test_without_key_items_wait_then_go_when_the_key_is_saved(
    workspace, http, django_capture_on_commit_callbacks, settings
):
    settings.DROPCONTACT_POLL_INTERVAL_SECONDS = 3600
    ledger.top_up(workspace.pk, "10", key="test-top-up")
    prospect = new_prospect(workspace, django_capture_on_commit_callbacks)
    item = EnrichmentItem.objects.for_workspace(workspace).get(prospect=prospect)
    assert item.status == "waiting_key"
    assert (item.outcome, item.last_error) == ("key_missing", "Clé API manquante")
    assert not http.calls
    submit_ok(http)
    http.add(responses.GET, POLL_URL, json=NOT_READY)
    with django_capture_on_commit_callbacks(execute=True):
        credentials.set_api_key(workspace, "dropcontact", "dc-new-key-9876")
    item.refresh_from_db()
    assert item.status == "submitted"
    assert http.calls[0].request.headers["X-Access-Token"] == "dc-new-key-9876"


def test_a_prospect_is_never_queued_twice_while_an_item_is_live(
    keyed, http, django_capture_on_commit_callbacks
):
    http.add(responses.POST, SUBMIT_URL, json={"detail": "Bad Gateway"}, status=502)
    prospect = new_prospect(keyed, django_capture_on_commit_callbacks)
    Prospect.objects.for_workspace(keyed).filter(pk=prospect.pk).update(status="new")
    assert services.queue_enrichment(keyed.pk, [prospect.pk]) == []
    assert EnrichmentItem.objects.for_workspace(keyed).filter(prospect=prospect).count() == 1


def test_suppressed_person_is_never_queued(keyed, http):
    prospect = Prospect.objects.create(
        workspace=keyed, first_name="A", last_name="B", email="a.b@acme.example"
    )
    prospect_services.suppress_person(keyed, email="a.b@acme.example")
    assert services.queue_enrichment(keyed.pk, [prospect.pk]) == []
    assert not EnrichmentItem.objects.for_workspace(keyed).exists()


def test_each_step_runs_once_even_when_dispatched_twice(
    keyed, http, django_capture_on_commit_callbacks, settings
):
    settings.DROPCONTACT_POLL_INTERVAL_SECONDS = 3600
    submit_ok(http)
    http.add(responses.GET, POLL_URL, json=NOT_READY)
    new_prospect(keyed, django_capture_on_commit_callbacks)
    batch = ProviderBatch.objects.for_workspace(keyed).get()
    from enrichment.tasks import process_dropcontact_batch_task, submit_dropcontact_task

    calls_before = len(http.calls)
    assert process_dropcontact_batch_task(batch.pk) == "not-due"
    assert submit_dropcontact_task(keyed.pk) == "nothing-due"
    make_due(keyed)
    assert process_dropcontact_batch_task(batch.pk) == "not-ready"
    assert process_dropcontact_batch_task(batch.pk) == "not-due"
    assert len(http.calls) == calls_before + 1


def test_api_key_is_encrypted_at_rest_and_never_in_call_records(
    keyed, http, django_capture_on_commit_callbacks, settings
):
    settings.DROPCONTACT_POLL_INTERVAL_SECONDS = 3600
    credential = ProviderCredential.objects.for_workspace(keyed).get()
    assert "dc-secret-key-1234" not in credential.encrypted_key
    assert credential.last4 == "1234"
    assert str(credential).endswith("••••1234")
    submit_ok(http)
    http.add(responses.GET, POLL_URL, json=NOT_READY)
    new_prospect(keyed, django_capture_on_commit_callbacks)
    for call in ProviderCall.objects.for_workspace(keyed):
        assert "dc-secret-key-1234" not in (call.response_excerpt + call.error + call.endpoint)


def test_provider_call_records_are_scoped_to_the_workspace(
    keyed, other_workspace, http, django_capture_on_commit_callbacks, settings
):
    settings.DROPCONTACT_POLL_INTERVAL_SECONDS = 3600
    submit_ok(http)
    http.add(responses.GET, POLL_URL, json=NOT_READY)
    new_prospect(keyed, django_capture_on_commit_callbacks)
    assert ProviderCall.objects.for_workspace(keyed).exists()
    assert not ProviderCall.objects.for_workspace(other_workspace).exists()


def test_a_failed_poll_is_asked_again_without_paying_for_a_new_submit(
    keyed, http, django_capture_on_commit_callbacks, settings
):
    settings.DROPCONTACT_POLL_INTERVAL_SECONDS = 3600
    submit_ok(http)
    http.add(responses.GET, POLL_URL, body="<html>502 Bad Gateway</html>", status=502)
    echo_ready(http)
    prospect = new_prospect(keyed, django_capture_on_commit_callbacks)
    make_due(keyed)
    sweep(django_capture_on_commit_callbacks)  # the 502
    batch = ProviderBatch.objects.for_workspace(keyed).get()
    assert batch.status == "polling"
    assert (batch.outcome, batch.outcome_detail) == ("vendor_error", "502")
    assert batch.last_error == "Dropcontact a répondu par une erreur (HTTP 502)"
    make_due(keyed)
    sweep(django_capture_on_commit_callbacks)
    prospect.refresh_from_db()
    assert prospect.status == Prospect.Status.VERIFIED
    assert EnrichmentItem.objects.for_workspace(keyed).get().attempts == 0
    assert len([c for c in http.calls if c.request.method == "POST"]) == 1


def test_out_of_credits_waits_instead_of_failing(keyed, http, django_capture_on_commit_callbacks):
    http.add(
        responses.POST,
        SUBMIT_URL,
        json={"error": True, "reason": "You don't have enough credits", "success": False},
        status=403,
    )
    prospect = new_prospect(keyed, django_capture_on_commit_callbacks)
    item = EnrichmentItem.objects.for_workspace(keyed).get(prospect=prospect)
    assert item.status == "pending"
    assert item.attempts == 0
    assert (item.next_attempt_at - timezone.now()).total_seconds() > 3000


def test_a_partial_batch_waits_for_the_window_then_goes_whole(
    keyed, http, django_capture_on_commit_callbacks, settings
):
    settings.DROPCONTACT_BATCH_WINDOW_SECONDS = 600
    settings.DROPCONTACT_POLL_INTERVAL_SECONDS = 3600
    submit_ok(http)
    for name in ("Éloïse", "Anaïs", "Jean-Pierre"):
        new_prospect(keyed, django_capture_on_commit_callbacks, first_name=name)
    assert not http.calls  # nothing sent while the window is open
    EnrichmentItem.objects.for_workspace(keyed).update(
        next_attempt_at=timezone.now() - dt.timedelta(seconds=601)
    )
    sweep(django_capture_on_commit_callbacks)
    _ids, payload = submitted_item_ids(http)
    assert [r["first_name"] for r in payload["data"]] == ["Éloïse", "Anaïs", "Jean-Pierre"]


def test_an_address_already_used_by_another_prospect_is_kept_as_a_candidate_only(
    keyed, http, django_capture_on_commit_callbacks
):
    owner = Prospect.objects.create(
        workspace=keyed, first_name="Anaïs", last_name="N'Diaye", email="taken@acme.example"
    )
    submit_ok(http)
    echo_ready(http, email=[{"email": "taken@acme.example", "qualification": "nominatif@pro"}])
    prospect = new_prospect(keyed, django_capture_on_commit_callbacks)
    prospect.refresh_from_db()
    assert prospect.email == ""
    assert prospect.status == Prospect.Status.NOT_VERIFIED
    assert "already used" in prospect.last_error or "appartient déjà" in prospect.last_error
    row = FieldProvenance.objects.for_workspace(keyed).get(prospect=prospect, field="email")
    assert (row.value, row.is_current) == ("taken@acme.example", False)
    owner.refresh_from_db()
    assert owner.email == "taken@acme.example"


def test_a_refused_key_is_not_tried_again_until_a_new_one_is_saved(
    keyed, http, django_capture_on_commit_callbacks, settings
):
    settings.DROPCONTACT_POLL_INTERVAL_SECONDS = 3600
    http.add(
        responses.POST,
        SUBMIT_URL,
        json={"error": True, "reason": "Invalid token", "success": False},
        status=401,
    )
    prospect = new_prospect(keyed, django_capture_on_commit_callbacks)
    item = EnrichmentItem.objects.for_workspace(keyed).get(prospect=prospect)
    assert item.status == "waiting_key"
    assert (item.outcome, item.last_error) == ("key_refused", "Clé API refusée par Dropcontact")
    for _ in range(3):
        make_due(keyed)
        sweep(django_capture_on_commit_callbacks)
    assert len(http.calls) == 1
    item.refresh_from_db()
    assert item.status == "waiting_key"
    submit_ok(http)
    http.add(responses.GET, POLL_URL, json=NOT_READY)
    with django_capture_on_commit_callbacks(execute=True):
        credentials.set_api_key(keyed, "dropcontact", "dc-corrected-key-0000")
    item.refresh_from_db()
    assert item.status == "submitted"


def test_an_edit_made_while_the_request_is_out_survives_the_results(
    keyed, http, django_capture_on_commit_callbacks, settings
):
    settings.DROPCONTACT_POLL_INTERVAL_SECONDS = 3600
    submit_ok(http)
    echo_ready(http)
    prospect = new_prospect(keyed, django_capture_on_commit_callbacks)
    # Someone types a job title and a phone while Dropcontact works on the batch.
    Prospect.objects.for_workspace(keyed).filter(pk=prospect.pk).update(
        job_title="PDG (saisi)", phone="+33611111111"
    )
    make_due(keyed)
    sweep(django_capture_on_commit_callbacks)
    prospect.refresh_from_db()
    assert prospect.status == Prospect.Status.VERIFIED
    assert prospect.job_title == "PDG (saisi)"
    assert prospect.phone == "+33611111111"


def test_a_new_prospect_whose_queueing_message_was_lost_is_queued_by_the_sweeper(
    keyed, http, django_capture_on_commit_callbacks, settings
):
    settings.DROPCONTACT_POLL_INTERVAL_SECONDS = 3600
    submit_ok(http)
    # Created without its hook firing, as if the broker had lost the message.
    prospect = Prospect.objects.create(workspace=keyed, email="perdu@acme.example")
    sweep(django_capture_on_commit_callbacks)
    assert not EnrichmentItem.objects.for_workspace(keyed).exists()  # too recent to tell
    Prospect.objects.for_workspace(keyed).filter(pk=prospect.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=3)
    )
    sweep(django_capture_on_commit_callbacks)
    item = EnrichmentItem.objects.for_workspace(keyed).get(prospect=prospect)
    assert item.status == "submitted"
