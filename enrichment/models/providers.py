"""What is kept about providers: a workspace's keys, every call made, and the answers that
may be reused instead of bought again."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from prospects.tenancy import TenantModel, user_reference


class ProviderCredential(TenantModel):
    """A workspace's API key for one provider, encrypted at rest (MultiFernet)."""

    provider = models.CharField(_("provider"), max_length=32)
    encrypted_key = models.TextField(editable=False)
    last4 = models.CharField(_("key ending"), max_length=4, editable=False)
    # Set when the provider refused this key: items wait for a new key instead of retrying it.
    refused_at = models.DateTimeField(_("refused by the provider at"), null=True, blank=True)
    updated_by = user_reference(_("updated by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "provider"], name="credential_unique_provider"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} ••••{self.last4}"


class ProviderCall(TenantModel):
    """Every HTTP call to a provider: what, how long, what it cost, a redacted answer."""

    provider = models.CharField(_("provider"), max_length=32)
    endpoint = models.CharField(_("endpoint"), max_length=255)
    method = models.CharField(_("method"), max_length=8)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=32)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"), default=0)
    cost = models.DecimalField(_("cost (€)"), max_digits=12, decimal_places=4, default=0)
    records = models.PositiveIntegerField(_("records"), default=0)
    error = models.TextField(_("error"), blank=True)
    response_excerpt = models.TextField(_("response (redacted)"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("provider call")
        verbose_name_plural = _("provider calls")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.method} {self.endpoint} → {self.status_code or self.outcome}"


class CachedAnswer(TenantModel):
    """What a vendor answered about one person or company, reused instead of bought again.

    Misses are kept too: asking again within the period would pay for the same "no match".
    """

    provider = models.CharField(_("provider"), max_length=32)
    field = models.CharField(_("field"), max_length=32)
    # SHA-256 of the normalised question (names, domain, company, LinkedIn URL).
    fingerprint = models.CharField(max_length=64)
    result = models.CharField(_("result"), max_length=32)
    value = models.TextField(_("value"), blank=True)
    verified = models.BooleanField(_("verified"), default=False)
    signal = models.PositiveSmallIntegerField(_("provider's confidence"), default=0)
    detail = models.CharField(_("detail"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), db_index=True)

    class Meta:
        verbose_name = _("cached answer")
        verbose_name_plural = _("cached answers")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "provider", "field", "fingerprint"],
                name="cached_answer_unique_question",
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.field} {self.fingerprint[:8]}"
