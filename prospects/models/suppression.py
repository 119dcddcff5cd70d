"""The objection list: people who objected, kept only as keyed hashes."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from ..tenancy import TenantModel, user_reference


class SuppressionEntry(TenantModel):
    """A person who objected: only a keyed hash of the normalised email or phone is kept."""

    class Kind(models.TextChoices):
        EMAIL = "email", _("Email")
        PHONE = "phone", _("Phone")

    class Reason(models.TextChoices):
        OBJECTION = "objection", _("Objection (GDPR article 21)")
        DO_NOT_CONTACT = "do_not_contact", _("Do not contact")
        PROVIDER = "provider", _("Reported by a provider")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    key_hash = models.CharField(max_length=64, editable=False)
    reason = models.CharField(
        _("reason"), max_length=16, choices=Reason.choices, default=Reason.OBJECTION
    )
    blocked_attempts = models.PositiveIntegerField(_("blocked attempts"), default=0)
    last_blocked_at = models.DateTimeField(_("last blocked attempt"), null=True, blank=True)
    created_by = user_reference(_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("objection list entry")
        verbose_name_plural = _("objection list entries")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "kind", "key_hash"], name="suppression_unique_hash"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"
