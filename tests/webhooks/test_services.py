"""The services the JSON API calls: another workspace's endpoint is DoesNotExist, exactly like
a missing one, and changes nothing."""

import pytest

from enrichment.webhooks import services
from enrichment.webhooks.models import EventType, WebhookEndpoint

from .conftest import emit_one

pytestmark = pytest.mark.django_db


def test_create_returns_the_secret_once_and_refuses_unknown_events(workspace, receiver):
    endpoint, secret = services.create_endpoint(
        workspace, url=receiver.url, events=["job.completed", "job.completed"]
    )
    assert secret.startswith("whsec_") and endpoint.events == ["job.completed"]
    with pytest.raises(services.EndpointRefused) as refused:
        services.create_endpoint(workspace, url=receiver.url, events=["job.exploded"])
    assert refused.value.code == "events_invalid"
    with pytest.raises(services.EndpointRefused):
        services.create_endpoint(workspace, url=receiver.url, events=[])


def test_recent_deliveries_are_the_workspace_s_newest_first(workspace, endpoint):
    hook, _secret = endpoint
    emit_one(workspace, "k:1")
    emit_one(workspace, "k:2")

    rows = list(services.recent_deliveries(workspace, endpoint_id=hook.pk))

    assert [row.event.key for row in rows] == ["k:2", "k:1"]
    assert len(services.recent_deliveries(workspace, limit=1)) == 1


@pytest.mark.parametrize(
    "call",
    [
        lambda ws, pk: services.delete_endpoint(ws, pk),
        lambda ws, pk: services.rotate_secret(ws, pk),
        lambda ws, pk: services.disable_endpoint(ws, pk),
        lambda ws, pk: services.update_endpoint(ws, pk, url="https://x.example", events=[]),
        lambda ws, pk: list(services.recent_deliveries(ws, endpoint_id=pk)),
    ],
)
def test_another_workspace_s_endpoint_is_missing(workspace, other_workspace, receiver, call):
    theirs, secret = services.create_endpoint(
        other_workspace, url=receiver.url, events=EventType.values
    )
    for pk in (theirs.pk, 999_999):
        with pytest.raises(WebhookEndpoint.DoesNotExist):
            call(workspace, pk)
    theirs.refresh_from_db()
    assert theirs.is_active and theirs.signing_secrets() == [secret]
