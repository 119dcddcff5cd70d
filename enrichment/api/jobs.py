"""Enrichment jobs: estimate and start, list, progress, cancel, and their records."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import BaseModel

from config.api_support.errors import ApiError, errors, not_found
from config.api_support.pagination import Page, PageQuery, paginate
from config.api_support.params import BodyId, id_path
from config.api_support.principal import principal, require_admin, workspace_of
from prospects.models import Prospect

from .. import bulk
from ..engine import bulk_sql
from ..models import EnrichmentItem, EnrichmentJob, ProviderAttempt
from .money import Euros

router = Router(tags=["enrichment jobs"])
MAX_JOB_PROSPECTS = 10_000


# Answers are pydantic models, not ninja Schemas: the routes hand them dicts, which a Schema
# would wrap in a getter made for ORM rows, object by object (see prospects/api.py).
class ProgressOut(BaseModel):
    total: int
    done: int
    failed: int
    active: int
    percent: int


class JobOut(BaseModel):
    id: int
    kind: str
    status: str
    providers: list[str]
    total_items: int
    done_items: int
    failed_items: int
    estimated_credits: Euros
    spent_credits: Euros
    pause_reason: str
    paused_until: dt.datetime | None
    created_at: dt.datetime
    finished_at: dt.datetime | None
    progress: ProgressOut


class EstimateOut(BaseModel):
    prospects: int
    companies: int
    fields: list[str]
    providers: list[str]
    most: Euros = Field(description="the most the job can cost, in euros")
    excluded: dict[str, int]


class JobCreatedOut(BaseModel):
    job: JobOut
    estimate: EstimateOut


class JobIn(Schema):
    prospect_ids: list[BodyId] = Field(..., min_length=1, max_length=MAX_JOB_PROSPECTS)
    fields: list[str] = Field(["email"], min_length=1, max_length=5)
    providers: list[str] | None = Field(None, max_length=20)


class AttemptOut(BaseModel):
    provider: str
    field: str
    result: str
    value: str
    verified: bool
    from_cache: bool
    cost: Euros
    created_at: dt.datetime
    finished_at: dt.datetime | None


class RecordOut(BaseModel):
    id: int
    job_id: int | None
    prospect_id: int
    pipeline: str
    status: str
    attempts: int
    outcome: str = Field(description="a stable outcome code ('' when none)")
    outcome_provider: str
    outcome_detail: str
    message: str = Field(description="the outcome in the request's language")
    created_at: dt.datetime
    finished_at: dt.datetime | None
    provider_attempts: list[AttemptOut]


class JobFilters(Schema):
    status: EnrichmentJob.Status = None
    kind: EnrichmentJob.Kind = None


class RecordFilters(Schema):
    status: EnrichmentItem.Status = None


def job_out(job: EnrichmentJob) -> dict:
    data = {name: getattr(job, name) for name in JobOut.model_fields if name != "progress"}
    settled = job.done_items + job.failed_items
    total = job.total_items
    # A job that ended (cancelled included) has nothing left in progress, as the admin says.
    live = job.status in bulk.CANCELLABLE
    data["progress"] = {
        "total": total,
        "done": job.done_items,
        "failed": job.failed_items,
        "active": max(total - settled, 0) if live else 0,
        "percent": int(100 * settled / total) if total and live else 100,
    }
    return data


def record_out(item: EnrichmentItem) -> dict:
    return {
        "id": item.pk,
        "job_id": item.job_id,
        "prospect_id": item.prospect_id,
        "pipeline": item.provider,
        "status": item.status,
        "attempts": item.attempts,
        "outcome": item.outcome,
        "outcome_provider": item.outcome_provider,
        "outcome_detail": item.outcome_detail,
        "message": item.last_error,
        "created_at": item.created_at,
        "finished_at": item.finished_at,
        "provider_attempts": [
            {name: getattr(a, name) for name in AttemptOut.model_fields}
            for a in item.attempts_made.all()
        ],
    }


def _job(request: HttpRequest, job_id: int) -> EnrichmentJob:
    job = EnrichmentJob.objects.for_workspace(workspace_of(request)).filter(pk=job_id).first()
    if job is None:
        raise not_found()
    return job


def records_of(request: HttpRequest, job: EnrichmentJob):
    attempts = ProviderAttempt.objects.for_workspace(job.workspace_id).order_by("created_at", "id")
    return (
        EnrichmentItem.objects.for_workspace(workspace_of(request))
        .filter(job=job)
        .prefetch_related(Prefetch("attempts_made", queryset=attempts))
        .order_by("id")
    )


def _refused(exc: bulk.JobRefused) -> ApiError:
    status = 409 if exc.code == "not_cancellable" else 422
    return ApiError(status, exc.code, str(exc))


def estimate_and_start(request: HttpRequest, payload: JobIn) -> tuple[EnrichmentJob, bulk.Estimate]:
    workspace = workspace_of(request)
    wanted = set(payload.prospect_ids)
    known = set(
        Prospect.objects.for_workspace(workspace)
        .filter(pk__in=bulk_sql.in_ids(wanted))
        .values_list("pk", flat=True)
    )
    if missing := sorted(wanted - known):
        # Another workspace's prospect is as unknown here as one that does not exist.
        raise ApiError(422, "not_found", _unknown_prospects(missing))
    try:
        estimate = bulk.estimate_job(
            workspace.pk, sorted(wanted), fields=payload.fields, providers=payload.providers
        )
    except bulk.JobRefused as exc:
        raise _refused(exc) from exc
    if not estimate.count:
        raise ApiError(422, "nothing_to_enrich", _nothing_to_enrich(estimate))
    return bulk.start_job(workspace, estimate, user=principal(request).user), estimate


def _unknown_prospects(ids: list[int]) -> str:
    shown = ", ".join(str(pk) for pk in ids[:20]) + (" …" if len(ids) > 20 else "")
    return _("Unknown prospect id(s): %(ids)s.") % {"ids": shown}


def _nothing_to_enrich(estimate: bulk.Estimate) -> str:
    return _(
        "None of these prospects can be enriched now (verified or being enriched: "
        "%(status)s, already in a job for these fields: %(busy)s, on the objection list: "
        "%(objected)s)."
    ) % {
        "status": estimate.excluded.get("status", 0),
        "busy": estimate.excluded.get("busy", 0),
        "objected": estimate.excluded.get("objected", 0),
    }


def estimate_out(estimate: bulk.Estimate) -> dict:
    return {
        "prospects": len(estimate.prospect_ids),
        "companies": len(estimate.company_prospect_ids),
        "fields": estimate.fields,
        "providers": estimate.providers,
        "most": estimate.most,
        "excluded": estimate.excluded,
    }


@router.post(
    "/enrichment-jobs",
    response={201: JobCreatedOut, **errors(409)},
    summary="Estimate and start an enrichment job (admin key)",
)
def create_job(request: HttpRequest, payload: JobIn):
    require_admin(request)
    job, estimate = estimate_and_start(request, payload)
    return Status(201, {"job": job_out(job), "estimate": estimate_out(estimate)})


@router.get("/enrichment-jobs", response={200: Page[JobOut], **errors()}, summary="Jobs")
def list_jobs(request: HttpRequest, page: Query[PageQuery], filters: Query[JobFilters]):
    jobs = EnrichmentJob.objects.for_workspace(workspace_of(request))
    if filters.status:
        jobs = jobs.filter(status=filters.status)
    if filters.kind:
        jobs = jobs.filter(kind=filters.kind)
    return paginate(jobs.order_by("-created_at", "-id"), page, job_out)


@router.get("/enrichment-jobs/{job_id}", response={200: JobOut, **errors(404)}, summary="A job")
def get_job(request: HttpRequest, job_id: int = id_path()):
    return job_out(_job(request, job_id))


@router.post(
    "/enrichment-jobs/{job_id}/cancel",
    response={200: JobOut, **errors(404, 409)},
    summary="Cancel a job (admin key)",
)
def cancel_job(request: HttpRequest, job_id: int = id_path()):
    job = _job(request, job_id)
    require_admin(request)
    try:
        bulk.cancel_job(workspace_of(request), job.pk)
    except bulk.JobRefused as exc:
        raise _refused(exc) from exc
    return job_out(_job(request, job_id))


@router.get(
    "/enrichment-jobs/{job_id}/records",
    response={200: Page[RecordOut], **errors(404)},
    summary="A job's records",
)
def list_records(
    request: HttpRequest,
    page: Query[PageQuery],
    filters: Query[RecordFilters],
    job_id: int = id_path(),
):
    records = records_of(request, _job(request, job_id))
    if filters.status:
        records = records.filter(status=filters.status)
    return paginate(records, page, record_out)


@router.get(
    "/enrichment-jobs/{job_id}/records/{record_id}",
    response={200: RecordOut, **errors(404)},
    summary="One record of a job",
)
def get_record(request: HttpRequest, job_id: int = id_path(), record_id: int = id_path()):
    record = records_of(request, _job(request, job_id)).filter(pk=record_id).first()
    if record is None:
        raise not_found()
    return record_out(record)
