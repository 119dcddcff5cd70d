"""Discovery from the admin: start one for a company's domain, and follow the runs.

*Découvrir une entreprise* (on the approval queue and the jobs' list) starts the same job as
`POST /api/v1/discovery/jobs` and `discover_contacts`: the company's pages are read by a
worker, the people they name join the approval queue, and each one's address is checked.
The same quotas and refusals hold; the vendors' people searches are paid, so only the
workspace's administrators may ask for them. The jobs' list shows each run's counters, what
it cost and why it stopped; a failed run can be started again from it.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from prospects.admin_base import WorkspaceScopedAdmin, is_workspace_admin

from .admin_discovery_manual import form_page
from .charts import euros
from .discovery import contacts, jobs
from .discovery.warning_texts import warning_text
from .discovery_jobs import DiscoveryJob


class StartDiscoveryForm(forms.Form):
    domain = forms.CharField(
        label=_("company domain"),
        max_length=255,
        help_text=_("The domain of the company's website and email addresses, e.g. exemple.fr."),
    )
    people_search = forms.BooleanField(
        label=_("also ask the vendors' people searches (paid)"),
        required=False,
        help_text=_(
            "AI Ark, then Apollo, with the workspace's keys: they name people the website "
            "does not. Each call is paid from the workspace's credits."
        ),
    )


def start_view(modeladmin: admin.ModelAdmin, request: HttpRequest) -> HttpResponse:
    """The form, and the job it starts."""
    if not modeladmin.has_view_permission(request):
        raise PermissionDenied
    workspace = getattr(request, "workspace", None)
    may_pay = is_workspace_admin(request)
    posted = request.method == "POST"
    form = StartDiscoveryForm(request.POST if posted else None)
    if not may_pay:
        del form.fields["people_search"]
    refusal = ""
    if workspace is None:
        refusal = gettext("Choose a workspace in the header first.")
    elif posted and form.is_valid():
        try:
            job = jobs.start_job(
                workspace,
                form.cleaned_data["domain"],
                user=request.user,
                people_search=form.cleaned_data.get("people_search", False),
            )
        except contacts.DiscoveryRefused as error:
            refusal = str(error)
        else:
            modeladmin.message_user(
                request,
                gettext(
                    "Discovery of %(domain)s started: the people its website names will "
                    "join the discovered contacts, each with a checked address."
                )
                % {"domain": job.domain},
                messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:enrichment_discoveryjob_changelist"))
    return form_page(
        modeladmin, request, "discoveryjob/start.html",
        title=gettext("Discover a company's contacts"), form=form, refusal=refusal,
    )  # fmt: skip


@admin.action(description=_("Start the failed runs again"))
def retry(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: Any) -> None:
    workspace = getattr(request, "workspace", None)
    if workspace is None:
        modeladmin.message_user(
            request, gettext("Choose a workspace in the header first."), messages.ERROR
        )
        return
    started = 0
    for job in queryset.filter(workspace=workspace, status=DiscoveryJob.Status.FAILED):
        if job.people_search and not is_workspace_admin(request):
            # Run again, its people search pays again: as when it was started.
            modeladmin.message_user(
                request,
                gettext("%(domain)s — its people search is paid: an administrator restarts it.")
                % {"domain": job.domain},
                messages.WARNING,
            )
            continue
        try:
            started += jobs.retry_job(workspace, job)
        except contacts.DiscoveryRefused as error:
            modeladmin.message_user(request, f"{job.domain} — {error}", messages.WARNING)
    modeladmin.message_user(
        request,
        ngettext(
            "%(count)s run started again.", "%(count)s runs started again.", started
        ) % {"count": started},
        messages.SUCCESS if started else messages.WARNING,
    )


@admin.register(DiscoveryJob)
class DiscoveryJobAdmin(WorkspaceScopedAdmin):
    # The detail page has the rest (left out, named by the people search, who, when it ended).
    list_display = (
        "domain", "status", "people", "added_link", "checked", "cost_text", "error_text",
        "created_at",
    )
    list_filter = ("status", "people_search")
    search_fields = ("domain",)
    actions = [retry]
    readonly_fields = (
        "domain",
        "status",
        "people_search",
        "pages",
        "people",
        "done",
        "checked",
        "added",
        "objected",
        "provider_people",
        "cost_text",
        "error_text",
        "warnings_text",
        "attempts",
        "requester",
        "created_at",
        "started_at",
        "finished_at",
    )
    exclude = (
        "api_key", "requested_by", "error_code", "cost", "next_attempt_at", "warnings"
    )

    def get_urls(self):
        view = self.admin_site.admin_view(partial(start_view, self))
        name = f"{self.opts.app_label}_{self.opts.model_name}_start"
        return [path("start/", view, name=name), *super().get_urls()]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # started with the form above, which asks what a job needs

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a run's record stays: what it cost, who asked

    @admin.display(description=_("new contacts"), ordering="added")
    def added_link(self, job: DiscoveryJob) -> str:
        """The count, linked to the company's contacts in the approval queue."""
        if not job.added:
            return "0"
        url = reverse("admin:enrichment_discoveredcontact_changelist")
        return format_html('<a href="{}?{}">{}</a>', url, urlencode({"domain": job.domain}),
                           job.added)

    @admin.display(description=_("requested by"))
    def requester(self, job: DiscoveryJob) -> str:
        """The person who asked, or the API key that did (by its name)."""
        if job.api_key_id is not None:
            return gettext("API key “%(name)s”") % {"name": job.api_key.name}
        return str(job.requested_by) if job.requested_by_id else "—"

    @admin.display(description=_("cost"), ordering="cost")
    def cost_text(self, job: DiscoveryJob) -> str:
        return euros(job.cost)

    @admin.display(description=_("error"))
    def error_text(self, job: DiscoveryJob) -> str:
        return jobs.error_message(job.error_code) or "—"

    @admin.display(description=_("warnings"))
    def warnings_text(self, job: DiscoveryJob) -> str:
        """What held the run back (a slow page, probing paused), one sentence a line."""
        if not job.warnings:
            return "—"
        return format_html_join("\n", "<div>{}</div>", ((warning_text(w),) for w in job.warnings))
