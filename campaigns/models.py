"""Campaigns and their members; only verified, reachable prospects may ever become members."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from prospects.models import Prospect
from prospects.tenancy import TenantModel, TenantQuerySet, user_reference


class CampaignGateError(ValidationError):
    """A prospect that may not enter a campaign; the message is the reason shown to people."""

    def __init__(self, prospect: Prospect, reason: str) -> None:
        super().__init__(reason, code="campaign_gate")
        self.prospect = prospect
        self.reason = reason


class Campaign(TenantModel):
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    created_by = user_reference(_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "name"],
                name="campaign_unique_name",
                violation_error_message=_("A campaign with this name already exists."),
            )
        ]

    def __str__(self) -> str:
        return self.name


class CampaignMemberQuerySet(TenantQuerySet):
    def bulk_create(self, objs, *args: Any, **kwargs: Any):
        """The gate holds for bulk inserts too: every prospect is checked, in two queries."""
        from .services import check_members

        objs = list(objs)
        check_members(objs)
        return super().bulk_create(objs, *args, **kwargs)

    def update(self, **kwargs: Any) -> int:
        # Re-pointing existing rows at other prospects would skip the gate.
        if {"prospect", "prospect_id", "campaign", "campaign_id"} & set(kwargs):
            raise TypeError("Campaign members are added through the gate, not re-pointed.")
        return super().update(**kwargs)


class CampaignMember(TenantModel):
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="members", verbose_name=_("campaign")
    )
    prospect = models.ForeignKey(
        Prospect,
        on_delete=models.CASCADE,
        related_name="campaign_memberships",
        verbose_name=_("prospect"),
    )
    added_by = user_reference(_("added by"))
    added_at = models.DateTimeField(_("added at"), auto_now_add=True)

    objects = CampaignMemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("campaign member")
        verbose_name_plural = _("campaign members")
        ordering = ["-added_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "prospect"], name="campaign_member_unique_prospect"
            )
        ]

    def __str__(self) -> str:
        # Read with select_related("prospect", "campaign") wherever members are listed.
        return f"{self.prospect} — {self.campaign}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The last line of defence: whatever the path (admin, shell, a future API), a prospect
        # that is not verified, or objected, never enters a campaign.
        from .services import check_members

        check_members([self])
        super().save(*args, **kwargs)


class SequenceStep(TenantModel):
    """One message of the campaign's sequence, sent `delay_days` after the previous one."""

    class Kind(models.TextChoices):
        EMAIL = "email", _("Email")
        FOLLOW_UP = "follow_up", _("Follow-up")
        LINKEDIN = "linkedin", _("LinkedIn message")
        FINAL_EMAIL = "final_email", _("Final email")

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="steps", verbose_name=_("campaign")
    )
    position = models.PositiveSmallIntegerField(_("order"), default=1)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.EMAIL)
    delay_days = models.PositiveSmallIntegerField(
        _("delay (days)"),
        default=0,
        help_text=_("Days after the previous step (after joining the campaign for the first)."),
    )
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("message"), blank=True)

    class Meta:
        verbose_name = _("sequence step")
        verbose_name_plural = _("sequence steps")
        ordering = ["campaign", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(delay_days__lte=365), name="sequence_step_delay_at_most_a_year"
            )
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.get_kind_display()}"
