"""Following one piece of work: each job's and each import's own progress and cost, the
prospect page that refreshes itself while enriched, and its history, newest first."""

import html
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from enrichment.models import EnrichmentItem, EnrichmentJob, ProviderAttempt, ProviderCall
from prospects.models import FieldProvenance, ImportBatch, Prospect, Source
from tests.factories import ProspectFactory

Item = EnrichmentItem.Status
Status = Prospect.Status
PROGRESS = reverse("enrichment:progress")


def text(response) -> str:
    return html.unescape(response.content.decode())


def figures(page: str) -> dict[str, int]:
    return {
        name: int(value)
        for name, value in re.findall(
            r'data-count="(\w+)">\s*<dt>[^<]*</dt>\s*<dd class="figure">(\d+)</dd>', page
        )
    }


def item(workspace, prospect, status, *, job=None, provider="dropcontact", **kwargs):
    return EnrichmentItem.objects.create(
        workspace=workspace, prospect=prospect, provider=provider, status=status, job=job, **kwargs
    )


def test_a_prospect_enriched_twice_is_counted_once(member_client, workspace):
    people = ProspectFactory.create_batch(3, workspace=workspace)
    for prospect in people:
        item(workspace, prospect, Item.DONE)
    # The first one was enriched again: a second finished item, still one prospect.
    item(workspace, people[0], Item.DONE)
    assert figures(text(member_client.get(PROGRESS)))["done"] == 3


def test_the_latest_item_decides_where_a_prospect_is_counted(member_client, workspace):
    prospect = ProspectFactory(workspace=workspace)
    item(workspace, prospect, Item.DONE)
    item(workspace, prospect, Item.PENDING)
    counts = figures(text(member_client.get(PROGRESS)))
    assert (counts["done"], counts["queued"]) == (0, 1)


@pytest.fixture
def job(workspace):
    job = EnrichmentJob.objects.create(
        workspace=workspace,
        kind="email",
        status="running",
        total_items=3,
        spent_credits=Decimal("0.12"),
        estimated_credits=Decimal("0.30"),
    )
    done, waiting, failed = ProspectFactory.create_batch(3, workspace=workspace)
    first = item(workspace, done, Item.DONE, job=job, provider="waterfall")
    call = ProviderCall.objects.create(
        workspace=workspace,
        provider="prospeo",
        endpoint="/enrich-person",
        method="POST",
        outcome="ok",
        cost=Decimal("0.12"),
    )
    ProviderAttempt.objects.create(
        workspace=workspace,
        item=first,
        provider="prospeo",
        field="email",
        idempotency_key=f"{job.pk}:{first.pk}:email:prospeo",
        call=call,
        result="found",
        cost=Decimal("0.12"),
    )
    item(workspace, waiting, Item.PENDING, job=job, provider="waterfall")
    item(workspace, failed, Item.NEEDS_REVIEW, job=job, provider="waterfall")
    # Another job's work is not this job's progress.
    item(workspace, ProspectFactory(workspace=workspace), Item.DONE)
    job.call = call
    return job


def test_job_page_shows_its_own_progress_and_links_items_to_their_calls(member_client, job):
    page = text(member_client.get(reverse("admin:enrichment_enrichmentjob_change", args=[job.pk])))
    progress = page[page.index('id="job-progress"') : page.index('id="job-items"')]
    assert figures(progress) == {
        "queued": 1,
        "in_flight": 0,
        "done": 1,
        "failed": 1,
        "waiting_key": 0,
        "cancelled": 0,
    }
    assert "3 prospects dans cette tâche" in progress
    assert "0,12\xa0€" in progress
    assert f'hx-get="{reverse("enrichment:job-progress", args=[job.pk])}"' in progress
    assert reverse("admin:enrichment_providercall_change", args=[job.call.pk]) in page


def test_job_progress_fragment_stops_polling_when_the_job_is_over(member_client, job):
    url = reverse("enrichment:job-progress", args=[job.pk])
    assert 'hx-trigger="every 2s"' in text(member_client.get(url))
    EnrichmentJob.objects.for_workspace(job.workspace_id).filter(pk=job.pk).update(
        status="completed"
    )
    page = text(member_client.get(url))
    assert "hx-trigger" not in page and 'data-live="false"' in page


@pytest.fixture
def their_things(other_workspace):
    prospect = ProspectFactory(workspace=other_workspace)
    job = EnrichmentJob.objects.create(workspace=other_workspace, kind="email")
    batch = ImportBatch.objects.create(workspace=other_workspace, filename="x.csv", status="done")
    return prospect, job, batch


def test_other_workspace_work_pages_are_404(member_client, their_things):
    prospect, job, batch = their_things
    for url in (
        reverse("enrichment:job-progress", args=[job.pk]),
        reverse("enrichment:prospect-panel", args=[prospect.pk]),
        reverse("admin:enrichment_enrichmentjob_change", args=[job.pk]),
        reverse("admin:prospects_importbatch_change", args=[batch.pk]),
    ):
        assert member_client.get(url).status_code == 404, url
    # The prospect page keeps the admin's answer to a missing object (tests/prospects).
    response = member_client.get(reverse("admin:prospects_prospect_change", args=[prospect.pk]))
    assert response.status_code in (302, 404)
    assert str(prospect) not in text(response)


