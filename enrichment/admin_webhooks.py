"""Webhooks in the admin, for the workspace's administrators: endpoints (the secret shown once
when created or rotated, never again), disabling them, and the delivery log with "Renvoyer"."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from prospects.admin_base import WorkspaceScopedAdmin, scope_for

from .admin import ReadOnlyScopedAdmin
from .webhooks import services
from .webhooks.delivery import ERRORS
from .webhooks.models import EventType, WebhookDelivery, WebhookEndpoint

SHOWN_ONCE_TEMPLATE = "admin/enrichment/webhookendpoint/secret.html"
ROTATE_TEMPLATE = "admin/enrichment/webhookendpoint/rotate.html"


class WebhookEndpointForm(forms.ModelForm):
    """The URL (checked by the address guard) and the events; the secret is never a field."""

    url = forms.CharField(
        label=_("URL"),
        max_length=2000,
        help_text=_("A public http or https address, on port 80 or 443."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=EventType.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("url", "events")

    def clean_url(self) -> str:
        try:
            return services.check_url(self.cleaned_data["url"])
        except services.EndpointRefused as refused:
            raise forms.ValidationError(str(refused)) from refused

    def clean_events(self) -> list[str]:
        try:
            return services.check_events(self.cleaned_data["events"])
        except services.EndpointRefused as refused:
            raise forms.ValidationError(str(refused)) from refused


class MissingIs404:
    """Another workspace's row and a missing one: the same 404 (not the admin's redirect)."""

    def _found_or_404(self, request: HttpRequest, object_id: str) -> None:
        if self.get_object(request, object_id) is None:
            raise Http404

    def change_view(self, request: HttpRequest, object_id: str, *args: Any, **kwargs: Any):
        self._found_or_404(request, object_id)
        return super().change_view(request, object_id, *args, **kwargs)

    def delete_view(self, request: HttpRequest, object_id: str, *args: Any, **kwargs: Any):
        self._found_or_404(request, object_id)
        return super().delete_view(request, object_id, *args, **kwargs)

    def history_view(self, request: HttpRequest, object_id: str, *args: Any, **kwargs: Any):
        self._found_or_404(request, object_id)
        return super().history_view(request, object_id, *args, **kwargs)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(MissingIs404, WorkspaceScopedAdmin):
    admin_only = True
    hidden_from_members = True
    form = WebhookEndpointForm
    list_display = ("url", "event_list", "state", "created_at", "log_link")
    actions = ("disable", "enable")

    def get_fields(self, request: HttpRequest, obj: Any = None):
        return ("url", "events") if obj is None else ("url", "events", "state", "rotate_link")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None):
        return () if obj is None else ("state", "rotate_link")

    @admin.display(description=_("events"))
    def event_list(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.events)

    @admin.display(description=_("state"))
    def state(self, endpoint: WebhookEndpoint) -> str:
        if endpoint.is_active:
            return gettext("Active")
        return gettext("Disabled: %(reason)s") % {"reason": endpoint.get_disabled_reason_display()}

    @admin.display(description=_("deliveries"))
    def log_link(self, endpoint: WebhookEndpoint) -> str:
        url = reverse("admin:enrichment_webhookdelivery_changelist")
        return format_html('<a href="{}?endpoint={}">{}</a>', url, endpoint.pk, gettext("Log"))

    @admin.display(description=_("secret"))
    def rotate_link(self, endpoint: WebhookEndpoint) -> str:
        url = reverse("admin:enrichment_webhookendpoint_rotate", args=[endpoint.pk])
        return format_html('<a class="button" href="{}">{}</a>', url, gettext("Rotate the secret"))

    def save_model(self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool):
        data = form.cleaned_data
        if change:
            services.update_endpoint(obj.workspace, obj.pk, url=data["url"], events=data["events"])
            return
        endpoint, secret = services.create_endpoint(
            request.workspace, url=data["url"], events=data["events"], user=request.user
        )
        # The admin expects `obj` saved: point it at the row the service stored.
        obj.pk, obj.workspace_id, obj._state.adding = endpoint.pk, endpoint.workspace_id, False
        obj._secret_shown_once = secret

    def delete_model(self, request: HttpRequest, obj: WebhookEndpoint) -> None:
        services.delete_endpoint(obj.workspace, obj.pk)

    def get_deleted_objects(self, objs, request: HttpRequest):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        # The delivery log goes with its endpoint; nobody deletes log rows one by one.
        log = str(WebhookDelivery._meta.verbose_name)
        return deleted, counts, {p for p in perms_needed if str(p) != log}, protected

    def response_add(self, request: HttpRequest, obj: WebhookEndpoint, post_url_continue=None):
        # Rendered here, never stored (not in a message, not in the session).
        return self.secret_page(request, obj, obj._secret_shown_once, created=True)

    def secret_page(
        self, request: HttpRequest, endpoint: WebhookEndpoint, secret: str, *, created: bool
    ) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Signing secret"),
            "endpoint": endpoint,
            "secret": secret,
            "created": created,
            "change_url": reverse("admin:enrichment_webhookendpoint_change", args=[endpoint.pk]),
        }
        response = TemplateResponse(request, SHOWN_ONCE_TEMPLATE, context)
        response["Cache-Control"] = "no-store"
        return response

    def get_urls(self):
        rotate = self.admin_site.admin_view(self.rotate_view)
        return [
            path("<int:endpoint_id>/rotate/", rotate, name="enrichment_webhookendpoint_rotate"),
            *super().get_urls(),
        ]

    def rotate_view(self, request: HttpRequest, endpoint_id: int) -> HttpResponse:
        """'Changer le secret': a confirmation, then (POST) the new secret, shown once."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        endpoint = get_object_or_404(self.get_queryset(request), pk=endpoint_id)
        if request.method == "POST":
            secret = services.rotate_secret(endpoint.workspace, endpoint.pk)
            return self.secret_page(request, endpoint, secret, created=False)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Rotate the secret"),
            "endpoint": endpoint,
            "change_url": reverse("admin:enrichment_webhookendpoint_change", args=[endpoint.pk]),
        }
        return TemplateResponse(request, ROTATE_TEMPLATE, context)

    @admin.action(description=_("Disable the selected endpoints"))
    def disable(self, request: HttpRequest, queryset) -> None:
        endpoints = list(queryset.filter(is_active=True))
        for endpoint in endpoints:
            services.disable_endpoint(endpoint.workspace, endpoint.pk)
        count = len(endpoints)
        self.message_user(
            request,
            ngettext("%(count)s endpoint disabled.", "%(count)s endpoints disabled.", count)
            % {"count": count},
        )

    @admin.action(description=_("Enable the selected endpoints"))
    def enable(self, request: HttpRequest, queryset) -> None:
        enabled = 0
        for endpoint in queryset.filter(is_active=False):
            try:
                services.enable_endpoint(endpoint.workspace, endpoint.pk)
            except services.EndpointRefused as refused:
                self.message_user(request, f"{endpoint.url} — {refused}", messages.WARNING)
            else:
                enabled += 1
        self.message_user(
            request,
            ngettext("%(count)s endpoint enabled.", "%(count)s endpoints enabled.", enabled)
            % {"count": enabled},
        )


