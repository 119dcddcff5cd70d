"""Model instances made in bulk without Django's constructor, for the probe path.

A discovery wave reads and creates probe rows by the hundred; `Model.__init__` (each field's
default, descriptors, signals) cost more than the statements themselves. These are real
instances all the same, every concrete field set, `save()` and `refresh_from_db()` as usual;
the models made here have no init signals to skip.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from django.db import models
from django.db.models.base import ModelState

M = TypeVar("M", bound=models.Model)


def _made(model: type[M], values: dict[str, Any], db: str) -> M:
    row = model.__new__(model)
    row.__dict__.update(values)
    state = row._state = ModelState()
    state.adding, state.db = False, db
    return row


def read_rows(queryset: models.QuerySet[M], *, without: tuple[str, ...] = ()) -> list[M]:
    """The queryset's rows, every concrete field read but those `without` (deferred, as
    `QuerySet.defer` leaves them: read from the database if asked for), in its order."""
    model = queryset.model
    names = [f.attname for f in model._meta.concrete_fields if f.attname not in without]
    db = queryset.db
    return [
        _made(model, dict(zip(names, values, strict=True)), db)
        for values in queryset.values_list(*names)
    ]


def unsaved_rows(model: type[M], rows: Iterable[dict[str, Any]]) -> list[M]:
    """New instances of `model` (not saved, no primary key yet), each from its given field
    values (attnames) and the model's defaults for the rest (a callable default is called
    once for them all: the probe rows have none)."""
    defaults = {
        field.attname: field.get_default()
        for field in model._meta.concrete_fields
        if not field.primary_key
    }
    made = []
    for given in rows:
        row = _made(model, {model._meta.pk.attname: None, **defaults, **given}, "default")
        row._state.adding, row._state.db = True, None
        made.append(row)
    return made
