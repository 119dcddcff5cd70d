"""One prospect: re-enrich it, or enrich it now and wait for the answer (within a budget)."""

from __future__ import annotations

import time

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from config.api_support.errors import ApiError, errors, not_found
from config.api_support.params import id_path
from config.api_support.principal import principal, require_admin, workspace_of
from prospects.models import Prospect

from .. import bulk, services
from .jobs import JobIn, JobOut, RecordOut, estimate_and_start, job_out, record_out, records_of

router = Router(tags=["prospects"])


class ReenrichOut(Schema):
    prospect_id: int
    status: str


class EnrichIn(Schema):
    fields: list[str] = Field(["email"], min_length=1, max_length=5)
    providers: list[str] | None = Field(None, max_length=20)


class EnrichOut(Schema):
    finished: bool = Field(description="false: the budget ran out, follow the job")
    prospect_id: int
    prospect_status: str
    email: str
    job: JobOut
    records: list[RecordOut]


def _prospect(request: HttpRequest, prospect_id: int) -> Prospect:
    prospect = Prospect.objects.for_workspace(workspace_of(request)).filter(pk=prospect_id).first()
    if prospect is None:
        raise not_found()
    return prospect


@router.post(
    "/prospects/{prospect_id}/re-enrich",
    response={202: ReenrichOut, **errors(404, 409)},
    summary="Re-enrich a prospect that is not verified or needs review",
)
def reenrich(request: HttpRequest, prospect_id: int = id_path()):
    prospect = _prospect(request, prospect_id)
    result = services.reenrich_prospects(
        workspace_of(request), [prospect.pk], user=principal(request).user
    )
    if result.refused:
        refused, message = result.refused[0]
        if refused.status not in services.REENRICHABLE:
            code = "not_reenrichable"
        elif refused.pk in result.busy:
            code = "already_enriching"
        else:
            code = "objected"
        raise ApiError(409, code, str(message))
    return Status(202, {"prospect_id": prospect.pk, "status": result.queued[0].status})


@router.post(
    "/prospects/{prospect_id}/enrich",
    response={200: EnrichOut, 202: EnrichOut, **errors(404, 409)},
    summary="Enrich one prospect now and wait for it (10 s budget; admin key)",
)
def enrich_now(request: HttpRequest, payload: EnrichIn, prospect_id: int = id_path()):
    """Starts a one-prospect job and waits for the workers, at most the budget: 200 with the
    result when they finished, else 202 with the job to follow."""
    prospect = _prospect(request, prospect_id)
    require_admin(request)
    job, _estimate = estimate_and_start(
        request,
        JobIn(prospect_ids=[prospect.pk], fields=payload.fields, providers=payload.providers),
    )
    deadline = time.monotonic() + settings.SOURCIER_API_ENRICH_BUDGET
    while job.status in bulk.CANCELLABLE and time.monotonic() < deadline:
        time.sleep(0.1)
        job.refresh_from_db()
    prospect.refresh_from_db()
    finished = job.status not in bulk.CANCELLABLE
    return Status(
        200 if finished else 202,
        {
            "finished": finished,
            "prospect_id": prospect.pk,
            "prospect_status": prospect.status,
            "email": prospect.email,
            "job": job_out(job),
            "records": [record_out(item) for item in records_of(request, job)],
        },
    )
