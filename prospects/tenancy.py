"""Tenant scoping that fails closed.

Every tenant-owned model uses `TenantManager`. A queryset built from it refuses to touch the
database until it has been scoped: `for_workspace(ws)` for people's requests, `unscoped()` for
code that deliberately works across workspaces (superusers, the beat sweeper). Forgetting the
workspace raises `UnscopedQueryError` instead of silently returning every tenant's rows.

Two implicit scopes are accepted because they cannot leak: related managers
(`company.prospects.all()`, bound to one row that already belongs to a workspace) and querysets
filtered on the workspace column (Django's own unique and constraint checks build those).
"""

from __future__ import annotations

from typing import Any, Self

from django.conf import settings
from django.db import models
from django.db.models.lookups import Lookup
from django.db.models.sql.where import WhereNode
from django.utils.translation import gettext_lazy as _


class UnscopedQueryError(RuntimeError):
    """A tenant-owned table was queried without a workspace."""


def _filters_on_workspace(node: Any) -> bool:
    if isinstance(node, WhereNode):
        # An OR could widen the scope again; only an AND of conditions counts.
        if node.connector != "AND" or node.negated:
            return False
        return any(_filters_on_workspace(child) for child in node.children)
    if isinstance(node, Lookup):
        target = getattr(node.lhs, "target", None)
        return getattr(target, "name", None) == "workspace" and node.lookup_name in {
            "exact",
            "in",
        }
    return False


class TenantQuerySet(models.QuerySet):
    _scoped: bool = False

    def for_workspace(self, workspace: Any) -> Self:
        """Rows of one workspace (a Workspace or its id); None scopes to nothing."""
        qs = self.none() if workspace is None else self.filter(workspace=workspace)
        qs._scoped = True
        return qs

    def unscoped(self) -> Self:
        """Every workspace's rows, on purpose (superusers, system sweeps)."""
        qs = self._chain()
        qs._scoped = True
        return qs

    def _clone(self) -> Self:
        clone = super()._clone()
        clone._scoped = self._scoped
        return clone

    def _check_scope(self) -> None:
        if self._scoped or self._hints.get("instance") is not None:
            return
        if _filters_on_workspace(self.query.where):
            return
        raise UnscopedQueryError(
            f"{self.model.__name__} queried without a workspace: use "
            f".for_workspace(ws) or, deliberately, .unscoped()."
        )

    def _fetch_all(self) -> None:
        if self._result_cache is None:
            self._check_scope()
        super()._fetch_all()

    def iterator(self, chunk_size: int | None = None):
        self._check_scope()
        return super().iterator(chunk_size=chunk_size)

    def count(self) -> int:
        if self._result_cache is None:
            self._check_scope()
        return super().count()

    def exists(self) -> bool:
        if self._result_cache is None:
            self._check_scope()
        return super().exists()

    def aggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self._check_scope()
        return super().aggregate(*args, **kwargs)

    def update(self, **kwargs: Any) -> int:
        self._check_scope()
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        self._check_scope()
        return super().delete()


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    pass


def user_reference(verbose_name: str, *, db_index: bool = True) -> models.ForeignKey:
    """Who did something (created, added, updated): kept as history, never a cascade."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=verbose_name,
        db_index=db_index,
    )


class TenantModel(models.Model):
    """Abstract base for rows owned by one workspace."""

    workspace = models.ForeignKey(
        "prospects.Workspace",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("workspace"),
    )

    objects = TenantManager()

    class Meta:
        abstract = True
