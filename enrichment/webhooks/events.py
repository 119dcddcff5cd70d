"""Events: what a receiver is told, recorded once per transition, in the transaction that
makes the transition; deliveries are dispatched after it commits.

Payloads are thin (ids, status, counters, links to the API), under 20 kB: a receiver that
wants more asks the API with its key. Links are paths under the instance's address.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from prospects.models import Prospect

from ..engine.money import PLACES
from ..models import EnrichmentJob
from .models import EventType, WebhookDelivery, WebhookEndpoint, WebhookEvent

MAX_PAYLOAD_BYTES = 20_000
API = "/api/v1"

Job = EnrichmentJob.Status
JOB_EVENTS = {
    Job.COMPLETED: EventType.JOB_COMPLETED,
    Job.PARTIALLY_COMPLETED: EventType.JOB_PARTIALLY_COMPLETED,
    Job.FAILED: EventType.JOB_FAILED,
    Job.CANCELLED: EventType.JOB_CANCELLED,
    Job.PAUSED: EventType.JOB_PAUSED,
}
PROSPECT_EVENTS = {
    Prospect.Status.VERIFIED: EventType.PROSPECT_VERIFIED,
    Prospect.Status.NEEDS_REVIEW: EventType.PROSPECT_NEEDS_REVIEW,
}


@dataclass(frozen=True)
class Event:
    """An event to record: its type, the transition's key, and its `data`."""

    type: str
    key: str
    data: dict[str, Any]


def new_event_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def body(event: Event, *, now=None) -> str:
    """The JSON body every attempt sends (Standard Webhooks: type, timestamp, data)."""
    text = json.dumps(
        {
            "type": event.type,
            "timestamp": (now or timezone.now()).isoformat().replace("+00:00", "Z"),
            "data": event.data,
        },
        separators=(",", ":"),
        ensure_ascii=False,
        cls=DjangoJSONEncoder,
    )
    if len(text.encode()) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"{event.type} payload over {MAX_PAYLOAD_BYTES} bytes")
    return text


def emit(workspace_id: int, events: Sequence[Event]) -> int:
    """Record each new event with one delivery per active endpoint subscribed to its type.

    A key already recorded (a replayed step) records nothing; a workspace without endpoints
    costs one query. Runs in the caller's transaction; workers start after it commits.
    Returns how many deliveries were created."""
    if not events:
        return 0
    endpoints = list(
        WebhookEndpoint.objects.for_workspace(workspace_id)
        .filter(is_active=True)
        .values_list("pk", "events")
    )
    subscribed = {t: [pk for pk, types in endpoints if t in types] for t in EventType.values}
    wanted = {e.key: e for e in events if subscribed.get(e.type)}
    if not wanted:
        return 0
    return record_deliveries(workspace_id, list(wanted.values()), subscribed)


def record_deliveries(
    workspace_id: int, events: Sequence[Event], endpoints_of: Mapping[str, Sequence[int]]
) -> int:
    """Record each event whose key is new in the workspace, with one delivery to each endpoint
    `endpoints_of` its type names; the workers start once the transaction commits. Returns how
    many deliveries were created."""
    now = timezone.now()
    with transaction.atomic():
        known = set(
            WebhookEvent.objects.for_workspace(workspace_id)
            .filter(key__in=[event.key for event in events])
            .values_list("key", flat=True)
        )
        rows = [
            WebhookEvent(
                workspace_id=workspace_id,
                event_id=new_event_id(),
                type=event.type,
                key=event.key,
                payload=body(event, now=now),
                created_at=now,
            )
            for event in events
            if event.key not in known
        ]
        if not rows:
            return 0
        # A concurrent emitter of the same key wins the unique index; ours is then skipped.
        WebhookEvent.objects.bulk_create(rows, ignore_conflicts=True)
        created = WebhookEvent.objects.for_workspace(workspace_id).filter(
            event_id__in=[row.event_id for row in rows]
        )
        deliveries = [
            WebhookDelivery(
                workspace_id=workspace_id, endpoint_id=endpoint_id, event_id=pk, next_attempt_at=now
            )
            for pk, event_type in created.values_list("pk", "type")
            for endpoint_id in endpoints_of[event_type]
        ]
        WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    if deliveries:
        from .delivery import dispatch_due_deliveries

        transaction.on_commit(lambda: dispatch_due_deliveries(workspace_id=workspace_id))
    return len(deliveries)


