"""The "Coûts" page: a workspace's spending per day and provider, hit rates, balance and daily cap
(which its administrators may change), the providers' breakers, and for operators every
workspace at a glance."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from prospects.admin_base import WorkspaceScopedAdmin, is_workspace_admin

from . import charts, costs
from .engine import breaker, jobs, ledger
from .engine.outcomes import Outcome
from .models import CostDashboard
from .providers.registry import PROVIDERS

BREAKER_LABELS = {
    breaker.CLOSED: _("Closed"),
    breaker.OPEN: _("Open"),
    breaker.HALF_OPEN: _("Half-open"),
}


class PeriodForm(forms.Form):
    """Two Paris days, both included; a bad or reversed range is a French form error."""

    start = forms.DateField(
        label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    end = forms.DateField(
        label=_("To"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if start > end:
                raise forms.ValidationError(_("The start date must not be after the end date."))
            if (end - start).days + 1 > costs.MAX_DAYS:
                raise forms.ValidationError(
                    _("Choose a period of at most %(days)s days.") % {"days": costs.MAX_DAYS}
                )
        return data


class DailyCapForm(forms.Form):
    """The workspace's daily cap in euros ("50", "12,50"); empty removes it."""

    daily_cap = forms.CharField(
        label=_("Daily spending cap (€)"),
        required=False,
        max_length=32,
        help_text=_("Leave empty for no daily cap."),
    )

    def clean_daily_cap(self) -> Decimal | None:
        text = self.cleaned_data["daily_cap"]
        # People type French amounts: "12,50 €", with a (narrow) no-break space or not.
        text = "".join(text.replace("€", "").split()).replace(",", ".")
        if not text:
            return None
        try:
            return ledger.parse_amount(text)
        except ledger.InvalidAmount as exc:
            raise forms.ValidationError(str(exc)) from exc


def _percent(spent: Decimal, cap: Decimal | None) -> int | None:
    """How much of the day's cap is used, 0-100 (a cap of zero is used up)."""
    if cap is None:
        return None
    return 100 if not cap else min(100, round(100 * spent / cap))


@admin.register(CostDashboard)
class CostDashboardAdmin(WorkspaceScopedAdmin):
    """One page, no rows to list or edit: the changelist URL is the dashboard."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        view = self.admin_site.admin_view(self.dashboard_view)
        return [path("", view, name="{}_{}_changelist".format(*info))]

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        workspace = getattr(request, "workspace", None)
        can_set_cap = workspace is not None and is_workspace_admin(request)
        cap_form = None
        if request.method == "POST":
            if not can_set_cap:
                raise PermissionDenied
            cap_form = DailyCapForm(request.POST)
            if cap_form.is_valid():
                return self._set_cap(request, workspace, cap_form.cleaned_data["daily_cap"])
        now = timezone.now()
        start, end = costs.default_period(now)
        asked = "start" in request.GET or "end" in request.GET
        period = PeriodForm(request.GET if asked else None, initial={"start": start, "end": end})
        if period.is_bound:
            start, end = (
                (period.cleaned_data["start"], period.cleaned_data["end"])
                if period.is_valid()
                else (None, None)
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Costs"),
            "workspace": workspace,
            "period": period,
            "start": start,
            "end": end,
            "can_set_cap": can_set_cap,
        }
        if start is not None and workspace is not None:
            context.update(self._workspace_context(workspace, start, end, now, cap_form))
        if start is not None and request.user.is_superuser:
            context["workspaces"] = costs.workspace_costs(start, end, now=now)
        return TemplateResponse(request, "admin/enrichment/costs.html", context)

    def _workspace_context(
        self, workspace: Any, start: dt.date, end: dt.date, now: dt.datetime, cap_form: Any
    ) -> dict[str, Any]:
        report = costs.cost_report(workspace.pk, start, end)
        summary = ledger.summary(workspace.pk, now=now)
        cap = summary["daily_cap"]
        chart = charts.stacked_bars(
            report.days,
            {p.provider: report.spend.get(p.provider, {}) for p in report.providers},
            labels={p.provider: p.label for p in report.providers},
        )
        if cap_form is None:
            # Every decimal the cap has: saving the form unchanged must not round it.
            places = 2 if cap is None or cap == cap.quantize(Decimal("0.01")) else 4
            initial = "" if cap is None else number_format(cap, places)
            cap_form = DailyCapForm(initial={"daily_cap": initial})
        return {
            "report": report,
            "chart": chart,
            "summary": summary,
            "remaining_today": None if cap is None else max(cap - summary["spent_today"], 0),
            "cap_percent": _percent(summary["spent_today"], cap),
            "cap_form": cap_form,
            "breakers": [
                (spec.label, state, BREAKER_LABELS[state])
                for spec, state in ((s, breaker.state_of(s.slug)) for s in PROVIDERS.values())
            ],
        }

    def _set_cap(self, request: HttpRequest, workspace: Any, cap: Decimal | None) -> HttpResponse:
        ledger.set_daily_cap(workspace.pk, cap)
        jobs.resume_money_pauses(workspace.pk, [Outcome.DAILY_CAP])
        if cap is None:
            messages.success(request, gettext("Daily spending cap removed."))
        else:
            messages.success(
                request,
                gettext("Daily spending cap set to %(amount)s.") % {"amount": charts.euros(cap)},
            )
        return redirect(request.get_full_path())
