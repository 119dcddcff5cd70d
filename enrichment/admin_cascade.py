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
from prospects.models import Prospect, Workspace

from . import bulk, credentials
from .charts import euros
from .engine import ledger
from .providers.finders import DEFAULT_EMAIL_ORDER, EMAIL_FINDERS
from .providers.registry import get_provider

ACTION_NAME = "find_emails"
# The default cascade first, then the finders a job may add.
FINDER_ORDER = [*DEFAULT_EMAIL_ORDER, *(s for s in EMAIL_FINDERS if s not in DEFAULT_EMAIL_ORDER)]


class ProviderOrderForm(forms.Form):
    """Which email finders with a key to ask, and in which order (1 first)."""

    providers = forms.MultipleChoiceField(
        label=_("Providers"), required=False, widget=forms.CheckboxSelectMultiple
    )
    # What the page showed: confirming anything else shows the new estimate first.
    expected_most = forms.DecimalField(required=False, widget=forms.HiddenInput)
    expected_order = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, keyed: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.keyed = keyed
        # Every finder is a valid choice: whether it has a key is `bulk.check_providers`'s to
        # say (a key refused since the page was shown gets its own French message).
        self.fields["providers"].choices = [(s, get_provider(s).label) for s in FINDER_ORDER]
        self.fields["providers"].initial = self.initial_order()
        for position, slug in enumerate(FINDER_ORDER, start=1):
            self.fields[f"rank_{slug}"] = forms.IntegerField(
                label=_("Position"),
                required=False,
                min_value=1,
                max_value=len(FINDER_ORDER),
                initial=position,
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("providers") and not self.errors:
            raise forms.ValidationError(_("Choose at least one provider."))
        return data

    def initial_order(self) -> list[str]:
        """The default cascade's finders that have a key, else every finder that has one."""
        return [s for s in self.keyed if s in DEFAULT_EMAIL_ORDER] or list(self.keyed)

    def order(self) -> list[str]:
        """The ticked providers by their position (ties keep the default order)."""
        chosen = self.cleaned_data["providers"]
        return sorted(
            chosen,
            key=lambda s: (self.cleaned_data.get(f"rank_{s}") or 99, FINDER_ORDER.index(s)),
        )

    def rows(self) -> list[dict[str, Any]]:
        """One row per email finder for the template, keyless ones shown but not offered."""
        ticked = set(self["providers"].value() or [])
        rows = []
        for slug in FINDER_ORDER:
            spec = get_provider(slug)
            row = {"slug": slug, "label": spec.label, "max_cost": spec.max_cost}
            if slug in self.keyed:
                row.update(keyed=True, ticked=slug in ticked, rank=self[f"rank_{slug}"])
            rows.append(row)
        return rows


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


@admin.action(description=_("Find emails (cascade)"))
def find_emails(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: Any
) -> HttpResponse | None:
    """The estimate page; on confirmation, the job (`bulk.start_job`)."""
    workspace: Workspace | None = getattr(request, "workspace", None)
    if workspace is None:
        modeladmin.message_user(
            request, gettext("Choose a workspace in the header before enriching."), messages.ERROR
        )
        return None
    ids = list(queryset.values_list("pk", flat=True))
    if not ids:
        modeladmin.message_user(
            request,
            gettext("None of the selected prospects exists in this workspace."),
            messages.ERROR,
        )
        return None
    keyed = [s for s in FINDER_ORDER if credentials.has_usable_key(workspace.pk, s)]
    step = next((s for s in ("confirm", "estimate") if s in request.POST), None)
    form = ProviderOrderForm(request.POST if step else None, keyed=keyed)
    if step and not form.is_valid():
        return _render(modeladmin, request, workspace, queryset, form, None)
    try:
        order = form.order() if step else form.initial_order() or None
        estimate = bulk.estimate_job(workspace.pk, ids, providers=order)
    except bulk.JobRefused as refusal:
        if step is None:
            modeladmin.message_user(request, str(refusal), messages.ERROR)
            return None
        form.add_error(None, str(refusal))
        return _render(modeladmin, request, workspace, queryset, form, None)
    if step == "confirm" and estimate.count:
        shown: Decimal | None = form.cleaned_data.get("expected_most")
        shown_order = form.cleaned_data.get("expected_order", "")
        if shown != estimate.most or shown_order != ",".join(estimate.providers):
            form.add_error(None, gettext("The estimate changed: check it and confirm again."))
        else:
            return _start(modeladmin, request, workspace, estimate)
    return _render(modeladmin, request, workspace, queryset, form, estimate)


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
            "providers": " → ".join(get_provider(s).label for s in estimate.providers),
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
        "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
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
