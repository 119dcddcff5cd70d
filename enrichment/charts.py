"""Server-rendered charts: the geometry of a stacked bar chart, drawn as SVG by a template.

Pure: days and amounts in, rectangles, ticks and labels out (no JavaScript, no library).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import number_format

# Colour-blind-safe (Okabe-Ito), one per series in the order given.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999")
TICKS = 4
MAX_X_LABELS = 10


@dataclass(frozen=True)
class Segment:
    """One series' part of one day's bar."""

    x: float
    y: float
    width: float
    height: float
    color: str
    title: str


@dataclass(frozen=True)
class StackedBars:
    width: int
    height: int
    left: int
    top: int
    plot_width: float
    plot_height: float
    ceiling: Decimal
    segments: list[Segment]
    y_ticks: list[tuple[float, str]]
    x_labels: list[tuple[float, str]]
    legend: list[tuple[str, str]]

    @property
    def bottom(self) -> float:
        return self.top + self.plot_height

    @property
    def right(self) -> float:
        return self.left + self.plot_width


def euros(amount: Decimal, places: int = 2) -> str:
    """'1,23 €' in the active locale, rounded half up (number_format alone truncates)."""
    rounded = Decimal(amount).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{number_format(rounded, places, force_grouping=True)}\u00a0€"


def nice_ceiling(top: Decimal) -> Decimal:
    """The smallest 1, 2, 2.5 or 5 × 10^k step times TICKS that is at least `top` (>= 0.01)."""
    if top <= 0:
        return Decimal("1")
    raw = top / TICKS
    power = Decimal(1).scaleb(raw.adjusted())
    for factor in (1, 2, Decimal("2.5"), 5, 10):
        step = power * factor
        if step * TICKS >= top:
            return max(step * TICKS, Decimal("0.04"))
    return power * 10 * TICKS  # pragma: no cover - factor 10 always covers


def stacked_bars(
    days: Sequence[dt.date],
    series: Mapping[str, Mapping[dt.date, Decimal]],
    *,
    labels: Mapping[str, str] | None = None,
    width: int = 960,
    height: int = 280,
) -> StackedBars:
    """One bar per day, one coloured segment per series (stacked in the given order)."""
    labels = labels or {}
    left, top, bottom_margin, right_margin = 64, 12, 28, 12
    plot_width = float(width - left - right_margin)
    plot_height = float(height - top - bottom_margin)
    totals = [
        sum((max(Decimal(0), series[name].get(day, Decimal(0))) for name in series), Decimal(0))
        for day in days
    ]
    ceiling = nice_ceiling(max(totals, default=Decimal(0)))
    slot = plot_width / max(len(days), 1)
    bar_width = max(slot * 0.8, 1.0)
    scale = plot_height / float(ceiling)
    colors = {name: PALETTE[n % len(PALETTE)] for n, name in enumerate(series)}
    segments = []
    for index, day in enumerate(days):
        x = left + index * slot + (slot - bar_width) / 2
        base = top + plot_height
        for name in series:
            amount = max(Decimal(0), series[name].get(day, Decimal(0)))
            if not amount:
                continue
            h = float(amount) * scale
            base -= h
            title = f"{labels.get(name, name)}, {day:%d/%m/%Y} : {euros(amount)}"
            segments.append(Segment(x, base, bar_width, h, colors[name], title))
    y_ticks = [
        (top + plot_height - plot_height * n / TICKS, euros(ceiling * n / TICKS))
        for n in range(TICKS + 1)
    ]
    every = max(1, -(-len(days) // MAX_X_LABELS))
    x_labels = [
        (left + index * slot + slot / 2, f"{day:%d/%m}")
        for index, day in enumerate(days)
        if index % every == 0
    ]
    legend = [(labels.get(name, name), colors[name]) for name in series]
    return StackedBars(
        width=width,
        height=height,
        left=left,
        top=top,
        plot_width=plot_width,
        plot_height=plot_height,
        ceiling=ceiling,
        segments=segments,
        y_ticks=y_ticks,
        x_labels=x_labels,
        legend=legend,
    )


def percent(value: float) -> str:
    """'62 %' with the no-break space French puts before the sign."""
    return f"{number_format(round(value))}\u00a0%"


def rate_bars(
    days: Sequence[dt.date],
    rates: Mapping[dt.date, tuple[int, int]],
    *,
    label: str,
    describe: Callable[[dt.date, int, int], str],
    width: int = 960,
    height: int = 220,
) -> StackedBars:
    """One bar per day at part/whole of its height (0-100 %); a day with no whole has no bar.

    `describe(day, part, whole)` gives each bar's tooltip.
    """
    left, top, bottom_margin, right_margin = 64, 12, 28, 12
    plot_width = float(width - left - right_margin)
    plot_height = float(height - top - bottom_margin)
    slot = plot_width / max(len(days), 1)
    bar_width = max(slot * 0.8, 1.0)
    color = PALETTE[2]
    segments = []
    for index, day in enumerate(days):
        part, whole = rates.get(day, (0, 0))
        if not whole:
            continue
        h = plot_height * part / whole
        x = left + index * slot + (slot - bar_width) / 2
        segments.append(
            Segment(x, top + plot_height - h, bar_width, h, color, describe(day, part, whole))
        )
    y_ticks = [
        (top + plot_height - plot_height * n / TICKS, percent(100 * n / TICKS))
        for n in range(TICKS + 1)
    ]
    every = max(1, -(-len(days) // MAX_X_LABELS))
    x_labels = [
        (left + index * slot + slot / 2, f"{day:%d/%m}")
        for index, day in enumerate(days)
        if index % every == 0
    ]
    return StackedBars(
        width=width,
        height=height,
        left=left,
        top=top,
        plot_width=plot_width,
        plot_height=plot_height,
        ceiling=Decimal(100),
        segments=segments,
        y_ticks=y_ticks,
        x_labels=x_labels,
        legend=[(label, color)] if segments else [],
    )
