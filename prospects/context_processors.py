from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .access_models import Invitation


def _pending_invitations(request: HttpRequest) -> list:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    return list(Invitation.objects.for_invitee(user))


def workspaces(request: HttpRequest) -> dict:
    """The current workspace, the others the user may switch to, and invitations (header)."""
    return {
        "current_workspace": getattr(request, "workspace", None),
        "user_workspaces": getattr(request, "user_workspaces", []),
        "workspace_choice_required": getattr(request, "workspace_choice_required", False),
        # Read only by pages that show the header, once each.
        "pending_invitations": SimpleLazyObject(lambda: _pending_invitations(request)),
    }
