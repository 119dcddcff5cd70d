"""A list sent to an outreach tool through one chosen webhook endpoint (`campaign.exported`,
`prospects.exported`).

A list of any size is cut into chunks, each one event under 20 kB: every chunk carries the
export's id, its own number and the number of chunks (`chunk` 1 … `chunks`), the export's
head (the campaign, the totals) and its share of the people sent (`prospects`) and of the
people left out with the reason code (`left_out`). Each chunk is its own delivery, retried on
its own: a receiver may get them in any order and puts them together by `export_id`.

The export's id comes from the confirmation page, so confirming twice (a double click, a
replayed form) records nothing the second time: each chunk's key is unique in the workspace.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from prospects.models import Workspace

from .events import MAX_PAYLOAD_BYTES, Event, record_deliveries
from .models import WebhookEndpoint

# Room left in each body for the envelope (type, timestamp) and the chunk numbers.
ENVELOPE_BYTES = 400


def _size(value: Any) -> int:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder)
    return len(text.encode())


def chunk_events(
    event_type: str,
    export_id: str,
    head: dict[str, Any],
    lists: dict[str, Sequence[dict[str, Any]]],
) -> list[Event]:
    """The export as events, each body under MAX_PAYLOAD_BYTES: the items of `lists` (in
    order, each list in turn) packed greedily after the head. An empty export is one chunk."""
    budget = MAX_PAYLOAD_BYTES - ENVELOPE_BYTES - _size({**head, **{k: [] for k in lists}})
    chunks: list[dict[str, list]] = [{name: [] for name in lists}]
    used = 0
    for name, items in lists.items():
        for item in items:
            size = _size(item) + 1  # and its comma
            if size > budget:
                raise ValueError(f"one {name} item is over the payload budget")
            if used + size > budget:
                chunks.append({key: [] for key in lists})
                used = 0
            chunks[-1][name].append(item)
            used += size
    total = len(chunks)
    return [
        Event(
            type=event_type,
            key=f"{event_type}:{export_id}:{number}",
            data={
                **head,
                "export_id": export_id,
                "chunk": number,
                "chunks": total,
                **content,
            },
        )
        for number, content in enumerate(chunks, start=1)
    ]


def send_to_endpoint(workspace: Workspace, endpoint_id: int, events: Sequence[Event]) -> int:
    """Record the events with one delivery each to this endpoint only (active, of the
    workspace and subscribed to their type; else WebhookEndpoint.DoesNotExist, as for a
    missing one). Keys already recorded record nothing. Returns how many deliveries were
    created; they are dispatched once the transaction commits."""
    types = {event.type for event in events}
    endpoint = WebhookEndpoint.objects.for_workspace(workspace).get(pk=endpoint_id, is_active=True)
    if not types <= set(endpoint.events):
        raise WebhookEndpoint.DoesNotExist("endpoint not subscribed to this export")
    return record_deliveries(workspace.pk, events, {t: [endpoint.pk] for t in types})
