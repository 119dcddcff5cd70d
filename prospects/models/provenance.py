"""Field provenance: every value observed for a prospect's or a company's field, and its source."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..tenancy import TenantModel
from .company import Company
from .prospect import Prospect
from .sources import Source
from .workspace import Workspace


class FieldProvenance(TenantModel):
    """One observed value of one field, with where it came from; the stored one is `is_current`."""

    # Read by prospect or by company (the indexes below lead with them), never by workspace
    # alone: an import writes four or five of these rows per prospect, and pays for every
    # index entry. For the same reason the workspace, the prospect and the company are not
    # foreign keys in the database: PostgreSQL checks each one per row with a trigger at
    # commit, which halved the import's speed (benchmarks/import_prospects.py); the company's
    # trigger ran for every prospect's row too, only to find it empty (a fifth of what
    # writing an import's provenance cost the server). Only the ORM writes these rows, from
    # prospects and companies it has just written or read, and the ORM cascades deletions
    # (Collector; a merge moves the rows first), so no row outlives its subject or workspace.
    workspace = models.ForeignKey(
        Workspace,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("workspace"),
        db_index=False,
        db_constraint=False,
    )
    prospect = models.ForeignKey(
        Prospect,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="provenance",
        db_index=False,
        db_constraint=False,
    )
    company = models.ForeignKey(
        Company,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="provenance",
        db_index=False,
        db_constraint=False,
    )
    field = models.CharField(_("field"), max_length=64)
    value = models.TextField(_("value"), blank=True)
    source = models.CharField(_("source"), max_length=32, choices=Source.choices)
    confidence = models.PositiveSmallIntegerField(_("confidence"), default=100)
    observed_at = models.DateTimeField(_("observed at"))
    is_current = models.BooleanField(_("stored value"), default=False)
    provider_call_id = models.BigIntegerField(_("provider call"), null=True, blank=True)
    detail = models.CharField(_("detail"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("field provenance")
        verbose_name_plural = _("field provenance")
        ordering = ["field", "-observed_at", "-id"]
        # Partial: a row belongs to a prospect or to a company, and the other index has no
        # use for it.
        indexes = [
            models.Index(
                fields=["prospect", "field"],
                condition=Q(prospect__isnull=False),
                name="provenance_prospect_field",
            ),
            models.Index(
                fields=["company", "field"],
                condition=Q(company__isnull=False),
                name="provenance_company_field",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(prospect__isnull=False) | Q(company__isnull=False),
                name="provenance_has_subject",
            ),
            models.CheckConstraint(
                condition=Q(confidence__lte=100), name="provenance_confidence_0_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.field} = {self.value} ({self.source})"
