"""What holds calls to a provider back across every worker, in the database (the embedded
default's store): concurrency slots, per-second rate windows and circuit breakers."""

from __future__ import annotations

from django.db import models


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
