from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret

from .taxonomy import LEGAL_FORM_CHOICES, Department, Industry, Seniority
from .tenancy import TenantModel, TenantQuerySet, user_reference


def tidy_workspace_name(name: str) -> str:
    """The name as shown: invisible characters dropped, runs of spaces made one."""
    visible = "".join(ch for ch in name if unicodedata.category(ch) != "Cf")
    return " ".join(visible.split())


# Cyrillic and Greek letters drawn like Latin ones (either case, once case-folded): "Асме" in
# Cyrillic reads as "Acme" in the header. Enough to keep a workspace from passing for another;
# not Unicode's whole confusables table.
_LOOKALIKES = str.maketrans(
    {
        **dict(zip("авеіјкмнорстухѕԁԛԝһӏ", "abeijkmhopctyxsdqwhl", strict=True)),
        **dict(zip("αβεζηικμνορτυχϲı", "abezhikmnoptyxci", strict=True)),
    }
)
_MIXABLE_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")


def workspace_name_key(name: str) -> str:
    """What two names must not share: "Acme  France", "acme france" and "Асме France" (with
    Cyrillic letters) are the same name."""
    folded = unicodedata.normalize("NFKC", tidy_workspace_name(name)).casefold()
    return folded.translate(_LOOKALIKES)


def mixed_scripts(name: str) -> list[str]:
    """The alphabets a name mixes among Latin, Cyrillic and Greek (none when it keeps to one)."""
    found = set()
    for ch in name:
        if ch.isalpha():
            script = unicodedata.name(ch, "").split(" ", 1)[0]
            if script in _MIXABLE_SCRIPTS:
                found.add(script)
    return sorted(found) if len(found) > 1 else []


def auto_enrich_steps(choice: str) -> tuple[str, ...]:
    """A workspace's `auto_enrich` value as its ordered steps ("none" is no step)."""
    return tuple(step for step in choice.split(",") if step and step != "none")


