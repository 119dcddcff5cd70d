"""API keys: made once and shown once, kept as a SHA-256, found by it, revoked for good.

A key found is kept a little while in the shared cache (SOURCIER_API_KEY_CACHE_SECONDS, on when
the cache is Redis), tagged with the keys' generation: revoking a key, or changing or deleting a
workspace, gives the generation a new value once committed, so every process stops trusting
what it kept at its next request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
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
GENERATION = "api-keys:generation"


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
    revoked = bool(
        ApiKey.objects.for_workspace(workspace)
        .filter(pk=key_id, revoked_at__isnull=True)
        .update(revoked_at=timezone.now())
    )
    if revoked:
        forget_found_keys()
    return revoked


def forget_found_keys() -> None:
    """No process trusts a key it kept any more, now and once the transaction commits (a key
    read and kept meanwhile, before the commit, is the one the second time forgets)."""
    if settings.SOURCIER_API_KEY_CACHE_SECONDS:
        _new_generation()
        transaction.on_commit(_new_generation)


def _new_generation() -> None:
    cache.set(GENERATION, secrets.token_hex(8), None)


@receiver(post_save, sender=Workspace, dispatch_uid="api_keys_workspace_saved")
@receiver(post_delete, sender=Workspace, dispatch_uid="api_keys_workspace_deleted")
def _workspace_changed(sender: Any, **kwargs: Any) -> None:
    forget_found_keys()  # a kept key carries its workspace


def find_api_key(secret: str) -> ApiKey | None:
    """The active key with this secret (its workspace loaded), else None; notes its use."""
    if not secret.startswith(KEY_SCHEME) or len(secret) > 200:
        return None
    key_hash = hash_key(secret)
    kept_for = settings.SOURCIER_API_KEY_CACHE_SECONDS
    entry_key = f"api-key:{key_hash}"
    generation = found = None
    if kept_for:
        kept = cache.get_many([GENERATION, entry_key])
        generation = kept.get(GENERATION)
        if generation is None:  # never set, or lost: a new one, and nothing kept is trusted
            cache.add(GENERATION, secrets.token_hex(8), None)
        elif kept.get(entry_key, (None, None))[0] == generation:
            found = kept[entry_key][1]
    if found is None:
        # Deliberately across workspaces: the secret is what says which workspace is asking.
        found = (
            ApiKey.objects.unscoped()
            .select_related("workspace")
            .filter(key_hash=key_hash, revoked_at__isnull=True)
            .first()
        )
        if found is None:
            return None
        if generation is not None:
            cache.set(entry_key, (generation, found), kept_for)
    now = timezone.now()
    if found.last_used_at is None or now - found.last_used_at >= LAST_USED_PRECISION:
        ApiKey.objects.for_workspace(found.workspace_id).filter(pk=found.pk).update(
            last_used_at=now
        )
        found.last_used_at = now
        if generation is not None:
            cache.set(entry_key, (generation, found), kept_for)
    return found


def purge_idempotent_requests(*, now: dt.datetime | None = None) -> int:
    """Delete the Idempotency-Keys older than 24 hours; returns how many."""
    cutoff = (now or timezone.now()) - IDEMPOTENCY_KEPT_FOR
    # Deliberately across workspaces: a sweep of expired rows.
    return IdempotentRequest.objects.unscoped().filter(created_at__lte=cutoff).delete()[0]
