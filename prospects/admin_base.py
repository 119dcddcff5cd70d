"""The admin base every tenant-owned model uses: rows, choices and autocompletes of one workspace.

Members see and edit only the current workspace (chosen in the header switcher); another
workspace's object id is a 404 like a missing one. Superusers with no workspace chosen see all.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.forms import ModelChoiceField
from django.http import HttpRequest
from django.utils.translation import gettext

from .models import Membership, Workspace
from .tenancy import TenantQuerySet


def say_none_selected(modeladmin: admin.ModelAdmin, request: HttpRequest) -> None:
    """What every prospect action answers when the selection names no prospect of this
    workspace (another workspace's ids, deleted ones): the same words, nothing done."""
    modeladmin.message_user(
        request,
        gettext("None of the selected prospects exists in this workspace."),
        messages.ERROR,
    )


def is_tenant_model(model: type[models.Model]) -> bool:
    return isinstance(model._default_manager.all(), TenantQuerySet)


def scope_for(request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
    """The queryset as this request may see it: its workspace, or all for a superuser."""
    if not isinstance(queryset, TenantQuerySet):
        return queryset
    workspace = getattr(request, "workspace", None)
    if workspace is None and request.user.is_superuser:
        return queryset.unscoped()
    return queryset.for_workspace(workspace)


def is_workspace_admin(request: HttpRequest) -> bool:
    """Whether the person administers the current workspace: asked once per request (the
    sidebar asks it for every administrators-only model)."""
    if request.user.is_superuser:
        return True
    workspace = getattr(request, "workspace", None)
    if workspace is None:
        return False
    known = getattr(request, "_workspace_admin", None)
    if known is not None and known[0] == (request.user.pk, workspace.pk):
        return known[1]
    answer = Membership.objects.filter(
        user=request.user, workspace=workspace, role=Membership.Role.ADMIN
    ).exists()
    request._workspace_admin = ((request.user.pk, workspace.pk), answer)
    return answer


def _allowed(request: HttpRequest, *, admin_required: bool) -> bool:
    if request.user.is_superuser:
        return True
    if not request.user.is_active or getattr(request, "workspace", None) is None:
        return False
    if admin_required:
        return is_workspace_admin(request)
    return True


def _scoped_foreignkey(field: Any, db_field: Any, request: HttpRequest) -> Any:
    """Limit a foreign-key choice field to what the request may see."""
    if field is not None:
        related = db_field.remote_field.model
        if related is Workspace:
            field.queryset = Workspace.objects.filter(
                pk__in=[ws.pk for ws in request.user_workspaces]
            )
        elif is_tenant_model(related):
            field.queryset = scope_for(request, field.queryset)
    return field


class WorkspaceScopedAdmin(admin.ModelAdmin):
    # Set True on models only a workspace administrator may change (credentials, members).
    admin_only = False
    # Set True on models a plain member may not even see (API keys): no menu entry, 403.
    hidden_from_members = False
    # Set True when the admin's form takes `workspace=` (to validate against that workspace).
    form_takes_workspace = False
    # Set True on the internals (work rows, provider calls): the menu lists them under
    # "Technique", for administrators only (config/admin_site.py).
    technical = False

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        workspace = getattr(request, "workspace", None)
        takes_workspace = self.form_takes_workspace

        class ScopedForm(form_class):
            def __init__(self, *args: Any, **kw: Any) -> None:
                if takes_workspace:
                    kw["workspace"] = workspace
                super().__init__(*args, **kw)
                if workspace is not None and not self.instance.workspace_id:
                    self.instance.workspace = workspace

            def _get_validation_exclusions(self) -> set[str]:
                # The workspace is not a field of the form (the header chooses it), so Django
                # would skip every constraint that includes it: a second company with the same
                # domain would then pass validation and fail on saving, a 500 instead of the
                # constraint's own message. The instance has its workspace: check them.
                exclude = super()._get_validation_exclusions()
                if self.instance.workspace_id:
                    exclude.discard("workspace")
                return exclude

        return ScopedForm

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return scope_for(request, super().get_queryset(request))

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: Any):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        return _scoped_foreignkey(field, db_field, request)

    def formfield_for_manytomany(self, db_field, request: HttpRequest, **kwargs: Any):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and is_tenant_model(db_field.remote_field.model):
            field.queryset = scope_for(request, field.queryset)
        return field

    def get_exclude(self, request: HttpRequest, obj: Any = None):
        exclude = list(super().get_exclude(request, obj) or [])
        # The workspace is implied by the header switcher, except for a superuser viewing all.
        if getattr(request, "workspace", None) is not None or obj is not None:
            exclude.append("workspace")
        return exclude

    def get_fieldsets(self, request: HttpRequest, obj: Any = None):
        if "workspace" not in self.get_exclude(request, obj):
            return super().get_fieldsets(request, obj)
        return [
            (name, {**opts, "fields": [f for f in opts["fields"] if f != "workspace"]})
            for name, opts in super().get_fieldsets(request, obj)
        ]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change and not obj.workspace_id:
            obj.workspace = request.workspace
        super().save_model(request, obj, form, change)

    def _allowed(self, request: HttpRequest, *, write: bool) -> bool:
        admin_required = self.hidden_from_members or (write and self.admin_only)
        return _allowed(request, admin_required=admin_required)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request, write=False)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, write=False)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request, write=True)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, write=True)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, write=True)


class WorkspaceScopedInline:
    """Mixin for an inline of a tenant model (before admin.TabularInline/StackedInline).

    Scopes the rows, the foreign-key choices and the ids a submitted formset may name: Django
    checks each posted row id against the model's whole table, which a tenant table refuses.
    """

    admin_only = False

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return scope_for(request, super().get_queryset(request))

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: Any):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        return _scoped_foreignkey(field, db_field, request)

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any):
        formset_class = super().get_formset(request, obj, **kwargs)

        class ScopedFormSet(formset_class):
            def add_fields(self, form: Any, index: Any) -> None:
                super().add_fields(form, index)
                pk_field = form.fields.get(self._pk_field.name)
                if isinstance(pk_field, ModelChoiceField):
                    pk_field.queryset = scope_for(request, pk_field.queryset)

        return ScopedFormSet

    def _allowed(self, request: HttpRequest, *, write: bool) -> bool:
        return _allowed(request, admin_required=write and self.admin_only)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, write=False)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, write=True)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, write=True)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, write=True)
