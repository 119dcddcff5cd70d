"""The home page's figures for one workspace: prospects by status, what needs a person, work
under way, money. Reads only; each figure is one query (grouped where it has parts), so the
page costs the same number of queries with ten prospects or a million."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from prospects.models import OBJECTION_REASONS, ImportBatch, Prospect

from .. import costs
from ..engine import ledger
from ..engine.money import PARIS, ZERO, paris_day
from ..models import EnrichmentItem, EnrichmentJob, ProviderCredential
from ..providers.registry import PROVIDERS

Status = Prospect.Status
Reason = Prospect.Reason
Item = EnrichmentItem.Status
# Prospects whose enrichment gave a verdict: the verified rate is taken among them.
CHECKED = (Status.VERIFIED, Status.NOT_VERIFIED, Status.NEEDS_REVIEW)
LIVE_JOBS = (
    EnrichmentJob.Status.PENDING,
    EnrichmentJob.Status.RUNNING,
    EnrichmentJob.Status.PAUSED,
)
# How many running imports and jobs the home shows (the rest are one link away).
LIVE_ROWS = 10
LAST_IMPORTS = 5
CHART_DAYS = 30


def _percent(part: int, whole: int) -> int | None:
    return round(100 * part / whole) if whole else None


@dataclass
class ProspectFigures:
    by_status: dict[str, int]
    objected: int

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def verified(self) -> int:
        return self.by_status.get(Status.VERIFIED, 0)

    @property
    def checked(self) -> int:
        return sum(self.by_status.get(status, 0) for status in CHECKED)

    @property
    def verified_rate(self) -> int | None:
        """Verified among the prospects whose enrichment gave a verdict, in %."""
        return _percent(self.verified, self.checked)


def prospect_figures(workspace_id: int) -> ProspectFigures:
    """Prospects per status and those who objected (one query)."""
    rows = (
        Prospect.objects.for_workspace(workspace_id)
        .values_list("status")
        .annotate(
            n=Count("id"), objected=Count("id", filter=Q(verification_reason__in=OBJECTION_REASONS))
        )
        .order_by()
    )
    by_status = {status: 0 for status in Status.values}
    objected = 0
    for status, count, objecting in rows:
        by_status[status] = count
        objected += objecting
    return ProspectFigures(by_status=by_status, objected=objected)


@dataclass
class KeyTrouble:
    """Prospects waiting for an API key, and the providers that refused theirs."""

    waiting_prospects: int
    refused_providers: list[str] = field(default_factory=list)


def key_trouble(workspace_id: int) -> KeyTrouble:
    waiting = (
        EnrichmentItem.objects.for_workspace(workspace_id)
        .filter(status=Item.WAITING_KEY)
        .values("prospect_id")
        .distinct()
        .count()
    )
    refused = (
        ProviderCredential.objects.for_workspace(workspace_id)
        .filter(refused_at__isnull=False)
        .values_list("provider", flat=True)
        .order_by("provider")
    )
    labels = [PROVIDERS[slug].label if slug in PROVIDERS else slug for slug in refused]
    return KeyTrouble(waiting_prospects=waiting, refused_providers=labels)


@dataclass
class LiveWork:
    imports: list[ImportBatch]
    jobs: list[EnrichmentJob]
    # Items of no job (new prospects enriched automatically), per item status.
    automatic: dict[str, int]

    @property
    def automatic_total(self) -> int:
        return sum(self.automatic.values())

    @property
    def any(self) -> bool:
        return bool(self.imports or self.jobs or self.automatic_total)


def import_percent(batch: ImportBatch) -> int:
    row_count = (batch.mapping or {}).get("row_count") or 0
    return min(100, round(100 * batch.total_rows / row_count)) if row_count else 0


def job_percent(job: EnrichmentJob) -> int:
    finished = job.done_items + job.failed_items
    return min(100, round(100 * finished / job.total_items)) if job.total_items else 0


def live_work(workspace_id: int) -> LiveWork:
    """Imports and jobs under way, and the automatic enrichment of new prospects (3 queries)."""
    imports = list(
        ImportBatch.objects.for_workspace(workspace_id)
        .filter(status=ImportBatch.Status.IMPORTING)
        .only("pk", "filename", "status", "total_rows", "mapping", "created_at")
        .order_by("created_at")[:LIVE_ROWS]
    )
    for batch in imports:
        batch.percent = import_percent(batch)
    jobs = list(
        EnrichmentJob.objects.for_workspace(workspace_id)
        .filter(status__in=LIVE_JOBS)
        .order_by("created_at")[:LIVE_ROWS]
    )
    for job in jobs:
        job.percent = job_percent(job)
    automatic = dict(
        EnrichmentItem.objects.for_workspace(workspace_id)
        .active()
        .filter(job__isnull=True)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    return LiveWork(imports=imports, jobs=jobs, automatic=automatic)


def last_imports(workspace_id: int) -> list[ImportBatch]:
    return list(
        ImportBatch.objects.for_workspace(workspace_id)
        .exclude(status=ImportBatch.Status.PREVIEW)
        .select_related("created_by")
        .defer("mapping")
        .order_by("-created_at")[:LAST_IMPORTS]
    )


@dataclass
class Money:
    balance: Decimal
    in_flight: Decimal
    daily_cap: Decimal | None
    spent_today: Decimal
    cap_reached_until: dt.datetime | None
    spent_this_month: Decimal
    report: costs.CostReport

    @property
    def cap_percent(self) -> int | None:
        if self.daily_cap is None:
            return None
        return (
            100 if not self.daily_cap else min(100, round(100 * self.spent_today / self.daily_cap))
        )

    @property
    def remaining_today(self) -> Decimal | None:
        return None if self.daily_cap is None else max(self.daily_cap - self.spent_today, ZERO)


def money(workspace_id: int, *, now: dt.datetime) -> Money:
    """Balance, today against the daily cap, this month, and the days the chart draws."""
    summary = ledger.summary(workspace_id, now=now)
    today = paris_day(now)
    month_start = today.replace(day=1)
    # The chart's days and the month's, in one report.
    start = min(month_start, today - dt.timedelta(days=CHART_DAYS - 1))
    report = costs.cost_report(workspace_id, start, today)
    month = sum(
        (
            amount
            for days in report.spend.values()
            for day, amount in days.items()
            if day >= month_start
        ),
        ZERO,
    )
    return Money(
        balance=summary["balance"],
        in_flight=summary["in_flight"],
        daily_cap=summary["daily_cap"],
        spent_today=summary["spent_today"],
        cap_reached_until=summary["cap_reached_until"],
        spent_this_month=month,
        report=report,
    )


def verified_by_day(
    workspace_id: int, start: dt.date, end: dt.date
) -> dict[dt.date, tuple[int, int]]:
    """Paris day of the last verdict -> (verified, prospects given a verdict that day)."""
    since = dt.datetime.combine(start, dt.time(0), tzinfo=PARIS)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=PARIS)
    rows = (
        Prospect.objects.for_workspace(workspace_id)
        .filter(enriched_at__gte=since, enriched_at__lt=until, status__in=CHECKED)
        .annotate(day=TruncDate("enriched_at", tzinfo=PARIS))
        .values_list("day")
        .annotate(verified=Count("id", filter=Q(status=Status.VERIFIED)), checked=Count("id"))
        .order_by()
    )
    return {day: (verified, checked) for day, verified, checked in rows}


def chart_days(now: dt.datetime | None = None) -> tuple[dt.date, dt.date]:
    today = paris_day(now or timezone.now())
    return today - dt.timedelta(days=CHART_DAYS - 1), today
