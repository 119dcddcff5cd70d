"""Merging companies that are one: their prospects and provenance go to the company kept.

Written against the model classes it is given, so that the data migration can run it with
its historical models and the app with its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import normalize
from .models import COMPANY_FIELDS

# Filled on the company kept from the others when it has no value of its own.
FILLED_FIELDS = tuple(name for name in COMPANY_FIELDS if name != "name")


def _rows(model: Any, workspace_id: int):
    rows = model._default_manager.all()
    if hasattr(rows, "for_workspace"):
        return rows.for_workspace(workspace_id)
    return rows.filter(workspace_id=workspace_id)


def _bare(company: Any) -> bool:
    return not company.domain and not company.siren


def keep_order(company: Any) -> tuple:
    """The company kept from a group: the one with a SIREN, else a domain, else the oldest."""
    return (not company.siren, not company.domain, company.pk)


def merge_into(kept: Any, others: Sequence[Any], *, prospect_model: Any, provenance_model: Any):
    """Move the others' prospects and provenance rows to `kept`, fill its empty fields from
    them, delete them. Returns `kept`, saved."""
    others = [c for c in others if c.pk != kept.pk]
    if not others:
        return kept
    workspace_id = kept.workspace_id
    filled: dict[str, Any] = {}
    source_of: dict[str, int] = {}
    for other in sorted(others, key=keep_order):
        for field in FILLED_FIELDS:
            value = getattr(other, field)
            if (
                value not in (None, "")
                and getattr(kept, field) in (None, "")
                and field not in filled
            ):
                filled[field] = value
                source_of[field] = other.pk
    provenance = _rows(provenance_model, workspace_id)
    other_ids = [c.pk for c in others]
    # The stored value stays the stored one; another company's stored value becomes a candidate,
    # unless it is the value just taken from it.
    for other in others:
        taken = [field for field, pk in source_of.items() if pk == other.pk]
        provenance.filter(company_id=other.pk, is_current=True).exclude(field__in=taken).update(
            is_current=False
        )
    provenance.filter(company_id__in=other_ids).update(company_id=kept.pk)
    prospects = _rows(prospect_model, workspace_id)
    prospects.filter(company_id__in=other_ids).update(company_id=kept.pk)
    # Deleted before the kept one takes their domain: the domain is unique in a workspace.
    type(kept)._default_manager.filter(workspace_id=workspace_id, pk__in=other_ids).delete()
    if filled:
        for field, value in filled.items():
            setattr(kept, field, value)
        type(kept)._default_manager.filter(workspace_id=workspace_id, pk=kept.pk).update(**filled)
    refresh_name_keys(kept, prospect_model=prospect_model)
    return kept


def refresh_name_keys(company: Any, *, prospect_model: Any) -> int:
    """Give the company's prospects the name key of the company they now belong to (a key
    another prospect already has is left as it is: merging never deletes a person)."""
    key = normalize.company_key(company.domain, company.name)
    prospects = _rows(prospect_model, company.workspace_id)
    changed = 0
    for pk, first, last, old in prospects.filter(company_id=company.pk).values_list(
        "pk", "first_name", "last_name", "name_key"
    ):
        new = normalize.name_key(first, last, key)
        if new == old or (new and prospects.filter(name_key=new).exists()):
            continue
        prospects.filter(pk=pk).update(name_key=new)
        changed += 1
    return changed


def duplicate_groups(companies: Sequence[Any]) -> list[list[Any]]:
    """Groups of one workspace's companies that are one: same SIREN, or same domain, or the
    same folded name where at least one is bare (a bare one between two companies of that
    name with different domains is ambiguous: it joins only the other bare ones)."""
    parent = {c.pk: c.pk for c in companies}

    def root(pk: int) -> int:
        while parent[pk] != pk:
            parent[pk] = parent[parent[pk]]
            pk = parent[pk]
        return pk

    def union(a: int, b: int) -> None:
        parent[root(a)] = root(b)

    for attribute in ("siren", "domain"):
        first: dict[str, int] = {}
        for company in companies:
            value = getattr(company, attribute)
            if value:
                if value in first:
                    union(company.pk, first[value])
                else:
                    first[value] = company.pk
    by_name: dict[str, list[Any]] = {}
    for company in companies:
        if company.name_key:
            by_name.setdefault(company.name_key, []).append(company)
    for group in by_name.values():
        bare = [c for c in group if _bare(c)]
        if not bare:
            continue
        identified = {root(c.pk) for c in group if not _bare(c)}
        for company in bare[1:]:
            union(company.pk, bare[0].pk)
        if len(identified) == 1:
            union(bare[0].pk, identified.pop())
    groups: dict[int, list[Any]] = {}
    for company in companies:
        groups.setdefault(root(company.pk), []).append(company)
    return [group for group in groups.values() if len(group) > 1]


def merge_duplicate_companies(
    company_model: Any, prospect_model: Any, provenance_model: Any, *, workspace_model: Any
) -> int:
    """Merge every workspace's duplicate companies; returns how many were merged away."""
    merged = 0
    for workspace_id in workspace_model._default_manager.values_list("pk", flat=True):
        companies = list(_rows(company_model, workspace_id).order_by("pk"))
        for group in duplicate_groups(companies):
            kept = min(group, key=keep_order)
            merge_into(
                kept, group, prospect_model=prospect_model, provenance_model=provenance_model
            )
            merged += len(group) - 1
    return merged
