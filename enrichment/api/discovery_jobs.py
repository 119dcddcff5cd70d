"""Discovery jobs: discover a company's people from its domain, follow the job, retry a
failed one. The contacts it finds wait for approval (see discovery_contacts)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from config.api_support.errors import ApiError, ErrorDetail, errors, not_found
from config.api_support.pagination import Page, PageQuery, paginate
from config.api_support.params import FilterText, id_path
from config.api_support.principal import principal, require_admin, workspace_of

from ..discovery import contacts, jobs
from ..discovery.domains import domain_filter
from ..discovery.warning_texts import warning_detail
from ..discovery_jobs import DiscoveryJob
from .money import Euros

router = Router(tags=["discovery"])
# The statuses as a literal of their own: enum classes named alike (every model's `Status`)
# would share one schema component.
JobStatus = Literal[tuple(DiscoveryJob.Status.values)]

# A refused quota is a 429 when it frees up with time, a 422 when it does not.
QUOTA_STATUS = {
    "discovery_quota_jobs": 429,
    "discovery_quota_contacts": 429,
    "discovery_quota_emails": 429,
}


class DiscoveryJobIn(Schema):
    domain: str = Field(
        min_length=1, max_length=253, description="the company's domain, e.g. exemple.fr"
    )
    # Strict: money is spent on `true` only, never on "yes", 1 or "false".
    people_search: bool = Field(
        False,
        strict=True,
        description="also ask the people searches the workspace has a key for, AI Ark then "
        "Apollo (paid, once per domain within the cache period): an admin key only (403 "
        "`forbidden`); 422 `no_provider_key` without either key",
    )


class DiscoveryProgressOut(Schema):
    total: int = Field(description="people named on the company's pages")
    done: int
    percent: int


class WarningOut(Schema):
    code: str
    message: str


class DiscoveryJobOut(Schema):
    id: int
    domain: str
    status: JobStatus
    pages: int = Field(description="pages of the company's site read")
    people: int = Field(description="people named on them")
    added: int = Field(description="new contacts waiting for approval")
    checked: int = Field(description="addresses checked")
    objected: int = Field(description="people left out: on the objection list")
    people_search: bool = Field(description="the vendors' people searches were asked too")
    provider_people: int = Field(description="people only the people search named")
    cost: Euros = Field(description="what the people search cost, in euros")
    error: ErrorDetail | None = Field(
        description="why the job failed, or why a completed one stopped early (a quota)"
    )
    warnings: list[WarningOut] = Field(
        description="what held the run back without failing it: a page too slow "
        "(site_page_too_slow), the site's time spent (site_time_spent), probing held back "
        "(smtp_port_unreachable, mail_host_blocked_us, mail_host_not_public, "
        "daily_budget_spent), a people search that gave nothing (people_search)"
    )
    attempts: int
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    progress: DiscoveryProgressOut


class DiscoveryJobFilters(Schema):
    status: JobStatus | None = None
    domain: FilterText = Field(None, max_length=253)


def job_out(job: DiscoveryJob) -> dict:
    computed = ("error", "progress", "warnings")
    data = {
        name: getattr(job, name) for name in DiscoveryJobOut.model_fields if name not in computed
    }
    data["error"] = (
        {"code": job.error_code, "message": jobs.error_message(job.error_code)}
        if job.error_code
        else None
    )
    data["warnings"] = [warning_detail(warning) for warning in job.warnings or ()]
    finished = job.status in (DiscoveryJob.Status.COMPLETED, DiscoveryJob.Status.FAILED)
    done = job.people if job.status == DiscoveryJob.Status.COMPLETED else job.done
    data["progress"] = {
        "total": job.people,
        "done": done,
        "percent": 100 if finished else (min(100, 100 * done // job.people) if job.people else 0),
    }
    return data


def get_job(request: HttpRequest, job_id: int) -> DiscoveryJob:
    """The workspace's job, else the 404 a missing one gets."""
    job = DiscoveryJob.objects.for_workspace(workspace_of(request)).filter(pk=job_id).first()
    if job is None:
        raise not_found()
    return job


def refused(exc: contacts.DiscoveryRefused) -> ApiError:
    return ApiError(QUOTA_STATUS.get(exc.code, 422), exc.code, str(exc))


@router.post(
    "/discovery/jobs",
    response={201: DiscoveryJobOut, **errors()},
    summary="Discover a company's people and their work emails from its domain",
    description=(
        "Reads the company's site, adds the people it names to the approval queue and checks "
        "each one's address (DNS, SMTP), in a worker: follow the job with its id. Refused "
        "with 429 when one of the requester's quotas is spent (`discovery_quota_jobs`, "
        "`discovery_quota_contacts`, `discovery_quota_emails`), with 422 for an invalid "
        "domain (`invalid_domain`), a company that has the most contacts "
        "(`discovery_quota_company`) or a people search without the workspace's AI Ark or "
        "Apollo key (`no_provider_key`). A people search spends money: it needs an admin key "
        "(403 `forbidden`)."
    ),
)
def create_job(request: HttpRequest, payload: DiscoveryJobIn):
    if payload.people_search:
        require_admin(request)
    who = principal(request)
    try:
        job = jobs.start_job(
            who.workspace,
            payload.domain,
            user=who.user,
            api_key=who.api_key,
            people_search=payload.people_search,
        )
    except contacts.DiscoveryRefused as exc:
        raise refused(exc) from exc
    return Status(201, job_out(get_job(request, job.pk)))


@router.get(
    "/discovery/jobs",
    response={200: Page[DiscoveryJobOut], **errors()},
    summary="Discovery jobs, newest first",
)
def list_jobs(request: HttpRequest, page: Query[PageQuery], filters: Query[DiscoveryJobFilters]):
    rows = DiscoveryJob.objects.for_workspace(workspace_of(request))
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.domain:
        rows = rows.filter(domain=domain_filter(filters.domain))
    return paginate(rows.order_by("-created_at", "-id"), page, job_out)


@router.get(
    "/discovery/jobs/{job_id}",
    response={200: DiscoveryJobOut, **errors(404)},
    summary="A discovery job and its progress",
)
def get_job_detail(request: HttpRequest, job_id: int = id_path()):
    return job_out(get_job(request, job_id))


@router.post(
    "/discovery/jobs/{job_id}/retry",
    response={200: DiscoveryJobOut, **errors(404, 409)},
    summary="Run a failed discovery job again",
    description=(
        "Only a failed job: any other is refused with 409 `not_retryable`. A job with a "
        "people search spends money again: it needs an admin key (403 `forbidden`)."
    ),
)
def retry_job(request: HttpRequest, job_id: int = id_path()):
    job = get_job(request, job_id)
    if job.people_search:
        require_admin(request)
    if job.status != DiscoveryJob.Status.FAILED:
        raise ApiError(409, "not_retryable", _not_retryable(job))
    try:
        retried = jobs.retry_job(workspace_of(request), job)
    except contacts.DiscoveryRefused as exc:
        raise refused(exc) from exc
    job = get_job(request, job_id)
    if not retried:  # retried meanwhile by another request
        raise ApiError(409, "not_retryable", _not_retryable(job))
    return job_out(job)


def _not_retryable(job: DiscoveryJob) -> str:
    return _("Only a failed job can be retried; this one is %(status)s.") % {
        "status": job.get_status_display().lower()
    }
