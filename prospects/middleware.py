"""Sets `request.workspace`: the workspace the user chose, among those they belong to."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .models import Workspace

SESSION_KEY = "workspace_id"


def user_workspaces(user) -> list[Workspace]:
    if not user.is_authenticated:
        return []
    if user.is_superuser:
        return list(Workspace.objects.all())
    return list(Workspace.objects.filter(memberships__user=user))


class WorkspaceMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.workspace = None
        request.user_workspaces = []
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            allowed = user_workspaces(user)
            request.user_workspaces = allowed
            chosen = request.session.get(SESSION_KEY)
            by_id = {ws.pk: ws for ws in allowed}
            if chosen in by_id:
                request.workspace = by_id[chosen]
            elif allowed and not user.is_superuser:
                # Members always act inside one of their workspaces; superusers may see all.
                request.workspace = allowed[0]
        return self.get_response(request)
