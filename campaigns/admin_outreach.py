"""'Envoyer à un outil (webhook)': a campaign's send list, or the prospect list's selection, to
one of the workspace's webhook endpoints, after a confirmation page that names the endpoint,
who goes and who is left out and why."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from enrichment.webhooks.models import EventType, WebhookEndpoint
from prospects.admin_base import say_none_selected
from prospects.models import Prospect

from . import outreach, services

TEMPLATE = "admin/campaigns/outreach_confirm.html"
PAGE_EXCLUDED = 200


class OutreachForm(forms.Form):
    endpoint = forms.TypedChoiceField(label=_("Send to"), coerce=int, choices=())
    export_id = forms.RegexField(regex=outreach.EXPORT_ID, widget=forms.HiddenInput)

    def __init__(self, *args: Any, endpoints: list[WebhookEndpoint], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["endpoint"].choices = [(e.pk, e.url) for e in endpoints]
        self.fields["export_id"].initial = uuid.uuid4().hex


def sent_message(result: outreach.OutreachExport, endpoint: WebhookEndpoint) -> str:
    if not result.deliveries:
        return gettext("This list had already been sent: nothing was sent again.")
    return ngettext(
        "%(count)s prospect sent to %(url)s (%(chunks)s delivery).",
        "%(count)s prospects sent to %(url)s (%(chunks)s deliveries).",
        result.sent,
    ) % {"count": result.sent, "url": endpoint.url, "chunks": result.deliveries}


def left_out_message(result: outreach.OutreachExport) -> str:
    return ngettext(
        "%(count)s prospect left out (unverified, without an address or on the objection "
        "list): see the reasons on the confirmation page.",
        "%(count)s prospects left out (unverified, without an address or on the objection "
        "list): see the reasons on the confirmation page.",
        len(result.excluded),
    ) % {"count": len(result.excluded)}


def _confirm(request: HttpRequest, context: dict[str, Any], event_type: str, send_list) -> Any:
    context.update(
        event_type=event_type,
        send_count=len(send_list.included),
        excluded=send_list.excluded[:PAGE_EXCLUDED],
        excluded_count=len(send_list.excluded),
        endpoints_url=reverse("admin:enrichment_webhookendpoint_changelist"),
    )
    return TemplateResponse(request, TEMPLATE, context)


def _send(request: HttpRequest, form: OutreachForm, send: Any) -> bool:
    """Send through `send(endpoint_id, export_id)`; tell the person how it went."""
    endpoint_id = form.cleaned_data["endpoint"]
    try:
        result = send(endpoint_id=endpoint_id, export_id=form.cleaned_data["export_id"])
    except WebhookEndpoint.DoesNotExist:
        form.add_error("endpoint", gettext("This endpoint can no longer receive this list."))
        return False
    endpoint = WebhookEndpoint.objects.for_workspace(request.workspace).get(pk=endpoint_id)
    messages.success(request, sent_message(result, endpoint))
    if result.excluded and result.deliveries:
        messages.warning(request, left_out_message(result))
    return True


class CampaignOutreachMixin:
    """For CampaignAdmin: the campaign page's 'Envoyer à un outil (webhook)'."""

    def get_urls(self):
        view = self.admin_site.admin_view(self.outreach_view)
        name = f"{self.opts.app_label}_{self.opts.model_name}_outreach"
        return [path("<int:campaign_id>/webhook/", view, name=name), *super().get_urls()]

    def outreach_view(self, request: HttpRequest, campaign_id: int) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        campaign = get_object_or_404(self.get_queryset(request), pk=campaign_id)
        event_type = EventType.CAMPAIGN_EXPORTED
        endpoints = outreach.endpoints_for(campaign.workspace, event_type)
        form = OutreachForm(request.POST or None, endpoints=endpoints)
        campaign_url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
        if request.method == "POST" and form.is_valid():
            send = lambda **kw: outreach.send_campaign(campaign, **kw)  # noqa: E731
            if _send(request, form, send):
                return HttpResponseRedirect(campaign_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Send “%(campaign)s” to a tool (webhook)") % {"campaign": campaign},
            "form": form,
            "cancel_url": campaign_url,
        }
        return _confirm(request, context, event_type, services.build_send_list(campaign))


@admin.action(description=_("Send to a tool (webhook)"))
def send_to_tool(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: Any):
    """The prospect list's action: choose the endpoint, see who goes, confirm."""
    workspace = getattr(request, "workspace", None)
    if workspace is None or not queryset.exists():
        say_none_selected(modeladmin, request)
        return None
    event_type = EventType.PROSPECTS_EXPORTED
    endpoints = outreach.endpoints_for(workspace, event_type)
    form = OutreachForm(request.POST if "apply" in request.POST else None, endpoints=endpoints)
    if form.is_bound and form.is_valid():
        send = lambda **kw: outreach.send_selection(workspace, queryset, **kw)  # noqa: E731
        if _send(request, form, send):
            return None
    prospects = list(queryset.select_related("company").order_by("pk")[: outreach.SELECTION_CHUNK])
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": Prospect._meta,
        "title": gettext("Send the selected prospects to a tool (webhook)"),
        "form": form,
        "cancel_url": reverse("admin:prospects_prospect_changelist"),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "action_name": "send_to_tool",
        "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        "select_across": request.POST.get("select_across", "0"),
        "selection_total": queryset.count(),
    }
    return _confirm(request, context, event_type, services.gate(workspace.pk, prospects))
