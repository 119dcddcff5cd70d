"""Who is asking: an API key (`Authorization: Bearer …`) or a logged-in person's session (the
UI's own calls, CSRF checked), and the workspace and role that follow from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from prospects.api_keys import find_api_key
from prospects.models import ApiKey, Membership, Workspace

from .errors import ApiError

_UNSET = object()


@dataclass(frozen=True)
class Principal:
    workspace: Workspace
    role: str
    api_key: ApiKey | None = None
    user: Any = None

    @property
    def is_admin(self) -> bool:
        return self.role == Membership.Role.ADMIN

    @property
    def rate_key(self) -> str:
        """What the per-key rate limit counts by."""
        return f"key:{self.api_key.pk}" if self.api_key else f"user:{self.user.pk}"


def bearer_token(request: HttpRequest) -> str | None:
    """The token of an `Authorization: Bearer` header, '' for any other Authorization header,
    None without one."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _session_principal(request: HttpRequest) -> Principal | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    workspace = getattr(request, "workspace", None)
    if workspace is None:
        raise ApiError(403, "workspace_required")
    role = (
        Membership.Role.ADMIN
        if user.is_superuser
        else (
            Membership.objects.filter(user=user, workspace=workspace)
            .values_list("role", flat=True)
            .first()
        )
    )
    if role is None:
        return None
    return Principal(workspace=workspace, role=role, user=user)


def resolve_principal(request: HttpRequest) -> Principal | None:
    """The key's or the session's principal, once per request. A request that sends an
    Authorization header is judged by it alone: a bad key never falls back on a session."""
    cached = getattr(request, "_api_principal", _UNSET)
    if cached is not _UNSET:
        return cached
    token = bearer_token(request)
    principal = None
    if token:
        api_key = find_api_key(token)
        if api_key is not None:
            principal = Principal(workspace=api_key.workspace, role=api_key.role, api_key=api_key)
    elif token is None:
        principal = _session_principal(request)
    request._api_principal = principal
    return principal


def principal(request: HttpRequest) -> Principal:
    """The principal of an authenticated request (set by the API's auth)."""
    return request.auth


def workspace_of(request: HttpRequest) -> Workspace:
    return request.auth.workspace


def require_admin(request: HttpRequest) -> None:
    if not request.auth.is_admin:
        raise ApiError(403, "forbidden")


class ApiKeyAuth(HttpBearer):
    """`Authorization: Bearer sk_…`, a workspace's API key."""

    def __call__(self, request: HttpRequest) -> Principal | None:
        if not bearer_token(request):
            return None
        return resolve_principal(request)

    def authenticate(self, request: HttpRequest, token: str) -> Principal | None:
        return resolve_principal(request)


class SessionAuth(APIKeyCookie):
    """The admin's session, for the UI's own calls; unsafe methods need the CSRF token."""

    param_name = settings.SESSION_COOKIE_NAME

    def __call__(self, request: HttpRequest) -> Principal | None:
        if bearer_token(request) is not None:
            return None
        found = resolve_principal(request)
        if found is None:
            return None
        if check_csrf(request) is not None:
            raise ApiError(403, "csrf_failed")
        return found

    def authenticate(self, request: HttpRequest, key: str | None) -> Principal | None:
        return resolve_principal(request)