# --- Jobs --------------------------------------------------------------------------------


def job_data(job: EnrichmentJob) -> dict[str, Any]:
    return {
        "object": "enrichment_job",
        "id": job.pk,
        "kind": job.kind,
        "status": job.status,
        "total_items": job.total_items,
        "done_items": job.done_items,
        "failed_items": job.failed_items,
        "estimated_credits": _euros(job.estimated_credits),
        "spent_credits": _euros(job.spent_credits),
        "pause_reason": job.pause_reason or None,
        "paused_until": job.paused_until,
        "finished_at": job.finished_at,
        "links": {
            "self": f"{API}/enrichment-jobs/{job.pk}",
            "records": f"{API}/enrichment-jobs/{job.pk}/records",
        },
    }


def job_event(job: EnrichmentJob) -> Event | None:
    """The event of the status the job is in now (None for pending and running). A job ends
    once; it may pause once per resumption time."""
    event_type = JOB_EVENTS.get(job.status)
    if event_type is None:
        return None
    key = f"{event_type}:{job.pk}"
    if job.status == Job.PAUSED:
        key += f":{job.paused_until.isoformat() if job.paused_until else 'open'}"
    return Event(type=event_type, key=key, data=job_data(job))


def emit_job_status(workspace_id: int, job_ids: Iterable[int]) -> int:
    """After jobs changed status (in the same transaction): their events."""
    job_ids = list(job_ids)
    if not job_ids:
        return 0
    jobs = EnrichmentJob.objects.for_workspace(workspace_id).filter(pk__in=job_ids)
    return emit(workspace_id, [e for job in jobs if (e := job_event(job)) is not None])


# --- Prospects ---------------------------------------------------------------------------


def prospect_data(prospect: Prospect) -> dict[str, Any]:
    return {
        "object": "prospect",
        "id": prospect.pk,
        "status": prospect.status,
        "verification_reason": prospect.verification_reason or None,
        "enrichment_source": prospect.enrichment_source or None,
        "verified_at": prospect.verified_at,
        "company_id": prospect.company_id,
        "links": {"self": f"{API}/prospects/{prospect.pk}"},
    }


def emit_prospect_verdicts(workspace_id: int, verdicts: Iterable[tuple[str, int]]) -> int:
    """After prospects received a verdict (in the same transaction): `prospect.verified` or
    `prospect.needs_review` for those now in that status. Each verdict is `(cause, prospect
    id)`, the cause naming what gave it (`item:<id>` for an enrichment item, `found:<id>` for a
    person's choice of a found address): one event per prospect and cause."""
    causes: dict[int, list[str]] = {}
    for cause, prospect_id in verdicts:
        causes.setdefault(prospect_id, []).append(cause)
    if not causes:
        return 0
    if not WebhookEndpoint.objects.for_workspace(workspace_id).filter(is_active=True).exists():
        return 0
    prospects = Prospect.objects.for_workspace(workspace_id).filter(
        pk__in=list(causes), status__in=list(PROSPECT_EVENTS)
    )
    events = [
        Event(
            type=PROSPECT_EVENTS[prospect.status],
            key=f"{PROSPECT_EVENTS[prospect.status]}:{prospect.pk}:{cause}",
            data=prospect_data(prospect),
        )
        for prospect in prospects
        for cause in causes[prospect.pk]
    ]
    return emit(workspace_id, events)


# --- Discovery ---------------------------------------------------------------------------


def emit_contact_found(
    workspace_id: int,
    *,
    contact_id: int,
    company_id: int | None,
    verdict: str,
    score: int | None = None,
) -> int:
    """For discovery: a contact it found (verified, risky or unknown), once per contact."""
    event = Event(
        type=EventType.DISCOVERY_CONTACT_FOUND,
        key=f"{EventType.DISCOVERY_CONTACT_FOUND}:{contact_id}",
        data={
            "object": "discovered_contact",
            "id": contact_id,
            "company_id": company_id,
            "verdict": verdict,
            "score": score,
            "links": {"self": f"{API}/discovery/contacts/{contact_id}"},
        },
    )
    return emit(workspace_id, [event])


def _euros(amount: Decimal | int) -> str:
    """An amount as the API writes it: four decimal places, however it was computed."""
    return str(Decimal(amount).quantize(PLACES))
