"""A discovery of one company's domain asked through the API: a work row, so that a lost task
message or a dead worker never loses it (the sweeper hands it to a worker again)."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from prospects.api_models import ApiKey
from prospects.tenancy import TenantModel, TenantQuerySet, user_reference


class DiscoveryJobQuerySet(TenantQuerySet):
    def due(self, now: dt.datetime | None = None) -> DiscoveryJobQuerySet:
        """Waiting for a worker, or held by a worker whose lease ran out."""
        return self.filter(
            status__in=DiscoveryJob.LIVE_STATUSES, next_attempt_at__lte=now or timezone.now()
        )


class DiscoveryJob(TenantModel):
    """Read a company's site, add the people it names to the approval queue and check each
    one's address. The counters are the run's; `error_code` says why a job failed, or why a
    completed one stopped early (a quota)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed")

    LIVE_STATUSES = (Status.PENDING, Status.RUNNING)

    domain = models.CharField(_("domain"), max_length=253)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    requested_by = user_reference(_("requested by"))
    api_key = models.ForeignKey(
        ApiKey,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("API access key"),
    )
    pages = models.PositiveIntegerField(_("pages read"), default=0)
    people = models.PositiveIntegerField(_("people named"), default=0)
    # People gone through so far (the progress of a running job), and addresses checked.
    done = models.PositiveIntegerField(_("people done"), default=0)
    checked = models.PositiveIntegerField(_("addresses checked"), default=0)
    added = models.PositiveIntegerField(_("new contacts"), default=0)
    objected = models.PositiveIntegerField(_("left out (objection list)"), default=0)
    # The vendors' people searches asked too (AI Ark, Apollo: paid), the people only they
    # named, and what they cost.
    people_search = models.BooleanField(_("people search"), default=False)
    provider_people = models.PositiveIntegerField(_("named by the people search"), default=0)
    cost = models.DecimalField(_("cost"), max_digits=10, decimal_places=4, default=0)
    # Every contact the run named (new or already known), for the contacts' `job` filter.
    contact_ids = models.JSONField(default=list, blank=True, editable=False)
    error_code = models.CharField(_("error"), max_length=40, blank=True)
    # What held the run back without failing it (a slow page, probing paused, a people
    # search without a key): codes, or a people search's own sentence.
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # When a worker may take the job; while running, the end of the running worker's lease.
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    lease_token = models.CharField(max_length=32, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = DiscoveryJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("discovery job")
        verbose_name_plural = _("discovery jobs")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="discovery_job_due"),
            models.Index(fields=["workspace", "-created_at"], name="discovery_job_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.domain} ({self.get_status_display()})"
