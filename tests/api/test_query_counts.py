"""The list and a job's creation cost the same number of queries whatever their size, and what
makes them cheap (rows rather than instances, one INSERT … SELECT) gives the same answers."""

import datetime as dt

import pytest
from django.db import DataError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from enrichment import waterfall_queue
from enrichment.engine import bulk_sql
from enrichment.models import EnrichmentItem, EnrichmentJob
from prospects import services as prospect_services
from prospects.models import Company, Prospect
from tests.factories import ProspectFactory

from .support import with_prospeo_key


def add_prospects(workspace, count: int, *, prefix: str = "p") -> list[int]:
    """`count` new prospects, every other one with its own company; their ids, oldest first."""
    companies = Company.objects.bulk_create(
        Company(workspace=workspace, name=f"Société {prefix}{n}", domain=f"{prefix}{n}.example")
        for n in range(0, count, 2)
    )
    rows = []
    for n in range(count):
        prospect = Prospect(
            workspace=workspace,
            first_name=f"Prénom{n}",
            last_name=f"Nom{n}",
            email=f"{prefix}{n}@exemple.fr",
            company=companies[n // 2] if n % 2 == 0 else None,
            source="import",
        )
        prospect.refresh_keys()
        rows.append(prospect)
    return [p.pk for p in Prospect.objects.bulk_create(rows)]


def queries(call) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        response = call()
    return len(captured.captured_queries), response


# --- The prospects list ------------------------------------------------------------------


def test_a_page_costs_the_same_queries_whatever_its_size(api, workspace):
    add_prospects(workspace, 4)
    api.get("/api/v1/prospects")  # the key's last use is written at most once a minute
    small, response = queries(lambda: api.get("/api/v1/prospects?limit=2"))
    assert len(response.json()["items"]) == 2
    add_prospects(workspace, 150, prefix="q")
    large, response = queries(lambda: api.get("/api/v1/prospects?limit=100"))
    assert len(response.json()["items"]) == 100
    # The key, the count and the page; the companies come with the page.
    assert small == large <= 3


def test_a_listed_prospect_reads_as_its_detail(api, workspace):
    with_company = ProspectFactory(workspace=workspace, phone="+33612345678")
    without = ProspectFactory(workspace=workspace, company=None)
    listed = {p["id"]: p for p in api.get("/api/v1/prospects").json()["items"]}
    for prospect in (with_company, without):
        detail = api.get(f"/api/v1/prospects/{prospect.pk}").json()
        del detail["provenance"]
        assert listed[prospect.pk] == detail
    assert listed[without.pk]["company"] is None
    assert listed[with_company.pk]["company"]["domain"] == with_company.company.domain


# --- A job's creation --------------------------------------------------------------------


def create_job(api, ids):
    return api.post("/api/v1/enrichment-jobs", {"prospect_ids": ids, "fields": ["email"]})


def test_a_job_costs_the_same_queries_whatever_its_size(api, workspace):
    with_prospeo_key(workspace)
    api.get("/api/v1/prospects")  # the key's last use is written at most once a minute
    # Past 500 prospects, bulk_create wrote the items in two statements.
    for count in (5, 600):
        ids = add_prospects(workspace, count, prefix=f"n{count}-")
        # Some are left out, each for its own reason: verified, already queued, objecting.
        Prospect.objects.for_workspace(workspace).filter(pk=ids[0]).update(
            status=Prospect.Status.VERIFIED
        )
        EnrichmentItem.objects.create(
            workspace=workspace, prospect_id=ids[1], provider="waterfall_email"
        )
        prospect_services.suppress_person(workspace, email=f"n{count}-2@exemple.fr")
        spent, response = queries(lambda ids=ids: create_job(api, ids))
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["estimate"]["excluded"] == {"status": 1, "busy": 1, "objected": 1}
        assert body["job"]["total_items"] == count - 3
        if count == 5:
            small = spent
    # The providers' keys in one query, the items written RETURNING their prospects; one less
    # where the API key is kept in the cache (SOURCIER_API_KEY_CACHE_SECONDS, on with Redis).
    assert small == spent <= 15, (small, spent)


def test_a_job_s_items_are_what_bulk_create_made(api, workspace):
    with_prospeo_key(workspace)
    ids = add_prospects(workspace, 30)
    before = timezone.now()
    job_id = create_job(api, ids[::-1]).json()["job"]["id"]
    job = EnrichmentJob.objects.for_workspace(workspace).get(pk=job_id)
    after = timezone.now()
    items = EnrichmentItem.objects.for_workspace(workspace).filter(job=job).order_by("pk")
    # In the order asked, one each, queued now.
    assert [i.prospect_id for i in items] == ids[::-1]
    for item in items:
        assert (item.workspace_id, item.provider, item.status) == (
            workspace.pk,
            "waterfall_email",
            EnrichmentItem.Status.PENDING,
        )
        assert (item.attempts, item.outcome, item.batch_id, item.lease_token) == (0, "", None, "")
        assert before <= item.next_attempt_at <= item.created_at <= item.updated_at <= after
        assert item.finished_at is None and item.started_at is None
    # The request left the prospects as they were: the dispatch that starts the items puts
    # them *En cours* (the next test).
    statuses = set(Prospect.objects.for_workspace(workspace).values_list("status", flat=True))
    assert statuses == {Prospect.Status.NEW}


def test_rows_that_would_break_a_unique_constraint_are_skipped(workspace):
    ids = add_prospects(workspace, 3)
    live = EnrichmentItem.objects.create(
        workspace=workspace, prospect_id=ids[1], provider="waterfall_email"
    )
    template = EnrichmentItem(
        workspace=workspace,
        provider="waterfall_email",
        status=EnrichmentItem.Status.WAITING_KEY,
        outcome="no_provider",
    )
    written = bulk_sql.insert_for_each(template, "prospect_id", ids)
    assert bulk_sql.insert_for_each(template, "prospect_id", []) == []
    if connection.features.can_return_rows_from_bulk_insert:
        assert sorted(written) == [ids[0], ids[2]]  # the rows written, not the one skipped
    rows = EnrichmentItem.objects.for_workspace(workspace).order_by("pk")
    assert [(i.pk == live.pk, i.prospect_id, i.status, i.outcome) for i in rows] == [
        (True, ids[1], EnrichmentItem.Status.PENDING, ""),
        (False, ids[0], EnrichmentItem.Status.WAITING_KEY, "no_provider"),
        (False, ids[2], EnrichmentItem.Status.WAITING_KEY, "no_provider"),
    ]
    found = Prospect.objects.for_workspace(workspace).filter(pk__in=bulk_sql.in_ids(ids[:2]))
    assert sorted(found.values_list("pk", flat=True)) == ids[:2]


def test_a_value_too_long_is_refused_not_cut(workspace):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite keeps text of any length (the PostgreSQL pass runs this)")
    [prospect_id] = add_prospects(workspace, 1)
    template = EnrichmentItem(workspace=workspace, provider="x" * 40)
    with pytest.raises(DataError), transaction.atomic():
        bulk_sql.insert_for_each(template, "prospect_id", [prospect_id])
    assert not EnrichmentItem.objects.for_workspace(workspace).exists()


def test_starting_puts_only_the_prospects_that_change_en_cours(workspace):
    with_prospeo_key(workspace)
    ids = add_prospects(workspace, 3)
    EnrichmentItem.objects.create(
        workspace=workspace, prospect_id=ids[0], provider="waterfall_email"
    )
    long_ago = timezone.now() - dt.timedelta(days=3)
    prospects = Prospect.objects.for_workspace(workspace)
    prospects.filter(pk=ids[1]).update(status=Prospect.Status.ENRICHING, updated_at=long_ago)
    prospects.filter(pk__in=[ids[0], ids[2]]).update(updated_at=long_ago)
    queued = waterfall_queue.queue_waterfall(workspace.pk, ids)
    assert sorted(queued) == ids[1:]  # the first one already had its item
    assert prospects.get(pk=ids[2]).status == Prospect.Status.NEW  # not before its dispatch
    items = EnrichmentItem.objects.for_workspace(workspace).filter(prospect_id__in=ids[1:])
    started = waterfall_queue.start_items(list(items.values_list("pk", flat=True)))
    assert sorted(started) == sorted(items.values_list("pk", flat=True))
    rows = {p.pk: p for p in prospects}
    assert rows[ids[0]].status == Prospect.Status.NEW and rows[ids[0]].updated_at == long_ago
    assert rows[ids[1]].status == Prospect.Status.ENRICHING and rows[ids[1]].updated_at == long_ago
    assert rows[ids[2]].status == Prospect.Status.ENRICHING and rows[ids[2]].updated_at > long_ago
    assert all(item.started_at for item in items)


def test_an_item_is_started_once_and_a_cancelled_one_never(workspace):
    """A prospect whose status changed after its item started is not put *En cours* again by
    a later dispatch of the item, and an item cancelled before its dispatch starts nothing."""
    with_prospeo_key(workspace)
    ids = add_prospects(workspace, 2)
    waterfall_queue.queue_waterfall(workspace.pk, ids)
    items = EnrichmentItem.objects.for_workspace(workspace)
    first, second = (items.get(prospect_id=pk) for pk in ids)
    second_items = items.filter(pk=second.pk)
    second_items.update(status=EnrichmentItem.Status.CANCELLED)
    assert waterfall_queue.start_items([first.pk, second.pk]) == [first.pk]
    prospects = Prospect.objects.for_workspace(workspace)
    prospects.filter(pk=ids[0]).update(status=Prospect.Status.NEEDS_REVIEW)
    assert waterfall_queue.start_items([first.pk]) == []
    assert prospects.get(pk=ids[0]).status == Prospect.Status.NEEDS_REVIEW
    assert prospects.get(pk=ids[1]).status == Prospect.Status.NEW
    assert second_items.get().started_at is None
