"""/api/v1/webhooks: subscribe (the secret shown once, never stored in the clear for a
replay), list, rotate, deliveries, delete; the address guard at save time; admin keys only."""

import pytest

from enrichment import crypto
from enrichment.webhooks.models import WebhookEndpoint
from enrichment.webhooks.signing import secret_key
from prospects.models import IdempotentRequest

# A public address written as such: the guard accepts it without a DNS lookup.
URL = "https://93.184.216.34/sourcier"


def create(api, **extra):
    body = {"url": URL, "events": ["job.completed", "prospect.verified"], **extra}
    return api.post("/api/v1/webhooks", body, headers={"Idempotency-Key": "hook-1"})


def test_subscribing_shows_the_secret_once(api, workspace):
    response = create(api)
    assert response.status_code == 201
    data = response.json()
    assert data["secret"].startswith("whsec_") and len(secret_key(data["secret"])) >= 24
    endpoint = WebhookEndpoint.objects.for_workspace(workspace).get()
    assert crypto.decrypt(endpoint.encrypted_secret) == data["secret"]
    assert data["endpoint"]["events"] == ["job.completed", "prospect.verified"]
    listed = api.get("/api/v1/webhooks").json()
    assert [e["id"] for e in listed] == [endpoint.pk] and "secret" not in listed[0]

    # A replay answers the same endpoint, without the secret: it is stored nowhere in the clear.
    again = create(api)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["endpoint"]["id"] == endpoint.pk and again.json()["secret"] == ""
    stored = IdempotentRequest.objects.for_workspace(workspace).get()
    assert data["secret"].encode() not in bytes(stored.body)
    assert WebhookEndpoint.objects.for_workspace(workspace).count() == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://169.254.169.254/latest",
        "https://10.0.0.5/x",
        "http://[::1]/",
        "ftp://93.184.216.34/",
        "https://93.184.216.34:8443/",
    ],
)
def test_a_forbidden_address_is_refused_at_save_time(api, workspace, url):
    response = api.post("/api/v1/webhooks", {"url": url, "events": ["job.completed"]})
    assert response.status_code == 422
    assert not WebhookEndpoint.objects.for_workspace(workspace).exists()


def test_unknown_events_are_refused(api, workspace):
    response = api.post("/api/v1/webhooks", {"url": URL, "events": ["job.exploded"]})
    assert response.status_code == 422
    assert not WebhookEndpoint.objects.for_workspace(workspace).exists()


def test_rotate_deliveries_and_delete(api, workspace):
    endpoint_id = create(api).json()["endpoint"]["id"]
    first = WebhookEndpoint.objects.for_workspace(workspace).get().encrypted_secret
    rotated = api.post(f"/api/v1/webhooks/{endpoint_id}/rotate-secret")
    assert rotated.status_code == 200 and rotated.json()["secret"].startswith("whsec_")
    assert WebhookEndpoint.objects.for_workspace(workspace).get().encrypted_secret != first
    assert api.get(f"/api/v1/webhooks/{endpoint_id}/deliveries").json() == []
    assert api.delete(f"/api/v1/webhooks/{endpoint_id}").status_code == 204
    assert not WebhookEndpoint.objects.for_workspace(workspace).exists()
    assert api.delete(f"/api/v1/webhooks/{endpoint_id}").status_code == 404


def test_a_member_key_reads_but_does_not_write(member_api, api, workspace):
    endpoint_id = create(api).json()["endpoint"]["id"]
    assert member_api.get("/api/v1/webhooks").status_code == 200
    assert (
        member_api.post("/api/v1/webhooks", {"url": URL, "events": ["job.failed"]}).status_code
        == 403
    )
    assert member_api.delete(f"/api/v1/webhooks/{endpoint_id}").status_code == 403
    assert WebhookEndpoint.objects.for_workspace(workspace).count() == 1
