"""Who may enter a workspace and which one a person works in: invitations, remembered choice.

Nobody is put into a workspace without their consent: a workspace administrator records an
invitation for a username or an email as typed, and only the invited person's acceptance creates
the membership. The workspace each person works in is remembered in the database, so that it
survives logging out and in and is never picked for them by the order of names.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# From its own module: prospects.models imports this one, so that Django registers its models.
from .models.workspace import Membership
from .tenancy import TenantModel, TenantQuerySet, user_reference

INVITATION_VALIDITY = timedelta(days=14)


def invitee_key(value: str) -> str:
    """The typed username or email as it is compared with accounts (case does not count)."""
    return value.strip().casefold()


def default_expiry():
    return timezone.now() + INVITATION_VALIDITY


class InvitationQuerySet(TenantQuerySet):
    def pending(self) -> InvitationQuerySet:
        """Neither answered nor expired."""
        return self.filter(
            accepted_at__isnull=True, declined_at__isnull=True, expires_at__gt=timezone.now()
        )

    def addressed_to(self, user) -> InvitationQuerySet:
        """Invitations typed with this person's username or email, in any workspace."""
        keys = {invitee_key(user.get_username())}
        if user.email:
            keys.add(invitee_key(user.email))
        # Deliberately across workspaces: a person sees every invitation addressed to them.
        return self.unscoped().filter(invitee_key__in=keys)

    def for_invitee(self, user) -> InvitationQuerySet:
        """What this person may still accept: pending, and not for a workspace they are in."""
        return (
            self.addressed_to(user)
            .pending()
            .exclude(workspace__memberships__user=user)
            .select_related("workspace", "invited_by")
            .order_by("-created_at")
        )


class Invitation(TenantModel):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        # An invitation is feminine in French: its own context, apart from other statuses.
        ACCEPTED = "accepted", pgettext_lazy("invitation", "Accepted")
        DECLINED = "declined", pgettext_lazy("invitation", "Declined")
        EXPIRED = "expired", pgettext_lazy("invitation", "Expired")

    invitee = models.CharField(_("username or email"), max_length=254)
    invitee_key = models.CharField(max_length=254, editable=False, db_index=True)
    role = models.CharField(
        _("role"), max_length=16, choices=Membership.Role.choices, default=Membership.Role.MEMBER
    )
    invited_by = user_reference(_("invited by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), default=default_expiry)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    declined_at = models.DateTimeField(_("declined at"), null=True, blank=True)
    answered_by = user_reference(_("answered by"), db_index=False)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]
        constraints = [
            # Inviting someone again refreshes the open invitation instead of stacking copies.
            models.UniqueConstraint(
                fields=["workspace", "invitee_key"],
                condition=Q(accepted_at__isnull=True, declined_at__isnull=True),
                name="invitation_one_open_per_invitee",
            )
        ]

    def __str__(self) -> str:
        return self.invitee

    def save(self, *args, **kwargs) -> None:
        self.invitee = self.invitee.strip()
        self.invitee_key = invitee_key(self.invitee)
        super().save(*args, **kwargs)

    @property
    def status(self) -> str:
        if self.accepted_at:
            return self.Status.ACCEPTED
        if self.declined_at:
            return self.Status.DECLINED
        if self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        return self.Status.PENDING

    def get_status_display(self) -> str:
        return self.Status(self.status).label


class WorkspacePreference(models.Model):
    """The workspace a person chose last: where their imports, enrichments and campaigns go."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="workspace_preference",
        verbose_name=_("user"),
    )
    workspace = models.ForeignKey(
        "prospects.Workspace",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("workspace"),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("current workspace")
        verbose_name_plural = _("current workspaces")

    def __str__(self) -> str:
        return f"{self.user} → {self.workspace}"