class EndpointFilter(admin.SimpleListFilter):
    """The workspace's endpoints (a related filter would list every workspace's)."""

    title = _("endpoint")
    parameter_name = "endpoint"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin):
        rows = scope_for(request, WebhookEndpoint.objects.all()).values_list("pk", "url")
        return [(str(pk), url) for pk, url in rows]

    def queryset(self, request: HttpRequest, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(endpoint_id=int(self.value()))
        return queryset


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(MissingIs404, ReadOnlyScopedAdmin):
    hidden_from_members = True
    list_display = (
        "event_type",
        "webhook_id",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "error_text",
        "next_attempt",
        "latency_ms",
        "created_at",
    )
    list_filter = ("status", EndpointFilter)
    list_select_related = ("event", "endpoint")
    search_fields = ("event__event_id",)
    actions = ("resend",)
    fields = list_display

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None):
        return self.fields

    @admin.display(description=_("event"), ordering="event__type")
    def event_type(self, row: WebhookDelivery) -> str:
        return row.event.get_type_display()

    @admin.display(description=_("webhook-id"))
    def webhook_id(self, row: WebhookDelivery) -> str:
        return row.event.event_id

    @admin.display(description=_("error"))
    def error_text(self, row: WebhookDelivery) -> str:
        return str(ERRORS.get(row.error, row.error)) if row.error else "—"

    @admin.display(description=_("next attempt"), ordering="next_attempt_at")
    def next_attempt(self, row: WebhookDelivery):
        return row.next_attempt_at if row.status == WebhookDelivery.Status.PENDING else "—"

    @admin.action(description=_("Resend"))
    def resend(self, request: HttpRequest, queryset) -> None:
        workspace = getattr(request, "workspace", None)
        if workspace is None:
            self.message_user(request, gettext("Choose a workspace first."), messages.WARNING)
            return
        count = services.redeliver(workspace, list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request,
            ngettext(
                "%(count)s delivery will be sent again.",
                "%(count)s deliveries will be sent again.",
                count,
            )
            % {"count": count},
        )
