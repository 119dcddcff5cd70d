"""Euros and rates as a French reader expects them: "1,23 €", "42 %"."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.formats import number_format

from ..charts import euros as format_euros

register = template.Library()


@register.filter
def euros(value: Decimal | None, places: int = 2) -> str:
    """'1,23 €'; '—' for nothing."""
    if value is None or value == "":
        return "—"
    return format_euros(Decimal(value), places)


@register.filter
def percent(value: float | None) -> str:
    """A fraction as '42,5 %'; '—' for none."""
    if value is None:
        return "—"
    return f"{number_format(round(value * 100, 1), 1)}\u00a0%"  # round() first: see euros
