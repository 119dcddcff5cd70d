"""The ledger against a plain model of it, through any sequence of operations and days."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from decimal import Decimal

import hypothesis
import pytest
from django.db.models import Sum
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from enrichment.engine import ledger, ledger_many
from enrichment.engine.money import PARIS, PLACES
from enrichment.models import CreditEntry
from tests.factories import WorkspaceFactory

ZERO = Decimal("0")
amounts = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("40"), places=4)
costs = st.decimals(min_value=ZERO, max_value=Decimal("60"), places=4)
providers = st.sampled_from(["hunter", "prospeo", "dropcontact"])
_keys = itertools.count()


class LedgerMachine(RuleBasedStateMachine):
    """Every step is checked against what a careful accountant would expect."""

    def __init__(self) -> None:
        super().__init__()
        self.workspace = WorkspaceFactory()
        self.ws = self.workspace.pk
        # Two days before the spring clock change: the day rule crosses it.
        self.now = dt.datetime(2026, 3, 27, 22, 0, tzinfo=PARIS)
        self.cap: Decimal | None = None
        self.balance = ZERO
        self.spent = defaultdict(lambda: ZERO)  # Paris day -> reserved minus refunds
        self.held: dict[str, tuple[Decimal, str, dt.date]] = {}  # open reservations
        self.closed: dict[str, tuple[str, Decimal | None]] = {}  # key -> (kind, cost)
        self.reserved: dict[str, tuple[Decimal, str]] = {}

    def key(self) -> str:
        return f"job:{next(_keys)}"

    def entry_count(self) -> int:
        return CreditEntry.objects.for_workspace(self.ws).count()

    def today(self) -> dt.date:
        return ledger.paris_day(self.now)

    @initialize(
        cap=st.one_of(st.none(), st.decimals(min_value=ZERO, max_value=Decimal("80"), places=4))
    )
    def set_cap(self, cap):
        ledger.set_daily_cap(self.ws, cap)
        self.cap = cap

    @rule(amount=amounts)
    def top_up(self, amount):
        ledger.top_up(self.ws, amount, key=self.key(), now=self.now)
        self.balance += amount

    @rule(amount=amounts, provider=providers)
    def reserve(self, amount, provider):
        key = self.key()
        try:
            held = ledger.reserve(self.ws, amount, key=key, provider=provider, now=self.now)
        except ledger.InsufficientCredits:
            assert self.balance < amount
            return
        except ledger.DailyCapReached as reached:
            assert self.balance >= amount
            assert self.cap is not None and self.spent[self.today()] + amount > self.cap
            assert reached.resume_at == ledger.next_midnight(self.now) > self.now
            return
        assert self.balance >= amount
        assert self.cap is None or self.spent[self.today()] + amount <= self.cap
        assert (held.amount, held.day, held.replayed) == (amount, self.today(), False)
        self.balance -= amount
        self.spent[held.day] += amount
        self.held[key] = (amount, provider, held.day)
        self.reserved[key] = (amount, provider)

    @rule(
        requests=st.lists(st.tuples(amounts, providers), min_size=1, max_size=4),
        replay=st.booleans(),
    )
    def reserve_a_round(self, requests, replay):
        """Several reservations in one go (a waterfall's round), maybe with a replay in it:
        each decided as alone, in order, after the ones before it."""
        wanted = [(self.key(), amount, provider) for amount, provider in requests]
        if replay and self.reserved:
            key = sorted(self.reserved)[0]
            wanted.insert(0, (key, *self.reserved[key]))
        result = ledger_many.reserve_many(self.ws, wanted, now=self.now)
        for key, amount, provider in wanted:
            if key in self.reserved:
                assert result.held[key].replayed
                continue
            if self.balance < amount:
                assert isinstance(result.refused[key], ledger.InsufficientCredits)
                continue
            if self.cap is not None and self.spent[self.today()] + amount > self.cap:
                assert isinstance(result.refused[key], ledger.DailyCapReached)
                continue
            held = result.held[key]
            assert (held.amount, held.replayed) == (amount, False)
            self.balance -= amount
            self.spent[held.day] += amount
            self.held[key] = (amount, provider, held.day)
            self.reserved[key] = (amount, provider)

    @precondition(lambda self: self.held)
    @rule(data=st.data())
    def close_a_round(self, data):
        """Several closings in one go: some settled (above their hold too), some released."""
        keys = data.draw(st.lists(st.sampled_from(sorted(self.held)), min_size=1, unique=True))
        closings = []
        for key in keys:
            cost = data.draw(st.one_of(st.none(), costs))
            amount, _provider, day = self.held.pop(key)
            charged = ZERO if cost is None else cost
            if charged > amount:
                room = min(charged - amount, self.balance)
                if self.cap is not None:
                    room = min(room, self.cap - self.spent[day])
                charged = amount + max(ZERO, room)
            self.balance += amount - charged
            self.spent[day] += charged - amount
            self.closed[key] = ("release", None) if cost is None else ("settle", cost)
            closings.append((key, cost))
        assert ledger_many.close_many(self.ws, closings, now=self.now) == {}

    @precondition(lambda self: self.held)
    @rule(data=st.data(), cost=costs)
    def settle(self, data, cost):
        key = data.draw(st.sampled_from(sorted(self.held)))
        amount, _provider, day = self.held.pop(key)
        charged = cost
        if cost > amount:
            room = min(cost - amount, self.balance)
            if self.cap is not None:
                room = min(room, self.cap - self.spent[day])
            charged = amount + max(ZERO, room)
        ledger.settle(self.ws, key=key, cost=cost, now=self.now)
        self.balance += amount - charged
        self.spent[day] += charged - amount
        self.closed[key] = ("settle", cost)

    @precondition(lambda self: self.held)
    @rule(data=st.data())
    def release(self, data):
        key = data.draw(st.sampled_from(sorted(self.held)))
        amount, _provider, day = self.held.pop(key)
        ledger.release(self.ws, key=key, now=self.now)
        self.balance += amount
        self.spent[day] -= amount
        self.closed[key] = ("release", None)

    @precondition(lambda self: self.reserved)
    @rule(data=st.data())
    def replay_the_same_reserve(self, data):
        key = data.draw(st.sampled_from(sorted(self.reserved)))
        amount, provider = self.reserved[key]
        before = self.entry_count()
        again = ledger.reserve(self.ws, amount, key=key, provider=provider, now=self.now)
        assert again.replayed and again.amount == amount
        assert self.entry_count() == before

    @precondition(lambda self: self.reserved)
    @rule(data=st.data(), other=amounts)
    def replay_a_reserve_with_other_parameters(self, data, other):
        key = data.draw(st.sampled_from(sorted(self.reserved)))
        amount, provider = self.reserved[key]
        before = self.entry_count()
        changed = (other, provider) if other != amount else (amount, provider + "-bis")
        with pytest.raises(ledger.IdempotencyConflict):
            ledger.reserve(self.ws, changed[0], key=key, provider=changed[1], now=self.now)
        assert self.entry_count() == before

    @precondition(lambda self: self.closed)
    @rule(data=st.data(), other_cost=costs)
    def replay_a_closing(self, data, other_cost):
        key = data.draw(st.sampled_from(sorted(self.closed)))
        kind, cost = self.closed[key]
        before = self.entry_count()
        if kind == "settle":
            ledger.settle(self.ws, key=key, cost=cost, now=self.now)
            if other_cost != cost:
                with pytest.raises(ledger.IdempotencyConflict):
                    ledger.settle(self.ws, key=key, cost=other_cost, now=self.now)
        else:
            ledger.release(self.ws, key=key, now=self.now)
            with pytest.raises(ledger.IdempotencyConflict):
                ledger.settle(self.ws, key=key, cost=other_cost, now=self.now)
        assert self.entry_count() == before

    @rule(hours=st.integers(1, 30))
    def time_passes(self, hours):
        self.now += dt.timedelta(hours=hours)

    @invariant()
    def balance_is_never_negative_and_matches_the_model(self):
        assert ledger.balance(self.ws) == self.balance >= 0

    @invariant()
    def entries_add_up_to_the_balance(self):
        total = CreditEntry.objects.for_workspace(self.ws).aggregate(t=Sum("amount"))["t"]
        # SQLite adds decimals as floats: to the ledger's 4 places, the sum is exact.
        assert (total or ZERO).quantize(PLACES) == ledger.balance(self.ws)

    @invariant()
    def spending_today_stays_under_the_cap(self):
        spent = ledger.spent_today(self.ws, now=self.now)
        assert spent == self.spent[self.today()]
        assert self.cap is None or spent <= self.cap

    def teardown(self) -> None:
        self.workspace.delete()


@pytest.mark.django_db
def test_the_ledger_behaves_like_its_model():
    run_state_machine_as_test(
        LedgerMachine,
        settings=hypothesis.settings(
            max_examples=40,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[hypothesis.HealthCheck.too_slow],
        ),
    )
