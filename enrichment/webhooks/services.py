"""Webhook endpoints for the admin and the JSON API: create (the secret shown once), rotate,
disable, delete, and the recent deliveries; "Renvoyer" for a delivery.

Each function takes the workspace first and finds rows only in it: another workspace's id
raises `DoesNotExist` exactly like a missing one (the API answers 404 to both).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from prospects.models import Workspace

from .. import crypto
from . import delivery, netguard, signing
from .exports import chunk_events, send_to_endpoint  # noqa: F401  (for campaigns' exports)
from .models import EventType, WebhookDelivery, WebhookEndpoint

REFUSALS = {
    "url_invalid": gettext_lazy("Enter a valid http or https URL."),
    "scheme_forbidden": gettext_lazy("Only http and https URLs are allowed."),
    "port_forbidden": gettext_lazy("Only ports 80 (http) and 443 (https) are allowed."),
    "address_forbidden": gettext_lazy(
        "This URL leads to a private, local or reserved address: webhooks are only sent to "
        "public addresses."
    ),
    "unresolvable": gettext_lazy("This host name does not resolve to any address."),
}


class EndpointRefused(ValueError):
    """The endpoint cannot be saved as asked; `code` is stable, the message is in French."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def export_endpoints(workspace: Workspace, event_type: str) -> list[WebhookEndpoint]:
    """The workspace's active endpoints subscribed to this export event, oldest first."""
    endpoints = WebhookEndpoint.objects.for_workspace(workspace).filter(is_active=True)
    return [e for e in endpoints.order_by("created_at", "id") if event_type in e.events]


def check_events(events: Iterable[str]) -> list[str]:
    """The event types asked for, each once, all known (raises EndpointRefused)."""
    wanted = list(dict.fromkeys(e.strip() for e in events if e and e.strip()))
    unknown = [e for e in wanted if e not in EventType.values]
    if unknown or not wanted:
        raise EndpointRefused(
            "events_invalid",
            _("Unknown event(s): %(events)s. Available: %(available)s.")
            % {"events": ", ".join(unknown) or "—", "available": ", ".join(EventType.values)},
        )
    return wanted


def check_url(url: str) -> str:
    """The URL when the address guard accepts it now (raises EndpointRefused)."""
    url = (url or "").strip()
    if len(url) > WebhookEndpoint._meta.get_field("url").max_length:
        raise EndpointRefused("url_invalid", REFUSALS["url_invalid"])
    try:
        netguard.check_url(
            url,
            resolve=netguard.resolve_with_system,
            allowed_hosts=settings.SOURCIER_WEBHOOK_ALLOWED_HOSTS,
        )
    except netguard.Refused as refused:
        message = REFUSALS.get(refused.code, REFUSALS["url_invalid"])
        raise EndpointRefused(refused.code, str(message)) from refused
    return url


def create_endpoint(
    workspace: Workspace, *, url: str, events: Iterable[str], user: Any = None
) -> tuple[WebhookEndpoint, str]:
    """Save an endpoint and return it with its `whsec_` secret: the only time the secret is
    ever given out (it is stored encrypted). Raises EndpointRefused (French message) for a
    URL the address guard refuses or unknown events."""
    events = check_events(events)
    url = check_url(url)
    secret = signing.generate_secret()
    endpoint = WebhookEndpoint.objects.create(
        workspace=workspace,
        url=url,
        events=events,
        encrypted_secret=crypto.encrypt(secret),
        created_by=user if getattr(user, "pk", None) else None,
    )
    return endpoint, secret


def update_endpoint(
    workspace: Workspace, endpoint_id: int, *, url: str, events: Iterable[str]
) -> WebhookEndpoint:
    """Change an endpoint's URL (checked again) and events; the secret stays."""
    endpoint = WebhookEndpoint.objects.for_workspace(workspace).get(pk=endpoint_id)
    endpoint.events = check_events(events)
    endpoint.url = check_url(url)
    endpoint.save(update_fields=["url", "events", "updated_at"])
    return endpoint