def test_import_page_shows_its_prospects_their_enrichment_and_cost(member_client, workspace, job):
    batch = ImportBatch.objects.create(
        workspace=workspace, filename="salon.csv", status="done", created_count=2
    )
    people = list(EnrichmentItem.objects.for_workspace(workspace).filter(job=job).order_by("pk"))[
        :2
    ]
    for line, enriched in enumerate(people, start=2):
        Prospect.objects.for_workspace(workspace).filter(pk=enriched.prospect_id).update(
            import_batch=batch, import_line=line, source=Source.IMPORT
        )
    page = text(member_client.get(reverse("admin:prospects_importbatch_change", args=[batch.pk])))
    assert 'id="batch-prospects"' in page
    for enriched in people:
        assert str(enriched.prospect) in page
    panel = page[page.index('id="import-enrichment"') :]
    assert "2 prospects envoyés à l’enrichissement" in panel
    assert "0,12\xa0€" in panel
    assert reverse("admin:enrichment_enrichmentjob_change", args=[job.pk]) in panel


def test_prospect_panel_polls_while_enriching_and_stops_after(member_client, workspace):
    prospect = ProspectFactory(workspace=workspace, status=Status.ENRICHING)
    item(workspace, prospect, Item.SUBMITTED)
    url = reverse("enrichment:prospect-panel", args=[prospect.pk])
    page = text(member_client.get(reverse("admin:prospects_prospect_change", args=[prospect.pk])))
    assert f'hx-get="{url}"' in page and "js/htmx.min.js" in page
    EnrichmentItem.objects.for_workspace(workspace).update(status=Item.DONE)
    Prospect.objects.for_workspace(workspace).filter(pk=prospect.pk).update(
        status=Status.VERIFIED, verified_at=timezone.now()
    )
    fragment = text(member_client.get(url, HTTP_HX_REQUEST="true"))
    assert "<html" not in fragment and "hx-trigger" not in fragment
    assert "Vérifié" in fragment


def test_history_lists_imports_jobs_calls_and_values_newest_first(member_client, workspace, job):
    first = EnrichmentItem.objects.for_workspace(workspace).filter(job=job).order_by("pk")[0]
    prospect = first.prospect
    batch = ImportBatch.objects.create(workspace=workspace, filename="salon.csv", status="done")
    Prospect.objects.for_workspace(workspace).filter(pk=prospect.pk).update(
        import_batch=batch, import_line=7, created_at=timezone.now() - timezone.timedelta(days=2)
    )
    FieldProvenance.objects.create(
        workspace=workspace,
        prospect=prospect,
        field="email",
        value="anna@acme.fr",
        source=Source.PROSPEO,
        confidence=87,
        observed_at=timezone.now() + timezone.timedelta(1),
        is_current=True,
    )
    page = text(member_client.get(reverse("admin:prospects_prospect_change", args=[prospect.pk])))
    history = page[page.index('id="history"') :]
    kinds = re.findall(r'data-kind="(\w+)"', history)
    assert kinds[0] == "value" and kinds[-1] == "import"
    assert {"job", "call"} <= set(kinds)
    assert "Importé depuis salon.csv, ligne 7" in history
    assert "Prospeo" in history and "87 %" in history
    assert reverse("admin:enrichment_providercall_change", args=[job.call.pk]) in history


def test_import_cost_counts_only_the_emails_dropcontact_found(member_client, workspace):
    # Dropcontact answered for both (a phone, a title: the prospect's enrichment source is
    # Dropcontact) but found an email for one: it charges that one only, 0,048 €.
    batch = ImportBatch.objects.create(
        workspace=workspace, filename="lyon.csv", status="done", created_count=2
    )
    for line, result in enumerate(("found", "not_found"), start=2):
        prospect = ProspectFactory(
            workspace=workspace, import_batch=batch, import_line=line, source=Source.IMPORT,
            enrichment_source="dropcontact",
        )
        done = item(workspace, prospect, Item.DONE)
        ProviderAttempt.objects.create(
            workspace=workspace, item=done, provider="dropcontact", field="email",
            idempotency_key=f"batch:{done.pk}:email:dropcontact", result=result,
        )
    page = text(member_client.get(reverse("admin:prospects_importbatch_change", args=[batch.pk])))
    panel = page[page.index('id="import-enrichment"') :]
    assert "Dépensé pour ces prospects : 0,05\xa0€" in panel


def test_a_waterfall_item_is_named_in_french_on_the_item_list_and_the_prospect_page(
    member_client, workspace
):
    prospect = ProspectFactory(workspace=workspace)
    EnrichmentItem.objects.create(
        workspace=workspace, prospect=prospect, provider="waterfall_email"
    )
    pages = [
        text(member_client.get(reverse("admin:enrichment_enrichmentitem_changelist"))),
        text(member_client.get(reverse("admin:prospects_prospect_change", args=[prospect.pk]))),
    ]
    for page in pages:
        assert "Cascade e-mail" in page
        assert "waterfall_email" not in page
