from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from prospects import admin as prospects_admin
from prospects.admin_base import WorkspaceScopedAdmin
from prospects.models import Workspace

from . import credentials
from .admin_reenrich import reenrich
from .models import (
    EnrichmentItem,
    EnrichmentJob,
    ProviderBatch,
    ProviderCall,
    ProviderCredential,
)
from .providers.registry import PROVIDER_CHOICES, PROVIDERS


def provider_label(slug: str) -> str:
    """A provider's name, or a waterfall's ("Cascade e-mail") for the items of one."""
    from .pipelines.waterfall import COMPANY_PIPELINE, PIPELINE

    pipelines = {
        PIPELINE: EnrichmentJob.Kind.EMAIL.label,
        COMPANY_PIPELINE: EnrichmentJob.Kind.COMPANY.label,
    }
    if slug in pipelines:
        return str(pipelines[slug])
    spec = PROVIDERS.get(slug)
    return spec.label if spec else slug


class ProviderFilter(admin.SimpleListFilter):
    """Providers from the registry (a related or all-values filter would query unscoped)."""

    title = _("provider")
    parameter_name = "provider"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin):
        return PROVIDER_CHOICES

    def queryset(self, request: HttpRequest, queryset):
        if self.value():
            return queryset.filter(provider=self.value())
        return queryset


# --- API keys ----------------------------------------------------------------------------


