"""The prospect list's CSV exports: the selection, for French Excel (BOM) or plain UTF-8."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import exports


def csv_response(lines: Any, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=filename
    )
    return response


def _export(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: Any, *, bom: bool):
    export = exports.export_selection(queryset, bom=bom)
    if export.left_out:
        # Shown on the next page: the download itself cannot carry a message.
        messages.warning(
            request,
            ngettext(
                "%(count)s selected prospect is on the objection list and was left out of "
                "the export.",
                "%(count)s selected prospects are on the objection list and were left out of "
                "the export.",
                len(export.left_out),
            )
            % {"count": len(export.left_out)},
        )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return csv_response(export.lines, f"prospects-{stamp}.csv")


@admin.action(description=_("Export as CSV (Excel)"))
def export_csv_excel(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: Any):
    """`;`-separated, UTF-8 with a byte-order mark: Excel in French reads the accents."""
    return _export(modeladmin, request, queryset, bom=True)


@admin.action(description=_("Export as CSV (UTF-8 without BOM)"))
def export_csv_plain(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: Any):
    """The same file without the byte-order mark, for tools that do not expect one."""
    return _export(modeladmin, request, queryset, bom=False)
