"""People found by in-house discovery, kept apart from prospects until a person approves them.

A discovered contact is a name at a company (from its website, a provider's people search, or
typed by hand) with the best work address found for it and how sure we are. Nothing here is a
prospect: approval creates (or links) the prospect, with its provenance. Contacts that nobody
approved are purged after `SOURCIER_DISCOVERY_RETENTION_DAYS` (30)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from prospects.models import Company, Prospect
from prospects.tenancy import TenantModel, user_reference


class DiscoveredContact(TenantModel):
    class Status(models.TextChoices):
        PENDING = "pending", _("To review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    class Method(models.TextChoices):
        WEBSITE = "website", _("Company website")
        PROVIDER = "provider", _("Provider people search")
        MANUAL = "manual", _("Manual entry")

    class EmailStatus(models.TextChoices):
        NONE = "", _("Not checked")
        VERIFIED = "verified", _("Verified")
        RISKY = "risky", _("Risky")
        UNKNOWN = "unknown", _("Unknown")
        INVALID = "invalid", _("Invalid")

    class LawfulBasis(models.TextChoices):
        LEGITIMATE_INTEREST = "legitimate_interest", _("Legitimate interest (B2B prospecting)")

    company = models.ForeignKey(
        Company,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("company"),
    )
    domain = models.CharField(_("domain"), max_length=255)
    first_name = models.CharField(_("first name"), max_length=150)
    last_name = models.CharField(_("last name"), max_length=150)
    job_title = models.CharField(_("job title"), max_length=255, blank=True)
    # Folded first name, last name and domain: one contact per person and domain.
    person_key = models.CharField(max_length=600, editable=False)
    method = models.CharField(_("method"), max_length=16, choices=Method.choices)
    source = models.CharField(_("source"), max_length=500, blank=True)
    confidence = models.PositiveSmallIntegerField(_("confidence in the person"), default=50)
    email = models.EmailField(_("best email"), max_length=254, blank=True)
    email_status = models.CharField(
        _("email status"), max_length=16, choices=EmailStatus.choices, blank=True
    )
    email_score = models.PositiveSmallIntegerField(_("email score"), null=True, blank=True)
    email_reason = models.CharField(_("reason"), max_length=255, blank=True)
    catch_all = models.BooleanField(_("catch-all domain"), null=True, blank=True)
    evidence = models.CharField(_("evidence"), max_length=255, blank=True)
    patterns_tried = models.JSONField(_("patterns tried"), default=list, blank=True)
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    decision_note = models.CharField(_("decision note"), max_length=255, blank=True)
    decided_by = user_reference(_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    prospect = models.ForeignKey(
        Prospect,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("prospect"),
    )
    lawful_basis = models.CharField(
        _("lawful basis"),
        max_length=32,
        choices=LawfulBasis.choices,
        default=LawfulBasis.LEGITIMATE_INTEREST,
    )
    created_by = user_reference(_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("discovered contact")
        verbose_name_plural = _("discovered contacts")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "person_key"], name="discovered_contact_unique_person"
            )
        ]
        indexes = [models.Index(fields=["workspace", "status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} ({self.domain})"

    @property
    def score_class(self) -> str:
        """green ≥ 80, amber 50–79, red below (the badge's colour)."""
        if self.email_score is None:
            return "none"
        if self.email_score >= 80:
            return "green"
        return "amber" if self.email_score >= 50 else "red"
