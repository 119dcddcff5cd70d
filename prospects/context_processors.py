from django.http import HttpRequest


def workspaces(request: HttpRequest) -> dict:
    """The current workspace and the others the user may switch to (admin header)."""
    return {
        "current_workspace": getattr(request, "workspace", None),
        "user_workspaces": getattr(request, "user_workspaces", []),
    }
