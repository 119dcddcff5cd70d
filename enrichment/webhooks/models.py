"""Webhook endpoints, the events they subscribe to, and one delivery row per (endpoint, event).

A delivery is a work row like an enrichment item: a status, the attempts made, when to try
next (also the lease of the worker sending it) and what the receiver last answered. Nothing is
kept in a broker message alone, so a lost message or a killed worker delays a delivery, never
loses it.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from prospects.tenancy import TenantModel, TenantQuerySet, user_reference

from .. import crypto


class EventType(models.TextChoices):
    JOB_COMPLETED = "job.completed", _("Job completed")
    JOB_PARTIALLY_COMPLETED = "job.partially_completed", _("Job partially completed")
    JOB_FAILED = "job.failed", _("Job failed")
    JOB_CANCELLED = "job.cancelled", _("Job cancelled")
    JOB_PAUSED = "job.paused", _("Job paused")
    PROSPECT_VERIFIED = "prospect.verified", _("Prospect verified")
    PROSPECT_NEEDS_REVIEW = "prospect.needs_review", _("Prospect needs review")
    DISCOVERY_CONTACT_FOUND = "discovery.contact_found", _("Contact found by discovery")
    CAMPAIGN_EXPORTED = "campaign.exported", _("Campaign send list sent to a tool")
    PROSPECTS_EXPORTED = "prospects.exported", _("Prospect selection sent to a tool")


class WebhookEndpoint(TenantModel):
    """A receiver's URL, the events it wants, and its signing secret (encrypted at rest)."""

    class DisabledReason(models.TextChoices):
        MANUAL = "manual", _("Disabled by a person")
        GONE = "gone", _("The receiver answered 410 Gone")

    url = models.CharField(_("URL"), max_length=2000)
    events = models.JSONField(_("events"), default=list)
    encrypted_secret = models.TextField(editable=False)
    # The secret before the latest rotation: it still signs, beside the new one, until then.
    encrypted_previous_secret = models.TextField(blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(
        _("previous secret signs until"), null=True, blank=True, editable=False
    )
    is_active = models.BooleanField(_("active"), default=True)
    disabled_reason = models.CharField(
        _("disabled because"), max_length=16, choices=DisabledReason.choices, blank=True
    )
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    created_by = user_reference(_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.url

    def signing_secrets(self, now: dt.datetime | None = None) -> list[str]:
        """The secrets that sign a message now: the current one, then the previous one while
        its overlap lasts."""
        secrets = [crypto.decrypt(self.encrypted_secret)]
        now = now or timezone.now()
        expires = self.previous_secret_expires_at
        if self.encrypted_previous_secret and expires is not None and expires > now:
            secrets.append(crypto.decrypt(self.encrypted_previous_secret))
        return secrets


class WebhookEvent(TenantModel):
    """Something that happened, recorded once: its key names the transition (a job reaching a
    status, a prospect's verdict from one enrichment item), unique in the workspace, so a
    replayed step records nothing new. The body is kept as sent: every attempt signs the same
    bytes under the same `webhook-id`."""

    event_id = models.CharField(_("webhook-id"), max_length=40, unique=True)
    type = models.CharField(_("event"), max_length=32, choices=EventType.choices)
    key = models.CharField(_("key"), max_length=160)
    payload = models.TextField(_("body"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "key"], name="webhook_event_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class WebhookDeliveryQuerySet(TenantQuerySet):
    def due(self, now: dt.datetime | None = None) -> WebhookDeliveryQuerySet:
        """Waiting for their next attempt, or held by a worker whose lease ran out."""
        return self.filter(
            status__in=WebhookDelivery.LIVE_STATUSES, next_attempt_at__lte=now or timezone.now()
        )


class WebhookDelivery(TenantModel):
    """One event to one endpoint: its attempts, the receiver's last answer, the next try."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENDING = "sending", _("Sending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    LIVE_STATUSES = (Status.PENDING, Status.SENDING)

    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("endpoint"),
    )
    event = models.ForeignKey(
        WebhookEvent, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("event")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # When the next attempt is due; while sending, the end of the sending worker's lease.
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    # Written by each claim: the attempt's result is recorded only under the same token.
    lease_token = models.CharField(max_length=32, blank=True, editable=False)
    last_status_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"), null=True, blank=True)
    # What went wrong with the last attempt, as a stable code (see delivery.ERRORS).
    error = models.CharField(_("error"), max_length=32, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    objects = WebhookDeliveryQuerySet.as_manager()

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event"], name="webhook_delivery_one_per_endpoint"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id}"
