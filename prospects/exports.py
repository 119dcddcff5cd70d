"""Prospects as a CSV file: a selection from the list, or a campaign's send list (campaigns)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from .models import Prospect
from .services import objecting_prospect_ids
from .spreadsheet import csv_lines

CHUNK = 2000


def prospect_header() -> list[str]:
    return [
        _("First name"),
        _("Last name"),
        _("Email"),
        _("Phone"),
        _("Job title"),
        _("Company"),
        _("Domain"),
        _("LinkedIn URL"),
        _("Status"),
        _("Verified at"),
        _("Source"),
    ]


def prospect_row(prospect: Prospect) -> list[object]:
    company = prospect.company
    verified = (
        formats.date_format(timezone.localtime(prospect.verified_at), "SHORT_DATE_FORMAT")
        if prospect.verified_at
        else ""
    )
    return [
        prospect.first_name,
        prospect.last_name,
        prospect.email,
        prospect.phone,
        prospect.job_title,
        company.name if company else "",
        company.domain if company else "",
        prospect.linkedin_url,
        prospect.get_status_display(),
        verified,
        prospect.get_source_display(),
    ]


@dataclass
class SelectionExport:
    """The lines of the file, and the objectors left out of it (known before it streams)."""

    lines: Iterator[str]
    left_out: set[int]


def export_selection(queryset: QuerySet, *, bom: bool = True) -> SelectionExport:
    """The selected prospects as CSV; people on the objection list are left out of the file."""
    left_out: set[int] = set()
    for chunk in _chunks(
        queryset.select_related(None).only("pk", "workspace_id", "email", "phone")
    ):
        left_out |= _objected(chunk)

    def rows() -> Iterator[list[object]]:
        for chunk in _chunks(queryset.select_related("company")):
            yield from (prospect_row(p) for p in chunk if p.pk not in left_out)

    return SelectionExport(csv_lines(prospect_header(), rows(), bom=bom), left_out)


def _objected(prospects: list[Prospect]) -> set[int]:
    by_workspace: dict[int, list[Prospect]] = {}
    for prospect in prospects:
        by_workspace.setdefault(prospect.workspace_id, []).append(prospect)
    found: set[int] = set()
    for workspace_id, group in by_workspace.items():
        found |= objecting_prospect_ids(workspace_id, group)
    return found


def _chunks(queryset: QuerySet) -> Iterable[list[Prospect]]:
    """The rows in chunks read by primary key: constant memory, one objection query each."""
    last = 0
    while True:
        chunk = list(queryset.filter(pk__gt=last).order_by("pk")[:CHUNK])
        if not chunk:
            return
        yield chunk
        last = chunk[-1].pk
