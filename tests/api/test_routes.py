"""Each route: what it returns, what it changes, how it refuses."""

import datetime as dt

import pytest
from django.utils import timezone

from enrichment import waterfall_queue
from enrichment.models import EnrichmentItem, EnrichmentJob
from prospects import services as prospect_services
from prospects.models import Company, FieldProvenance, Prospect, Workspace
from tests.factories import ProspectFactory

from .support import make_job, with_prospeo_key
from .test_auth import assert_envelope

ANNE = {
    "first_name": "Anne",
    "last_name": "Le Gall",
    "email": "Anne.LeGall@Exemple.fr",
    "company_name": "Exemple SAS",
    "company_domain": "exemple.fr",
}


# --- Prospects ---------------------------------------------------------------------------


def test_create_prospect_uses_the_same_rules_as_the_import(api, workspace):
    response = api.post("/api/v1/prospects", ANNE)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["email"] == "anne.legall@exemple.fr"  # normalised as the import does
    assert body["source"] == "api"
    assert body["company"]["domain"] == "exemple.fr"
    prospect = Prospect.objects.for_workspace(workspace).get()
    assert (
        FieldProvenance.objects.for_workspace(workspace)
        .filter(prospect=prospect, source="api", field="email")
        .exists()
    )


def test_create_prospect_refusals(api, workspace):
    assert_envelope(api.post("/api/v1/prospects", {"job_title": "CEO"}), 422, "invalid")
    assert_envelope(api.post("/api/v1/prospects", {"email": "pas-un-email"}), 422, "invalid")
    prospect_services.suppress_person(workspace, email="objecte@exemple.fr")
    objected = api.post("/api/v1/prospects", {"email": "Objecte@exemple.fr"})
    assert_envelope(objected, 422, "objected")
    api.post("/api/v1/prospects", ANNE)
    assert_envelope(api.post("/api/v1/prospects", ANNE), 409, "duplicate")
    assert Prospect.objects.for_workspace(workspace).count() == 1


@pytest.mark.parametrize("domain", ["exa mple.fr", "ab\u0000c.fr", "-x.fr", "x_y.fr"])
def test_a_company_domain_that_is_no_host_name_is_refused(api, workspace, domain):
    body = assert_envelope(
        api.post("/api/v1/prospects", {**ANNE, "company_domain": domain}), 422, "invalid"
    )
    assert body["error"]["message"].startswith("Domaine ")
    assert not Prospect.objects.for_workspace(workspace).exists()
    assert not Company.objects.for_workspace(workspace).exists()


@pytest.mark.parametrize(
    ("choice", "pipeline"),
    [(Workspace.AutoEnrich.EMAIL, "waterfall_email"), (Workspace.AutoEnrich.NONE, None)],
)
def test_created_prospects_are_enriched_as_the_workspace_says(
    api, workspace, choice, pipeline, django_capture_on_commit_callbacks
):
    workspace.auto_enrich = choice
    workspace.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/prospects", ANNE)
    items = EnrichmentItem.objects.for_workspace(workspace).filter(
        prospect_id=response.json()["id"]
    )
    assert list(items.values_list("provider", flat=True)) == ([pipeline] if pipeline else [])


def test_list_prospects_filters_and_paginates(api, workspace, other_workspace):
    for n in range(7):
        ProspectFactory(workspace=workspace, email=f"p{n}@exemple.fr", first_name=f"Nom{n}")
    ProspectFactory(workspace=workspace, status=Prospect.Status.VERIFIED, email="v@exemple.fr")
    ProspectFactory(workspace=other_workspace, email="autre@exemple.fr")
    page = api.get("/api/v1/prospects?limit=3&page=2").json()
    assert (page["count"], page["page"], page["limit"], page["pages"]) == (8, 2, 3, 3)
    assert len(page["items"]) == 3
    last = api.get("/api/v1/prospects?limit=3&page=3").json()
    beyond = api.get("/api/v1/prospects?limit=3&page=9").json()
    assert len(last["items"]) == 2 and beyond["items"] == [] and beyond["count"] == 8
    seen = {
        p["id"]
        for n in (1, 2, 3)
        for p in api.get(f"/api/v1/prospects?limit=3&page={n}").json()["items"]
    }
    assert len(seen) == 8
    verified = api.get("/api/v1/prospects?status=verified").json()
    assert [p["email"] for p in verified["items"]] == ["v@exemple.fr"]
    assert api.get("/api/v1/prospects?email=P3@exemple.fr").json()["count"] == 1
    assert api.get("/api/v1/prospects?q=nom5").json()["count"] == 1
    later = (timezone.now() + dt.timedelta(hours=1)).isoformat()
    assert api.get("/api/v1/prospects", data={"created_after": later}).json()["count"] == 0


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=101",
        "page=0",
        "page=x",
        "status=nope",
        "created_after=157",
        "q=a%00b",
        "company_domain=%00",
    ],
)
def test_bad_pagination_or_filter_is_422(api, query):
    assert_envelope(api.get(f"/api/v1/prospects?{query}"), 422, "validation_error")


