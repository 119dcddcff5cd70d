"""Discovery jobs: asking for a company's discovery (within the requester's quotas), running
it in a worker under a lease, retrying a failed one, and handing due jobs to workers.

A job is claimed with one conditional UPDATE; the run extends its lease after each person and
writes only under its claim's token, so a worker that outlived its lease stops and writes
nothing over its successor. Running a job again is harmless: the people already found are
not added twice and an address already checked is not probed again."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from prospects.models import ApiKey, Workspace

from ..discovery_jobs import DiscoveryJob
from ..engine import claims
from . import domains, quotas
from . import people_search as people_search_source
from .smtp import ProbeConfigError

log = logging.getLogger(__name__)

Status = DiscoveryJob.Status
# Runs given to a job before it fails as interrupted (its workers kept dying).
MAX_ATTEMPTS = 3

# Why a job failed, or why a completed one stopped early, as shown (the codes are stored).
ERRORS = {
    "discovery_quota_contacts": gettext_lazy(
        "The quota of discovered contacts in 24 hours was reached: the run stopped there."
    ),
    "discovery_quota_company": gettext_lazy(
        "The company reached the most discovered contacts per company: the run stopped there."
    ),
    "discovery_quota_emails": gettext_lazy(
        "The quota of addresses checked in 24 hours was reached: the run stopped there, the "
        "other contacts are still to check."
    ),
    "invalid_domain": gettext_lazy("The domain is not valid."),
    "probing_not_configured": gettext_lazy(
        "Address checking is not configured (SMTP name and sender)."
    ),
    "interrupted": gettext_lazy("The job's workers stopped before it finished."),
    "internal_error": gettext_lazy("The job failed on our side: retry it later."),
}


def lease_seconds() -> int:
    """How long a worker owns a running job without news of one more person checked."""
    return settings.SOURCIER_DISCOVERY_JOB_LEASE_SECONDS


def clean_domain(domain: str) -> str:
    """The company's registrable domain, or DiscoveryRefused (`invalid_domain`)."""
    return domains.clean_domain(domain, required=True)


def start_job(
    workspace: Workspace,
    domain: str,
    *,
    user: Any = None,
    api_key: ApiKey | None = None,
    people_search: bool = False,
) -> DiscoveryJob:
    """A new job for the domain, handed to a worker once committed (the sweeper backs it up).
    With `people_search`, the vendors' people searches the workspace has a key for (AI Ark,
    Apollo) are asked too: refused when it has none."""
    domain = clean_domain(domain)
    quotas.check_quotas(workspace, domain, user=user, api_key=api_key)
    if people_search and not people_search_source.keyed_sources(workspace.pk):
        raise quotas.DiscoveryRefused(
            _("People search needs the workspace's AI Ark or Apollo key."),
            code="no_provider_key",
        )
    job = DiscoveryJob.objects.create(
        workspace=workspace,
        domain=domain,
        people_search=people_search,
        requested_by=user if getattr(user, "pk", None) else None,
        api_key=api_key,
    )
    _dispatch_on_commit(job.pk)
    return job


def retry_job(workspace: Workspace, job: DiscoveryJob) -> bool:
    """Make a failed job wait for a worker again; False when the job had not failed."""
    quotas.check_quotas(workspace, job.domain, user=job.requested_by, api_key=job.api_key)
    retried = (
        DiscoveryJob.objects.for_workspace(workspace)
        .filter(pk=job.pk, status=Status.FAILED)
        .update(
            status=Status.PENDING,
            error_code="",
            attempts=0,
            next_attempt_at=timezone.now(),
            lease_token="",
            finished_at=None,
        )
    )
    if retried:
        _dispatch_on_commit(job.pk)
    return bool(retried)


def _dispatch_on_commit(job_id: int) -> None:
    from ..tasks import run_discovery_job_task

    transaction.on_commit(lambda: run_discovery_job_task.delay(job_id))


def claim_job(job_id: int, *, now: dt.datetime | None = None) -> DiscoveryJob | None:
    """Take a due job (waiting, or whose worker's lease ran out) for one run; None when it is
    not due or another worker has it. The run is counted here, so a job whose workers keep
    dying fails after MAX_ATTEMPTS instead of running forever."""
    now = now or timezone.now()
    token = claims.new_token()
    taken = (
        DiscoveryJob.objects.unscoped()
        .due(now)
        .filter(pk=job_id)
        .update(
            status=Status.RUNNING,
            attempts=F("attempts") + 1,
            next_attempt_at=now + dt.timedelta(seconds=lease_seconds()),
            lease_token=token,
            started_at=now,
        )
    )
    if not taken:
        return None
    return (
        DiscoveryJob.objects.unscoped()
        .select_related("workspace", "requested_by")
        .filter(pk=job_id, lease_token=token)
        .first()
    )


def run_job(job_id: int) -> str:
    """Run one discovery job (claimed first: running it twice does nothing); a short word."""
    from .company import discover_company

    job = claim_job(job_id)
    if job is None:
        return "not-due"
    if job.attempts > MAX_ATTEMPTS:
        return _finish(job, Status.FAILED, error_code="interrupted")

    def heartbeat(done: int, total: int) -> None:
        # One more person checked: the lease goes on (LeaseLost stops a run that lost it).
        claims.write_claimed(
            job,
            statuses=(Status.RUNNING,),
            done=done,
            people=total,
            next_attempt_at=timezone.now() + dt.timedelta(seconds=lease_seconds()),
        )

    try:
        run = discover_company(
            job.workspace,
            job.domain,
            user=job.requested_by,
            progress=heartbeat,
            search_people=job.people_search,
            allowance=quotas.JobContacts(job),
        )
    except claims.LeaseLost:
        return "lease-lost"
    except quotas.DiscoveryRefused as refusal:
        return _finish(job, Status.FAILED, error_code=refusal.code)
    except ProbeConfigError:
        return _finish(job, Status.FAILED, error_code="probing_not_configured")
    except Exception:
        log.exception("discovery job %s failed", job.pk)
        return _finish(job, Status.FAILED, error_code="internal_error")
    return _finish(
        job,
        Status.COMPLETED,
        error_code=run.refused_code,
        pages=run.pages,
        people=run.people,
        done=run.people,
        # `checked` is counted as the run goes (quotas.JobContacts.take_checks): a retried
        # job's earlier attempt keeps counting.
        objected=run.objected,
        contact_ids=run.contact_ids,
        provider_people=run.provider_people,
        cost=run.cost,
        warnings=sorted(run.warnings),
    )


def _finish(job: DiscoveryJob, status: str, **values: Any) -> str:
    try:
        claims.write_claimed(
            job,
            statuses=(Status.RUNNING,),
            status=status,
            finished_at=timezone.now(),
            lease_token="",
            **values,
        )
    except claims.LeaseLost:
        return "lease-lost"
    return str(status)


def dispatch_due_jobs(*, limit: int = 100) -> int:
    """Hand waiting jobs (a lost message) and abandoned ones (a dead worker) to workers."""
    from ..tasks import run_discovery_job_task

    ids = list(
        DiscoveryJob.objects.unscoped()
        .due()
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for job_id in ids:
        run_discovery_job_task.delay(job_id)
    return len(ids)


def error_message(code: str) -> str:
    return str(ERRORS.get(code, code)) if code else ""
