"""The stacked bar chart's geometry holds for every input: stacks are contiguous, heights are
proportional to the euros, nothing leaves the plot."""

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from enrichment.charts import nice_ceiling, stacked_bars

START = dt.date(2026, 11, 1)
amounts = st.decimals(min_value=0, max_value=10_000, places=4, allow_nan=False)


@st.composite
def spending(draw):
    days = [START + dt.timedelta(n) for n in range(draw(st.integers(1, 60)))]
    names = draw(st.lists(st.sampled_from(["prospeo", "leadmagic", "hunter"]), unique=True))
    series = {
        name: draw(st.dictionaries(st.sampled_from(days), amounts, max_size=len(days)))
        for name in names
    }
    return days, series


@settings(max_examples=200, deadline=None)
@given(spending())
def test_bars_stack_within_the_plot_in_proportion(data):
    days, series = data
    chart = stacked_bars(days, series)
    scale = chart.plot_height / float(chart.ceiling)
    by_x: dict[float, list] = {}
    for segment in chart.segments:
        by_x.setdefault(segment.x, []).append(segment)
        assert segment.height > 0
        assert chart.left <= segment.x and segment.x + segment.width <= chart.right + 1e-6
    for stack in by_x.values():
        bottom = chart.bottom
        for segment in stack:  # drawn bottom up, each on the one below
            assert abs(segment.y + segment.height - bottom) < 1e-6
            bottom = segment.y
        assert bottom >= chart.top - 1e-6
    for day in days:
        total = sum((series[name].get(day, Decimal(0)) for name in series), Decimal(0))
        drawn = [s for s in chart.segments if f"{day:%d/%m/%Y}" in s.title]
        assert abs(sum(s.height for s in drawn) - float(total) * scale) < 1e-6 * max(
            1.0, float(total)
        )
    assert len(chart.x_labels) <= 10


@given(amounts)
def test_the_ceiling_covers_the_highest_day(top):
    ceiling = nice_ceiling(top)
    assert ceiling >= top
    assert ceiling <= max(top * 3, Decimal("1"))


def test_nothing_spent_draws_an_empty_axis():
    chart = stacked_bars([START], {})
    assert chart.segments == [] and chart.ceiling == 1
    assert chart.y_ticks[-1][1] == "1,00\u00a0€"


def test_euros_are_grouped_by_thousands_in_french():
    from decimal import Decimal

    from django.utils import translation

    from enrichment.charts import euros

    with translation.override("fr"):
        assert euros(Decimal("1000000000")) == "1\u00a0000\u00a0000\u00a0000,00\u00a0€"
        assert euros(Decimal("0.125")) == "0,13\u00a0€"
