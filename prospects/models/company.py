"""Companies: one per workspace per identity (SIREN, else domain, else name)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret

from ..taxonomy import LEGAL_FORM_CHOICES, Industry
from ..tenancy import TenantModel


def validate_siren(value: str) -> None:
    if value and not stdnum_siren.is_valid(value):
        raise ValidationError(_("Invalid SIREN number."), code="siren")


def validate_siret(value: str) -> None:
    if value and not stdnum_siret.is_valid(value):
        raise ValidationError(_("Invalid SIRET number."), code="siret")


# What a company record holds, as people edit it and providers fill it.
COMPANY_FIELDS = (
    "name",
    "domain",
    "website",
    "industry",
    "headcount",
    "description",
    "location",
    "siren",
    "siret",
    "linkedin_url",
)


class Company(TenantModel):
    name = models.CharField(_("name"), max_length=255)
    domain = models.CharField(_("domain"), max_length=255, blank=True)
    name_key = models.CharField(max_length=255, blank=True, editable=False, db_index=True)
    website = models.URLField(_("website"), blank=True)
    industry = models.CharField(_("industry"), max_length=255, blank=True)
    headcount = models.PositiveIntegerField(_("headcount"), null=True, blank=True)
    description = models.TextField(_("description"), blank=True)
    location = models.CharField(_("location"), max_length=255, blank=True)
    siren = models.CharField(_("SIREN"), max_length=9, blank=True, validators=[validate_siren])
    siret = models.CharField(_("SIRET"), max_length=14, blank=True, validators=[validate_siret])
    linkedin_url = models.URLField(_("LinkedIn URL"), blank=True)
    # Derived from `industry` and `name` after each write (services.apply_normalizers), never
    # typed: nobody's value to protect, and recomputed whenever the source field changes.
    industry_code = models.CharField(
        _("industry (classified)"),
        max_length=32,
        blank=True,
        choices=Industry.choices,
        editable=False,
    )
    legal_form = models.CharField(
        _("legal form"), max_length=16, blank=True, choices=LEGAL_FORM_CHOICES, editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["name"]
        # The prospect list's company filter offers the most recently updated ones.
        indexes = [
            models.Index(fields=["workspace", "-updated_at", "-id"], name="company_ws_updated")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "domain"],
                condition=~Q(domain=""),
                name="company_unique_domain",
                violation_error_message=_("A company with this domain already exists."),
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from .. import normalize

        try:
            self.domain = normalize.normalize_domain(self.domain or self.website)
        except normalize.InvalidValue as exc:
            raise ValidationError({"domain": str(exc)}) from exc
        self.siren = "".join(self.siren.split())
        self.siret = "".join(self.siret.split())
        if self.siret and not self.siren:
            self.siren = self.siret[:9]
        if self.workspace_id:
            self._refuse_a_known_identity()

    def _refuse_a_known_identity(self) -> None:
        """The same company twice (prospects/companies.py's rule) is a form error: imports and
        enrichment would only ever use one of them, and the merge would join them."""
        from .. import normalize

        others = Company.objects.for_workspace(self.workspace_id).exclude(pk=self.pk)
        if self.siren and others.filter(siren=self.siren).exists():
            message = _("A company with this SIREN already exists.")
            raise ValidationError({"siren": ValidationError(message, code="siren_taken")})
        same_name = others.filter(name_key=normalize.company_name_key(self.name))
        if not self.name or not same_name.exists():
            return
        if not self.domain and not self.siren:
            message = _(
                "A company with this name already exists: open it, or give this one its domain "
                "or SIREN if it is another company."
            )
        elif same_name.filter(domain="", siren="").exists():
            message = _(
                "A company with this name, without a domain or SIREN, already exists: add them "
                "to it instead."
            )
        else:
            return
        raise ValidationError({"name": ValidationError(message, code="name_taken")})

    def save(self, *args, **kwargs) -> None:
        from .. import normalize

        self.name_key = normalize.company_name_key(self.name)
        super().save(*args, **kwargs)
