"""A JSON route reads JSON or nothing: a form, a multipart upload or text is a 415 in the
envelope, before anything reads it (never a 500); a body without Content-Type is read as JSON."""

import json

import pytest
from django.test import Client

from enrichment.models import DiscoveryJob
from prospects.models import Prospect

from .support import make_discovery
from .test_auth import assert_envelope

ROUTES = ["/api/v1/discovery/jobs", "/api/v1/prospects", "/api/v1/enrichment-jobs"]


def _post(key, path, body, content_type, **headers):
    client = Client()
    headers = {"Authorization": f"Bearer {key.secret}", **headers}
    if content_type is None:  # the test client's multipart form
        return client.post(path, body, headers=headers)
    return client.post(path, body, content_type=content_type, headers=headers)


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize("idempotency", [{}, {"Idempotency-Key": "formulaire-1"}])
def test_a_multipart_body_is_415_never_500(admin_key, workspace, path, idempotency):
    response = _post(admin_key, path, {"x": "1"}, None, **idempotency)
    body = assert_envelope(response, 415, "unsupported_media_type")
    assert body["error"]["message"].startswith("Le corps doit être du JSON")
    assert response["Accept-Post"] == "application/json"
    assert not DiscoveryJob.objects.for_workspace(workspace).exists()


def test_the_link_route_refuses_a_multipart_body_too(admin_key, workspace):
    contact_id = make_discovery(workspace).contact_ids[0]
    path = f"/api/v1/discovery/contacts/{contact_id}/link"
    response = _post(admin_key, path, {"prospect_id": "1"}, None)
    assert_envelope(response, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "text/plain", "text/plain; charset=utf-8", "text/html"],
)
def test_a_json_body_sent_as_another_type_is_refused(admin_key, workspace, content_type):
    body = json.dumps({"email": "anne.martin@exemple.fr"})
    response = _post(
        admin_key, "/api/v1/prospects", body, content_type, **{"Accept-Language": "en"}
    )
    body = assert_envelope(response, 415, "unsupported_media_type")
    assert body["error"]["message"].startswith("The body must be JSON")
    assert not Prospect.objects.for_workspace(workspace).exists()


@pytest.mark.parametrize(
    "content_type",
    ["", "application/json; charset=utf-8", "Application/JSON", "application/x+json"],
)
def test_json_without_or_with_a_json_content_type_is_read(admin_key, workspace, content_type):
    body = json.dumps({"email": "anne.martin@exemple.fr"})
    response = _post(admin_key, "/api/v1/prospects", body, content_type)
    assert response.status_code == 201, response.content


def test_an_empty_form_body_is_no_body(admin_key, workspace):
    job = make_discovery(workspace, status="failed")
    path = f"/api/v1/discovery/jobs/{job.pk}/retry"
    response = _post(admin_key, path, "", "application/x-www-form-urlencoded")
    assert response.status_code == 200, response.content


def test_an_unauthenticated_multipart_body_is_still_401(db):
    response = Client().post("/api/v1/prospects", {"x": "1"}, headers={"Authorization": "Bearer x"})
    assert_envelope(response, 401, "unauthenticated")
