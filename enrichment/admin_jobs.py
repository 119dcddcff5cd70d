"""Enrichment jobs in the admin: status with the reason of a pause, counters, money, provider
order, their items with what happened to each, and "Annuler la tâche"; and the attempts each
item made, linked to the provider calls that answered them."""

from __future__ import annotations

from collections import defaultdict
from functools import partial
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from . import bulk
from .admin import ProviderFilter, ReadOnlyScopedAdmin, provider_label
from .admin_job_file import job_from_file_view
from .charts import euros
from .engine.money import PARIS
from .engine.outcomes import Outcome, describe
from .models import EnrichmentItem, EnrichmentJob, ProviderAttempt
from .providers.registry import PROVIDERS
from .views import job_progress_context

Job = EnrichmentJob.Status
CANCELLABLE = (Job.PENDING, Job.RUNNING, Job.PAUSED)
# Items shown on a job's page; the rest are one link away (the items list, filtered).
JOB_PAGE_ITEMS = 50
PAUSE_REASONS = {
    Outcome.DAILY_CAP: _("daily spending cap reached"),
    Outcome.NO_CREDITS: _("credit balance too low"),
}
RESULT_LABELS = {
    "": _("No answer yet"),
    "found": _("Found"),
    "not_found": _("Not found"),
    "not_asked": _("Not asked (not enough data)"),
    "skipped": _("Not asked (the provider was failing)"),
    "permanent": _("Refused"),
    "temporary": _("Temporary error"),
    "rate_limited": _("Rate limited"),
    "quota": _("Credits exhausted"),
    "auth": _("API key refused"),
}


def pause_sentence(job: EnrichmentJob) -> str:
    """'En pause : plafond de dépenses du jour atteint — reprise automatique le … à …'."""
    reason = PAUSE_REASONS.get(job.pause_reason)
    if reason is None:
        reason = Outcome(job.pause_reason).label if job.pause_reason in Outcome.values else ""
    if job.paused_until is None:
        return gettext("Paused: %(reason)s") % {"reason": reason or gettext("no reason given")}
    when = timezone.localtime(job.paused_until, PARIS)
    return gettext("Paused: %(reason)s — resumes by itself on %(date)s at %(time)s") % {
        "reason": reason or gettext("no reason given"),
        "date": when.strftime("%d/%m/%Y"),
        "time": when.strftime("%H:%M"),
    }


def provider_order(job: EnrichmentJob) -> str:
    return " → ".join(str(provider_label(slug)) for slug in job.providers) or "—"


def outcome_text(item: EnrichmentItem, attempts: list[ProviderAttempt]) -> str:
    """What happened to the item, in French. A waterfall item's outcome is stored under the
    pipeline's name, so the vendor that failed is taken from its last failed attempt."""
    if not item.outcome:
        prospect = item.prospect
        reason = prospect.not_verified_reason
        status = prospect.get_status_display()
        return f"{status} — {reason}" if reason else status
    provider = item.provider
    if provider not in PROVIDERS:
        failed = [a.provider for a in attempts if a.result not in ("", "found", "not_found")]
        provider = failed[-1] if failed else provider
    return describe(item.outcome, provider=provider, detail=item.outcome_detail)


def result_label(result: str) -> str:
    return str(RESULT_LABELS.get(result, result))


