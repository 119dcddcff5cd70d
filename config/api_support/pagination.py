"""`page` and `limit` (default 50, at most 100) with totals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.db.models import QuerySet
from ninja import Field, Schema

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 100


class PageQuery(Schema):
    page: int = Field(1, ge=1, le=1_000_000)
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class Page(Schema, Generic[T]):
    items: list[T]
    count: int
    page: int
    limit: int
    pages: int


def paginate(
    queryset: QuerySet, query: PageQuery, serialize: Callable[[Any], Any] | None = None
) -> dict:
    """One page of the queryset (already ordered) and the totals; a page past the end is empty."""
    count = queryset.count()
    start = (query.page - 1) * query.limit
    rows = list(queryset[start : start + query.limit]) if start < count else []
    return {
        "items": [serialize(row) for row in rows] if serialize else rows,
        "count": count,
        "page": query.page,
        "limit": query.limit,
        "pages": (count + query.limit - 1) // query.limit,
    }
