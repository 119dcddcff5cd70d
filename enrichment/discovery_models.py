"""What in-house discovery remembers: each domain's mail facts, every SMTP probe sent, and the
people it found, kept apart from prospects until a person approves them (DiscoveredContact)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from prospects.models import Company, Prospect
from prospects.tenancy import TenantManager, TenantModel, user_reference


class MailDomain(models.Model):
    """DNS and catch-all facts about one domain, shared by every workspace (public facts).

    The route is kept until its DNS TTL runs out; the catch-all answer for 30 days, with the
    random local part it was asked with, so that a greylisted check is asked again about the
    same address (greylisting remembers the recipient).
    """

    domain = models.CharField(_("domain"), max_length=253, unique=True)
    route = models.CharField(_("mail route"), max_length=16, blank=True)
    mail_hosts = models.JSONField(_("mail hosts"), default=list, blank=True)
    dns_checked_at = models.DateTimeField(_("DNS checked at"), null=True, blank=True)
    dns_expires_at = models.DateTimeField(_("DNS answer expires at"), null=True, blank=True)
    catch_all = models.BooleanField(_("catch-all"), null=True, blank=True)
    catch_all_local = models.CharField(max_length=64, blank=True)
    catch_all_checked_at = models.DateTimeField(_("catch-all checked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("mail domain")
        verbose_name_plural = _("mail domains")

    def __str__(self) -> str:
        return self.domain


class EmailProbe(models.Model):
    """One RCPT TO asked of a mail host, with the whole conversation kept.

    `key` is unique: workspace, address and attempt number, so a replayed probe is a no-op.
    A 4xx answer (greylisting) sets `recheck_at`; the recheck is the next attempt and its
    answer replaces this one. Catch-all checks of a domain have no workspace.
    """

    class Kind(models.TextChoices):
        ADDRESS = "address", _("address")
        CATCH_ALL = "catch_all", _("catch-all check")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        ACCEPTED = "accepted", _("accepted")
        REJECTED = "rejected", _("rejected")
        DEFERRED = "deferred", _("deferred (4xx)")
        BLOCKED = "blocked", _("blocked by the mail host")
        UNREACHABLE = "unreachable", _("mail host unreachable")
        PAUSED = "paused", _("probing paused")
        BUDGET = "budget", _("daily probe budget spent")

    workspace = models.ForeignKey(
        "prospects.Workspace",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("workspace"),
    )
    key = models.CharField(max_length=400, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.ADDRESS)
    email = models.CharField(_("email"), max_length=320)
    domain = models.CharField(_("domain"), max_length=253, db_index=True)
    pattern = models.CharField(_("pattern"), max_length=32, blank=True)
    attempt = models.PositiveSmallIntegerField(_("attempt"), default=1)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    mail_host = models.CharField(_("mail host"), max_length=253, blank=True)
    reply_code = models.PositiveSmallIntegerField(_("reply code"), null=True, blank=True)
    reply_text = models.CharField(_("reply"), max_length=512, blank=True)
    transcript = models.TextField(_("transcript"), blank=True)
    created_at = models.DateTimeField(_("created at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    recheck_at = models.DateTimeField(_("recheck at"), null=True, blank=True)

    objects = TenantManager()

    class Meta:
        verbose_name = _("email probe")
        verbose_name_plural = _("email probes")
        indexes = [
            models.Index(fields=["workspace", "email", "-attempt"], name="probe_latest"),
            # A workspace's probes of some domains (the patterns they confirmed): without it,
            # SQLite (no statistics) walks every probe of the workspace instead.
            models.Index(fields=["workspace", "domain"], name="probe_domain"),
            models.Index(
                fields=["recheck_at"],
                name="probe_recheck_due",
                condition=Q(recheck_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} #{self.attempt}: {self.status}"


class ProbingPause(models.Model):
    """Probing held back, for every worker: one mail host that answered with a blocklist
    reply, or every host (`mail_host` empty) when the SMTP port could be reached nowhere.
    The admin shows a warning while `until` is ahead."""

    class Reason(models.TextChoices):
        BLOCKED = "blocked", _("blocklist reply")
        PORT_UNREACHABLE = "port_unreachable", _("SMTP port unreachable")

    mail_host = models.CharField(_("mail host"), max_length=253, unique=True, blank=True)
    reason = models.CharField(_("reason"), max_length=32, choices=Reason.choices)
    reply_text = models.CharField(_("reply"), max_length=512, blank=True)
    paused_at = models.DateTimeField(_("paused at"))
    until = models.DateTimeField(_("until"), db_index=True)

    class Meta:
        verbose_name = _("probing pause")
        verbose_name_plural = _("probing pauses")

    def __str__(self) -> str:
        return self.mail_host or "*"


class ProbeBudget(models.Model):
    """RCPTs asked per day by one sending host (named by its EHLO name), counted across every
    worker: past SOURCIER_SMTP_DAILY_BUDGET no probe is sent until the next day."""

    sender = models.CharField(max_length=253)
    day = models.DateField()
    used = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sender", "day"], name="probe_budget_unique_day")
        ]

    def __str__(self) -> str:
        return f"{self.sender} {self.day}: {self.used}"


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
        # An address (feminine in French): not the prospect's "Vérifié".
        VERIFIED = "verified", pgettext_lazy("email address", "Verified")
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
    # The company's name as its site gives it, for approval when `company` is not known yet.
    company_name = models.CharField(_("company name"), max_length=255, blank=True)
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
