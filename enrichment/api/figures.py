"""The workspace's figures: contacts, verified emails, jobs by outcome, spend."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from config.api_support.errors import errors
from config.api_support.principal import workspace_of
from prospects.models import Prospect

from .. import bulk, costs
from ..models import EnrichmentJob

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
