"""The prospect list action "Trouver les e-mails (cascade)": an estimate first (who, in which
provider order, at most how much, against the balance and today's cap), the job only once it
is confirmed. Nothing is spent, queued or created before the confirmation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from prospects import admin as prospects_admin
from prospects.admin_base import say_none_selected
from prospects.models import Prospect, Workspace

from . import bulk, credentials
from .charts import euros
from .engine import ledger
from .providers.finders import DEFAULT_EMAIL_ORDER, DISCOVERY, EMAIL_FINDERS
from .providers.registry import get_provider

ACTION_NAME = "find_emails"
# The default cascade first, then the finders a job may add.
FINDER_ORDER = [*DEFAULT_EMAIL_ORDER, *(s for s in EMAIL_FINDERS if s not in DEFAULT_EMAIL_ORDER)]
NO_KEY = _("no API key")
POSITION_LABELS = {
    0: _("%(n)sth provider"),
    1: _("1st provider"),
    2: _("2nd provider"),
    3: _("3rd provider"),
}


class ProviderOrderForm(forms.Form):
    """The providers to ask, one per position ("1st", "2nd"...): what you read is the order."""

    # What the page showed: confirming anything else shows the new estimate first.
    expected_most = forms.DecimalField(required=False, widget=forms.HiddenInput)
    expected_order = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(
        self, *args: Any, keyed: list[str], discovery_first: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.keyed = keyed
        self.discovery_first = discovery_first and DISCOVERY in keyed
        # Every finder is a valid choice: whether it has a key is `bulk.check_providers`'s to
        # say (a key refused since the page was shown gets its own French message).
        choices = [("", "—")] + [
            (s, get_provider(s).label if s in keyed else f"{get_provider(s).label} ({NO_KEY})")
            for s in FINDER_ORDER
        ]
        initial = self.initial_order()
        # As many positions as providers with a key, or as the page that was posted had.
        posted = [k for k in self.data if k.startswith("position_") and self.data[k]]
        count = min(max(len(keyed), len(posted), 1), len(FINDER_ORDER))
        for position in range(1, count + 1):
            self.fields[f"position_{position}"] = forms.ChoiceField(
                label=POSITION_LABELS.get(position, POSITION_LABELS[0]) % {"n": position},
                choices=choices,
                required=False,
                initial=initial[position - 1] if position <= len(initial) else "",
            )

    def positions(self) -> list[Any]:
        return [self[name] for name in self.fields if name.startswith("position_")]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        chosen = [
            data[name] for name in self.fields if name.startswith("position_") and data.get(name)
        ]
        twice = sorted({get_provider(s).label for s in chosen if chosen.count(s) > 1})
        if twice:
            raise forms.ValidationError(
                _("Each provider may appear only once: %(providers)s.")
                % {"providers": ", ".join(twice)}
            )
        if not chosen:
            raise forms.ValidationError(_("Choose at least one provider."))
        data["order"] = chosen
        return data

    def initial_order(self) -> list[str]:
        """The default cascade's finders that have a key (after in-house discovery when the
        workspace puts it first), else every finder that has one."""
        first = [DISCOVERY] if self.discovery_first else []
        return first + [s for s in self.keyed if s in DEFAULT_EMAIL_ORDER] or list(self.keyed)

    def order(self) -> list[str]:
        return self.cleaned_data["order"]

    def rows(self) -> list[dict[str, Any]]:
        """Each email finder, its most per prospect and whether it has a key."""
        return [
            {
                "label": get_provider(s).label,
                "max_cost": get_provider(s).max_cost,
                "keyed": s in self.keyed,
            }
            for s in FINDER_ORDER
        ]


def _left_out(queryset: Any, estimate: bulk.Estimate) -> list[str]:
    """Why selected prospects are not in the job, one French line per reason."""
    lines = [
        gettext("Status “%(status)s”: %(count)s") % {"status": label, "count": count}
        for label, count in (
            (Prospect.Status(status).label, count)
            for status, count in queryset.exclude(status__in=bulk.DEFAULT_STATUSES)
            .values_list("status")
            .annotate(count=Count("id"))
            .order_by("status")
        )
    ]
    if estimate.excluded.get("busy"):
        lines.append(
            gettext("Already being searched: %(count)s") % {"count": estimate.excluded["busy"]}
        )
    if estimate.excluded.get("objected"):
        lines.append(
            gettext("On the objection list: %(count)s") % {"count": estimate.excluded["objected"]}
        )
    return lines


def _money_warnings(estimate: bulk.Estimate, summary: dict[str, Any]) -> list[str]:
    warnings = []
    if estimate.most > summary["balance"]:
        warnings.append(
            gettext(
                "The balance does not cover this maximum: the job pauses when it runs out "
                "and goes on after a top-up."
            )
        )
    cap = summary["daily_cap"]
    if cap is not None and estimate.most > max(cap - summary["spent_today"], 0):
        warnings.append(
            gettext(
                "Today's cap does not cover this maximum: the job pauses when it is reached "
                "and resumes by itself at midnight (Paris time)."
            )
        )
    return warnings


def action_workspace(modeladmin: admin.ModelAdmin, request: HttpRequest) -> Workspace | None:
    """The workspace an action that spends works in; None (and a message) when none is chosen."""
    workspace: Workspace | None = getattr(request, "workspace", None)
    if workspace is None:
        modeladmin.message_user(
            request, gettext("Choose a workspace in the header before enriching."), messages.ERROR
        )
    return workspace


@admin.action(description=_("Find emails (cascade)"))
def find_emails(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: Any
) -> HttpResponse | None:
    """The estimate page; on confirmation, the job (`bulk.start_job`)."""
    workspace = action_workspace(modeladmin, request)
    if workspace is None:
        return None
    ids = list(queryset.values_list("pk", flat=True))
    if not ids:
        say_none_selected(modeladmin, request)
        return None
    return estimate_page(modeladmin, request, workspace, queryset, ids)


def estimate_page(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    workspace: Workspace,
    queryset: Any,
    ids: list[int],
    *,
    selected: list[int] | None = None,
) -> HttpResponse | None:
    """The estimate for prospects `ids` of `queryset`; on "confirm", the job. `selected`: the
    ids the page carries when it was not reached from the list (a CSV selection)."""
    keyed = [s for s in FINDER_ORDER if credentials.has_usable_key(workspace.pk, s)]
    step = next((s for s in ("confirm", "estimate") if s in request.POST), None)
    form = ProviderOrderForm(
        request.POST if step else None,
        keyed=keyed,
        discovery_first=bulk.discovery_first(workspace.pk),
    )
    page = {"selected": selected}
    if step and not form.is_valid():
        return _render(modeladmin, request, workspace, queryset, form, None, **page)
    try:
        order = form.order() if step else form.initial_order() or None
        estimate = bulk.estimate_job(workspace.pk, ids, providers=order)
    except bulk.JobRefused as refusal:
        if step is None:
            modeladmin.message_user(request, str(refusal), messages.ERROR)
            return None
        form.add_error(None, str(refusal))
        return _render(modeladmin, request, workspace, queryset, form, None, **page)
    if step == "confirm" and estimate.count:
        shown: Decimal | None = form.cleaned_data.get("expected_most")
        shown_order = form.cleaned_data.get("expected_order", "")
        if shown != estimate.most or shown_order != ",".join(estimate.providers):
            form.add_error(None, gettext("The estimate changed: check it and confirm again."))
        else:
            return _start(modeladmin, request, workspace, estimate)
    return _render(modeladmin, request, workspace, queryset, form, estimate, **page)


def _start(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    workspace: Workspace,
    estimate: bulk.Estimate,
) -> HttpResponse | None:
    try:
        job = bulk.start_job(workspace, estimate, user=request.user)
    except bulk.JobRefused as refusal:
        modeladmin.message_user(request, str(refusal), messages.ERROR)
        return None
    modeladmin.message_user(
        request,
        ngettext(
            "Job %(job)s started: %(count)s prospect through %(providers)s, at most %(most)s.",
            "Job %(job)s started: %(count)s prospects through %(providers)s, at most %(most)s.",
            estimate.count,
        )
        % {
            "job": job,
            "count": estimate.count,
            "providers": " → ".join(str(get_provider(s).label) for s in estimate.providers),
            "most": euros(estimate.most),
        },
        messages.SUCCESS,
    )
    return redirect(reverse("admin:enrichment_enrichmentjob_change", args=[job.pk]))


def _render(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    workspace: Workspace,
    queryset: Any,
    form: ProviderOrderForm,
    estimate: bulk.Estimate | None,
    *,
    selected: list[int] | None = None,
) -> TemplateResponse:
    summary = ledger.summary(workspace.pk)
    cap = summary["daily_cap"]
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": modeladmin.model._meta,
        "media": modeladmin.media,
        "title": gettext("Find emails (cascade)"),
        "form": form,
        "rows": form.rows(),
        "estimate": estimate,
        "selected_count": queryset.count(),
        "summary": summary,
        "remaining_today": None if cap is None else max(cap - summary["spent_today"], 0),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "action_name": ACTION_NAME,
        "selected": (
            selected if selected is not None else request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        ),
        # Posted to the prospect list, whose action it is (a CSV selection starts elsewhere).
        "form_action": reverse("admin:prospects_prospect_changelist") if selected else "",
        "select_across": request.POST.get("select_across", "0"),
    }
    if estimate is not None:
        context.update(
            left_out=_left_out(queryset, estimate),
            warnings=_money_warnings(estimate, summary),
            provider_names=[get_provider(s).label for s in estimate.providers],
        )
    return TemplateResponse(request, "admin/enrichment/cascade_confirm.html", context)


find_emails.__name__ = ACTION_NAME
if all(action.__name__ != ACTION_NAME for action in prospects_admin.PROSPECT_ACTIONS):
    prospects_admin.PROSPECT_ACTIONS.append(find_emails)
