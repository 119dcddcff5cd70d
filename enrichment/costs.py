"""What the money went on: spending per Paris day and provider, calls, hit rates, and the same
per workspace for operators. Reads only; each figure is one grouped query, whatever the number
of days or providers."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, Sum

from prospects.models import Workspace

from .engine.ledger_figures import SPENDING
from .engine.money import PARIS, PLACES, ZERO, paris_day
from .models import CreditBudget, CreditEntry, ProviderAttempt, ProviderCall
from .providers.registry import PROVIDERS

# Attempt results that are not a question answered by the vendor: still in flight, or never
# sent because the person's data did not allow it.
NOT_ASKED = ("", "not_asked", "skipped")
# The longest period the dashboard draws (one bar per day).
MAX_DAYS = 366


@dataclass
class ProviderCosts:
    """One provider over the period: money, calls, questions asked and emails found."""

    provider: str
    spent: Decimal = ZERO
    calls: int = 0
    asked: int = 0
    found: int = 0

    @property
    def label(self) -> str:
        spec = PROVIDERS.get(self.provider)
        return spec.label if spec else self.provider

    @property
    def hit_rate(self) -> float | None:
        """Found / asked, as a fraction; None when nothing was asked."""
        return self.found / self.asked if self.asked else None

    @property
    def cost_per_found(self) -> Decimal | None:
        return (self.spent / self.found).quantize(PLACES) if self.found else None


@dataclass
class CostReport:
    """A workspace's spending between two Paris days, both included."""

    start: dt.date
    end: dt.date
    # provider -> Paris day -> euros spent (settled, plus reservations still in flight)
    spend: dict[str, dict[dt.date, Decimal]] = field(default_factory=dict)
    providers: list[ProviderCosts] = field(default_factory=list)

    @property
    def days(self) -> list[dt.date]:
        count = (self.end - self.start).days + 1
        return [self.start + dt.timedelta(days=n) for n in range(count)]

    @property
    def total(self) -> Decimal:
        return sum((p.spent for p in self.providers), ZERO)

    @property
    def calls(self) -> int:
        return sum(p.calls for p in self.providers)

    def daily_rows(self) -> list[tuple[dt.date, list[Decimal], Decimal]]:
        """(day, spend per provider in `providers` order, day total), most recent first."""
        names = [p.provider for p in self.providers]
        rows = []
        for day in reversed(self.days):
            amounts = [self.spend.get(name, {}).get(day, ZERO) for name in names]
            rows.append((day, amounts, sum(amounts, ZERO)))
        return rows


def period_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """From Paris midnight at the start of `start` to Paris midnight after `end`."""
    since = dt.datetime.combine(start, dt.time(0), tzinfo=PARIS)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=PARIS)
    return since, until


def default_period(now: dt.datetime, days: int = 30) -> tuple[dt.date, dt.date]:
    """The last `days` Paris days, today included."""
    today = paris_day(now)
    return today - dt.timedelta(days=days - 1), today


def _spending(entries) -> dict[str, dict[dt.date, Decimal]]:
    rows = (
        entries.filter(kind__in=SPENDING)
        .values_list("provider", "day")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    spend: dict[str, dict[dt.date, Decimal]] = defaultdict(dict)
    for provider, day, total in rows:
        # The ledger counts a reservation as a negative amount: spending is its opposite.
        spend[provider][day] = (-total).quantize(PLACES)
    return dict(spend)


def cost_report(workspace_id: int, start: dt.date, end: dt.date) -> CostReport:
    """The workspace's spending, calls and hit rates per provider between two Paris days."""
    since, until = period_bounds(start, end)
    spend = _spending(
        CreditEntry.objects.for_workspace(workspace_id).filter(day__gte=start, day__lte=end)
    )
    calls = dict(
        ProviderCall.objects.for_workspace(workspace_id)
        .filter(created_at__gte=since, created_at__lt=until)
        .values_list("provider")
        .annotate(count=Count("id"))
        .order_by()
    )
    attempts = {
        provider: (asked, found)
        for provider, asked, found in ProviderAttempt.objects.for_workspace(workspace_id)
        .filter(created_at__gte=since, created_at__lt=until)
        .values_list("provider")
        .annotate(
            asked=Count("id", filter=~Q(result__in=NOT_ASKED)),
            found=Count("id", filter=Q(result="found")),
        )
        .order_by()
    }
    names = set(spend) | set(calls) | set(attempts)
    order = list(PROVIDERS)
    providers = [
        ProviderCosts(
            provider=name,
            spent=sum(spend.get(name, {}).values(), ZERO),
            calls=calls.get(name, 0),
            asked=attempts.get(name, (0, 0))[0],
            found=attempts.get(name, (0, 0))[1],
        )
        for name in sorted(names, key=lambda n: (order.index(n) if n in order else len(order), n))
    ]
    return CostReport(start=start, end=end, spend=spend, providers=providers)


@dataclass
class WorkspaceCosts:
    """One workspace's money at a glance, for operators."""

    workspace: Workspace
    balance: Decimal = ZERO
    daily_cap: Decimal | None = None
    spent_today: Decimal = ZERO
    spent_in_period: Decimal = ZERO
    calls_in_period: int = 0


def _spent_by_workspace(entries) -> dict[int, Decimal]:
    rows = (
        entries.filter(kind__in=SPENDING)
        .values_list("workspace_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return {workspace_id: (-total).quantize(PLACES) for workspace_id, total in rows}


def workspace_costs(start: dt.date, end: dt.date, *, now: dt.datetime) -> list[WorkspaceCosts]:
    """Every workspace's balance, cap and spending (operators only: across workspaces)."""
    since, until = period_bounds(start, end)
    rows = CreditBudget.objects.unscoped().only("workspace_id", "balance", "daily_cap")
    budgets = {budget.workspace_id: budget for budget in rows}
    entries = CreditEntry.objects.unscoped()
    in_period = _spent_by_workspace(entries.filter(day__gte=start, day__lte=end))
    today = _spent_by_workspace(entries.filter(day=paris_day(now)))
    calls = dict(
        ProviderCall.objects.unscoped()
        .filter(created_at__gte=since, created_at__lt=until)
        .values_list("workspace_id")
        .annotate(count=Count("id"))
        .order_by()
    )
    rows = []
    for workspace in Workspace.objects.order_by("name"):
        budget = budgets.get(workspace.pk)
        rows.append(
            WorkspaceCosts(
                workspace=workspace,
                balance=budget.balance.quantize(PLACES) if budget else ZERO,
                daily_cap=budget.daily_cap if budget else None,
                spent_today=today.get(workspace.pk, ZERO),
                spent_in_period=in_period.get(workspace.pk, ZERO),
                calls_in_period=calls.get(workspace.pk, 0),
            )
        )
    return rows
