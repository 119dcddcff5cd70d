"""The enrichment job pages: status and why a job is paused, money, order, items and their
attempts, "Annuler la tâche"; every page scoped to the current workspace."""

import datetime as dt
import html
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from enrichment import bulk, credentials
from enrichment.engine import ledger
from enrichment.engine.money import PARIS
from enrichment.models import EnrichmentItem, EnrichmentJob, ProviderAttempt, ProviderCall
from enrichment.pipelines import waterfall
from prospects.models import Prospect
from tests.factories import ProspectFactory

Job = EnrichmentJob.Status
Item = EnrichmentItem.Status
JOBS = reverse("admin:enrichment_enrichmentjob_changelist")


def text(response) -> str:
    page = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(html.unescape(page).split())


def job_url(job, view="change") -> str:
    return reverse(f"admin:enrichment_enrichmentjob_{view}", args=[job.pk])


def started_job(workspace, count=2, **options) -> EnrichmentJob:
    """A real email job, as the confirmation page starts it (its workers not yet run)."""
    ProspectFactory.create_batch(count, workspace=workspace, status=Prospect.Status.NEW)
    return bulk.start_job(workspace, bulk.estimate_job(workspace.pk, **options))


@pytest.fixture
def keyed(workspace):
    for slug in ("prospeo", "leadmagic"):
        credentials.set_api_key(workspace, slug, f"{slug}-key-1234")
    ledger.top_up(workspace.pk, "10", key="top-up-1")
    return workspace


def test_the_job_list_shows_kind_status_counters_money_and_order(member_client, keyed):
    job = started_job(keyed)
    EnrichmentJob.objects.for_workspace(keyed).filter(pk=job.pk).update(
        done_items=1, spent_credits=Decimal("0.036")
    )

    page = text(member_client.get(JOBS))

    assert "Cascade e-mail" in page
    assert "En cours" in page
    assert "1 / 2" in page
    assert f"0,04 € sur au plus {str(job.estimated_credits).replace('.', ',')} €" in page
    assert "Prospeo → LeadMagic" in page


def test_a_job_paused_by_the_daily_cap_says_why_and_until_when(member_client, keyed):
    ledger.set_daily_cap(keyed.pk, "0")
    job = started_job(keyed, count=1)
    item = EnrichmentItem.objects.for_workspace(keyed).get(job=job)

    assert waterfall.process_item(item.pk) == "paused"

    job.refresh_from_db()
    assert job.status == Job.PAUSED
    midnight = timezone.localtime(ledger.next_midnight(timezone.now()), PARIS)
    sentence = (
        "En pause : plafond de dépenses du jour atteint — reprise automatique le "
        f"{midnight:%d/%m/%Y} à 00:00"
    )
    assert sentence in text(member_client.get(JOBS))
    page = text(member_client.get(job_url(job)))
    assert sentence in page
    # The item says it too, in its own words.
    item_sentence = "Plafond de dépenses du jour atteint : reprise automatique le"
    assert f"{item_sentence} {midnight:%d/%m/%Y}" in page


def test_the_pause_sentence_names_the_day_and_hour_in_paris(member_client, keyed):
    job = started_job(keyed, count=1)
    EnrichmentJob.objects.for_workspace(keyed).filter(pk=job.pk).update(
        status=Job.PAUSED,
        pause_reason="daily_cap",
        paused_until=dt.datetime(2026, 12, 3, 23, 0, tzinfo=dt.UTC),
    )
    assert (
        "En pause : plafond de dépenses du jour atteint — reprise automatique le 04/12/2026 à 00:00"
        in text(member_client.get(job_url(job)))
    )


def test_the_job_page_lists_items_with_their_outcome_and_attempts(member_client, keyed):
    job = started_job(keyed, count=1)
    item = EnrichmentItem.objects.for_workspace(keyed).get(job=job)
    call = ProviderCall.objects.create(
        workspace=keyed,
        provider="prospeo",
        endpoint="/enrich-person",
        method="POST",
        status_code=200,
        outcome="ok",
    )
    ProviderAttempt.objects.create(
        workspace=keyed,
        item=item,
        provider="prospeo",
        field="email",
        idempotency_key=f"{job.pk}:{item.pk}:email:prospeo",
        result="not_found",
        call=call,
    )
    ProviderAttempt.objects.create(
        workspace=keyed,
        item=item,
        provider="leadmagic",
        field="email",
        idempotency_key=f"{job.pk}:{item.pk}:email:leadmagic",
        result="temporary",
    )
    EnrichmentItem.objects.for_workspace(keyed).filter(pk=item.pk).update(
        outcome="no_answer", outcome_detail="", status=Item.PENDING
    )

    response = member_client.get(job_url(job))

    page = text(response)
    assert "1 élément" in page
    assert str(item.prospect) in page
    assert "LeadMagic n'a pas répondu (délai dépassé ou erreur réseau)" in page
    assert "Prospeo : Non trouvé → LeadMagic : Erreur passagère" in page
    call_url = reverse("admin:enrichment_providercall_change", args=[call.pk])
    assert f'href="{call_url}"' in response.content.decode()
    attempts = reverse("admin:enrichment_providerattempt_changelist")
    link = f"{attempts}?item__id__exact={item.pk}"
    assert link in html.unescape(response.content.decode())
    listed = text(member_client.get(link))
    assert "Non trouvé" in listed and "Erreur passagère" in listed
    assert member_client.get(call_url).status_code == 200


