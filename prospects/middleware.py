"""Sets `request.workspace`: the workspace the user chose, among those they belong to.

The choice is the one made in this session, else the one remembered for the person; a member of
a single workspace works in it. A member of several who has not chosen is sent to the choice page
before any page that could read or write a workspace: never a silent default.
"""

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from .access import remembered_workspace_id, user_workspaces
from .models import Workspace

# This session's copy of the remembered choice. (The former "workspace_id" key could hold a
# workspace picked silently by name order; it is deliberately no longer read.)
SESSION_KEY = "current_workspace_id"
# Forms that write into a workspace carry the id of the one they named (see
# templates/admin/_workspace_guard.html): a switch made meanwhile in another tab refuses them.
EXPECTED_FIELD = "expected_workspace"
# Pages that stay reachable before a workspace is chosen: choosing it, answering invitations,
# and the account's own pages.
NO_WORKSPACE_VIEWS = frozenset(
    {
        "choose-workspace",
        "switch-workspace",
        "invitations",
        "invitation-answer",
        "login",
        "admin:login",
        "admin:logout",
        "admin:password_change",
        "admin:password_change_done",
        "admin:jsi18n",
    }
)


def _resolve(request: HttpRequest, user: Any, allowed: list[Workspace]) -> tuple[Any, bool]:
    """(current workspace or None, whether the person must choose one first)."""
    by_id = {ws.pk: ws for ws in allowed}
    chosen = request.session.get(SESSION_KEY)
    if chosen in by_id:
        return by_id[chosen], False
    if len(allowed) == 1 and not user.is_superuser:
        # Their only workspace, whatever they chose before: no need to read the choice.
        return allowed[0], False
    remembered = remembered_workspace_id(user)
    if remembered in by_id:
        request.session[SESSION_KEY] = remembered
        return by_id[remembered], False
    if user.is_superuser:
        return None, False  # superusers without a choice see every workspace
    return None, len(allowed) > 1


class WorkspaceMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.workspace = None
        request.user_workspaces = []
        request.workspace_choice_required = False
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            allowed = user_workspaces(user)
            request.user_workspaces = allowed
            request.workspace, request.workspace_choice_required = _resolve(request, user, allowed)
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        match = request.resolver_match
        name = match.view_name if match else ""
        if getattr(request, "workspace_choice_required", False) and name not in NO_WORKSPACE_VIEWS:
            url = reverse("choose-workspace")
            htmx = bool(getattr(request, "htmx", False))
            if request.method == "GET" and not htmx:
                url += "?" + urlencode({"next": request.get_full_path()})
            return HttpResponseClientRedirect(url) if htmx else redirect(url)
        if request.method == "POST" and EXPECTED_FIELD in request.POST:
            return self._refuse_if_switched(request)
        return None

    def _refuse_if_switched(self, request: HttpRequest) -> HttpResponse | None:
        current = getattr(request, "workspace", None)
        if request.POST[EXPECTED_FIELD] == str(current.pk if current else ""):
            return None
        if current is None:
            text = _("Choose a workspace before doing this.")
        else:
            text = _(
                "The current workspace changed since this page was shown: it is now "
                "“%(name)s”. Nothing was done; check and start again."
            ) % {"name": current.name}
        messages.error(request, text)
        return redirect(request.get_full_path())
