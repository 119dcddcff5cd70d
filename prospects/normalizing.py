"""Keeping the derived fields in step with what they are read from, after every write.

A prospect's seniority and department come from its job title, a company's industry code
from its industry and its legal form from its name (`prospects.normalizers`). Every path that
writes those fields calls `apply_normalizers` once for all it wrote; `normalize_records`
fills rows written before the fields existed. Exposed to other apps through `services`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection, models, transaction

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


def _json_values(column: str) -> str:
    """SQL reading a JSON array parameter as a set of `column` values (ids as integers)."""
    if connection.vendor == "postgresql":
        cast = "::bigint" if column == "id" else ""
        return f"SELECT value{cast} FROM json_array_elements_text(%s::json)"  # noqa: S608
    return "SELECT value FROM json_each(%s)"


def _read(model: type[models.Model], workspace_id: int, ids: set[int], columns: list[str]):
    """(id, *columns) of the workspace's rows among `ids`.

    SQL with the ids as one JSON parameter, the list driving the join (CROSS JOIN keeps that
    order on SQLite): an ORM `pk__in` inside the workspace made SQLite walk the workspace's
    index instead, for each chunk of an import, and prepared each id in Python.
    """
    quote = connection.ops.quote_name
    keys = (
        "json_array_elements_text(%s::json)"
        if connection.vendor == "postgresql"
        else "json_each(%s)"
    )
    key = "k.value::bigint" if connection.vendor == "postgresql" else "k.value"
    selected = ", ".join(f"t.{quote(name)}" for name in ["id", *columns])
    sql = (
        f"SELECT {selected} FROM {keys} AS k CROSS JOIN {quote(model._meta.db_table)} t "  # noqa: S608
        f"WHERE t.id = {key} AND t.workspace_id = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [json.dumps(sorted(ids)), workspace_id])
        return cursor.fetchall()


def _update(
    model: type[models.Model], ids: list[int], values: dict[str, str], sources: dict[str, set]
) -> int:
    """Set `values` on rows `ids` whose sources still hold one of the values derived from."""
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(name)} = %s" for name in values)
    conditions = " AND ".join(
        f"{quote(name)} IN ({_json_values(name)})" for name in ["id", *sources]
    )
    params = [*values.values(), json.dumps(ids), *(json.dumps(sorted(v)) for v in sources.values())]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {conditions}",  # noqa: S608
            params,
        )
        return cursor.rowcount


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
    Only ids read back inside the workspace are updated.
    """
    ids, instances = _split(records)
    if not ids:
        return 0
    groups: dict[tuple[str, ...], tuple[list[int], list[set[str]]]] = {}
    for pk, *values in _read(model, workspace_id, ids, [*sources, *targets]):
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
        written += _update(
            model,
            pks,
            dict(zip(targets, derived, strict=True)),
            dict(zip(sources, seen, strict=True)),
        )
    return written


def derived_prospect_fields(job_title: str) -> tuple[str, str]:
    """(seniority, department) of a job title: what `apply_normalizers` stores."""
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
            derive=derived_prospect_fields,
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
