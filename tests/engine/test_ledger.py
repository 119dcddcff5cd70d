"""The credit ledger: reserve, settle, release, replay, and the daily cap in Paris days."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from enrichment.engine import ledger
from enrichment.engine.money import PARIS, PLACES
from enrichment.models import CreditBudget, CreditEntry

pytestmark = pytest.mark.django_db

D = Decimal
NOON = dt.datetime(2026, 6, 15, 12, 0, tzinfo=PARIS)


def entries(workspace):
    return CreditEntry.objects.for_workspace(workspace)


def entries_sum(workspace) -> Decimal:
    total = entries(workspace).aggregate(total=Sum("amount"))["total"] or D(0)
    return total.quantize(PLACES)  # SQLite adds decimals as floats


def funded(workspace, amount="100"):
    ledger.top_up(workspace.pk, amount, key="initial", now=NOON - dt.timedelta(days=30))
    return workspace


def test_a_top_up_is_credited_once_whatever_the_replays(workspace):
    ledger.top_up(workspace.pk, "25.50", key="virement-42", note="facture 42")
    ledger.top_up(workspace.pk, "25.5", key="virement-42")
    assert ledger.balance(workspace.pk) == D("25.5000")
    assert entries(workspace).count() == 1
    with pytest.raises(ledger.IdempotencyConflict):
        ledger.top_up(workspace.pk, "30", key="virement-42")
    assert ledger.balance(workspace.pk) == entries_sum(workspace) == D("25.5")


def test_reserve_then_settle_charges_the_real_cost(workspace):
    funded(workspace, "10")
    held = ledger.reserve(
        workspace.pk, "1.2", key="job1:item1:email:hunter", provider="hunter", now=NOON
    )
    assert (held.amount, held.provider, held.replayed) == (D("1.2"), "hunter", False)
    assert ledger.balance(workspace.pk) == D("8.8")
    assert ledger.spent_today(workspace.pk, now=NOON) == D("1.2")  # in flight counts
    ledger.settle(workspace.pk, key="job1:item1:email:hunter", cost="0.35", now=NOON)
    assert ledger.balance(workspace.pk) == D("9.65")
    assert ledger.spent_today(workspace.pk, now=NOON) == D("0.35")
    assert ledger.spent_by_provider(workspace.pk) == {"hunter": D("0.35")}
    kinds = list(entries(workspace).order_by("id").values_list("kind", "amount"))
    assert kinds == [("top_up", D("10")), ("reserve", D("-1.2")), ("settle", D("0.85"))]


def test_a_replayed_reserve_returns_the_same_reservation_and_writes_nothing(workspace):
    funded(workspace, "10")
    first = ledger.reserve(workspace.pk, "2", key="k", provider="prospeo", now=NOON)
    again = ledger.reserve(workspace.pk, "2.0000", key="k", provider="prospeo", now=NOON)
    assert again.replayed and (again.amount, again.key, again.day) == (first.amount, "k", first.day)
    assert entries(workspace).filter(kind="reserve").count() == 1
    for amount, provider in (("3", "prospeo"), ("2", "leadmagic")):
        with pytest.raises(ledger.IdempotencyConflict):
            ledger.reserve(workspace.pk, amount, key="k", provider=provider, now=NOON)
    assert ledger.balance(workspace.pk) == D("8")


def test_release_gives_everything_back_once(workspace):
    funded(workspace, "10")
    ledger.reserve(workspace.pk, "4", key="k", provider="findymail", now=NOON)
    ledger.release(workspace.pk, key="k", now=NOON)
    ledger.release(workspace.pk, key="k", now=NOON)
    assert ledger.balance(workspace.pk) == D("10")
    assert ledger.spent_total(workspace.pk) == D("0")
    with pytest.raises(ledger.IdempotencyConflict):
        ledger.settle(workspace.pk, key="k", cost="1", now=NOON)
    with pytest.raises(ledger.UnknownReservation):
        ledger.release(workspace.pk, key="never-reserved", now=NOON)


def test_a_settlement_replayed_with_another_cost_is_refused(workspace):
    funded(workspace, "10")
    ledger.reserve(workspace.pk, "1", key="k", provider="apollo", now=NOON)
    ledger.settle(workspace.pk, key="k", cost="0.5", now=NOON)
    ledger.settle(workspace.pk, key="k", cost="0.5", now=NOON)
    with pytest.raises(ledger.IdempotencyConflict):
        ledger.settle(workspace.pk, key="k", cost="0.6", now=NOON)
    assert ledger.balance(workspace.pk) == D("9.5")


def test_insufficient_credits_refuses_and_writes_nothing(workspace):
    funded(workspace, "1")
    with pytest.raises(ledger.InsufficientCredits) as refused:
        ledger.reserve(workspace.pk, "1.0001", key="k", provider="hunter", now=NOON)
    assert refused.value.balance == D("1") and refused.value.code == "insufficient_credits"
    assert entries(workspace).count() == 1


def test_a_cost_above_the_reservation_is_charged_only_as_far_as_the_balance_goes(workspace):
    funded(workspace, "3")
    ledger.reserve(workspace.pk, "1", key="a", provider="hunter", now=NOON)
    ledger.settle(workspace.pk, key="a", cost="1.5", now=NOON)
    assert ledger.balance(workspace.pk) == D("1.5")
    ledger.reserve(workspace.pk, "1", key="b", provider="hunter", now=NOON)
    ledger.settle(workspace.pk, key="b", cost="9", now=NOON)
    assert ledger.balance(workspace.pk) == D("0")
    assert ledger.spent_total(workspace.pk) == D("3")


def test_the_daily_cap_refuses_until_the_next_paris_midnight(workspace):
    funded(workspace, "100")
    ledger.set_daily_cap(workspace.pk, "5")
    ledger.reserve(workspace.pk, "3", key="a", provider="hunter", now=NOON)
    # The reservation in flight already counts: 3 + 2.5 would pass the cap of 5.
    with pytest.raises(ledger.DailyCapReached) as reached:
        ledger.reserve(workspace.pk, "2.5", key="b", provider="hunter", now=NOON)
    assert reached.value.resume_at == dt.datetime(2026, 6, 16, 0, 0, tzinfo=PARIS)
    assert reached.value.resume_at.utcoffset() == dt.timedelta(hours=2)
    assert (reached.value.cap, reached.value.spent, reached.value.scope) == (
        D(5),
        D(3),
        "workspace",
    )
    ledger.reserve(workspace.pk, "2", key="c", provider="hunter", now=NOON)  # exactly the cap
    tomorrow = dt.datetime(2026, 6, 16, 0, 0, tzinfo=PARIS)
    ledger.reserve(workspace.pk, "2.5", key="b", provider="hunter", now=tomorrow)
    assert ledger.spent_today(workspace.pk, now=tomorrow) == D("2.5")


def test_a_call_that_straddles_midnight_counts_on_the_day_it_was_reserved(workspace):
    funded(workspace, "100")
    ledger.set_daily_cap(workspace.pk, "5")
    late = dt.datetime(2026, 6, 15, 23, 59, tzinfo=PARIS)
    ledger.reserve(workspace.pk, "5", key="late", provider="hunter", now=late)
    ledger.settle(workspace.pk, key="late", cost="1", now=late + dt.timedelta(minutes=2))
    assert ledger.spent_today(workspace.pk, now=late) == D("1")
    assert ledger.spent_today(workspace.pk, now=late + dt.timedelta(minutes=2)) == D("0")


def test_the_cap_also_bounds_a_cost_above_the_reservation(workspace):
    funded(workspace, "100")
    ledger.set_daily_cap(workspace.pk, "2")
    ledger.reserve(workspace.pk, "1", key="a", provider="hunter", now=NOON)
    ledger.settle(workspace.pk, key="a", cost="7", now=NOON)
    assert ledger.spent_today(workspace.pk, now=NOON) == D("2")


def test_a_global_cap_holds_across_workspaces(settings, workspace, other_workspace):
    settings.GLOBAL_DAILY_CAP = D("3")
    funded(workspace)
    funded(other_workspace)
    ledger.reserve(workspace.pk, "2", key="a", provider="hunter", now=NOON)
    with pytest.raises(ledger.DailyCapReached) as reached:
        ledger.reserve(other_workspace.pk, "1.5", key="a", provider="hunter", now=NOON)
    assert reached.value.scope == "global"
    ledger.reserve(other_workspace.pk, "1", key="a", provider="hunter", now=NOON)


def test_removing_the_cap_lifts_it(workspace):
    funded(workspace)
    ledger.set_daily_cap(workspace.pk, "0")
    with pytest.raises(ledger.DailyCapReached):
        ledger.reserve(workspace.pk, "1", key="a", provider="hunter", now=NOON)
    ledger.set_daily_cap(workspace.pk, None)
    ledger.reserve(workspace.pk, "1", key="a", provider="hunter", now=NOON)
    assert ledger.daily_cap(workspace.pk) is None


def test_each_workspace_has_its_own_ledger(workspace, other_workspace):
    funded(workspace, "10")
    ledger.reserve(workspace.pk, "1", key="same-key", provider="hunter", now=NOON)
    funded(other_workspace, "20")
    ledger.reserve(other_workspace.pk, "4", key="same-key", provider="apollo", now=NOON)
    assert ledger.summary(workspace.pk, now=NOON) == {
        "balance": D("9"),
        "spent_today": D("1"),
        "spent_total": D("1"),
        "in_flight": D("1"),
        "daily_cap": None,
        "cap_reached_until": None,
        "spent_by_provider": {"hunter": D("1")},
    }
    assert ledger.balance(other_workspace.pk) == D("16")


def test_an_adjustment_never_takes_the_balance_below_zero(workspace):
    funded(workspace, "5")
    ledger.adjust(workspace.pk, "-2", key="geste", note="erreur de saisie")
    assert ledger.balance(workspace.pk) == D("3")
    with pytest.raises(ledger.InsufficientCredits):
        ledger.adjust(workspace.pk, "-3.0001", key="trop")
    assert ledger.balance(workspace.pk) == entries_sum(workspace) == D("3")


@pytest.mark.parametrize("text", ["-1", "abc", "", "1e999", "NaN", "inf", "0.00001", True, None])
def test_bad_amounts_are_refused_with_a_clear_message(workspace, text):
    with pytest.raises(ledger.InvalidAmount) as refused:
        ledger.top_up(workspace.pk, text, key="k")
    assert str(refused.value)
    assert not entries(workspace).exists()
    assert not CreditBudget.objects.for_workspace(workspace).exists()


# Drawing time-zone-aware datetimes is slow on a loaded machine: not a failure of the rule.
@hypothesis_settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)))
def test_the_next_midnight_is_the_start_of_the_next_paris_day(now):
    midnight = ledger.next_midnight(now)
    local = midnight.astimezone(PARIS)
    assert (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0)
    assert midnight > now
    assert (midnight - dt.timedelta(microseconds=1)).astimezone(PARIS).date() == ledger.paris_day(
        now
    )
    assert dt.timedelta(hours=0) < midnight - now <= dt.timedelta(hours=25)


def test_midnight_after_the_clocks_change_is_23_or_25_hours_after_the_previous():
    def hours_between(day: dt.date) -> dt.timedelta:
        start = dt.datetime.combine(day, dt.time(0), tzinfo=PARIS)
        return ledger.next_midnight(start).astimezone(dt.UTC) - start.astimezone(dt.UTC)

    assert hours_between(dt.date(2026, 3, 29)) == dt.timedelta(hours=23)
    assert hours_between(dt.date(2026, 10, 25)) == dt.timedelta(hours=25)
    assert hours_between(dt.date(2026, 6, 15)) == dt.timedelta(hours=24)
