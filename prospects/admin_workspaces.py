"""Workspaces, their members and invitations in the admin.

A workspace administrator never adds another person directly: they record an invitation, and
the answer is the same whether or not such an account exists. Only superusers (and the
`add_member` command) add a member at once.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.validators import RegexValidator
from django.db.models import Q
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from . import access
from .access_models import Invitation
from .admin_base import WorkspaceScopedAdmin, is_workspace_admin
from .models import Membership, Workspace

INVITATION_RECORDED = _(
    "Invitation recorded: if this account exists, the person will see it at their next login. "
    "They become a member only once they accept."
)


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "auto_enrich", "timezone", "created_at")
    search_fields = ("name", "slug")
    radio_fields = {"auto_enrich": admin.VERTICAL}
    prepopulated_fields = {"slug": ("name",)}

    def get_queryset(self, request: HttpRequest):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(memberships__user=request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if request.user.is_superuser:
            return True
        # An administrator of *this* workspace, whichever one the header has selected.
        return (
            obj is not None
            and Membership.objects.filter(
                user=request.user, workspace=obj, role=Membership.Role.ADMIN
            ).exists()
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser


class MembershipForm(forms.ModelForm):
    """Superusers only: adds an existing account by its exact username or email."""

    account = forms.CharField(
        label=_("Username or email"),
        help_text=_("The person must already have an account."),
    )

    current_workspace: Workspace | None = None

    class Meta:
        model = Membership
        fields = ("workspace", "role")

    def clean_account(self):
        value = self.cleaned_data["account"].strip()
        users = get_user_model().objects.filter(Q(username__iexact=value) | Q(email__iexact=value))
        if users.count() != 1:
            raise forms.ValidationError(
                _("No single account matches “%(value)s”."), params={"value": value}
            )
        return users.get()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        workspace = data.get("workspace") or self.current_workspace
        user = data.get("account")
        if user and workspace and Membership.objects.filter(user=user, workspace=workspace):
            raise forms.ValidationError(_("This person is already a member of the workspace."))
        return data


class MembershipRoleForm(forms.ModelForm):
    """An existing membership: only the role changes, never whose membership it is."""

    class Meta:
        model = Membership
        fields = ("role",)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "workspace", "role")
    list_filter = ("role",)

    def get_fields(self, request: HttpRequest, obj: Any = None):
        if obj is not None:
            return ("user", "workspace", "role")
        if getattr(request, "workspace", None) is None:
            return ("account", "workspace", "role")
        return ("account", "role")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None):
        return ("user", "workspace") if obj is not None else ()

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs):
        kwargs["form"] = MembershipRoleForm if obj is not None else MembershipForm
        form_class = super().get_form(request, obj, change=change, **kwargs)
        form_class.current_workspace = getattr(request, "workspace", None)
        return form_class

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        workspace = form.cleaned_data.get("workspace") or request.workspace
        added = access.add_member(workspace, user=form.cleaned_data["account"], role=obj.role)
        # The admin expects `obj` saved: point it at the membership the service stored.
        obj.pk = added.membership.pk
        obj.user = added.membership.user
        obj.workspace = workspace
        obj._state.adding = False

    def get_queryset(self, request: HttpRequest):
        qs = super().get_queryset(request).select_related("user", "workspace")
        workspace = getattr(request, "workspace", None)
        if request.user.is_superuser and workspace is None:
            return qs
        return qs.filter(workspace=workspace)

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: Any):
        if db_field.name == "workspace" and not request.user.is_superuser:
            kwargs["queryset"] = Workspace.objects.filter(pk=getattr(request.workspace, "pk", None))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _allowed(self, request: HttpRequest) -> bool:
        return is_workspace_admin(request)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Adding someone without their consent is for operators; administrators invite.
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)


class InvitationForm(forms.ModelForm):
    invitee = forms.CharField(
        label=_("Username or email"),
        max_length=254,
        help_text=_(
            "If this account exists, the person sees the invitation at their next login and "
            "chooses to accept or decline it."
        ),
        validators=[
            RegexValidator(
                r"^[\w.@+-]+\Z",
                _("Type a username or an email address, without spaces."),
                code="invitee",
            )
        ],
    )

    class Meta:
        model = Invitation
        fields = ("workspace", "invitee", "role")

    def __init__(self, *args: Any, workspace: Workspace | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.workspace = workspace

    def clean_invitee(self) -> str:
        return self.cleaned_data["invitee"].strip()


@admin.register(Invitation)
class InvitationAdmin(WorkspaceScopedAdmin):
    form = InvitationForm
    form_takes_workspace = True
    admin_only = True
    list_display = ("invitee", "role", "status_label", "invited_by", "created_at", "expires_at")
    list_select_related = ("invited_by",)
    search_fields = ("invitee",)
    readonly_fields = (
        "status_label",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "declined_at",
        "answered_by",
    )

    def get_fields(self, request: HttpRequest, obj: Any = None):
        if obj is None:
            return ("workspace", "invitee", "role")
        return ("invitee", "role", *self.readonly_fields)

    @admin.display(description=_("status"))
    def status_label(self, obj: Invitation) -> str:
        return obj.get_status_display()

    def _allowed(self, request: HttpRequest, *, write: bool) -> bool:
        # Only the workspace's administrators see whom it invited.
        return super()._allowed(request, write=write) and is_workspace_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, write=True)

    def save_model(self, request: HttpRequest, obj: Invitation, form: Any, change: bool) -> None:
        workspace = form.cleaned_data.get("workspace") or request.workspace
        invitation = access.invite_to_workspace(
            workspace,
            invitee=form.cleaned_data["invitee"],
            role=form.cleaned_data["role"],
            invited_by=request.user,
        )
        obj.pk = invitation.pk
        obj.workspace = workspace
        obj._state.adding = False

    def response_add(self, request: HttpRequest, obj: Invitation, post_url_continue=None):
        # The same words and the same page whether or not the account exists.
        messages.success(request, str(INVITATION_RECORDED))
        return HttpResponseRedirect(reverse("admin:prospects_invitation_changelist"))
