"""The enrichment routes of the JSON API: providers, jobs and their records, re-enrichment, a
single synchronous enrichment, and the workspace's figures (mounted in config/api.py)."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from config.api_support.errors import ApiError, errors, not_found
from config.api_support.pagination import Page, PageQuery, paginate
from config.api_support.params import ObjectId, id_path
from config.api_support.principal import principal, require_admin, workspace_of
from prospects.models import Prospect

from . import bulk, costs, services
from .models import EnrichmentItem, EnrichmentJob, ProviderAttempt, ProviderCredential
from .providers.registry import PROVIDERS, get_provider

router = Router(tags=["enrichment"])
MAX_JOB_PROSPECTS = 10_000


# --- Providers ---------------------------------------------------------------------------


class ProviderOut(Schema):
    slug: str
    label: str
    kind: str
    fields: list[str]
    cost_per_call: Decimal
    cost_per_success: Decimal
    rate_limit: str
    docs_url: str
    has_key: bool = Field(description="the workspace saved a key (never shown)")
    key_usable: bool = Field(description="saved and not refused by the provider")


def _providers(workspace_id: int) -> list[dict]:
    keys = dict(
        ProviderCredential.objects.for_workspace(workspace_id).values_list("provider", "refused_at")
    )
    return [
        {
            "slug": spec.slug,
            "label": spec.label,
            "kind": str(spec.kind),
            "fields": list(spec.fields),
            "cost_per_call": spec.cost_per_call,
            "cost_per_success": spec.cost_per_success,
            "rate_limit": spec.rate_limit,
            "docs_url": spec.docs_url,
            "has_key": spec.slug in keys,
            "key_usable": spec.slug in keys and keys[spec.slug] is None,
        }
        for spec in (get_provider(slug) for slug in PROVIDERS)
    ]


@router.get("/providers", response={200: list[ProviderOut], **errors()}, summary="Providers")
def list_providers(request: HttpRequest):
    return _providers(workspace_of(request).pk)


@router.get("/providers/{slug}", response={200: ProviderOut, **errors(404)}, summary="A provider")
def get_provider_detail(request: HttpRequest, slug: str):
    for provider in _providers(workspace_of(request).pk):
        if provider["slug"] == slug:
            return provider
    raise not_found()


# --- Jobs and records --------------------------------------------------------------------


class ProgressOut(Schema):
    total: int
    done: int
    failed: int
    active: int
    percent: int


class JobOut(Schema):
    id: int
    kind: str
    status: str
    providers: list[str]
    total_items: int
    done_items: int
    failed_items: int
    estimated_credits: Decimal
    spent_credits: Decimal
    pause_reason: str
    paused_until: dt.datetime | None
    created_at: dt.datetime
    finished_at: dt.datetime | None
    progress: ProgressOut


class EstimateOut(Schema):
    prospects: int
    companies: int
    fields: list[str]
    providers: list[str]
    most: Decimal = Field(description="the most the job can cost, in euros")
    excluded: dict[str, int]


class JobCreatedOut(Schema):
    job: JobOut
    estimate: EstimateOut


class JobIn(Schema):
    prospect_ids: list[ObjectId] = Field(..., min_length=1, max_length=MAX_JOB_PROSPECTS)
    fields: list[str] = Field(["email"], min_length=1, max_length=5)
    providers: list[str] | None = Field(None, max_length=20)


class AttemptOut(Schema):
    provider: str
    field: str
    result: str
    value: str
    verified: bool
    from_cache: bool
    cost: Decimal
    created_at: dt.datetime
    finished_at: dt.datetime | None


class RecordOut(Schema):
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
    data["progress"] = {
        "total": total,
        "done": job.done_items,
        "failed": job.failed_items,
        "active": max(total - settled, 0),
        "percent": int(100 * settled / total) if total else 100,
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


def _records(request: HttpRequest, job: EnrichmentJob):
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


def _start(request: HttpRequest, payload: JobIn) -> tuple[EnrichmentJob, bulk.Estimate]:
    workspace = workspace_of(request)
    wanted = set(payload.prospect_ids)
    known = set(
        Prospect.objects.for_workspace(workspace).filter(pk__in=wanted).values_list("pk", flat=True)
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
        "None of these prospects can be enriched now (already verified: %(status)s, "
        "already being enriched: %(busy)s, on the objection list: %(objected)s)."
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
    job, estimate = _start(request, payload)
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
    records = _records(request, _job(request, job_id))
    if filters.status:
        records = records.filter(status=filters.status)
    return paginate(records, page, record_out)


@router.get(
    "/enrichment-jobs/{job_id}/records/{record_id}",
    response={200: RecordOut, **errors(404)},
    summary="One record of a job",
)
def get_record(request: HttpRequest, job_id: int = id_path(), record_id: int = id_path()):
    record = _records(request, _job(request, job_id)).filter(pk=record_id).first()
    if record is None:
        raise not_found()
    return record_out(record)


# --- One prospect ------------------------------------------------------------------------


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
        code = "not_reenrichable" if refused.status not in services.REENRICHABLE else "objected"
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
    job, _estimate = _start(
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
            "records": [record_out(item) for item in _records(request, job)],
        },
    )


# --- Figures -----------------------------------------------------------------------------


class StatsQuery(Schema):
    days: int = Field(30, ge=1, le=costs.MAX_DAYS, description="spend over the last N Paris days")


class StatsOut(Schema):
    contacts: int
    emails_verified: int
    jobs_completed: int
    jobs_partially_completed: int
    jobs_failed: int
    jobs_running: int
    spend: Decimal = Field(description="euros over the period")
    spend_by_provider: dict[str, Decimal]
    period_start: dt.date
    period_end: dt.date


@router.get("/stats", response={200: StatsOut, **errors()}, summary="The workspace's figures")
def stats(request: HttpRequest, query: Query[StatsQuery]):
    workspace = workspace_of(request)
    Status = EnrichmentJob.Status
    prospects = Prospect.objects.for_workspace(workspace).aggregate(
        contacts=Count("id"), verified=Count("id", filter=Q(status=Prospect.Status.VERIFIED))
    )
    jobs = dict(
        EnrichmentJob.objects.for_workspace(workspace)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    start, end = costs.default_period(timezone.now(), query.days)
    report = costs.cost_report(workspace.pk, start, end)
    return {
        "contacts": prospects["contacts"],
        "emails_verified": prospects["verified"],
        "jobs_completed": jobs.get(Status.COMPLETED, 0),
        "jobs_partially_completed": jobs.get(Status.PARTIALLY_COMPLETED, 0),
        "jobs_failed": jobs.get(Status.FAILED, 0),
        "jobs_running": sum(jobs.get(s, 0) for s in bulk.CANCELLABLE),
        "spend": report.total,
        "spend_by_provider": {p.provider: p.spent for p in report.providers},
        "period_start": start,
        "period_end": end,
    }
