"""The credit ledger: a workspace's balance and daily cap, its append-only entries, and the
cost dashboard that reads them."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from prospects.tenancy import TenantModel


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


class CostDashboard(CreditEntry):
    """The admin's cost dashboard: the ledger read per day and provider (no rows of its own)."""

    class Meta:
        proxy = True
        verbose_name = _("costs")
        verbose_name_plural = _("costs")
        default_permissions = ("view",)
