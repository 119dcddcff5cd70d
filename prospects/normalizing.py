"""Keeping the derived fields in step with what they are read from, after every write.

A prospect's seniority and department come from its job title, a company's industry code
from its industry and its legal form from its name (`prospects.normalizers`). Every path that
writes those fields calls `apply_normalizers` once for all it wrote; `normalize_records`
fills rows written before the fields existed. Exposed to other apps through `services`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction

from . import normalizers
from .models import Company, Prospect


@dataclass
class NormalizedCount:
    """How many rows had a derived field (re)written."""

    prospects: int = 0
    companies: int = 0


def _split(records: Iterable[models.Model | int | None]) -> tuple[set[int], dict[int, Any]]:
    """(ids, instances by id) of records given as instances or ids."""
    ids: set[int] = set()
    instances: dict[int, Any] = {}
    for record in records:
        if isinstance(record, models.Model):
            if record.pk is not None:
                ids.add(record.pk)
                instances[record.pk] = record
        elif record is not None:
            ids.add(int(record))
    return ids, instances


def _write_changes(
    model: type[models.Model],
    workspace_id: int,
    records: Iterable[models.Model | int | None],
    *,
    sources: tuple[str, ...],
    derive: Callable[..., tuple[str, ...]],
    targets: tuple[str, ...],
) -> int:
    """Derive `targets` from `sources` for each record; one UPDATE per distinct result.

    Each UPDATE is also conditional on the source values it was derived from (any of the
    group's): a row whose source changed meanwhile is left to the write that changed it,
    which derives again, so a slow run never stores a value derived from an old title.
    """
    ids, instances = _split(records)
    if not ids:
        return 0
    scope = model.objects.for_workspace(workspace_id)
    groups: dict[tuple[str, ...], tuple[list[int], list[set[str]]]] = {}
    for pk, *values in scope.filter(pk__in=ids).values_list("pk", *sources, *targets):
        given, stored = tuple(values[: len(sources)]), tuple(values[len(sources) :])
        derived = derive(*given)
        if pk in instances:
            for name, value in zip(targets, derived, strict=True):
                setattr(instances[pk], name, value)
        if derived == stored:
            continue
        pks, seen = groups.setdefault(derived, ([], [set() for _ in sources]))
        pks.append(pk)
        for values_seen, value in zip(seen, given, strict=True):
            values_seen.add(value)
    written = 0
    for derived, (pks, seen) in groups.items():
        conditions = {
            f"{name}__in": sorted(values) for name, values in zip(sources, seen, strict=True)
        }
        written += scope.filter(pk__in=pks, **conditions).update(
            **dict(zip(targets, derived, strict=True))
        )
    return written


def _prospect_fields(job_title: str) -> tuple[str, str]:
    return normalizers.seniority_of(job_title), normalizers.department_of(job_title)


def _company_fields(industry: str, name: str) -> tuple[str, str]:
    return normalizers.industry_of(industry), normalizers.clean_legal_form(name)[1]


def apply_normalizers(
    workspace_id: int,
    *,
    prospects: Iterable[Prospect | int | None] = (),
    companies: Iterable[Company | int | None] = (),
) -> NormalizedCount:
    """Derive seniority, department, industry code and legal form of these records (instances
    or ids) from their stored values; write only what changed, a few UPDATEs in all. Given
    instances get the derived values too."""
    return NormalizedCount(
        prospects=_write_changes(
            Prospect,
            workspace_id,
            prospects,
            sources=("job_title",),
            derive=_prospect_fields,
            targets=("seniority", "department"),
        ),
        companies=_write_changes(
            Company,
            workspace_id,
            companies,
            sources=("industry", "name"),
            derive=_company_fields,
            targets=("industry_code", "legal_form"),
        ),
    )


@dataclass
class BackfillCount:
    """What `normalize_records` read and rewrote."""

    prospects_read: int = 0
    companies_read: int = 0
    prospects_written: int = 0
    companies_written: int = 0

    def add(self, kind: str, *, read: int, written: int) -> None:
        setattr(self, f"{kind}_read", getattr(self, f"{kind}_read") + read)
        setattr(self, f"{kind}_written", getattr(self, f"{kind}_written") + written)


def count_records(workspace_ids: list[int]) -> int:
    """Prospects and companies of these workspaces: the length of a backfill's progress bar."""
    total = 0
    for model in (Prospect, Company):
        total += model.objects.unscoped().filter(workspace_id__in=workspace_ids).count()
    return total


def normalize_records(
    workspace_ids: list[int],
    *,
    batch_size: int = 1000,
    progress: Callable[[int], Any] | None = None,
) -> BackfillCount:
    """Derive the fields of every prospect and company of these workspaces, batch by batch.

    Each batch is its own short transaction, read in id order: stopped anywhere, a re-run
    reads again but writes only rows still out of step (none, the second time).
    """
    count = BackfillCount()
    for workspace_id in workspace_ids:
        for model, kind in ((Company, "companies"), (Prospect, "prospects")):
            scope = model.objects.for_workspace(workspace_id).order_by("pk")
            last = 0
            while ids := list(scope.filter(pk__gt=last).values_list("pk", flat=True)[:batch_size]):
                last = ids[-1]
                with transaction.atomic():
                    written = getattr(apply_normalizers(workspace_id, **{kind: ids}), kind)
                count.add(kind, read=len(ids), written=written)
                if progress:
                    progress(len(ids))
    return count
