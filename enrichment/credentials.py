"""Per-workspace provider API keys: stored encrypted, shown as their last 4, rotatable.

A decrypted key only ever leaves this module as the return value of `get_api_key`, for the
request that needs it: never in a log line, an exception message, a page or an export.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from prospects.models import Workspace

from . import crypto
from .models import ProviderCredential
from .providers.registry import PROVIDERS

log = logging.getLogger(__name__)

MASK = "••••"


class UnknownProvider(ValueError):
    """A provider slug the registry does not know."""

    def __init__(self, slug: str) -> None:
        super().__init__(
            _("Unknown provider “%(slug)s”. Valid providers: %(valid)s.")
            % {"slug": slug, "valid": ", ".join(sorted(set(PROVIDERS) - KEYLESS))}
        )


def masked(last4: str) -> str:
    """How a key is shown anywhere: a mask and its last 4 characters."""
    return f"{MASK}{last4}"


def check_provider(slug: str) -> str:
    """The slug if the registry knows it, else UnknownProvider listing the valid ones."""
    if slug not in PROVIDERS or slug in KEYLESS:
        raise UnknownProvider(slug)
    return slug


# Steps that need no key: in-house discovery asks DNS and mail hosts itself.
KEYLESS = frozenset({"discovery"})


def get_api_key(workspace_id: int, provider: str) -> str | None:
    """The usable decrypted key of a workspace for a provider, or None. Never log the result.

    None too when the provider refused the key, or when no configured Fernet key opens it
    (a key rotated away too early): the items then wait, visibly, for a key to be saved.
    """
    credential = (
        ProviderCredential.objects.for_workspace(workspace_id)
        .filter(provider=provider, refused_at__isnull=True)
        .first()
    )
    return None if credential is None else _decrypted(credential)


def _decrypted(credential: ProviderCredential) -> str | None:
    try:
        return crypto.decrypt(credential.encrypted_key)
    except ValueError:
        log.error(
            "workspace %s: the %s API key cannot be decrypted",
            credential.workspace_id,
            credential.provider,
        )
        return None


class KeyRing:
    """The usable keys of one workspace, read in one query when the first is asked for and
    decrypted one by one as they are used (one waterfall step asks several providers)."""

    def __init__(self, workspace_id: int) -> None:
        self.workspace_id = workspace_id
        self._stored: dict[str, ProviderCredential] | None = None

    def get(self, provider: str) -> str | None:
        if self._stored is None:
            self._stored = {
                credential.provider: credential
                for credential in ProviderCredential.objects.for_workspace(
                    self.workspace_id
                ).filter(refused_at__isnull=True)
            }
        credential = self._stored.get(provider)
        return None if credential is None else _decrypted(credential)

    def forget(self, provider: str) -> None:
        """The vendor refused the key: it is not handed out again."""
        if self._stored is not None:
            self._stored.pop(provider, None)


def probing_configured() -> bool:
    """In-house discovery can run: SMTP probing has a HELO name and a sender of our own."""
    from .discovery.smtp import ProbeConfigError, ProbeIdentity

    try:
        ProbeIdentity.from_settings()
    except ProbeConfigError:
        return False
    return True


def has_usable_key(workspace_id: int, provider: str) -> bool:
    """Whether the provider can be asked for this workspace (a keyless one always can)."""
    if provider in KEYLESS:
        return probing_configured()
    return (
        ProviderCredential.objects.for_workspace(workspace_id)
        .filter(provider=provider, refused_at__isnull=True)
        .exists()
    )


def usable_keys(workspace_id: int, providers: Iterable[str]) -> set[str]:
    """Which of these providers can be asked for this workspace, in one query."""
    providers = set(providers)
    usable = {p for p in providers if p in KEYLESS and probing_configured()}
    keyed = providers - KEYLESS
    if keyed:
        usable |= set(
            ProviderCredential.objects.for_workspace(workspace_id)
            .filter(provider__in=sorted(keyed), refused_at__isnull=True)
            .values_list("provider", flat=True)
        )
    return usable


def waiting_outcome(workspace_id: int, provider: str) -> str:
    """What the items of a workspace without a usable key are waiting for (an outcome code)."""
    from .engine.outcomes import Outcome

    refused = (
        ProviderCredential.objects.for_workspace(workspace_id)
        .filter(provider=provider, refused_at__isnull=False)
        .exists()
    )
    return Outcome.KEY_REFUSED if refused else Outcome.KEY_MISSING


def mark_key_refused(workspace_id: int, provider: str) -> None:
    ProviderCredential.objects.for_workspace(workspace_id).filter(provider=provider).update(
        refused_at=timezone.now()
    )


def set_api_key(
    workspace: Workspace, provider: str, secret: str, *, user: Any = None
) -> ProviderCredential:
    """Store (encrypted) a workspace's key and release the items that were waiting for it."""
    check_provider(provider)
    secret = secret.strip()
    if not secret:
        raise ValueError(_("The API key is empty."))
    credential, _created = ProviderCredential.objects.for_workspace(workspace).update_or_create(
        workspace=workspace,
        provider=provider,
        defaults={
            "encrypted_key": crypto.encrypt(secret),
            "last4": secret[-4:],
            "refused_at": None,
            "updated_by": user if getattr(user, "pk", None) else None,
        },
    )
    # Queueing lives in services, which imports this module: import it when needed.
    from . import services

    services.release_waiting_items(workspace.pk, provider)
    return credential


# --- Rotation ----------------------------------------------------------------------------


@dataclass
class Rotation:
    rotated: int = 0
    current: int = 0
    unreadable: int = 0

    @property
    def total(self) -> int:
        return self.rotated + self.current + self.unreadable


def rotate_keys(
    *, batch_size: int = 100, progress: Callable[[int], None] | None = None
) -> Rotation:
    """Re-encrypt every stored key with the newest Fernet key; safe to stop and re-run.

    Rows go in primary-key order, one short transaction per batch; each row is rewritten only
    if its token is still the one read (a key saved meanwhile is already on the newest key),
    and a re-run skips rows the newest key alone opens. Nothing else is recorded, so a crash
    leaves every row either as it was or rotated.
    """
    if batch_size < 1:
        raise ValueError(_("The batch size must be at least 1."))
    result = Rotation()
    last_pk = 0
    while True:
        rows = list(
            ProviderCredential.objects.unscoped()
            .filter(pk__gt=last_pk)
            .order_by("pk")
            .values_list("pk", "workspace_id", "provider", "encrypted_key")[:batch_size]
        )
        if not rows:
            return result
        with transaction.atomic():
            for pk, workspace_id, provider, token in rows:
                _rotate_row(result, pk, workspace_id, provider, token)
        last_pk = rows[-1][0]
        if progress is not None:
            progress(len(rows))


def _rotate_row(result: Rotation, pk: int, workspace_id: int, provider: str, token: str) -> None:
    if crypto.is_current(token):
        result.current += 1
        return
    try:
        fresh = crypto.rotate(token)
    except ValueError:
        # Opened by no configured key: left as it is, and its items wait for a new key.
        log.error("workspace %s: the %s API key cannot be decrypted", workspace_id, provider)
        result.unreadable += 1
        return
    if (
        ProviderCredential.objects.unscoped()
        .filter(pk=pk, encrypted_key=token)
        .update(encrypted_key=fresh)
    ):
        result.rotated += 1
    else:
        result.current += 1  # saved again meanwhile, hence with the newest key
