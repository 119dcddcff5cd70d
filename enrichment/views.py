"""Enrichment screens in the admin look: live progress, recent jobs, manual re-enrichment."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from prospects.admin_base import is_workspace_admin
from prospects.models import Prospect, Workspace

from . import found_address, services
from .models import EnrichmentItem, EnrichmentJob, ProviderCredential

RECENT_JOBS = 5
LIVE_JOB_STATUSES = (
    EnrichmentJob.Status.PENDING,
    EnrichmentJob.Status.RUNNING,
    EnrichmentJob.Status.PAUSED,
)
JOBS_PAGE = 50


def _no_workspace_message() -> str:
    return _("Choose a workspace in the header to see its enrichment.")


def _page(request: HttpRequest, template: str, title: str, **context: Any) -> TemplateResponse:
    """A page rendered inside the admin's frame (header, sidebar, user tools)."""
    return TemplateResponse(
        request,
        template,
        {
            **admin.site.each_context(request),
            "title": title,
            "workspace": getattr(request, "workspace", None),
            "no_workspace_message": _no_workspace_message(),
            **context,
        },
    )


def _job_from_query(request: HttpRequest, workspace: Workspace) -> EnrichmentJob | None:
    raw = request.GET.get("job", "")
    if not raw:
        return None
    # isdigit() alone accepts "²", which int() refuses.
    if not (raw.isascii() and raw.isdigit()):
        raise Http404
    return get_object_or_404(EnrichmentJob.objects.for_workspace(workspace), pk=int(raw))


def progress_context(request: HttpRequest, workspace: Workspace | None) -> dict[str, Any]:
    """Counts of the workspace's (or one job's) Dropcontact work, for the page and its partial."""
    if workspace is None:
        return {}
    job = _job_from_query(request, workspace)
    progress = services.enrichment_progress(workspace.pk, job=job)
    finished = progress.done + progress.failed
    partial_url = reverse("enrichment:progress-partial")
    if job is not None:
        partial_url += f"?job={job.pk}"
    recent = list(
        EnrichmentJob.objects.for_workspace(workspace).select_related("created_by")[:RECENT_JOBS]
    )
    return {
        "job": job,
        "progress": progress,
        "finished": finished,
        "percent": round(100 * finished / progress.total) if progress.total else 0,
        "partial_url": partial_url,
        "has_key": ProviderCredential.objects.for_workspace(workspace)
        .filter(provider=services.DROPCONTACT)
        .exists(),
        "can_set_key": is_workspace_admin(request),
        "recent_jobs": [(j, services.enrichment_progress(workspace.pk, job=j)) for j in recent],
    }


@staff_member_required
@require_GET
def progress(request: HttpRequest) -> HttpResponse:
    """The live view of the workspace's Dropcontact work; its figures refresh themselves."""
    return _page(
        request,
        "enrichment/progress.html",
        _("Enrichment in progress"),
        **progress_context(request, request.workspace),
    )


@staff_member_required
@require_GET
def progress_partial(request: HttpRequest) -> HttpResponse:
    """The figures alone, polled by htmx every 2 seconds."""
    return TemplateResponse(
        request,
        "enrichment/_progress.html",
        {
            "workspace": request.workspace,
            "no_workspace_message": _no_workspace_message(),
            **progress_context(request, request.workspace),
        },
    )


@staff_member_required
@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    """The workspace's recent enrichment jobs, each with a link to follow it."""
    workspace = request.workspace
    jobs = []
    if workspace is not None:
        jobs = list(
            EnrichmentJob.objects.for_workspace(workspace).select_related("created_by")[:JOBS_PAGE]
        )
    return _page(request, "enrichment/jobs.html", _("Recent enrichment jobs"), jobs=jobs)


@staff_member_required
@require_POST
def reenrich_prospect(request: HttpRequest, pk: int) -> HttpResponse:
    """'Relancer l'enrichissement' from the prospect page."""
    change_url = reverse("admin:prospects_prospect_change", args=[pk])
    workspace = request.workspace
    if workspace is None:
        messages.error(request, _("Choose a workspace in the header before re-enriching."))
        return _back(request, change_url)
    prospect = get_object_or_404(Prospect.objects.for_workspace(workspace), pk=pk)
    result = services.reenrich_prospects(workspace, [prospect.pk], user=request.user)
    if result.queued:
        messages.success(
            request, _("%(name)s is queued for enrichment again.") % {"name": prospect}
        )
    for _refused, reason in result.refused:
        messages.error(request, reason)
    return _back(request, change_url)


@staff_member_required
@require_POST
def use_found_email(request: HttpRequest, pk: int) -> HttpResponse:
    """'Utiliser cette adresse': the verified address Dropcontact found becomes the email."""
    change_url = reverse("admin:prospects_prospect_change", args=[pk])
    workspace = request.workspace
    if workspace is None:
        raise Http404
    prospect = get_object_or_404(Prospect.objects.for_workspace(workspace), pk=pk)
    try:
        prospect = found_address.use_found_email(prospect, user=request.user)
    except found_address.AddressNotUsable as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("%(name)s now uses the verified address %(email)s.")
            % {"name": prospect, "email": prospect.email},
        )
    return _back(request, change_url)


def _back(request: HttpRequest, url: str) -> HttpResponse:
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


@staff_member_required
@require_GET
def job_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """One job's own progress (every provider), polled by its page while the job is live."""
    workspace = request.workspace
    if workspace is None:
        raise Http404
    job = get_object_or_404(EnrichmentJob.objects.for_workspace(workspace), pk=pk)
    return TemplateResponse(request, "enrichment/_job_progress.html", job_progress_context(job))


def job_progress_context(job: EnrichmentJob) -> dict[str, Any]:
    """The job's prospects by the state of their latest item, and its money."""
    items = EnrichmentItem.objects.for_workspace(job.workspace_id).filter(job=job)
    counts = services.count_latest_items(job.workspace_id, items)
    Item = EnrichmentItem.Status
    figures = {
        "queued": counts.get(Item.PENDING, 0),
        "waiting_key": counts.get(Item.WAITING_KEY, 0),
        "in_flight": counts.get(Item.SUBMITTED, 0),
        "done": counts.get(Item.DONE, 0),
        "failed": counts.get(Item.NEEDS_REVIEW, 0),
        "cancelled": counts.get(Item.CANCELLED, 0),
    }
    total = sum(figures.values())
    finished = figures["done"] + figures["failed"] + figures["cancelled"]
    return {
        "job": job,
        "figures": figures,
        "total": total,
        "finished": finished,
        "percent": round(100 * finished / total) if total else 0,
        "live": job.status in LIVE_JOB_STATUSES,
        "poll_url": reverse("enrichment:job-progress", args=[job.pk]),
    }


@staff_member_required
@require_GET
def prospect_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The prospect page's enrichment panel alone, polled while its enrichment runs."""
    workspace = request.workspace
    if workspace is None:
        raise Http404
    prospect = get_object_or_404(Prospect.objects.for_workspace(workspace), pk=pk)
    return TemplateResponse(
        request, "enrichment/prospect_panel.html", {"original": prospect, "fragment": True}
    )
