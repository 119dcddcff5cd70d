"""Enrichment work recorded in the database; Celery only delivers it (DESIGN.md section 4).

Jobs (what someone asked for), items (one prospect, one pipeline), provider batches (one
asynchronous request) and attempts (one provider asked once about one item)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from prospects.models import Prospect
from prospects.tenancy import TenantModel, TenantQuerySet, user_reference

from ..engine.outcomes import Outcome, describe


class OutcomeFields(models.Model):
    """What last happened, as a stable code (and its detail, e.g. an HTTP status)."""

    outcome = models.CharField(
        _("outcome"), max_length=32, choices=Outcome.choices, default="", blank=True
    )
    outcome_detail = models.CharField(_("outcome detail"), max_length=255, blank=True)
    # The vendor the outcome is about, when the row's own provider is a pipeline (a waterfall).
    outcome_provider = models.CharField(_("outcome provider"), max_length=32, blank=True)

    class Meta:
        abstract = True

    @property
    def last_error(self) -> str:
        """The outcome in French, for people (the code is for the API and webhooks)."""
        provider = self.outcome_provider or self.provider
        return describe(self.outcome, provider=provider, detail=self.outcome_detail)


class EnrichmentJob(TenantModel):
    """A bulk request someone made (a backfill, a manual re-enrichment)."""

    class Kind(models.TextChoices):
        DROPCONTACT = "dropcontact", _("Dropcontact")
        EMAIL = "email", _("Email waterfall")
        COMPANY = "company", _("Company waterfall")
        WATERFALL = "waterfall", _("Email and company waterfalls")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        PAUSED = "paused", _("Paused")
        COMPLETED = "completed", _("Completed")
        PARTIALLY_COMPLETED = "partially_completed", _("Partially completed")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=24, choices=Status.choices, default=Status.PENDING
    )
    total_items = models.PositiveIntegerField(_("items"), default=0)
    done_items = models.PositiveIntegerField(_("done"), default=0)
    failed_items = models.PositiveIntegerField(_("failed"), default=0)
    # Euros, to the ledger's precision (vendors price a call in tenths of a cent).
    estimated_credits = models.DecimalField(
        _("estimated cost (€)"), max_digits=14, decimal_places=4, default=0
    )
    spent_credits = models.DecimalField(_("spent (€)"), max_digits=14, decimal_places=4, default=0)
    # The providers asked, in order (a waterfall job); empty for Dropcontact.
    providers = models.JSONField(_("providers"), default=list, blank=True)
    # Why the job is paused (an outcome code) and when it resumes by itself.
    pause_reason = models.CharField(_("pause reason"), max_length=32, blank=True)
    paused_until = models.DateTimeField(_("paused until"), null=True, blank=True)
    created_by = user_reference(_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("enrichment job")
        verbose_name_plural = _("enrichment jobs")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class ProviderBatch(TenantModel, OutcomeFields):
    """One asynchronous provider request and its polling (Dropcontact `POST /v1/enrich/all`;
    any submit-then-poll API has the same shape): the work row of its steps."""

    class Status(models.TextChoices):
        SENDING = "sending", _("Sending")
        POLLING = "polling", _("Waiting for results")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    LIVE_STATUSES = (Status.SENDING, Status.POLLING)

    provider = models.CharField(_("provider"), max_length=32, default="dropcontact")
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.SENDING
    )
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    size = models.PositiveIntegerField(_("records"), default=0)
    polls = models.PositiveIntegerField(_("polls"), default=0)
    # Due time of the next step (send or poll); also the lease of whoever is doing it now.
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    # Written by each claim of a step: every later write of the batch is conditional on it, so
    # a worker that outlived its lease cannot overwrite what its successor wrote.
    lease_token = models.CharField(max_length=32, blank=True, editable=False)
    poll_deadline = models.DateTimeField(_("poll deadline"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("provider batch")
        verbose_name_plural = _("provider batches")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return self.request_id or f"#{self.pk}"


class EnrichmentItemQuerySet(TenantQuerySet):
    def active(self) -> EnrichmentItemQuerySet:
        return self.filter(status__in=EnrichmentItem.ACTIVE_STATUSES)

    def due(self, now=None) -> EnrichmentItemQuerySet:
        return self.filter(
            status=EnrichmentItem.Status.PENDING, next_attempt_at__lte=now or timezone.now()
        )


class EnrichmentItem(TenantModel, OutcomeFields):
    """One prospect to enrich with one provider: status, attempts and when to try next."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Queued")
        WAITING_KEY = "waiting_key", _("API key missing")
        SUBMITTED = "submitted", _("In flight")
        DONE = "done", _("Done")
        NEEDS_REVIEW = "needs_review", _("Needs review")
        CANCELLED = "cancelled", _("Cancelled")

    ACTIVE_STATUSES = (Status.PENDING, Status.WAITING_KEY, Status.SUBMITTED)

    job = models.ForeignKey(
        EnrichmentJob,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="items",
        verbose_name=_("job"),
    )
    prospect = models.ForeignKey(
        Prospect,
        on_delete=models.CASCADE,
        related_name="enrichment_items",
        verbose_name=_("prospect"),
    )
    provider = models.CharField(_("provider"), max_length=32)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("failed attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    batch = models.ForeignKey(
        ProviderBatch,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="items",
        verbose_name=_("batch"),
    )
    request_id = models.CharField(_("provider request id"), max_length=64, blank=True)
    # Written by each claim of an item worked on alone (a waterfall): every later write of the
    # item is conditional on it, as for batches.
    lease_token = models.CharField(max_length=32, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # When the item was first handed to workers (a waterfall's dispatch, which puts its
    # prospect *En cours* at the same time); empty while it waits to be.
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    # When a message last asked a worker to run it: a dispatch sends it again only once it was
    # put back in the queue since (deferred, retried, its worker's lease ran out) or that
    # message looks lost (SOURCIER_REDISPATCH_SECONDS).
    dispatched_at = models.DateTimeField(null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = EnrichmentItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("enrichment item")
        verbose_name_plural = _("enrichment items")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "status", "next_attempt_at"])]
        constraints = [
            # Never two live items for the same prospect and provider.
            models.UniqueConstraint(
                fields=["prospect", "provider"],
                condition=Q(status__in=["pending", "waiting_key", "submitted"]),
                name="item_one_active_per_prospect",
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} · {self.prospect_id}"


def attempt_key(item: EnrichmentItem, field: str, provider: str) -> str:
    """`{job}:{item}:{field}:{provider}`: one provider asked once about one item in one job."""
    return f"{item.job_id or 'auto'}:{item.pk}:{field}:{provider}"


class ProviderAttempt(TenantModel):
    """One provider asked about one item for one field within a job.

    Its idempotency key is unique in the database, so a replayed step (a redelivered task, a
    worker that outlived its lease) finds the attempt already there instead of paying twice.
    """

    item = models.ForeignKey(
        EnrichmentItem,
        on_delete=models.CASCADE,
        related_name="attempts_made",
        verbose_name=_("item"),
    )
    provider = models.CharField(_("provider"), max_length=32)
    field = models.CharField(_("field"), max_length=32)
    idempotency_key = models.CharField(_("idempotency key"), max_length=128, unique=True)
    batch = models.ForeignKey(
        ProviderBatch,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attempts",
        verbose_name=_("batch"),
    )
    call = models.ForeignKey(
        "ProviderCall",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attempts",
        verbose_name=_("provider call"),
    )
    # found / not_found, or the kind of failure (an ErrorKind value): codes, not sentences.
    result = models.CharField(_("result"), max_length=32, blank=True)
    # What was found, kept so that a replayed step applies it without buying it again.
    value = models.TextField(_("value"), blank=True)
    verified = models.BooleanField(_("verified"), default=False)
    signal = models.PositiveSmallIntegerField(_("provider's confidence"), default=0)
    detail = models.CharField(_("detail"), max_length=64, blank=True)
    # Answered from the cache: nothing was bought for it.
    from_cache = models.BooleanField(_("from the cache"), default=False)
    cost = models.DecimalField(_("cost"), max_digits=12, decimal_places=4, default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("provider attempt")
        verbose_name_plural = _("provider attempts")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.idempotency_key