class ProviderCredentialForm(forms.ModelForm):
    """Takes a key and hands it to `set_api_key`; the key is never rendered back."""

    provider = forms.ChoiceField(label=_("Provider"), choices=PROVIDER_CHOICES)
    api_key = forms.CharField(
        label=_("API key"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_(
            "Stored encrypted; only its last 4 characters are ever shown. "
            "Leave empty to keep the current key."
        ),
    )

    class Meta:
        model = ProviderCredential
        fields = ("workspace", "provider")

    def __init__(self, *args: Any, workspace: Workspace | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        if self.instance.pk:
            # A key belongs to its provider: to change provider, add another key.
            self.fields.pop("provider", None)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.instance.pk:
            return data
        if not data.get("api_key"):
            self.add_error("api_key", _("Enter the API key."))
        workspace = self.workspace or data.get("workspace")
        provider = data.get("provider")
        if (
            workspace
            and provider
            and ProviderCredential.objects.for_workspace(workspace)
            .filter(provider=provider)
            .exists()
        ):
            self.add_error(
                "provider", _("This workspace already has a key for this provider: edit it.")
            )
        return data


@admin.register(ProviderCredential)
class ProviderCredentialAdmin(WorkspaceScopedAdmin):
    admin_only = True
    # Even masked, the keys and who set them are for the workspace's administrators only.
    hidden_from_members = True
    form = ProviderCredentialForm
    form_takes_workspace = True
    list_display = ("provider_name", "masked_key", "updated_at", "updated_by")
    list_filter = (ProviderFilter,)

    def get_fields(self, request: HttpRequest, obj: Any = None):
        if obj is None:
            return ("workspace", "provider", "api_key")
        return ("provider_name", "masked_key", "api_key", "updated_at", "updated_by")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None):
        if obj is None:
            return ()
        return ("provider_name", "masked_key", "updated_at", "updated_by")

    @admin.display(description=_("provider"), ordering="provider")
    def provider_name(self, credential: ProviderCredential) -> str:
        return provider_label(credential.provider)

    @admin.display(description=_("API key"))
    def masked_key(self, credential: ProviderCredential) -> str:
        return credentials.masked(credential.last4)

    def save_model(
        self, request: HttpRequest, obj: ProviderCredential, form: Any, change: bool
    ) -> None:
        secret = form.cleaned_data.get("api_key")
        if not secret:
            return  # an empty key on edit keeps the current one
        workspace = (
            obj.workspace
            if change
            else form.cleaned_data.get("workspace") or getattr(request, "workspace", None)
        )
        credential = credentials.set_api_key(workspace, obj.provider, secret, user=request.user)
        # The admin expects `obj` saved: point it at the row the service stored.
        for name in ("pk", "workspace_id", "provider", "last4", "encrypted_key", "updated_at"):
            setattr(obj, name, getattr(credential, name))
        obj._state.adding = False


# --- Work rows: read-only ----------------------------------------------------------------


class ReadOnlyScopedAdmin(WorkspaceScopedAdmin):
    """Rows written by the pipeline: people look, never edit."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def status_badge(obj: Any) -> str:
    return format_html(
        '<span class="badge badge-item-{}">{}</span>', obj.status, obj.get_status_display()
    )


@admin.register(EnrichmentItem)
class EnrichmentItemAdmin(ReadOnlyScopedAdmin):
    technical = True  # listed under "Technique" (config/admin_site.py)
    list_display = (
        "prospect_link",
        "provider_name",
        "item_status",
        "attempts",
        "next_attempt_at",
        "error_text",
        "job",
        "updated_at",
    )
    list_filter = ("status", ProviderFilter, "outcome")
    search_fields = ("prospect__first_name", "prospect__last_name", "prospect__email", "request_id")
    list_select_related = ("prospect", "job")

    @admin.display(description=_("prospect"), ordering="prospect__last_name")
    def prospect_link(self, item: EnrichmentItem) -> str:
        url = reverse("admin:prospects_prospect_change", args=[item.prospect_id])
        return format_html('<a href="{}">{}</a>', url, item.prospect)

    @admin.display(description=_("provider"), ordering="provider")
    def provider_name(self, item: EnrichmentItem) -> str:
        return provider_label(item.provider)

    @admin.display(description=_("status"), ordering="status")
    def item_status(self, item: EnrichmentItem) -> str:
        return status_badge(item)

    @admin.display(description=_("last error"), ordering="outcome")
    def error_text(self, item: EnrichmentItem) -> str:
        return item.last_error or "—"


@admin.register(ProviderBatch)
class ProviderBatchAdmin(ReadOnlyScopedAdmin):
    technical = True  # listed under "Technique" (config/admin_site.py)
    list_display = (
        "__str__",
        "provider",
        "batch_status",
        "size",
        "polls",
        "next_attempt_at",
        "submitted_at",
        "finished_at",
        "error_text",
    )
    list_filter = ("provider", "status", "outcome")
    search_fields = ("request_id",)

    @admin.display(description=_("status"), ordering="status")
    def batch_status(self, batch: ProviderBatch) -> str:
        return status_badge(batch)

    @admin.display(description=_("last error"), ordering="outcome")
    def error_text(self, batch: ProviderBatch) -> str:
        return batch.last_error or "—"


@admin.register(ProviderCall)
class ProviderCallAdmin(ReadOnlyScopedAdmin):
    technical = True  # listed under "Technique" (config/admin_site.py)
    list_display = (
        "created_at",
        "provider_name",
        "method",
        "endpoint",
        "status_code",
        "outcome",
        "latency_ms",
        "records",
        "cost",
    )
    list_filter = (ProviderFilter,)
    search_fields = ("endpoint", "outcome")

    @admin.display(description=_("provider"), ordering="provider")
    def provider_name(self, call: ProviderCall) -> str:
        return provider_label(call.provider)


# --- Prospect list action and change-page panel -------------------------------------------


PANEL_TEMPLATE = "enrichment/prospect_panel.html"
HISTORY_TEMPLATE = "enrichment/history_panel.html"
IMPORT_PANEL_TEMPLATE = "enrichment/import_panel.html"

if all(action.__name__ != reenrich.__name__ for action in prospects_admin.PROSPECT_ACTIONS):
    prospects_admin.PROSPECT_ACTIONS.append(reenrich)
for panel in (PANEL_TEMPLATE, HISTORY_TEMPLATE):
    if panel not in prospects_admin.PROSPECT_PANELS:
        prospects_admin.PROSPECT_PANELS.append(panel)
if IMPORT_PANEL_TEMPLATE not in prospects_admin.IMPORT_PANELS:
    prospects_admin.IMPORT_PANELS.append(IMPORT_PANEL_TEMPLATE)

# The job, cascade and cost screens live in their own modules; importing them registers them.
from . import (  # noqa: E402, F401
    admin_cascade,
    admin_costs,
    admin_discovery,
    admin_discovery_jobs,
    admin_jobs,
    admin_webhooks,
)
