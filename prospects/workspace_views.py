"""Pages of one's own access: choosing the current workspace, answering invitations."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import access
from .access_models import Invitation


def _page(request: HttpRequest, template: str, title: str, **context) -> TemplateResponse:
    return TemplateResponse(
        request, template, {**admin.site.each_context(request), "title": title, **context}
    )


@staff_member_required
@require_GET
def choose_workspace(request: HttpRequest) -> HttpResponse:
    """'Choisissez votre espace de travail': asked before anything is read or written."""
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("admin:index")
    return _page(
        request,
        "admin/workspaces/choose.html",
        _("Choose your workspace"),
        next_url=next_url,
    )


@staff_member_required
@require_GET
def invitation_list(request: HttpRequest) -> HttpResponse:
    """The invitations addressed to the person, to accept or decline."""
    invitations = list(Invitation.objects.for_invitee(request.user))
    return _page(
        request, "admin/workspaces/invitations.html", _("Invitations"), invitations=invitations
    )


@staff_member_required
@require_POST
def invitation_answer(request: HttpRequest, pk: int, answer: str) -> HttpResponse:
    """Accept or decline one's own invitation; anyone else's is a 404 like a missing one."""
    try:
        if answer == "accept":
            membership = access.accept_invitation(pk, user=request.user)
        elif answer == "decline":
            invitation = access.decline_invitation(pk, user=request.user)
        else:
            raise Http404
    except Invitation.DoesNotExist as exc:
        raise Http404 from exc
    if answer == "decline":
        messages.info(
            request,
            _("Invitation to “%(name)s” declined.") % {"name": invitation.workspace.name},
        )
        return redirect("invitations")
    current = getattr(request, "workspace", None)
    text = _("You are now a member of “%(name)s”.") % {"name": membership.workspace.name}
    if current is not None and current.pk != membership.workspace_id:
        text += " " + _(
            "You still work in “%(current)s”: switch in the header to work in the new one."
        ) % {"current": current.name}
    messages.success(request, text)
    return redirect("invitations")
