"""Who may call the API: API keys (hashed, revocable, roles) and the admin session (CSRF)."""

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from prospects.api_keys import revoke_api_key
from prospects.models import ApiKey

from .conftest import ApiClient

JOB = {"prospect_ids": [1], "fields": ["email"]}


def assert_envelope(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body


@pytest.mark.parametrize(
    "header",
    [None, "Bearer ", "Bearer sk_not-a-real-key", "Basic dXNlcjpwYXNz", "Token sk_x"],
)
def test_missing_or_invalid_key_is_401_envelope(db, header):
    client = ApiClient(None, **({"Authorization": header} if header is not None else {}))
    response = client.get("/api/v1/prospects")
    assert_envelope(response, 401, "unauthenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_revoked_key_is_401(workspace, admin_key):
    client = ApiClient(admin_key.secret)
    assert client.get("/api/v1/prospects").status_code == 200
    assert revoke_api_key(workspace, admin_key.api_key.pk)
    assert_envelope(client.get("/api/v1/prospects"), 401, "unauthenticated")


def test_key_is_stored_only_as_its_hash(admin_key):
    row = ApiKey.objects.for_workspace(admin_key.api_key.workspace).get()
    assert row.key_hash == hashlib.sha256(admin_key.secret.encode()).hexdigest()
    stored = " ".join(str(v) for v in ApiKey.objects.unscoped().values().get().values())
    assert admin_key.secret not in stored
    assert admin_key.secret.startswith(row.prefix)


def test_use_is_recorded(api, admin_key):
    assert admin_key.api_key.last_used_at is None
    api.get("/api/v1/stats")
    admin_key.api_key.refresh_from_db()
    assert admin_key.api_key.last_used_at is not None


def test_member_key_reads_but_cannot_start_jobs(member_api, api):
    assert member_api.get("/api/v1/enrichment-jobs").status_code == 200
    assert_envelope(member_api.post("/api/v1/enrichment-jobs", JOB), 403, "forbidden")
    # The admin key gets past the role check (and is refused for another reason).
    assert api.post("/api/v1/enrichment-jobs", JOB).status_code == 422


def test_session_reads_with_the_current_workspace(member_client, workspace):
    response = member_client.get("/api/v1/stats")
    assert response.status_code == 200
    assert response.json()["contacts"] == 0


def test_session_post_needs_the_csrf_token(member):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    body = {"email": "anne.martin@exemple.fr"}
    refused = client.post("/api/v1/prospects", body, content_type="application/json")
    assert_envelope(refused, 403, "csrf_failed")
    client.get("/admin/")
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        "/api/v1/prospects", body, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert accepted.status_code == 201, accepted.content


def test_a_bad_key_never_falls_back_on_the_session(member_client):
    response = member_client.get("/api/v1/stats", headers={"Authorization": "Bearer sk_wrong"})
    assert_envelope(response, 401, "unauthenticated")


def test_create_api_key_prints_the_key_on_its_last_line(workspace):
    out = StringIO()
    call_command("create_api_key", workspace="acme-lyon", role="admin", name="n8n", stdout=out)
    secret = out.getvalue().strip().splitlines()[-1]
    assert secret.startswith("sk_") and " " not in secret
    assert ApiClient(secret).get("/api/v1/stats").status_code == 200
    key = ApiKey.objects.for_workspace(workspace).get()
    assert (key.name, key.role) == ("n8n", "admin")


def test_create_api_key_refuses_an_unknown_workspace(db):
    with pytest.raises(CommandError):
        call_command("create_api_key", workspace="nope", role="member", name="x", stdout=StringIO())
    assert not ApiKey.objects.unscoped().exists()