def test_default_limit_is_50(api, workspace):
    assert api.get("/api/v1/prospects").json()["limit"] == 50


def test_prospect_detail_shows_provenance(api, workspace):
    created = api.post("/api/v1/prospects", ANNE).json()
    detail = api.get(f"/api/v1/prospects/{created['id']}").json()
    assert detail["provenance"]["email"][0]["value"] == "anne.legall@exemple.fr"
    assert detail["provenance"]["email"][0]["source"] == "api"
    assert detail["provenance"]["email"][0]["is_current"] is True


def test_reenrich(api, workspace):
    stuck = ProspectFactory(workspace=workspace, status=Prospect.Status.NEEDS_REVIEW)
    verified = ProspectFactory(workspace=workspace, status=Prospect.Status.VERIFIED)
    response = api.post(f"/api/v1/prospects/{stuck.pk}/re-enrich", {})
    assert response.status_code == 202
    assert response.json() == {"prospect_id": stuck.pk, "status": "enriching"}
    assert EnrichmentJob.objects.for_workspace(workspace).count() == 1
    refused = api.post(f"/api/v1/prospects/{verified.pk}/re-enrich", {})
    assert_envelope(refused, 409, "not_reenrichable")


def test_reenrich_refuses_a_prospect_the_waterfall_holds_and_leaves_no_empty_job(api, workspace):
    """Queued for the email waterfall (not yet *En cours*): not sent to Dropcontact as well,
    said as such (not as an objection), and no job that could never end."""
    with_prospeo_key(workspace)
    held = ProspectFactory(workspace=workspace, status=Prospect.Status.NOT_VERIFIED)
    waterfall_queue.queue_waterfall(workspace.pk, [held.pk])
    jobs = EnrichmentJob.objects.for_workspace(workspace).count()
    refused = api.post(f"/api/v1/prospects/{held.pk}/re-enrich", {})
    assert_envelope(refused, 409, "already_enriching")
    assert "opposition" not in refused.json()["error"]["message"]
    assert EnrichmentJob.objects.for_workspace(workspace).count() == jobs
    items = EnrichmentItem.objects.for_workspace(workspace).filter(prospect=held)
    assert list(items.values_list("provider", flat=True)) == ["waterfall_email"]


# --- Providers ---------------------------------------------------------------------------


def test_providers_say_whether_the_workspace_has_a_key_never_the_key(api, workspace):
    with_prospeo_key(workspace)
    listed = api.get("/api/v1/providers")
    assert "sandbox-key" not in listed.content.decode()
    by_slug = {p["slug"]: p for p in listed.json()}
    assert by_slug["prospeo"]["has_key"] and by_slug["prospeo"]["key_usable"]
    assert not by_slug["hunter"]["has_key"]
    assert api.get("/api/v1/providers/prospeo").json()["label"] == "Prospeo"
    assert_envelope(api.get("/api/v1/providers/inconnu"), 404, "not_found")


# --- Jobs --------------------------------------------------------------------------------


def test_create_job_returns_the_estimate_and_starts_it(api, workspace):
    with_prospeo_key(workspace)
    prospects = [ProspectFactory(workspace=workspace) for _ in range(3)]
    verified = ProspectFactory(workspace=workspace, status=Prospect.Status.VERIFIED)
    body = {"prospect_ids": [p.pk for p in [*prospects, verified]], "fields": ["email"]}
    response = api.post("/api/v1/enrichment-jobs", body)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["estimate"]["prospects"] == 3
    assert created["estimate"]["excluded"]["status"] == 1
    assert created["estimate"]["providers"] == ["prospeo"]
    assert float(created["estimate"]["most"]) > 0
    job = EnrichmentJob.objects.for_workspace(workspace).get(pk=created["job"]["id"])
    assert job.status == "running" and job.total_items == 3
    assert created["job"]["progress"] == {
        "total": 3,
        "done": 0,
        "failed": 0,
        "active": 3,
        "percent": 0,
    }
    # The job's money reads the same when it is created and when it is read back.
    fetched = api.get(f"/api/v1/enrichment-jobs/{job.pk}").json()
    money = ("estimated_credits", "spent_credits")
    assert {k: created["job"][k] for k in money} == {k: fetched[k] for k in money}
    assert created["estimate"]["most"] == fetched["estimated_credits"]


