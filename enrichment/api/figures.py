"""The workspace's figures: contacts, verified emails, jobs by outcome, spend, discovery."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from config.api_support.errors import errors
from config.api_support.principal import workspace_of
from prospects.models import Prospect

from .. import bulk, costs
from ..discovery_jobs import DiscoveryJob
from ..models import DiscoveredContact, EnrichmentJob
from .money import Euros

router = Router(tags=["figures"])


class StatsQuery(Schema):
    days: int = Field(30, ge=1, le=costs.MAX_DAYS, description="spend over the last N Paris days")


class StatsOut(Schema):
    contacts: int
    emails_verified: int
    jobs_completed: int
    jobs_partially_completed: int
    jobs_failed: int
    jobs_running: int
    spend: Euros = Field(description="euros over the period")
    spend_by_provider: dict[str, Euros]
    period_start: dt.date
    period_end: dt.date
    contacts_discovered: int = Field(description="discovered contacts kept (every status)")
    discovered_contacts_pending: int = Field(description="discovered contacts to review")
    discovered_emails_verified: int = Field(description="discovered contacts with a verified email")
    discovery_jobs_completed: int
    discovery_jobs_failed: int
    discovery_jobs_running: int


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
        **discovery_figures(workspace),
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


def discovery_figures(workspace) -> dict:
    found = DiscoveredContact.objects.for_workspace(workspace).aggregate(
        kept=Count("id"),
        pending=Count("id", filter=Q(status=DiscoveredContact.Status.PENDING)),
        verified=Count("id", filter=Q(email_status=DiscoveredContact.EmailStatus.VERIFIED)),
    )
    jobs = dict(
        DiscoveryJob.objects.for_workspace(workspace)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    Status = DiscoveryJob.Status
    return {
        "contacts_discovered": found["kept"],
        "discovered_contacts_pending": found["pending"],
        "discovered_emails_verified": found["verified"],
        "discovery_jobs_completed": jobs.get(Status.COMPLETED, 0),
        "discovery_jobs_failed": jobs.get(Status.FAILED, 0),
        "discovery_jobs_running": sum(jobs.get(s, 0) for s in DiscoveryJob.LIVE_STATUSES),
    }
