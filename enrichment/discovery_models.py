"""What in-house discovery remembers: each domain's mail facts and every SMTP probe sent."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from prospects.tenancy import TenantManager


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
            models.Index(
                fields=["recheck_at"],
                name="probe_recheck_due",
                condition=Q(recheck_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} #{self.attempt}: {self.status}"
