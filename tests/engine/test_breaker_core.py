"""The breaker's pure core: properties that hold for every sequence of calls and outcomes."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from enrichment.engine.breaker import (
    CLOSED,
    FAILURE,
    HALF_OPEN,
    OPEN,
    SUCCESS,
    Decision,
    Policy,
    State,
    admit,
    phase,
    record,
)

POLICY = Policy(window=10, threshold=5, cooldown=60.0, probe_ttl=30.0)

policies = st.builds(
    lambda window, threshold, cooldown, probe_ttl, warm_up: Policy(
        window=window,
        threshold=min(threshold, window),
        cooldown=cooldown,
        probe_ttl=probe_ttl,
        warm_up=warm_up,
    ),
    st.integers(1, 12),
    st.integers(1, 12),
    st.floats(1, 120),
    st.floats(1, 60),
    st.booleans(),
)
# ("call", wait) asks for a permit; ("ok"/"fail", wait, index) reports one outstanding permit.
steps = st.lists(
    st.tuples(
        st.sampled_from(["call", "call", "ok", "fail", "fail"]),
        st.floats(0, 50),
        st.integers(0, 20),
    ),
    max_size=120,
)


@dataclass
class Step:
    now: float
    before: State
    after: State
    decision: Decision | None = None
    report: tuple[Decision, bool] | None = None


def run(policy: Policy, actions) -> list[Step]:
    """Play calls and outcomes (reported in any order, some never) through the core."""
    state, now, outstanding, trace = State(), 1000.0, [], []
    for action, wait, index in actions:
        now += wait
        before = state
        if action == "call":
            state, decision = admit(state, now, policy)
            if decision.allowed:
                outstanding.append(decision)
            trace.append(Step(now, before, state, decision=decision))
        elif outstanding:
            permit = outstanding.pop(index % len(outstanding))
            ok = action == "ok"
            state = record(
                state,
                generation=permit.generation,
                probe=permit.probe,
                ok=ok,
                now=now,
                policy=policy,
                pending=permit.pending,
            )
            trace.append(Step(now, before, state, report=(permit, ok)))
    return trace


@given(policies, steps)
def test_transitions_are_deterministic(policy, actions):
    assert run(policy, actions) == run(policy, actions)


@given(policies, steps)
def test_window_never_holds_more_than_its_size(policy, actions):
    for step in run(policy, actions):
        assert len(step.after.results) <= policy.window


@given(policies, steps)
def test_while_open_every_call_is_refused_until_the_cooldown(policy, actions):
    for step in run(policy, actions):
        if step.decision is not None and phase(step.before, step.now, policy) == OPEN:
            assert not step.decision.allowed
            assert step.decision.retry_at == step.before.opened_at + policy.cooldown
            assert step.decision.retry_at > step.now


@given(policies, steps)
def test_never_opens_with_fewer_failures_than_the_threshold(policy, actions):
    for step in run(policy, actions):
        if phase(step.before, step.now, policy) == CLOSED and step.after.opened_at is not None:
            permit, ok = step.report
            assert not ok and not permit.probe
            window = (step.before.results + FAILURE)[-policy.window :]
            assert window.count(FAILURE) >= policy.threshold
        if step.after.opened_at is None:
            assert step.after.results.count(FAILURE) < policy.threshold


@given(policies, steps)
def test_a_probe_closes_on_success_and_opens_again_on_failure(policy, actions):
    for step in run(policy, actions):
        if step.report is None:
            continue
        permit, ok = step.report
        if not permit.probe:
            continue
        if permit.generation != step.before.generation:
            assert step.after == step.before  # a replaced probe's late answer changes nothing
            continue
        if ok:
            assert phase(step.after, step.now, policy) == CLOSED
            assert step.after.results == ""
        else:
            assert phase(step.after, step.now, policy) == OPEN
            assert step.after.opened_at == step.now


@given(policies, steps)
def test_at_most_one_live_probe_at_any_time(policy, actions):
    live: list[tuple[Decision, float]] = []
    for step in run(policy, actions):
        if step.decision is not None and step.decision.probe:
            # A probe is only granted when every earlier one has reported or expired.
            assert all(
                granted + policy.probe_ttl <= step.now
                or decision.generation != step.before.generation
                for decision, granted in live
            )
            live.append((step.decision, step.now))


@given(st.floats(0, 29.9), st.integers(2, 30))
def test_exactly_one_probe_when_the_cooldown_ends(offset, callers):
    state = State(opened_at=0.0, generation=3)
    granted = []
    for n in range(callers):
        state, decision = admit(state, POLICY.cooldown + offset * n / callers, POLICY)
        granted.append(decision)
    assert sum(d.allowed for d in granted) == 1
    assert granted[0].probe and granted[0].allowed
    assert all(d.retry_at == POLICY.cooldown + POLICY.probe_ttl for d in granted[1:])
    assert phase(state, POLICY.cooldown, POLICY) == HALF_OPEN


@given(policies, steps)
def test_warming_up_the_calls_out_and_the_failures_stay_under_the_threshold(policy, actions):
    """Until a call succeeds, a call goes out only if it could not take the failures past the
    threshold with those already out (a call's mark lapses after `probe_ttl`)."""
    out: dict[int, tuple[Decision, float]] = {}
    for step in run(policy, actions):
        if step.report is not None:
            permit, _ok = step.report
            out.pop(id(permit), None)
            continue
        decision = step.decision
        warming = policy.warm_up and SUCCESS not in step.before.results
        if phase(step.before, step.now, policy) != CLOSED or not warming:
            assert not decision.busy
            continue
        # The calls granted while warming up in this generation, not answered nor lapsed.
        live = [
            d
            for d, granted in out.values()
            if d.generation == step.before.generation and granted + policy.probe_ttl > step.now
        ]
        if decision.allowed:
            assert step.before.results.count(FAILURE) + len(live) < policy.threshold
            out[id(decision)] = (decision, step.now)
        else:
            assert decision.busy and decision.retry_at > step.now


def test_a_vendor_down_from_the_start_gets_threshold_calls_however_many_ask_at_once():
    policy = Policy(window=10, threshold=5, cooldown=60.0, probe_ttl=30.0, warm_up=True)
    state, granted = State(), []
    for _ in range(20):  # twenty workers ask before any answer
        state, decision = admit(state, 1.0, policy)
        granted.append(decision)
    allowed = [d for d in granted if d.allowed]
    assert len(allowed) == 5 and all(d.busy for d in granted if not d.allowed)
    for decision in allowed:
        state = record(
            state,
            generation=decision.generation,
            probe=False,
            ok=False,
            now=2.0,
            policy=policy,
            pending=decision.pending,
        )
    assert phase(state, 2.0, policy) == OPEN


def test_the_first_success_lifts_the_warm_up_limit():
    policy = Policy(window=10, threshold=2, cooldown=60.0, probe_ttl=30.0, warm_up=True)
    state, first = admit(State(), 1.0, policy)
    state, second = admit(state, 1.0, policy)
    state, third = admit(state, 1.0, policy)
    assert first.allowed and second.allowed and third.busy
    state = record(
        state, generation=0, probe=False, ok=True, now=2.0, policy=policy, pending=first.pending
    )
    decisions = []
    for _ in range(10):
        state, decision = admit(state, 2.0, policy)
        decisions.append(decision)
    assert all(d.allowed and d.pending is None for d in decisions)


def test_five_failures_in_the_last_ten_calls_open_it():
    state = State()
    for ok in [False, True] * 4 + [True, True, False]:
        state = record(state, generation=0, probe=False, ok=ok, now=1.0, policy=POLICY)
    assert phase(state, 1.0, POLICY) == CLOSED  # 5 failures, but the first left the window
    assert state.results.count(FAILURE) == 4
    state = record(state, generation=0, probe=False, ok=False, now=2.0, policy=POLICY)
    assert phase(state, 2.0, POLICY) == OPEN
    assert phase(state, 61.9, POLICY) == OPEN
    assert phase(state, 62.0, POLICY) == HALF_OPEN


def test_an_expired_probe_is_replaced_and_its_late_answer_ignored():
    state = State(opened_at=0.0)
    state, first = admit(state, 60.0, POLICY)
    state, refused = admit(state, 89.0, POLICY)
    assert first.probe and not refused.allowed
    state, second = admit(state, 90.0, POLICY)  # the first holder died: its permit expired
    assert second.probe and second.generation != first.generation
    late = record(state, generation=first.generation, probe=True, ok=True, now=91.0, policy=POLICY)
    assert late == state
    failed = record(
        state, generation=second.generation, probe=True, ok=False, now=92.0, policy=POLICY
    )
    assert phase(failed, 92.0, POLICY) == OPEN and failed.opened_at == 92.0
