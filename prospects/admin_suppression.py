"""The objection list in the admin: an email or phone goes in, only its keyed hash is kept."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import normalize, services
from .admin_base import WorkspaceScopedAdmin, is_workspace_admin
from .models import SuppressionEntry


class SuppressionForm(forms.ModelForm):
    """Takes an email and/or phone, stores only their keyed hashes."""

    email = forms.CharField(label=_("Email"), required=False)
    phone = forms.CharField(label=_("Phone"), required=False)

    class Meta:
        model = SuppressionEntry
        fields = ("workspace", "reason")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        try:
            data["email"] = normalize.normalize_email(data.get("email"))
            data["phone"] = normalize.normalize_phone(data.get("phone"))
        except normalize.InvalidValue as exc:
            raise forms.ValidationError(str(exc)) from exc
        if not data["email"] and not data["phone"]:
            raise forms.ValidationError(_("Give an email address or a phone number."))
        return data


@admin.register(SuppressionEntry)
class SuppressionEntryAdmin(WorkspaceScopedAdmin):
    form = SuppressionForm
    list_display = (
        "__str__",
        "kind",
        "reason",
        "blocked_attempts",
        "last_blocked_at",
        "created_at",
    )
    list_filter = ("kind", "reason")
    readonly_fields = ("kind", "blocked_attempts", "last_blocked_at", "created_by", "created_at")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Lifting an objection is a workspace administrator's decision.
        return is_workspace_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_fields(self, request: HttpRequest, obj: Any = None):
        if obj is None:
            return ("workspace", "email", "phone", "reason")
        return ("kind", "reason", "blocked_attempts", "last_blocked_at", "created_by", "created_at")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        workspace = form.cleaned_data.get("workspace") or request.workspace
        entries = services.suppress_person(
            workspace,
            email=form.cleaned_data["email"],
            phone=form.cleaned_data["phone"],
            reason=form.cleaned_data["reason"],
            user=request.user,
        )
        # The admin expects `obj` to be saved: point it at the first entry the service stored.
        obj.pk = entries[0].pk
        obj.workspace_id = entries[0].workspace_id
        obj._state.adding = False
        messages.info(
            request,
            gettext("Stored as a keyed hash only; the address itself is not kept."),
        )
