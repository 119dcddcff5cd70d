"""Sending a campaign's send list, or a selection of prospects, to an outreach tool (Lemlist,
La Growth Machine, a CRM, n8n …) through one of the workspace's webhook endpoints.

The gate is checked again at sending time, as for the CSV: only verified prospects with an
address who are not on the objection list are sent; the others are left out, named in the
page with the reason and in the payload by id and reason code only. The payload carries what
an outreach tool needs to write to someone (name, address, title, company, LinkedIn) and no
more; a list past one body's 20 kB is cut into chunks (see enrichment.webhooks.exports).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from enrichment.webhooks import services as webhooks
from enrichment.webhooks.models import EventType
from prospects.models import Prospect, Workspace

from . import services
from .models import Campaign

API = "/api/v1"
EXPORT_ID = re.compile(r"^[0-9a-f]{32}$")
SELECTION_CHUNK = 2000


@dataclass
class OutreachExport:
    """What was sent: how many people, in how many deliveries, and who was left out and why.
    `deliveries` is 0 when this export had already been sent (the same confirmation twice)."""

    sent: int = 0
    deliveries: int = 0
    excluded: list[tuple[Prospect, str]] = field(default_factory=list)


def prospect_item(prospect: Prospect) -> dict[str, Any]:
    company = prospect.company
    return {
        "id": prospect.pk,
        "email": prospect.email,
        "first_name": prospect.first_name,
        "last_name": prospect.last_name,
        "job_title": prospect.job_title,
        "phone": prospect.phone,
        "linkedin_url": prospect.linkedin_url,
        "company": company.name if company else "",
        "company_domain": company.domain if company else "",
        "verified_at": prospect.verified_at,
    }


def _send(
    workspace: Workspace,
    endpoint_id: int,
    export_id: str,
    event_type: str,
    head: dict[str, Any],
    send_list: services.SendList,
) -> OutreachExport:
    if not EXPORT_ID.match(export_id or ""):
        raise ValueError("export id must be 32 hexadecimal characters")
    head = {
        **head,
        "total": len(send_list.included),
        "left_out_total": len(send_list.excluded),
        "links": {"prospect": f"{API}/prospects/{{id}}"},
    }
    lists = {
        "prospects": [prospect_item(p) for p in send_list.included],
        "left_out": [{"id": p.pk, "reason": p.exclusion_code} for p, _ in send_list.excluded],
    }
    events = webhooks.chunk_events(event_type, export_id, head, lists)
    deliveries = webhooks.send_to_endpoint(workspace, endpoint_id, events)
    return OutreachExport(len(send_list.included), deliveries, send_list.excluded)


def send_campaign(campaign: Campaign, *, endpoint_id: int, export_id: str) -> OutreachExport:
    """The campaign's send list, checked again now, to the endpoint (`campaign.exported`).
    Raises WebhookEndpoint.DoesNotExist for an endpoint that is not the workspace's, not
    active or not subscribed to the event."""
    head = {"object": "campaign_export", "campaign": {"id": campaign.pk, "name": campaign.name}}
    return _send(
        campaign.workspace,
        endpoint_id,
        export_id,
        EventType.CAMPAIGN_EXPORTED,
        head,
        services.build_send_list(campaign),
    )


def send_selection(
    workspace: Workspace, queryset: QuerySet, *, endpoint_id: int, export_id: str
) -> OutreachExport:
    """A selection of the workspace's prospects through the same gate (`prospects.exported`)."""
    prospects = list(_in_chunks(queryset.filter(workspace=workspace).select_related("company")))
    head = {"object": "prospect_export"}
    send_list = services.gate(workspace.pk, prospects)
    return _send(workspace, endpoint_id, export_id, EventType.PROSPECTS_EXPORTED, head, send_list)


def _in_chunks(queryset: QuerySet) -> Iterable[Prospect]:
    last = 0
    while True:
        chunk = list(queryset.filter(pk__gt=last).order_by("pk")[:SELECTION_CHUNK])
        if not chunk:
            return
        yield from chunk
        last = chunk[-1].pk


def endpoints_for(workspace: Workspace, event_type: str) -> list[Any]:
    return webhooks.export_endpoints(workspace, event_type)
