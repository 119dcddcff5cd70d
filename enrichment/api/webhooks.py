"""Webhook endpoints: subscribe a URL to events (its `whsec_…` secret is shown once), list,
delete, rotate the secret, and read the recent deliveries. Writing needs an admin key."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from config.api_support.errors import ApiError, errors, not_found
from config.api_support.params import id_path
from config.api_support.principal import require_admin, workspace_of

from ..webhooks import services
from ..webhooks.models import WebhookEndpoint

router = Router(tags=["webhooks"])


class EndpointIn(Schema):
    url: str = Field(max_length=2000, description="https://… on port 443 (or http on 80)")
    events: list[str] = Field(min_length=1, max_length=20)


class EndpointOut(Schema):
    id: int
    url: str
    events: list[str]
    is_active: bool
    disabled_reason: str
    created_at: dt.datetime


class EndpointCreatedOut(Schema):
    endpoint: EndpointOut
    secret: str = Field(description="whsec_…: shown this once, keep it to verify signatures")


class SecretOut(Schema):
    secret: str = Field(description="the new whsec_… secret, shown this once")


class DeliveryOut(Schema):
    id: int
    event_id: str
    event_type: str
    status: str
    attempts: int
    last_status_code: int | None
    error: str
    next_attempt_at: dt.datetime
    delivered_at: dt.datetime | None
    created_at: dt.datetime


def _out(endpoint: WebhookEndpoint) -> dict:
    return {
        "id": endpoint.pk,
        "url": endpoint.url,
        "events": list(endpoint.events),
        "is_active": endpoint.is_active,
        "disabled_reason": endpoint.disabled_reason,
        "created_at": endpoint.created_at,
    }


def _refused(exc: services.EndpointRefused) -> ApiError:
    return ApiError(422, exc.code, str(exc))


@router.post(
    "/webhooks",
    response={201: EndpointCreatedOut, **errors()},
    summary="Subscribe a URL to events (admin key)",
)
def create_webhook(request: HttpRequest, payload: EndpointIn):
    require_admin(request)
    try:
        endpoint, secret = services.create_endpoint(
            workspace_of(request), url=payload.url, events=payload.events
        )
    except services.EndpointRefused as exc:
        raise _refused(exc) from exc
    request.api_holds_secret = True  # a replay of this answer does not show the secret again
    return Status(201, {"endpoint": _out(endpoint), "secret": secret})


@router.get("/webhooks", response={200: list[EndpointOut], **errors()}, summary="Endpoints")
def list_webhooks(request: HttpRequest):
    endpoints = WebhookEndpoint.objects.for_workspace(workspace_of(request)).order_by("pk")
    return [_out(endpoint) for endpoint in endpoints]


@router.delete(
    "/webhooks/{endpoint_id}",
    response={204: None, **errors(404)},
    summary="Delete an endpoint and its delivery log (admin key)",
)
def delete_webhook(request: HttpRequest, endpoint_id: int = id_path()):
    require_admin(request)
    try:
        services.delete_endpoint(workspace_of(request), endpoint_id)
    except WebhookEndpoint.DoesNotExist as exc:
        raise not_found() from exc
    return Status(204, None)


@router.post(
    "/webhooks/{endpoint_id}/rotate-secret",
    response={200: SecretOut, **errors(404)},
    summary="A new secret; the old one signs beside it for the overlap (admin key)",
)
def rotate_webhook_secret(request: HttpRequest, endpoint_id: int = id_path()):
    require_admin(request)
    try:
        secret = services.rotate_secret(workspace_of(request), endpoint_id)
    except WebhookEndpoint.DoesNotExist as exc:
        raise not_found() from exc
    request.api_holds_secret = True
    return {"secret": secret}


@router.get(
    "/webhooks/{endpoint_id}/deliveries",
    response={200: list[DeliveryOut], **errors(404)},
    summary="An endpoint's latest deliveries, newest first",
)
def list_deliveries(request: HttpRequest, endpoint_id: int = id_path()):
    try:
        deliveries = list(
            services.recent_deliveries(workspace_of(request), endpoint_id=endpoint_id)
        )
    except WebhookEndpoint.DoesNotExist as exc:
        raise not_found() from exc
    return [
        {
            "id": d.pk,
            "event_id": d.event.event_id,
            "event_type": d.event.type,
            "status": d.status,
            "attempts": d.attempts,
            "last_status_code": d.last_status_code,
            "error": d.error,
            "next_attempt_at": d.next_attempt_at,
            "delivered_at": d.delivered_at,
            "created_at": d.created_at,
        }
        for d in deliveries
    ]
