"""Enrichment work recorded in the database; Celery only delivers it (DESIGN.md section 4)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from prospects.models import Prospect
from prospects.tenancy import TenantModel, TenantQuerySet, user_reference

from .engine.outcomes import Outcome, describe


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


class ProviderLease(models.Model):
    """A held concurrency slot: slot numbers are unique, so at most N leases exist at once.

    A crashed worker never releases its lease; it simply expires and the slot comes back.
    """

    workspace_id = models.BigIntegerField()
    provider = models.CharField(max_length=32)
    slot = models.PositiveSmallIntegerField()
    token = models.CharField(max_length=32, unique=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace_id", "provider", "slot"], name="lease_unique_slot"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} slot {self.slot} (workspace {self.workspace_id})"


class ProviderRateWindow(models.Model):
    """Requests sent to a provider within one second, across every worker and host."""

    provider = models.CharField(max_length=32)
    window = models.BigIntegerField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "window"], name="rate_unique_window")
        ]

    def __str__(self) -> str:
        return f"{self.provider} @ {self.window}: {self.count}"


class ProviderBreaker(models.Model):
    """A provider's circuit breaker, shared by every worker (the embedded default's store).

    Every write is a compare-and-set on `version`, so two workers can never both take the
    half-open probe: the second one's write finds the version moved on and re-reads.
    """

    provider = models.CharField(max_length=32, unique=True)
    # Outcomes of the latest calls while closed, oldest first: "x" a failure, "." a success.
    results = models.CharField(max_length=255, blank=True)
    # Epoch seconds (the pure core's clock); null while closed.
    opened_at = models.FloatField(null=True, blank=True)
    probe_until = models.FloatField(null=True, blank=True)
    generation = models.BigIntegerField(default=0)
    # While warming up: when each call out stops counting, epoch seconds separated by spaces.
    pending = models.TextField(blank=True, default="")
    version = models.BigIntegerField(default=1)

    def __str__(self) -> str:
        return f"{self.provider} breaker (generation {self.generation})"


class CreditBudget(TenantModel):
    """A workspace's balance and daily cap; its row is the lock every ledger write takes.

    `balance` is a cache of the sum of the workspace's entries, written in the same
    transaction as each entry (tests check that the two never differ).
    """

    balance = models.DecimalField(_("balance (€)"), max_digits=14, decimal_places=4, default=0)
    daily_cap = models.DecimalField(
        _("daily spending cap (€)"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("credit budget")
        verbose_name_plural = _("credit budgets")
        constraints = [
            models.UniqueConstraint(fields=["workspace"], name="credit_budget_one_per_workspace")
        ]

    def __str__(self) -> str:
        return f"{self.balance} €"


class CreditEntry(TenantModel):
    """One line of the append-only credit ledger: never updated, never deleted."""

    class Kind(models.TextChoices):
        TOP_UP = "top_up", _("Top-up")
        RESERVE = "reserve", _("Reservation")
        SETTLE = "settle", _("Settlement")
        RELEASE = "release", _("Release")
        ADJUST = "adjust", _("Adjustment")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    # Signed euros: a top-up or a refund adds, a reservation or an extra charge takes away.
    amount = models.DecimalField(_("amount (€)"), max_digits=14, decimal_places=4)
    provider = models.CharField(_("provider"), max_length=32, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=255)
    # What the request said (amount, provider, cost): a replay must say the same.
    fingerprint = models.CharField(max_length=64, editable=False)
    # The Paris day the spending counts against: a settlement or release keeps the day of its
    # reservation, so a call that straddles midnight is counted once, on the day it was made.
    day = models.DateField(_("day"))
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("credit entry")
        verbose_name_plural = _("credit entries")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "day"]), models.Index(fields=["day"])]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "idempotency_key", "kind"], name="credit_entry_unique_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} €"


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


class CostDashboard(CreditEntry):
    """The admin's cost dashboard: the ledger read per day and provider (no rows of its own)."""

    class Meta:
        proxy = True
        verbose_name = _("costs")
        verbose_name_plural = _("costs")
        default_permissions = ("view",)


# Discovery jobs, discovered contacts, webhook endpoints, events and deliveries live in their
# own modules.
from .discovery_jobs import DiscoveryJob  # noqa: E402, F401
from .discovery_models import (  # noqa: E402, F401
    DiscoveredContact,
    EmailProbe,
    MailDomain,
    ProbeBudget,
    ProbingPause,
)
from .webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent  # noqa: E402, F401