def test_create_job_refusals_use_stable_codes(api, workspace):
    prospect = ProspectFactory(workspace=workspace)
    body = {"prospect_ids": [prospect.pk]}
    assert_envelope(api.post("/api/v1/enrichment-jobs", body), 422, "no_provider")
    with_prospeo_key(workspace)
    wrong = {**body, "fields": ["fax"]}
    assert_envelope(api.post("/api/v1/enrichment-jobs", wrong), 422, "unknown_field")
    keyless = {**body, "providers": ["hunter"]}
    assert_envelope(api.post("/api/v1/enrichment-jobs", keyless), 422, "key_missing")
    assert_envelope(
        api.post("/api/v1/enrichment-jobs", {"prospect_ids": []}), 422, "validation_error"
    )
    prospect.status = Prospect.Status.VERIFIED
    prospect.save()
    assert_envelope(api.post("/api/v1/enrichment-jobs", body), 422, "nothing_to_enrich")
    assert not EnrichmentJob.objects.for_workspace(workspace).exists()


def test_jobs_list_detail_records_and_cancel(api, workspace):
    job = make_job(workspace, count=3)
    listed = api.get("/api/v1/enrichment-jobs").json()
    assert [j["id"] for j in listed["items"]] == [job.pk] and listed["count"] == 1
    assert api.get("/api/v1/enrichment-jobs?status=completed").json()["count"] == 0
    detail = api.get(f"/api/v1/enrichment-jobs/{job.pk}").json()
    assert detail["status"] == "running" and detail["progress"]["active"] == 3
    records = api.get(f"/api/v1/enrichment-jobs/{job.pk}/records?limit=2").json()
    assert records["count"] == 3 and len(records["items"]) == 2
    with_attempt = next(
        r
        for r in api.get(f"/api/v1/enrichment-jobs/{job.pk}/records").json()["items"]
        if r["provider_attempts"]
    )
    one = api.get(f"/api/v1/enrichment-jobs/{job.pk}/records/{with_attempt['id']}").json()
    assert one["provider_attempts"][0]["provider"] == "prospeo"
    assert one["provider_attempts"][0]["result"] == "not_found"
    cancelled = api.post(f"/api/v1/enrichment-jobs/{job.pk}/cancel", {})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    # Nothing left in progress once it is cancelled (its items were cancelled with it).
    assert cancelled.json()["progress"]["active"] == 0
    assert cancelled.json()["progress"]["percent"] == 100
    again = api.post(f"/api/v1/enrichment-jobs/{job.pk}/cancel", {})
    assert_envelope(again, 409, "not_cancellable")


def test_member_cannot_cancel(member_api, workspace):
    job = make_job(workspace)
    assert_envelope(
        member_api.post(f"/api/v1/enrichment-jobs/{job.pk}/cancel", {}), 403, "forbidden"
    )
    job.refresh_from_db()
    assert job.status == "running"


def test_synchronous_enrichment_answers_202_when_the_budget_runs_out(api, workspace, settings):
    settings.SOURCIER_API_ENRICH_BUDGET = 0.2
    with_prospeo_key(workspace)
    prospect = ProspectFactory(workspace=workspace)
    response = api.post(f"/api/v1/prospects/{prospect.pk}/enrich", {"fields": ["email"]})
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["finished"] is False and body["job"]["status"] == "running"
    assert len(body["records"]) == 1


# --- Figures -----------------------------------------------------------------------------


def test_stats(api, workspace, other_workspace):
    ProspectFactory(workspace=workspace, status=Prospect.Status.VERIFIED)
    ProspectFactory(workspace=workspace)
    ProspectFactory(workspace=other_workspace, status=Prospect.Status.VERIFIED)
    EnrichmentJob.objects.create(workspace=workspace, kind="email", status="completed")
    EnrichmentJob.objects.create(workspace=workspace, kind="email", status="failed")
    EnrichmentJob.objects.create(workspace=other_workspace, kind="email", status="failed")
    stats = api.get("/api/v1/stats?days=7").json()
    assert (stats["contacts"], stats["emails_verified"]) == (2, 1)
    assert (stats["jobs_completed"], stats["jobs_failed"]) == (1, 1)
    assert float(stats["spend"]) == 0 and stats["spend_by_provider"] == {}
    assert_envelope(api.get("/api/v1/stats?days=0"), 422, "validation_error")


# --- Schema ------------------------------------------------------------------------------


def test_openapi_documents_every_response_with_the_envelope(api):
    schema = api.get("/api/v1/openapi.json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"401", "403", "422", "429"} <= codes, (method, path, codes)
            if "{" in path:
                assert "404" in codes, (method, path)
            error = operation["responses"]["401"]["content"]["application/json"]["schema"]
            assert error["$ref"].endswith("/ErrorOut")
    assert api.get("/api/v1/docs").status_code == 200


def test_far_offsets_are_read_in_utc(api, workspace):
    ProspectFactory(workspace=workspace)
    query = {
        "created_before": "9999-12-31T00:00:00-23:59",
        "created_after": "0001-01-01T23:00:00+22:00",
    }
    assert api.get("/api/v1/prospects", data=query).json()["count"] == 1