class Workspace(models.Model):
    class AutoEnrich(models.TextChoices):
        """What every new prospect gets automatically, steps in this order."""

        NONE = "none", _("Nothing")
        DROPCONTACT = "dropcontact", _("Dropcontact")
        EMAIL = "email", _("The email waterfall")
        BOTH = "dropcontact,email", _("Dropcontact, then the email waterfall")

    name = models.CharField(_("name"), max_length=200)
    # A lookalike name would let one workspace pass for another in the header and the lists.
    name_key = models.CharField(max_length=200, unique=True, editable=False)
    slug = models.SlugField(_("slug"), unique=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="Europe/Paris")
    # Dropcontact by default: what every workspace got before it could choose.
    auto_enrich = models.CharField(
        _("automatic enrichment of new prospects"),
        max_length=32,
        choices=AutoEnrich.choices,
        default=AutoEnrich.DROPCONTACT,
        help_text=_(
            "Paid lookups every new prospect gets as soon as it is added. Choose “Nothing” "
            "when the workspace has no account with these providers."
        ),
    )
    # The email waterfall's first step, before any paid provider (a job may choose otherwise).
    discovery_first = models.BooleanField(
        _("in-house discovery first"),
        default=False,
        help_text=_(
            "The email waterfall first looks for the address itself, for free (name "
            "permutations, DNS, SMTP), and asks the paid providers only when it finds nothing "
            "verified."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("workspace")
        verbose_name_plural = _("workspaces")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.name = tidy_workspace_name(self.name)
        self.name_key = workspace_name_key(self.name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_key"}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        typed = self.name
        self.name = tidy_workspace_name(self.name)
        key = workspace_name_key(self.name)
        if typed and not key:
            # Only invisible characters: the header would show nothing (and the key clash).
            message = _("Type a name with visible characters.")
            raise ValidationError({"name": ValidationError(message, code="name_invisible")})
        if mixed_scripts(self.name):
            message = _(
                "This name mixes alphabets (Latin letters with Cyrillic or Greek ones that look "
                "alike). Type it in one alphabet."
            )
            raise ValidationError({"name": ValidationError(message, code="name_mixed_scripts")})
        if key and Workspace.objects.filter(name_key=key).exclude(pk=self.pk).exists():
            message = _(
                "Another workspace already has this name (case and spaces do not count). "
                "Choose a name that cannot be mistaken for it."
            )
            raise ValidationError({"name": ValidationError(message, code="name_taken")})

    @property
    def auto_enrich_steps(self) -> tuple[str, ...]:
        """The pipelines new prospects go through, in order: "dropcontact" and/or "email"."""
        return auto_enrich_steps(self.auto_enrich)


class Membership(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", _("Member")
        ADMIN = "admin", _("Administrator")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("workspace")
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "workspace"], name="membership_unique_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.workspace}"


def validate_siren(value: str) -> None:
    if value and not stdnum_siren.is_valid(value):
        raise ValidationError(_("Invalid SIREN number."), code="siren")


def validate_siret(value: str) -> None:
    if value and not stdnum_siret.is_valid(value):
        raise ValidationError(_("Invalid SIRET number."), code="siret")


class Source(models.TextChoices):
    """Where a prospect, or one stored value, came from."""

    IMPORT = "import", _("Import")
    MANUAL = "manual", _("Manual entry")
    API = "api", _("API")
    DISCOVERY = "discovery", _("Discovery")
    DROPCONTACT = "dropcontact", _("Dropcontact")
    PROVIDER = "provider", _("Provider")
    # The vendors of the waterfalls: a value, and a verified badge, name their real source.
    PROSPEO = "prospeo", "Prospeo"
    LEADMAGIC = "leadmagic", "LeadMagic"
    FINDYMAIL = "findymail", "FindyMail"
    HUNTER = "hunter", "Hunter"
    APOLLO = "apollo", "Apollo"
    CLEARBIT = "clearbit", "Clearbit"
    AIARK = "aiark", "AI Ark"
    FIRECRAWL = "firecrawl", "Firecrawl"


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

# Values typed or imported by a person are never overwritten by a provider.
HUMAN_SOURCES = frozenset({Source.IMPORT, Source.MANUAL, Source.API})


class ImportBatchQuerySet(TenantQuerySet):
    def abandoned(self, now: dt.datetime) -> ImportBatchQuerySet:
        """Importing batches whose lease ran out (or that never had one): to be resumed."""
        return self.filter(status=ImportBatch.Status.IMPORTING).filter(
            Q(lease_until__isnull=True) | Q(lease_until__lte=now)
        )


class ImportBatch(TenantModel):
    class Status(models.TextChoices):
        PREVIEW = "preview", _("Preview")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")
        # A preview nobody came back to: its file was deleted (SOURCIER_IMPORT_PREVIEW_TTL_HOURS).
        EXPIRED = "expired", _("Expired")

    filename = models.CharField(_("file name"), max_length=255)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PREVIEW
    )
    encoding = models.CharField(_("encoding"), max_length=32, blank=True)
    delimiter = models.CharField(_("delimiter"), max_length=4, blank=True)
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)
    stored_file = models.CharField(max_length=255, blank=True)
    total_rows = models.PositiveIntegerField(_("rows read"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    duplicate_count = models.PositiveIntegerField(_("duplicates"), default=0)
    suppressed_count = models.PositiveIntegerField(_("suppressed"), default=0)
    invalid_count = models.PositiveIntegerField(_("invalid"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_by = user_reference(_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Last time someone uploaded, mapped or looked at the preview: an untouched one expires.
    touched_at = models.DateTimeField(default=timezone.now, editable=False)
    # Whoever imports the batch holds it until `lease_until`, renewed with each committed
    # chunk; every write of the run is conditional on its token, so a run that outlived its
    # lease cannot overwrite its successor's. An empty token with a live lease: dispatched,
    # waiting for a worker.
    lease_token = models.CharField(max_length=32, blank=True, editable=False)
    lease_until = models.DateTimeField(_("lease until"), null=True, blank=True, editable=False)

    objects = ImportBatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.filename

    @property
    def rejected_count(self) -> int:
        return self.duplicate_count + self.suppressed_count + self.invalid_count

    def is_abandoned(self, now: dt.datetime | None = None) -> bool:
        """Importing, but nobody has committed a chunk (or picked it up) within its lease."""
        if self.status != self.Status.IMPORTING:
            return False
        return self.lease_until is None or self.lease_until <= (now or timezone.now())


class RejectedRow(TenantModel):
    class Reason(models.TextChoices):
        DUPLICATE = "duplicate", _("Duplicate")
        SUPPRESSED = "suppressed", _("On the objection list")
        INVALID = "invalid", _("Invalid")

    batch = models.ForeignKey(
        ImportBatch, on_delete=models.CASCADE, related_name="rejected_rows", verbose_name=_("batch")
    )
    line_number = models.PositiveIntegerField(_("line"))
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    detail = models.TextField(_("detail"), blank=True)
    data = models.JSONField(_("row"), default=dict)

    class Meta:
        verbose_name = _("rejected row")
        verbose_name_plural = _("rejected rows")
        ordering = ["batch", "line_number"]


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
        from . import normalize

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
        from . import normalize

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
        from . import normalize

        self.name_key = normalize.company_name_key(self.name)
        super().save(*args, **kwargs)


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
        from . import normalize

        self.email_key = normalize.email_key(self.email)
        self.linkedin_key = self.linkedin_url.lower() if self.linkedin_url else ""
        company = self.company
        key = normalize.company_key(company.domain, company.name) if company else ""
        self.name_key = normalize.name_key(self.first_name, self.last_name, key)
        self.search_key = normalize.search_key(self.first_name, self.last_name, self.email)

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
        update_fields = kwargs.get("update_fields")
        unverified = self._unverify_if_email_changed(update_fields)
        if (self.email or self.phone) and (
            update_fields is None or {"email", "phone"} & set(update_fields)
        ):
            # The last line of defence: no path may store a person who objected.
            from .services import ensure_not_suppressed

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


class SuppressionEntry(TenantModel):
    """A person who objected: only a keyed hash of the normalised email or phone is kept."""

    class Kind(models.TextChoices):
        EMAIL = "email", _("Email")
        PHONE = "phone", _("Phone")

    class Reason(models.TextChoices):
        OBJECTION = "objection", _("Objection (GDPR article 21)")
        DO_NOT_CONTACT = "do_not_contact", _("Do not contact")
        PROVIDER = "provider", _("Reported by a provider")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    key_hash = models.CharField(max_length=64, editable=False)
    reason = models.CharField(
        _("reason"), max_length=16, choices=Reason.choices, default=Reason.OBJECTION
    )
    blocked_attempts = models.PositiveIntegerField(_("blocked attempts"), default=0)
    last_blocked_at = models.DateTimeField(_("last blocked attempt"), null=True, blank=True)
    created_by = user_reference(_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("objection list entry")
        verbose_name_plural = _("objection list entries")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "kind", "key_hash"], name="suppression_unique_hash"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


# Invitations and the remembered current workspace live in their own module (split by concept);
# imported here so that Django registers them with this app.
from .access_models import Invitation, WorkspacePreference  # noqa: E402, F401
from .api_models import ApiKey, IdempotentRequest  # noqa: E402, F401