@admin.register(EnrichmentJob)
class EnrichmentJobAdmin(ReadOnlyScopedAdmin):
    change_form_template = "admin/enrichment/enrichmentjob/change_form.html"
    list_display = (
        "__str__",
        "kind",
        "status_badge",
        "items_progress",
        "failed_items",
        "money",
        "provider_order",
        "created_by",
        "created_at",
        "follow_link",
    )
    list_filter = ("status", "kind")
    list_select_related = ("created_by",)
    fields = (
        "kind",
        "status_badge",
        "items_progress",
        "failed_items",
        "money",
        "provider_order",
        "created_by",
        "created_at",
        "finished_at",
    )
    readonly_fields = fields

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, job: EnrichmentJob) -> str:
        badge = format_html(
            '<span class="badge badge-job-{}">{}</span>', job.status, job.get_status_display()
        )
        if job.status == Job.PAUSED:
            return format_html('{}<span class="job-pause">{}</span>', badge, pause_sentence(job))
        return badge

    @admin.display(description=_("done"))
    def items_progress(self, job: EnrichmentJob) -> str:
        return f"{job.done_items} / {job.total_items}"

    @admin.display(description=_("spent / estimated"))
    def money(self, job: EnrichmentJob) -> str:
        return gettext("%(spent)s of at most %(most)s") % {
            "spent": euros(job.spent_credits),
            "most": euros(job.estimated_credits),
        }

    @admin.display(description=_("provider order"))
    def provider_order(self, job: EnrichmentJob) -> str:
        return provider_order(job)

    @admin.display(description=_("live progress"))
    def follow_link(self, job: EnrichmentJob) -> str:
        url = reverse("enrichment:progress")
        return format_html('<a href="{}?job={}">{}</a>', url, job.pk, gettext("Follow"))

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        cancel = self.admin_site.admin_view(self.cancel_view)
        from_file = self.admin_site.admin_view(partial(job_from_file_view, self))
        return [
            path("from-file/", from_file, name="{}_{}_from_file".format(*info)),
            path("<int:job_id>/cancel/", cancel, name="{}_{}_cancel".format(*info)),
            *super().get_urls(),
        ]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None
    ) -> HttpResponse:
        job = self.get_object(request, object_id)
        if job is None:
            # Another workspace's job and a missing one look the same: not found.
            raise Http404
        extra = {**(extra_context or {}), **self._items_context(job)}
        extra["can_cancel"] = job.status in CANCELLABLE
        extra["job_progress"] = job_progress_context(job)
        extra["cancel_url"] = reverse("admin:enrichment_enrichmentjob_cancel", args=[job.pk])
        return super().change_view(request, object_id, form_url, extra)

    def _items_context(self, job: EnrichmentJob) -> dict[str, Any]:
        """The job's first items, their outcome and the attempts each made (two queries)."""
        items = list(
            EnrichmentItem.objects.for_workspace(job.workspace_id)
            .filter(job=job)
            .select_related("prospect")
            .order_by("pk")[:JOB_PAGE_ITEMS]
        )
        attempts: dict[int, list[ProviderAttempt]] = defaultdict(list)
        for attempt in (
            ProviderAttempt.objects.for_workspace(job.workspace_id)
            .filter(item__in=[item.pk for item in items])
            .order_by("pk")
        ):
            attempts[attempt.item_id].append(attempt)
        return {
            "job_items": [
                (item, outcome_text(item, attempts[item.pk]), self._chain(item, attempts[item.pk]))
                for item in items
            ],
            "job_item_count": job.total_items,
            "items_url": reverse("admin:enrichment_enrichmentitem_changelist")
            + f"?job__id__exact={job.pk}",
            "attempts_url": reverse("admin:enrichment_providerattempt_changelist"),
        }

    def _chain(self, item: EnrichmentItem, attempts: list[ProviderAttempt]) -> str:
        """'Prospeo : Non trouvé → LeadMagic : Trouvé', each linked to its provider call; a
        Dropcontact item links to the batch request whose calls answered it."""
        if not attempts and item.batch_id:
            url = reverse("admin:enrichment_providerbatch_change", args=[item.batch_id])
            text = gettext("%(provider)s request #%(batch)s") % {
                "provider": provider_label(item.provider),
                "batch": item.batch_id,
            }
            return _linked(url, text)
        parts = []
        for attempt in attempts:
            text = f"{provider_label(attempt.provider)} : {result_label(attempt.result)}"
            if attempt.call_id:
                url = reverse("admin:enrichment_providercall_change", args=[attempt.call_id])
                parts.append((url, text))
            else:
                parts.append(("", text))
        return format_html_join(" → ", "{}", ((_linked(url, text),) for url, text in parts)) or "—"

    def cancel_view(self, request: HttpRequest, job_id: int) -> HttpResponse:
        """'Annuler la tâche': a confirmation page, then (POST) the cancellation."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        job = get_object_or_404(self.get_queryset(request), pk=job_id)
        change_url = reverse("admin:enrichment_enrichmentjob_change", args=[job.pk])
        if job.status not in CANCELLABLE:
            messages.warning(request, gettext("This job is over: there is nothing to cancel."))
            return redirect(change_url)
        if request.method == "POST":
            try:
                cancelled = bulk.cancel_job(job.workspace, job.pk)
            except bulk.JobRefused as refused:
                # It ended between the page and the click.
                messages.warning(request, str(refused))
                return redirect(change_url)
            messages.success(
                request,
                ngettext(
                    "%(job)s cancelled: %(count)s waiting item will not be processed.",
                    "%(job)s cancelled: %(count)s waiting items will not be processed.",
                    cancelled,
                )
                % {"job": job, "count": cancelled},
            )
            return redirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Cancel the job"),
            "job": job,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/enrichment/enrichmentjob/cancel.html", context)


def _linked(url: str, text: str) -> str:
    return format_html('<a href="{}">{}</a>', url, text) if url else text


class ResultFilter(admin.SimpleListFilter):
    """Attempt results in French, from the fixed list (not the values found in the table)."""

    title = _("result")
    parameter_name = "result"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin):
        return [(code, label) for code, label in RESULT_LABELS.items() if code]

    def queryset(self, request: HttpRequest, queryset):
        if self.value():
            return queryset.filter(result=self.value())
        return queryset


@admin.register(ProviderAttempt)
class ProviderAttemptAdmin(ReadOnlyScopedAdmin):
    """Which provider was asked about which item, what it answered and what it cost."""

    technical = True

    list_display = (
        "created_at",
        "prospect_link",
        "provider_name",
        "result_text",
        "value",
        "verified",
        "cost_text",
        "call_link",
    )
    list_filter = (ProviderFilter, ResultFilter)
    list_select_related = ("item__prospect",)
    search_fields = ("value", "idempotency_key")

    @admin.display(description=_("prospect"))
    def prospect_link(self, attempt: ProviderAttempt) -> str:
        prospect = attempt.item.prospect
        url = reverse("admin:prospects_prospect_change", args=[prospect.pk])
        return format_html('<a href="{}">{}</a>', url, prospect)

    @admin.display(description=_("provider"), ordering="provider")
    def provider_name(self, attempt: ProviderAttempt) -> str:
        return provider_label(attempt.provider)

    @admin.display(description=_("result"), ordering="result")
    def result_text(self, attempt: ProviderAttempt) -> str:
        return result_label(attempt.result)

    @admin.display(description=_("cost"), ordering="cost")
    def cost_text(self, attempt: ProviderAttempt) -> str:
        return euros(attempt.cost, 4)

    @admin.display(description=_("provider call"))
    def call_link(self, attempt: ProviderAttempt) -> str:
        if not attempt.call_id:
            return "—"
        url = reverse("admin:enrichment_providercall_change", args=[attempt.call_id])
        return format_html('<a href="{}">{}</a>', url, gettext("See the call"))