def test_cancel_asks_first_then_cancels(member_client, keyed):
    job = started_job(keyed, count=2)
    confirm = member_client.get(job_url(job, "cancel"))
    assert confirm.status_code == 200
    page = text(confirm)
    assert "Annuler dans : Acme Lyon" in page
    assert f"Annuler la tâche {job} ?" in page
    assert EnrichmentJob.objects.for_workspace(keyed).get(pk=job.pk).status == Job.RUNNING

    response = member_client.post(
        job_url(job, "cancel"), {"expected_workspace": keyed.pk}, follow=True
    )

    assert response.redirect_chain[-1][0] == job_url(job)
    job.refresh_from_db()
    assert job.status == Job.CANCELLED
    assert set(EnrichmentItem.objects.for_workspace(keyed).values_list("status", flat=True)) == {
        Item.CANCELLED
    }
    assert f"Tâche {job} annulée : 2 éléments en attente ne seront pas traités." in text(response)
    assert "Annuler la tâche" not in text(response).replace(f"Tâche {job} annulée", "")


def test_the_job_page_offers_cancel_only_while_it_runs(member_client, keyed):
    job = started_job(keyed, count=1)
    assert job_url(job, "cancel") in member_client.get(job_url(job)).content.decode()
    EnrichmentJob.objects.for_workspace(keyed).filter(pk=job.pk).update(status=Job.COMPLETED)
    assert job_url(job, "cancel") not in member_client.get(job_url(job)).content.decode()
    response = member_client.post(job_url(job, "cancel"), follow=True)
    assert "Cette tâche est terminée" in text(response)
    assert EnrichmentJob.objects.for_workspace(keyed).get(pk=job.pk).status == Job.COMPLETED


def test_cancel_needs_the_csrf_token(member, keyed):
    job = started_job(keyed, count=1)
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    assert client.post(job_url(job, "cancel")).status_code == 403
    assert EnrichmentJob.objects.for_workspace(keyed).get(pk=job.pk).status == Job.RUNNING


def test_another_workspaces_job_is_a_404_everywhere(member_client, keyed, other_workspace):
    credentials.set_api_key(other_workspace, "prospeo", "their-key-9999")
    theirs = started_job(other_workspace, count=1)
    item = EnrichmentItem.objects.for_workspace(other_workspace).get(job=theirs)
    ProviderAttempt.objects.create(
        workspace=other_workspace,
        item=item,
        provider="prospeo",
        field="email",
        idempotency_key="x:1:email:prospeo",
        value="secret@concurrent.example",
        result="found",
    )

    assert member_client.get(job_url(theirs)).status_code == 404
    missing_job = reverse("admin:enrichment_enrichmentjob_change", args=[999999])
    assert member_client.get(missing_job).status_code == 404
    assert member_client.get(job_url(theirs, "cancel")).status_code == 404
    assert member_client.post(job_url(theirs, "cancel")).status_code == 404
    assert EnrichmentJob.objects.for_workspace(other_workspace).get().status == Job.RUNNING
    attempts = reverse("admin:enrichment_providerattempt_changelist")
    assert (
        "secret@concurrent.example"
        not in member_client.get(f"{attempts}?item__id__exact={item.pk}").content.decode()
    )
    attempt = ProviderAttempt.objects.for_workspace(other_workspace).get()
    url = reverse("admin:enrichment_providerattempt_change", args=[attempt.pk])
    missing = reverse("admin:enrichment_providerattempt_change", args=[999999])
    assert member_client.get(url).status_code == member_client.get(missing).status_code
    assert "Cascade e-mail #" not in text(member_client.get(JOBS))


def test_attempts_filter_by_result_in_french(member_client, keyed):
    job = started_job(keyed, count=1)
    item = EnrichmentItem.objects.for_workspace(keyed).get(job=job)
    for provider, result, value in (
        ("prospeo", "not_found", ""),
        ("leadmagic", "found", "lea.martin@societe.example"),
    ):
        ProviderAttempt.objects.create(
            workspace=keyed,
            item=item,
            provider=provider,
            field="email",
            idempotency_key=f"{job.pk}:{item.pk}:email:{provider}",
            result=result,
            value=value,
        )
    attempts = reverse("admin:enrichment_providerattempt_changelist")
    page = text(member_client.get(attempts, {"result": "found"}))
    assert "lea.martin@societe.example" in page
    assert "Non trouvé" in page  # the filter's own choice
    assert page.count("Prospeo") == 1  # in the provider filter only, not as a row


def test_a_finished_item_shows_the_prospects_verdict(member_client, keyed):
    job = started_job(keyed, count=1)
    item = EnrichmentItem.objects.for_workspace(keyed).get(job=job)
    EnrichmentItem.objects.for_workspace(keyed).filter(pk=item.pk).update(status=Item.DONE)
    Prospect.objects.for_workspace(keyed).filter(pk=item.prospect_id).update(
        status=Prospect.Status.NOT_VERIFIED,
        verification_reason=Prospect.Reason.NO_EMAIL_FOUND,
    )
    assert "Non vérifié — Aucune adresse trouvée" in text(member_client.get(job_url(job)))
