"""The home page (the admin's index) and its live fragment, for the current workspace."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET

from prospects.admin_base import is_workspace_admin
from prospects.models import Prospect, Workspace

from .. import charts
from ..discovery import guards
from ..engine.money import paris_day
from . import figures

# The fragment polls quickly while something runs, slowly otherwise (to see new work start).
POLL_BUSY = "3s"
POLL_IDLE = "15s"


def prospect_list_url(**filters: str) -> str:
    """The prospect list, filtered (the admin's own query-string filters)."""
    url = reverse("admin:prospects_prospect_changelist")
    return f"{url}?{urlencode(filters)}" if filters else url


def _status_rows(prospects: figures.ProspectFigures) -> list[dict[str, Any]]:
    return [
        {
            "status": status,
            "label": label,
            "count": prospects.by_status.get(status, 0),
            "url": prospect_list_url(status__exact=status),
        }
        for status, label in Prospect.Status.choices
    ]


def _attention(workspace: Workspace, request: HttpRequest) -> dict[str, Any]:
    prospects = figures.prospect_figures(workspace.pk)
    keys = figures.key_trouble(workspace.pk)
    items_url = reverse("admin:enrichment_enrichmentitem_changelist")
    return {
        "prospects": prospects,
        "status_rows": _status_rows(prospects),
        "all_url": prospect_list_url(),
        "verified_url": prospect_list_url(status__exact=Prospect.Status.VERIFIED),
        "needs_review": prospects.by_status.get(Prospect.Status.NEEDS_REVIEW, 0),
        "needs_review_url": prospect_list_url(status__exact=Prospect.Status.NEEDS_REVIEW),
        "objected_url": prospect_list_url(
            verification_reason__in=",".join(figures.OBJECTION_REASONS)
        ),
        "keys": keys,
        # In-house discovery held back (blocklisted mail host, port 25 blocked, budget spent).
        "probing_warnings": guards.warnings(),
        "discovery_url": reverse("admin:enrichment_discoveredcontact_changelist"),
        "waiting_key_url": f"{items_url}?{urlencode({'status__exact': 'waiting_key'})}",
        "credentials_url": reverse("admin:enrichment_providercredential_changelist")
        if is_workspace_admin(request)
        else "",
    }


def _charts(workspace: Workspace, money: figures.Money, now: dt.datetime) -> dict[str, Any]:
    start, end = figures.chart_days(now)
    days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    report = money.report
    spend_chart = charts.stacked_bars(
        days,
        {p.provider: report.spend.get(p.provider, {}) for p in report.providers},
        labels={p.provider: p.label for p in report.providers},
        height=240,
    )

    def describe(day: dt.date, verified: int, checked: int) -> str:
        return gettext("%(date)s: %(rate)s verified (%(verified)s of %(checked)s)") % {
            "date": f"{day:%d/%m/%Y}",
            "rate": charts.percent(100 * verified / checked),
            "verified": verified,
            "checked": checked,
        }

    rate_chart = charts.rate_bars(
        days,
        figures.verified_by_day(workspace.pk, start, end),
        label=gettext("Verified among the prospects given a verdict that day"),
        describe=describe,
    )
    return {"spend_chart": spend_chart, "rate_chart": rate_chart}


def live_context(workspace: Workspace | None) -> dict[str, Any]:
    """What the live fragment shows: imports, jobs and automatic enrichment under way."""
    if workspace is None:
        return {}
    live = figures.live_work(workspace.pk)
    automatic = live.automatic_total
    return {
        "live": live,
        "live_url": reverse("admin:home-live"),
        "poll_every": POLL_BUSY if live.any else POLL_IDLE,
        "automatic_text": ngettext(
            "%(count)s new prospect being enriched automatically",
            "%(count)s new prospects being enriched automatically",
            automatic,
        )
        % {"count": automatic},
        "imports_url": reverse("admin:prospects_importbatch_changelist"),
        "jobs_url": reverse("admin:enrichment_enrichmentjob_changelist"),
    }


def home_context(request: HttpRequest) -> dict[str, Any]:
    """Everything the home page shows, for the current workspace (nothing without one)."""
    workspace = getattr(request, "workspace", None)
    context: dict[str, Any] = {"workspace": workspace, "title": gettext("Dashboard")}
    if workspace is None:
        return context
    now = timezone.now()
    money = figures.money(workspace.pk, now=now)
    context.update(_attention(workspace, request))
    context.update(live_context(workspace))
    context.update(_charts(workspace, money, now))
    context.update(
        money=money,
        month=paris_day(now),
        costs_url=reverse("admin:enrichment_costdashboard_changelist"),
        last_imports=figures.last_imports(workspace.pk),
    )
    return context


@staff_member_required
@require_GET
def home_live(request: HttpRequest) -> HttpResponse:
    """The live fragment alone, polled by htmx."""
    return TemplateResponse(
        request,
        "admin/home/_live.html",
        {"workspace": getattr(request, "workspace", None), **live_context(request.workspace)},
    )
