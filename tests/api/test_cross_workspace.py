"""Every route that names an object, tried with another workspace's ids: a 404 exactly like a
missing id, and nothing changed. The routes come from the API itself: a new route without an
entry here fails."""

import pytest

from config.api import api
from enrichment import crypto
from enrichment.models import EnrichmentItem
from enrichment.webhooks.models import WebhookEndpoint
from prospects.models import Prospect
from tests.factories import ProspectFactory

from .support import make_discovery, make_job, snapshot

MISSING = 987654321


def _job_ids(workspace):
    job = make_job(workspace)
    record = EnrichmentItem.objects.for_workspace(workspace).filter(job=job).first()
    return {"job_id": job.pk, "record_id": record.pk}


def _endpoint_ids(workspace):
    endpoint = WebhookEndpoint.objects.create(
        workspace=workspace,
        url="https://crm.exemple.fr/hook",
        events=["job.completed"],
        encrypted_secret=crypto.encrypt("whsec_" + "A" * 32),
    )
    return {"endpoint_id": endpoint.pk}


def _prospect_ids(workspace):
    prospect = ProspectFactory(workspace=workspace, status=Prospect.Status.NOT_VERIFIED)
    return {"prospect_id": prospect.pk}


def _discovery_ids(workspace):
    job = make_discovery(workspace, status="failed", error_code="internal_error")
    return {"job_id": job.pk, "contact_id": job.contact_ids[0]}


# Each route with path parameters -> how to make a workspace's object ids for it, and a body.
# None: the parameter names no workspace object (a provider of the shared registry).
OBJECT_ROUTES = {
    ("GET", "/api/v1/providers/{slug}"): None,
    ("GET", "/api/v1/prospects/{prospect_id}"): (_prospect_ids, None),
    ("POST", "/api/v1/prospects/{prospect_id}/re-enrich"): (_prospect_ids, {}),
    ("POST", "/api/v1/prospects/{prospect_id}/enrich"): (_prospect_ids, {"fields": ["email"]}),
    ("GET", "/api/v1/enrichment-jobs/{job_id}"): (_job_ids, None),
    ("POST", "/api/v1/enrichment-jobs/{job_id}/cancel"): (_job_ids, {}),
    ("GET", "/api/v1/enrichment-jobs/{job_id}/records"): (_job_ids, None),
    ("GET", "/api/v1/enrichment-jobs/{job_id}/records/{record_id}"): (_job_ids, None),
    ("DELETE", "/api/v1/webhooks/{endpoint_id}"): (_endpoint_ids, None),
    ("POST", "/api/v1/webhooks/{endpoint_id}/rotate-secret"): (_endpoint_ids, {}),
    ("GET", "/api/v1/webhooks/{endpoint_id}/deliveries"): (_endpoint_ids, None),
    ("GET", "/api/v1/discovery/jobs/{job_id}"): (_discovery_ids, None),
    ("POST", "/api/v1/discovery/jobs/{job_id}/retry"): (_discovery_ids, {}),
    ("GET", "/api/v1/discovery/contacts/{contact_id}"): (_discovery_ids, None),
    ("DELETE", "/api/v1/discovery/contacts/{contact_id}"): (_discovery_ids, None),
    ("POST", "/api/v1/discovery/contacts/{contact_id}/approve"): (_discovery_ids, {}),
    ("POST", "/api/v1/discovery/contacts/{contact_id}/reject"): (_discovery_ids, {}),
    ("POST", "/api/v1/discovery/contacts/{contact_id}/link"): (_discovery_ids, {"prospect_id": 1}),
}


def api_routes() -> list[tuple[str, str]]:
    schema = api.get_openapi_schema()
    return [
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def object_routes() -> list[tuple[str, str]]:
    return [route for route in api_routes() if "{" in route[1]]


def test_every_object_route_has_an_entry():
    missing = [route for route in object_routes() if route not in OBJECT_ROUTES]
    assert not missing, f"add these routes to OBJECT_ROUTES: {missing}"
    stale = [route for route in OBJECT_ROUTES if route not in object_routes()]
    assert not stale, f"routes no longer in the API: {stale}"


@pytest.mark.parametrize("route", sorted(r for r, entry in OBJECT_ROUTES.items() if entry))
def test_another_workspace_s_object_is_a_404_like_a_missing_one(
    route, api, workspace, other_workspace
):
    method, template = route
    make_ids, body = OBJECT_ROUTES[route]
    theirs = make_ids(other_workspace)
    ours = make_ids(workspace)
    their_prospect = _prospect_ids(other_workspace)["prospect_id"]
    before = snapshot(other_workspace)

    def call(ids):
        path = template.format(**ids)
        if method == "DELETE":
            return api.delete(path)
        return api.get(path) if method == "GET" else api.post(path, body)

    foreign = call(theirs)
    missing = call({name: MISSING for name in theirs})
    if body and "prospect_id" in body:
        # Our contact linked to their prospect: as missing as a prospect that does not exist.
        body = {"prospect_id": their_prospect}
        ours_before = snapshot(workspace)
        ours_linked = call(ours)
        assert snapshot(workspace) == ours_before
        body = {"prospect_id": MISSING}
        assert ours_linked.json() == call(ours).json()
        assert ours_linked.status_code == 404
    assert foreign.status_code == 404, (route, foreign.content)
    assert (
        foreign.json()
        == missing.json()
        == {"error": {"code": "not_found", "message": "Introuvable."}}
    )
    assert snapshot(other_workspace) == before
    # Mixed: our job with their record is as missing as anything else.
    if "{record_id}" in template:
        mixed = call({"job_id": ours["job_id"], "record_id": theirs["record_id"]})
        assert mixed.status_code == 404
        assert snapshot(other_workspace) == before


def test_a_job_over_another_workspace_s_prospects_is_refused(api, other_workspace):
    theirs = ProspectFactory(workspace=other_workspace)
    before = snapshot(other_workspace)
    response = api.post("/api/v1/enrichment-jobs", {"prospect_ids": [theirs.pk]})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "not_found"
    assert snapshot(other_workspace) == before
