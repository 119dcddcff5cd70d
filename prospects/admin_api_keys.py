"""The workspace's API keys in the admin: administrators list, create (the key is shown once,
on the page that follows) and revoke them; members do not see them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import api_keys
from .admin_base import WorkspaceScopedAdmin
from .models import ApiKey


class ApiKeyForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ("name", "role")


@admin.register(ApiKey)
class ApiKeyAdmin(WorkspaceScopedAdmin):
    form = ApiKeyForm
    admin_only = True
    hidden_from_members = True
    list_display = ("name", "prefix_shown", "role", "state", "created_at", "last_used_at")
    list_filter = ("role",)
    search_fields = ("name", "prefix")
    actions = ["revoke"]
    readonly_fields = (
        "name",
        "role",
        "prefix_shown",
        "state",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    )

    def get_fields(self, request: HttpRequest, obj: Any = None):
        return ("name", "role") if obj is None else self.readonly_fields

    @admin.display(description=_("prefix"))
    def prefix_shown(self, obj: ApiKey) -> str:
        return f"{obj.prefix}…"

    @admin.display(description=_("state"))
    def state(self, obj: ApiKey) -> str:
        return str(_("Active") if obj.is_active else _("Revoked"))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a key is made, then revoked: never edited

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoked keys stay listed: who had access, until when

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        if not self._allowed(request, write=True):
            actions.pop("revoke", None)
        return actions

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        made = api_keys.create_api_key(
            request.workspace, name=obj.name, role=obj.role, user=request.user
        )
        obj.pk = made.api_key.pk
        obj._state.adding = False
        # Only this response shows it: it is not stored anywhere, not even in the session.
        request._new_api_key = made

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A key belongs to one workspace: a superuser viewing them all chooses one first.
        has_workspace = getattr(request, "workspace", None) is not None
        return has_workspace and super().has_add_permission(request)

    def response_add(self, request: HttpRequest, obj: ApiKey, post_url_continue=None):
        made = request._new_api_key
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("API key created"),
            "api_key": made.api_key,
            "secret": made.secret,
        }
        response: HttpResponse = TemplateResponse(
            request, "admin/prospects/apikey/created.html", context
        )
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description=_("Revoke the selected API keys"))
    def revoke(self, request: HttpRequest, queryset: Any) -> None:
        count = sum(
            api_keys.revoke_api_key(request.workspace, pk)
            for pk in queryset.values_list("pk", flat=True)
        )
        messages.success(
            request,
            ngettext("%(count)d API key revoked.", "%(count)d API keys revoked.", count)
            % {"count": count},
        )
