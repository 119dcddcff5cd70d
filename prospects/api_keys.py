"""API keys: made once and shown once, kept as a SHA-256, found by it, revoked for good."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from .api_models import IDEMPOTENCY_KEPT_FOR, ApiKey, IdempotentRequest
from .models import Membership, Workspace

# A key reads "sk_" + 43 URL-safe characters (32 random bytes); the scheme names what it is
# in a leaked log or a secret scanner.
KEY_SCHEME = "sk_"
PREFIX_LENGTH = 11
# `last_used_at` is written at most this often per key: one write per request would make
# every read a write.
LAST_USED_PRECISION = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class NewApiKey:
    """A key just made: `secret` exists only here, to be shown once."""

    api_key: ApiKey
    secret: str


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def create_api_key(
    workspace: Workspace, *, name: str, role: str = Membership.Role.MEMBER, user: Any = None
) -> NewApiKey:
    """Make a key for a workspace; its secret is returned once and never stored."""
    secret = KEY_SCHEME + secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        workspace=workspace,
        name=name.strip()[:100],
        role=Membership.Role(role),
        prefix=secret[:PREFIX_LENGTH],
        key_hash=hash_key(secret),
        created_by=user if getattr(user, "pk", None) else None,
    )
    return NewApiKey(api_key=api_key, secret=secret)


def revoke_api_key(workspace: Workspace, key_id: int) -> bool:
    """Revoke a key of this workspace at once; False if it was already revoked (or not its)."""
    return bool(
        ApiKey.objects.for_workspace(workspace)
        .filter(pk=key_id, revoked_at__isnull=True)
        .update(revoked_at=timezone.now())
    )


def find_api_key(secret: str) -> ApiKey | None:
    """The active key with this secret (its workspace loaded), else None; notes its use."""
    if not secret.startswith(KEY_SCHEME) or len(secret) > 200:
        return None
    # Deliberately across workspaces: the secret is what says which workspace is asking.
    found = (
        ApiKey.objects.unscoped()
        .select_related("workspace")
        .filter(key_hash=hash_key(secret), revoked_at__isnull=True)
        .first()
    )
    if found is None:
        return None
    now = timezone.now()
    if found.last_used_at is None or now - found.last_used_at >= LAST_USED_PRECISION:
        ApiKey.objects.for_workspace(found.workspace_id).filter(pk=found.pk).update(
            last_used_at=now
        )
        found.last_used_at = now
    return found


def purge_idempotent_requests(*, now: dt.datetime | None = None) -> int:
    """Delete the Idempotency-Keys older than 24 hours; returns how many."""
    cutoff = (now or timezone.now()) - IDEMPOTENCY_KEPT_FOR
    # Deliberately across workspaces: a sweep of expired rows.
    return IdempotentRequest.objects.unscoped().filter(created_at__lte=cutoff).delete()[0]
