"""Prospects: the people a workspace may contact, their status and why one is not verified."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..taxonomy import Department, Seniority
from ..tenancy import TenantModel, TenantQuerySet, user_reference
from .company import Company
from .import_batches import ImportBatch
from .sources import Source
from .workspace import Workspace

# The finders' own words for an address they could not confirm, said in the interface's
# language; Dropcontact's qualifications ("nominatif@pro") and unknown words are shown as sent.
QUALIFICATIONS = {
    "catch_all": _("its domain accepts every address"),
    "accept_all": _("its domain accepts every address"),
    "valid_catch_all": _("its domain accepts every address"),
    "risky": _("risky"),
    "unknown": _("the mail server did not say"),
    "unverifiable": _("the mail server did not say"),
    "guessed": _("guessed from the company's pattern"),
    "invalid": _("refused by the mail server"),
}


def qualification_label(qualification: str) -> str:
    label = QUALIFICATIONS.get(qualification.strip().lower().replace("-", "_"))
    return str(label) if label is not None else qualification


class ProspectQuerySet(TenantQuerySet):
    def needing_enrichment(self) -> ProspectQuerySet:
        return self.filter(status=Prospect.Status.NEW)

    def verified(self) -> ProspectQuerySet:
        return self.filter(status=Prospect.Status.VERIFIED)


class Prospect(TenantModel):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        ENRICHING = "enriching", _("Enriching")
        VERIFIED = "verified", _("Verified")
        NOT_VERIFIED = "not_verified", _("Not verified")
        NEEDS_REVIEW = "needs_review", _("Needs review")

    class Reason(models.TextChoices):
        """Why a prospect is not verified, in words a person can act on."""

        NO_EMAIL_FOUND = "no_email_found", _("No address found")
        OTHER_VERIFIED = (
            "other_verified",
            _("The address given is not verified; a verified professional address was found"),
        )
        UNVERIFIED = "unverified", _("Address found but not verified")
        UNCONFIRMED = "unconfirmed", _("Dropcontact could not confirm the address given")
        DO_NOT_CONTACT = "do_not_contact", _("Do not contact (reported by Dropcontact)")
        ADDRESS_TAKEN = "address_taken", _("The address found is already used by another prospect")
        EMAIL_CHANGED = "email_changed", _("Email address changed by hand: to be verified again")
        OBJECTED = "objected", _("This person is on the objection list.")

    # The (workspace, status) index and the unique keys all lead with the workspace: a
    # separate index on it would only slow down imports.
    workspace = models.ForeignKey(
        Workspace,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("workspace"),
        db_index=False,
    )
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    email = models.EmailField(_("email"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    job_title = models.CharField(_("job title"), max_length=255, blank=True)
    # Derived from `job_title` after each write (services.apply_normalizers), never typed.
    seniority = models.CharField(
        _("seniority"), max_length=16, blank=True, choices=Seniority.choices, editable=False
    )
    department = models.CharField(
        _("department"), max_length=32, blank=True, choices=Department.choices, editable=False
    )
    linkedin_url = models.URLField(_("LinkedIn URL"), blank=True)
    company = models.ForeignKey(
        Company,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="prospects",
        verbose_name=_("company"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.NEW
    )
    source = models.CharField(
        _("original source"), max_length=16, choices=Source.choices, default=Source.MANUAL
    )
    import_batch = models.ForeignKey(
        ImportBatch,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="prospects",
        verbose_name=_("import batch"),
    )
    # The file line this prospect was imported from: a later row of the same file that is
    # the same person says which line it repeats, without the import keeping every row's keys.
    import_line = models.PositiveIntegerField(
        _("import line"), null=True, blank=True, editable=False
    )
    enrichment_source = models.CharField(
        _("enrichment source"), max_length=32, blank=True, choices=Source.choices
    )
    enriched_at = models.DateTimeField(_("enriched at"), null=True, blank=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    email_qualification = models.CharField(_("email qualification"), max_length=64, blank=True)
    last_error = models.TextField(_("last enrichment note"), blank=True)
    verification_reason = models.CharField(
        _("why not verified"), max_length=32, blank=True, choices=Reason.choices
    )
    email_key = models.CharField(max_length=254, blank=True, editable=False)
    linkedin_key = models.CharField(max_length=255, blank=True, editable=False)
    name_key = models.CharField(max_length=600, blank=True, editable=False)
    # The list's search looks here (normalize.search_key); indexed by migration 0013 (a
    # trigram index on PostgreSQL, where a `LIKE '%…%'` can use one).
    search_key = models.CharField(max_length=600, blank=True, editable=False)
    created_by = user_reference(_("created by"), db_index=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ProspectQuerySet.as_manager()

    class Meta:
        verbose_name = _("prospect")
        verbose_name_plural = _("prospects")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "email_key"],
                condition=~Q(email_key=""),
                name="prospect_unique_email",
                violation_error_message=_("A prospect with this email already exists."),
            ),
            models.UniqueConstraint(
                fields=["workspace", "linkedin_key"],
                condition=~Q(linkedin_key=""),
                name="prospect_unique_linkedin",
                violation_error_message=_("A prospect with this LinkedIn profile already exists."),
            ),
            models.UniqueConstraint(
                fields=["workspace", "name_key"],
                condition=~Q(name_key=""),
                name="prospect_unique_name_company",
                violation_error_message=_(
                    "A prospect with this name already exists at this company."
                ),
            ),
        ]
        # One per filter of the list (the company and the import batch have their foreign-key
        # index; the campaign filter goes through the members' prospect index).
        indexes = [
            models.Index(fields=["workspace", "status"]),
            models.Index(fields=["workspace", "source"], name="prospect_ws_source"),
            models.Index(fields=["workspace", "verified_at"], name="prospect_ws_verified_at"),
            models.Index(fields=["workspace", "-created_at", "-id"], name="prospect_ws_created"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email or self.linkedin_url or f"#{self.pk}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_verified(self) -> bool:
        return self.status == self.Status.VERIFIED

    @property
    def not_verified_reason(self) -> str:
        """What happened, for a prospect that is not verified ('' otherwise or if unknown)."""
        if self.status != self.Status.NOT_VERIFIED:
            return ""
        if self.verification_reason == self.Reason.UNVERIFIED and self.email_qualification:
            return _("Address found but not verified (%(qualification)s)") % {
                "qualification": qualification_label(self.email_qualification)
            }
        if self.verification_reason:
            return str(self.get_verification_reason_display())
        return self.last_error

    def refresh_keys(self) -> None:
        """Recompute the match keys from the stored values."""
        from .. import normalize

        self.email_key = normalize.email_key(self.email)
        self.linkedin_key = self.linkedin_url.lower() if self.linkedin_url else ""
        company = self.company
        key = normalize.company_key(company.domain, company.name) if company else ""
        self.name_key = normalize.name_key(self.first_name, self.last_name, key)
        self.search_key = normalize.search_key(self.first_name, self.last_name, self.email)

    def _keep_a_merged_homonyms_name_key(self) -> None:
        """Two people of one name at two companies that a merge made one: the one moved kept
        its old name key (a merge never deletes a person). Saved again with the same name and
        company, it keeps that key rather than take the one its homonym holds."""
        loaded = getattr(self, "_loaded", {})
        old = loaded.get("name_key")
        if self._state.adding or not old or not self.name_key or old == self.name_key:
            return
        if (loaded.get("first_name"), loaded.get("last_name"), loaded.get("company_id")) != (
            self.first_name,
            self.last_name,
            self.company_id,
        ):
            return  # renamed or moved: the key is the new name's, a duplicate if taken
        homonym = type(self).objects.for_workspace(self.workspace_id).filter(
            name_key=self.name_key
        )
        if homonym.exclude(pk=self.pk).exists():
            self.name_key = old

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded = dict(zip(field_names, values, strict=True))
        return instance

    def _unverify_if_email_changed(self, update_fields) -> list[str]:
        """A verified verdict belongs to an address: another address is not verified.

        Enrichment sets a new `verified_at` with the address it verified; any other change of
        the address (a person typing, an import, the API) drops the verdict.
        """
        loaded = getattr(self, "_loaded", {})
        if self._state.adding or self.status != self.Status.VERIFIED or "email" not in loaded:
            return []
        if update_fields is not None and "email" not in update_fields:
            return []
        if self.email == loaded["email"] or self.verified_at != loaded.get("verified_at"):
            return []
        self.status = self.Status.NOT_VERIFIED
        self.verified_at = None
        self.email_qualification = ""
        self.verification_reason = self.Reason.EMAIL_CHANGED
        self.last_error = self.Reason.EMAIL_CHANGED.label
        return ["status", "verified_at", "email_qualification", "last_error", "verification_reason"]

    def save(self, *args, **kwargs) -> None:
        self.refresh_keys()
        self._keep_a_merged_homonyms_name_key()
        update_fields = kwargs.get("update_fields")
        unverified = self._unverify_if_email_changed(update_fields)
        if (self.email or self.phone) and (
            update_fields is None or {"email", "phone"} & set(update_fields)
        ):
            # The last line of defence: no path may store a person who objected.
            from ..services import ensure_not_suppressed

            ensure_not_suppressed(self.workspace, email=self.email, phone=self.phone)
        if update_fields is not None:
            kwargs["update_fields"] = {
                *kwargs["update_fields"],
                "email_key",
                "linkedin_key",
                "name_key",
                "search_key",
                "updated_at",
                *unverified,
            }
        super().save(*args, **kwargs)
        self._loaded = {**getattr(self, "_loaded", {}), "email": self.email}
        self._loaded["verified_at"] = self.verified_at


# A person who asked not to be contacted (the objection list), or whom Dropcontact reported as
# not to contact: never sent to an enrichment again, even with no address of theirs stored.
OBJECTION_REASONS = (Prospect.Reason.OBJECTED, Prospect.Reason.DO_NOT_CONTACT)
