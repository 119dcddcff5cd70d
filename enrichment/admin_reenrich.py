"""The prospect list action "Relancer l'enrichissement": what it would cost first (how many of
the selected prospects go back to Dropcontact, at most how much, against the balance and the
day's cap), and only on confirmation the new job. Nothing is queued or spent before."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from prospects import services as prospect_services
from prospects.admin_base import say_none_selected
from prospects.models import Prospect, Workspace

from . import services
from .admin_cascade import action_workspace
from .engine import ledger
from .providers.registry import get_provider

MAX_REFUSAL_MESSAGES = 10
ACTION_NAME = "reenrich"


def reenrich_estimate(workspace: Workspace, ids: list[int]) -> dict[str, Any]:
    """How many of `ids` would go back to Dropcontact, why the others not, the most it costs."""
    scope = Prospect.objects.for_workspace(workspace).filter(pk__in=ids)
    eligible = list(scope.filter(status__in=services.REENRICHABLE).only("pk", "email", "phone"))
    busy = services.busy_prospect_ids(workspace.pk, [p.pk for p in eligible])
    eligible = [p for p in eligible if p.pk not in busy]
    objecting = prospect_services.objecting_prospect_ids(workspace.pk, eligible)
    count = len(eligible) - len(objecting)
    each = get_provider(services.DROPCONTACT).max_cost
    left_out = [
        gettext("Status “%(status)s”: %(count)s")
        % {"status": Prospect.Status(status).label, "count": n}
        for status, n in scope.exclude(status__in=services.REENRICHABLE)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by("status")
    ]
    if busy:
        left_out.append(gettext("Already being enriched: %(count)s") % {"count": len(busy)})
    if objecting:
        left_out.append(gettext("On the objection list: %(count)s") % {"count": len(objecting)})
    summary = ledger.summary(workspace.pk)
    most = each * count
    cap = summary["daily_cap"]
    warnings = []
    if most > summary["balance"]:
        warnings.append(
            gettext(
                "The balance does not cover this maximum: Dropcontact is asked only while it lasts."
            )
        )
    if cap is not None and most > max(cap - summary["spent_today"], Decimal(0)):
        warnings.append(gettext("Today's cap does not cover this maximum."))
    return {
        "count": count,
        "each": each,
        "most": most,
        "left_out": left_out,
        "summary": summary,
        "remaining_today": None if cap is None else max(cap - summary["spent_today"], 0),
        "warnings": warnings,
    }


@admin.action(description=_("Restart enrichment"))
def reenrich(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: Any
) -> HttpResponse | None:
    """The estimate page first; on confirmation, the prospects go back to Dropcontact."""
    workspace = action_workspace(modeladmin, request)
    if workspace is None:
        return None
    ids = list(queryset.filter(workspace=workspace).values_list("pk", flat=True))
    if not ids:
        say_none_selected(modeladmin, request)
        return None
    if "confirm" not in request.POST:
        context = {
            **modeladmin.admin_site.each_context(request),
            "opts": modeladmin.model._meta,
            "title": gettext("Restart enrichment"),
            "estimate": reenrich_estimate(workspace, ids),
            "selected_count": len(ids),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "action_name": ACTION_NAME,
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
        }
        return TemplateResponse(request, "admin/enrichment/reenrich_confirm.html", context)
    _queue(modeladmin, request, workspace, ids)
    return None


def _queue(
    modeladmin: admin.ModelAdmin, request: HttpRequest, workspace: Workspace, ids: list[int]
) -> None:
    result = services.reenrich_prospects(workspace, ids, user=request.user)
    if result.queued:
        modeladmin.message_user(
            request,
            ngettext(
                "%(count)s prospect queued for enrichment again.",
                "%(count)s prospects queued for enrichment again.",
                len(result.queued),
            )
            % {"count": len(result.queued)},
            messages.SUCCESS,
        )
    refused = result.refused
    for prospect, reason in refused[:MAX_REFUSAL_MESSAGES]:
        modeladmin.message_user(request, f"{prospect} — {reason}", messages.WARNING)
    if len(refused) > MAX_REFUSAL_MESSAGES:
        modeladmin.message_user(
            request,
            ngettext(
                "… and %(count)s other prospect refused for the same kind of reason.",
                "… and %(count)s other prospects refused for the same kind of reason.",
                len(refused) - MAX_REFUSAL_MESSAGES,
            )
            % {"count": len(refused) - MAX_REFUSAL_MESSAGES},
            messages.WARNING,
        )
