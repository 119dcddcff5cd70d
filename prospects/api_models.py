"""What the JSON API stores: a workspace's API keys and the responses of idempotent requests."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# From its own module: prospects.models imports this one, so that Django registers its models.
from .models.workspace import Membership
from .tenancy import TenantModel, user_reference

# How long an Idempotency-Key and its response are kept (Stripe keeps them 24 hours).
IDEMPOTENCY_KEPT_FOR = dt.timedelta(hours=24)


class ApiKey(TenantModel):
    """A key an integration sends as `Authorization: Bearer …`; only its SHA-256 is kept.

    The key is 32 random bytes: a fast hash is enough (nothing to brute-force as with a
    password) and lets each request find its key with one indexed lookup.
    """

    name = models.CharField(_("name"), max_length=100)
    role = models.CharField(
        _("role"), max_length=16, choices=Membership.Role.choices, default=Membership.Role.MEMBER
    )
    # The first characters of the key, shown in lists so that a person can tell keys apart.
    prefix = models.CharField(_("prefix"), max_length=16, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = user_reference(_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API access key")
        verbose_name_plural = _("API access keys")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotentRequest(TenantModel):
    """One `Idempotency-Key` of a workspace: the request it came with and, once answered, the
    response replayed to every retry within 24 hours."""

    key = models.CharField(max_length=255)
    # SHA-256 of the method, the path and the JSON body: the same key with another request
    # is refused rather than answered with the first one's response.
    fingerprint = models.CharField(max_length=64)
    # Who is answering it now; past `locked_until` a crashed request no longer blocks the key.
    lock_token = models.CharField(max_length=32, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(blank=True, default=b"")
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "key"], name="idempotency_unique_key"),
            models.CheckConstraint(
                condition=Q(status_code__isnull=False) | Q(locked_until__isnull=False),
                name="idempotency_answered_or_locked",
            ),
        ]

    def __str__(self) -> str:
        return self.key
