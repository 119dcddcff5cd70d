"""Workspace access services: invitations, operator additions, the remembered current workspace."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from .access_models import Invitation, WorkspacePreference, default_expiry, invitee_key
from .models import Membership, Workspace, workspace_name_key


def user_workspaces(user) -> list[Workspace]:
    """The workspaces this person may work in (every one for a superuser)."""
    if not user.is_authenticated:
        return []
    if user.is_superuser:
        return list(Workspace.objects.all())
    return list(Workspace.objects.filter(memberships__user=user))


def remembered_workspace_id(user) -> int | None:
    """The workspace this person chose last, if any."""
    return (
        WorkspacePreference.objects.filter(user=user).values_list("workspace_id", flat=True).first()
    )


def remember_workspace(user, workspace: Workspace | None) -> None:
    """Keep this choice for the person's next pages and next logins (None: all, for superusers)."""
    WorkspacePreference.objects.update_or_create(user=user, defaults={"workspace": workspace})


def _keep_current_workspace(user) -> None:
    # Joining a second workspace must not move anyone's work: the one they had stays chosen.
    if remembered_workspace_id(user) is not None:
        return
    current = list(Membership.objects.filter(user=user).values_list("workspace_id", flat=True))
    if len(current) == 1:
        remember_workspace(user, Workspace.objects.get(pk=current[0]))


def invite_to_workspace(
    workspace: Workspace, *, invitee: str, role: str, invited_by=None
) -> Invitation:
    """Record (or refresh) an invitation; whether such an account exists is never looked up."""
    key = invitee_key(invitee)
    for _attempt in range(2):
        try:
            with transaction.atomic():
                invitation = (
                    Invitation.objects.for_workspace(workspace)
                    .select_for_update()
                    .filter(invitee_key=key, accepted_at__isnull=True, declined_at__isnull=True)
                    .first()
                ) or Invitation(workspace=workspace)
                invitation.invitee = invitee
                invitation.role = role
                invitation.invited_by = invited_by
                invitation.expires_at = default_expiry()
                invitation.save()
                return invitation
        except IntegrityError:
            # Two administrators invited the same person at once: refresh the one that won.
            continue
    raise RuntimeError("invitation could not be recorded")


def _open_invitation(invitation_id: int, user) -> Invitation:
    """The invitation, locked, if it is this person's and still open; DoesNotExist otherwise."""
    visible = Invitation.objects.for_invitee(user).filter(pk=invitation_id)
    return (
        Invitation.objects.unscoped()
        .select_for_update(of=("self",))
        .select_related("workspace")
        .get(pk__in=visible.values("pk"))
    )


def accept_invitation(invitation_id: int, *, user) -> Membership:
    """The invited person joins the workspace; their current workspace stays the one they had."""
    with transaction.atomic():
        invitation = _open_invitation(invitation_id, user)
        _keep_current_workspace(user)
        membership, _created = Membership.objects.get_or_create(
            user=user, workspace=invitation.workspace, defaults={"role": invitation.role}
        )
        invitation.accepted_at = timezone.now()
        invitation.answered_by = user
        invitation.save(update_fields=["accepted_at", "answered_by"])
    return membership


def decline_invitation(invitation_id: int, *, user) -> Invitation:
    """The invited person says no: nothing changes for them."""
    with transaction.atomic():
        invitation = _open_invitation(invitation_id, user)
        invitation.declined_at = timezone.now()
        invitation.answered_by = user
        invitation.save(update_fields=["declined_at", "answered_by"])
    return invitation


@dataclass(frozen=True)
class MemberAdded:
    membership: Membership
    created: bool
    previous_role: str | None


def add_member(workspace: Workspace, *, user, role: str = Membership.Role.MEMBER) -> MemberAdded:
    """Operator path (superuser, `add_member`): make someone a member now; safe to repeat."""
    with transaction.atomic():
        _keep_current_workspace(user)
        membership, created = Membership.objects.select_for_update().get_or_create(
            user=user, workspace=workspace, defaults={"role": role}
        )
        previous = None if created else membership.role
        if not created and membership.role != role:
            membership.role = role
            membership.save(update_fields=["role"])
    return MemberAdded(membership=membership, created=created, previous_role=previous)


class WorkspaceConflict(ValueError):
    """The slug is taken by a workspace that differs from the one asked for."""


@dataclass(frozen=True)
class WorkspaceCreated:
    workspace: Workspace
    created: bool
    admin: MemberAdded | None


def create_workspace(
    slug: str, *, name: str, auto_enrich: str | None = None, admin=None
) -> WorkspaceCreated:
    """Operator path (`create_workspace`): a new workspace, optionally with its administrator.

    Safe to repeat: the same slug with the same name (and `auto_enrich`, if given) changes
    nothing; with anything else it is a WorkspaceConflict. The model's rules apply (a valid
    slug, a visible name no other workspace has, case and spaces aside): ValidationError.
    """
    with transaction.atomic():
        existing = Workspace.objects.select_for_update().filter(slug=slug).first()
        if existing is not None:
            same_name = workspace_name_key(name) == existing.name_key
            if not same_name or auto_enrich not in (None, existing.auto_enrich):
                raise WorkspaceConflict(existing.name)
            workspace, created = existing, False
        else:
            workspace = Workspace(
                slug=slug,
                name=name,
                auto_enrich=auto_enrich or Workspace.AutoEnrich.DROPCONTACT,
            )
            workspace.full_clean()
            workspace.save()
            created = True
        added = add_member(workspace, user=admin, role=Membership.Role.ADMIN) if admin else None
    return WorkspaceCreated(workspace=workspace, created=created, admin=added)
