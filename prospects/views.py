from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from .access import remember_workspace
from .login_limits import login_username_key
from .middleware import SESSION_KEY


def ratelimited(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Answer for any rate-limited view (RATELIMIT_VIEW)."""
    return HttpResponse(
        _("Too many attempts. Please wait a minute and try again."),
        status=429,
        content_type="text/plain; charset=utf-8",
    )


def login_rate(group: str, request: HttpRequest) -> str:
    """SOURCIER_LOGIN_RATE, read at each attempt."""
    return settings.SOURCIER_LOGIN_RATE


# Both limits apply: one client guessing many accounts, many clients guessing one account.
# "ip" is the client address as prospects.login_limits reads it (RATELIMIT_IP_META_KEY).
login = ratelimit(group="login-ip", key="ip", rate=login_rate, method="POST")(
    ratelimit(group="login-username", key=login_username_key, rate=login_rate, method="POST")(
        admin.site.login
    )
)


@require_POST
@login_required
def switch_workspace(request: HttpRequest) -> HttpResponse:
    """Make another of the user's workspaces the current one."""
    target = request.POST.get("workspace", "")
    allowed = {str(ws.pk): ws for ws in request.user_workspaces}
    if target == "" and request.user.is_superuser:
        request.session.pop(SESSION_KEY, None)
        remember_workspace(request.user, None)
        messages.info(request, _("You now see every workspace."))
    elif target in allowed:
        request.session[SESSION_KEY] = allowed[target].pk
        remember_workspace(request.user, allowed[target])
        messages.info(request, _("Current workspace: %(name)s") % {"name": allowed[target].name})
    else:
        messages.error(request, _("You are not a member of that workspace."))
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/admin/"
    return redirect(next_url)
