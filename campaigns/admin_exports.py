"""A campaign's page beyond its fields: who will be sent to, who is left out and why, and the
send list and the exclusions as CSV files, the gate checked again at export time."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import slugify

from . import services
from .models import Campaign

# Excluded members listed on the page; the rest are in the exclusions file.
PAGE_EXCLUDED = 200


class CampaignExportMixin:
    """For CampaignAdmin: the send list's summary on the page, and its two CSV downloads."""

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        send = self.admin_site.admin_view(self.send_list_view)
        excluded = self.admin_site.admin_view(self.excluded_view)
        return [
            path("<int:campaign_id>/send-list.csv", send, name="{}_{}_send_list".format(*info)),
            path("<int:campaign_id>/excluded.csv", excluded, name="{}_{}_excluded".format(*info)),
            *super().get_urls(),
        ]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None
    ) -> HttpResponse:
        campaign = self.get_object(request, object_id)
        if campaign is None:
            # Another workspace's campaign and a missing one look the same: not found.
            raise Http404
        send_list = services.build_send_list(campaign)
        info = self.opts.app_label, self.opts.model_name
        extra = {
            **(extra_context or {}),
            "send_count": len(send_list.included),
            "excluded": send_list.excluded[:PAGE_EXCLUDED],
            "excluded_count": len(send_list.excluded),
            "send_list_url": reverse("admin:{}_{}_send_list".format(*info), args=[campaign.pk]),
            "excluded_url": reverse("admin:{}_{}_excluded".format(*info), args=[campaign.pk]),
            "outreach_url": reverse("admin:{}_{}_outreach".format(*info), args=[campaign.pk]),
        }
        return super().change_view(request, object_id, form_url, extra)

    def _campaign(self, request: HttpRequest, campaign_id: int) -> Campaign:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(self.get_queryset(request), pk=campaign_id)

    def send_list_view(self, request: HttpRequest, campaign_id: int) -> HttpResponse:
        campaign = self._campaign(request, campaign_id)
        lines = services.send_list_csv(campaign, bom=request.GET.get("bom") != "0")
        return _download(lines, campaign, "envoi")

    def excluded_view(self, request: HttpRequest, campaign_id: int) -> HttpResponse:
        campaign = self._campaign(request, campaign_id)
        lines = services.excluded_csv(campaign, bom=request.GET.get("bom") != "0")
        return _download(lines, campaign, "exclus")


def _download(lines: Any, campaign: Campaign, suffix: str) -> HttpResponse:
    # Built whole: the send list is read (and the gate checked) before the first byte.
    response = HttpResponse("".join(lines), content_type="text/csv; charset=utf-8")
    stem = slugify(campaign.name) or "campagne"
    stamp = timezone.localtime().strftime("%Y%m%d")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{stem}-{suffix}-{stamp}.csv"
    )
    return response