def rotate_secret(
    workspace: Workspace, endpoint_id: int, *, overlap: dt.timedelta | None = None
) -> str:
    """Give the endpoint a new secret and return it (shown once). The current secret keeps
    signing beside the new one for `overlap` (SOURCIER_WEBHOOK_ROTATION_OVERLAP_HOURS by
    default), so the receiver can switch without losing a message."""
    if overlap is None:
        overlap = dt.timedelta(hours=settings.SOURCIER_WEBHOOK_ROTATION_OVERLAP_HOURS)
    secret = signing.generate_secret()
    with transaction.atomic():
        endpoint = (
            WebhookEndpoint.objects.for_workspace(workspace).select_for_update().get(pk=endpoint_id)
        )
        endpoint.encrypted_previous_secret = endpoint.encrypted_secret
        endpoint.previous_secret_expires_at = timezone.now() + overlap
        endpoint.encrypted_secret = crypto.encrypt(secret)
        endpoint.save(
            update_fields=[
                "encrypted_secret",
                "encrypted_previous_secret",
                "previous_secret_expires_at",
                "updated_at",
            ]
        )
    return secret


def disable_endpoint(workspace: Workspace, endpoint_id: int) -> WebhookEndpoint:
    """Stop sending to an endpoint; its waiting deliveries are cancelled."""
    endpoint = WebhookEndpoint.objects.for_workspace(workspace).get(pk=endpoint_id)
    with transaction.atomic():
        delivery.disable(endpoint, reason=WebhookEndpoint.DisabledReason.MANUAL)
    endpoint.refresh_from_db()
    return endpoint


def enable_endpoint(workspace: Workspace, endpoint_id: int) -> WebhookEndpoint:
    """Send to a disabled endpoint again, from the next event on (its URL is checked again)."""
    endpoint = WebhookEndpoint.objects.for_workspace(workspace).get(pk=endpoint_id)
    check_url(endpoint.url)
    endpoint.is_active = True
    endpoint.disabled_reason = ""
    endpoint.disabled_at = None
    endpoint.save(update_fields=["is_active", "disabled_reason", "disabled_at", "updated_at"])
    return endpoint


def delete_endpoint(workspace: Workspace, endpoint_id: int) -> None:
    """Delete an endpoint with its delivery log; a delivery being sent records nothing."""
    WebhookEndpoint.objects.for_workspace(workspace).get(pk=endpoint_id).delete()


def recent_deliveries(
    workspace: Workspace, *, endpoint_id: int | None = None, limit: int = 50
) -> QuerySet[WebhookDelivery]:
    """The latest deliveries of the workspace (or of one of its endpoints), newest first,
    with their event and endpoint; raises DoesNotExist for an endpoint not in the workspace."""
    deliveries = WebhookDelivery.objects.for_workspace(workspace).select_related(
        "event", "endpoint"
    )
    if endpoint_id is not None:
        WebhookEndpoint.objects.for_workspace(workspace).get(pk=endpoint_id)
        deliveries = deliveries.filter(endpoint_id=endpoint_id)
    return deliveries.order_by("-created_at", "-id")[:limit]


def redeliver(workspace: Workspace, delivery_ids: Iterable[int]) -> int:
    """'Renvoyer': deliveries that are not being sent start again now, with the whole retry
    schedule, under the same webhook-id; never to a disabled endpoint. Returns how many."""
    now = timezone.now()
    restarted = (
        WebhookDelivery.objects.for_workspace(workspace)
        .filter(pk__in=list(delivery_ids), endpoint__is_active=True)
        .exclude(status=WebhookDelivery.Status.SENDING)
        .update(
            status=WebhookDelivery.Status.PENDING,
            attempts=0,
            next_attempt_at=now,
            error="",
            updated_at=now,
        )
    )
    if restarted:
        workspace_id = workspace.pk
        transaction.on_commit(lambda: delivery.dispatch_due_deliveries(workspace_id=workspace_id))
    return restarted
