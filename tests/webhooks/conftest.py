"""An endpoint of the workspace allowed to reach the loopback receiver (`receiver`, in
tests/conftest.py), and one event through the real emission path."""

from __future__ import annotations

import pytest

from enrichment.webhooks import events, services
from enrichment.webhooks.models import EventType, WebhookDelivery


@pytest.fixture
def endpoint(workspace, receiver):
    """An endpoint of the workspace for every event, and its secret (as shown once)."""
    return services.create_endpoint(workspace, url=receiver.url, events=EventType.values)


def emit_one(workspace, key: str = "test:1", event_type: str = EventType.JOB_COMPLETED):
    """One event through the real emission path; returns its deliveries."""
    events.emit(workspace.pk, [events.Event(type=event_type, key=key, data={"id": 1})])
    return list(
        WebhookDelivery.objects.for_workspace(workspace)
        .filter(event__key=key)
        .select_related("event")
    )
