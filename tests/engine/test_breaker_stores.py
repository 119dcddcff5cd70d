"""The breaker shared by every worker: the same behaviour on the database and on Redis."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import uuid

import hypothesis
import pytest
from django.db import connection, connections
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from enrichment.engine import breaker
from enrichment.engine.breaker import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    Breaker,
    BreakerBusy,
    BreakerOpen,
    Policy,
    State,
    admit,
    record,
)
from enrichment.engine.breaker_stores import DatabaseStore, RedisStore
from enrichment.models import ProviderBreaker

POLICY = Policy(window=10, threshold=5, cooldown=60.0, probe_ttl=30.0)
T0 = 1_800_000_000.0


def fail(b: Breaker, provider: str, times: int, now: float) -> None:
    for _ in range(times):
        b.after_call(b.before_call(provider, now=now), ok=False, now=now)


def test_five_failures_open_it_and_every_call_is_refused_until_the_cooldown(store):
    b = Breaker(store, POLICY)
    fail(b, "hunter", 4, T0)
    assert b.state_of("hunter", now=T0) == CLOSED
    fail(b, "hunter", 1, T0 + 1)
    assert b.state_of("hunter", now=T0 + 1) == OPEN
    for offset in (1, 30, 60.9):
        with pytest.raises(BreakerOpen) as refused:
            b.before_call("hunter", now=T0 + offset)
        assert refused.value.provider == "hunter"
        assert refused.value.retry_at == dt.datetime.fromtimestamp(T0 + 61, tz=dt.UTC)
    # Another provider's breaker is its own.
    assert b.state_of("prospeo", now=T0 + 1) == CLOSED
    b.before_call("prospeo", now=T0 + 1)


def test_one_probe_after_the_cooldown_then_closed_on_success(store):
    b = Breaker(store, POLICY)
    fail(b, "apollo", 5, T0)
    probe = b.before_call("apollo", now=T0 + 60)
    assert probe.probe
    assert b.state_of("apollo", now=T0 + 60) == HALF_OPEN
    with pytest.raises(BreakerOpen) as refused:
        b.before_call("apollo", now=T0 + 61)
    assert refused.value.retry_at == dt.datetime.fromtimestamp(T0 + 90, tz=dt.UTC)
    b.after_call(probe, ok=True, now=T0 + 62)
    assert b.state_of("apollo", now=T0 + 62) == CLOSED
    assert not b.before_call("apollo", now=T0 + 62).probe


def test_a_failed_probe_opens_it_for_another_cooldown(store):
    b = Breaker(store, POLICY)
    fail(b, "apollo", 5, T0)
    probe = b.before_call("apollo", now=T0 + 70)
    b.after_call(probe, ok=False, now=T0 + 71)
    assert b.state_of("apollo", now=T0 + 130) == OPEN
    assert b.state_of("apollo", now=T0 + 131) == HALF_OPEN


def test_a_dead_probe_does_not_wedge_the_breaker(store):
    b = Breaker(store, POLICY)
    fail(b, "leadmagic", 5, T0)
    dead = b.before_call("leadmagic", now=T0 + 60)  # its worker is killed: no after_call
    with pytest.raises(BreakerOpen):
        b.before_call("leadmagic", now=T0 + 89)
    successor = b.before_call("leadmagic", now=T0 + 90)
    assert successor.probe
    b.after_call(dead, ok=False, now=T0 + 91)  # a late answer from the old probe: ignored
    assert b.state_of("leadmagic", now=T0 + 91) == HALF_OPEN
    b.after_call(successor, ok=True, now=T0 + 92)
    assert b.state_of("leadmagic", now=T0 + 92) == CLOSED


def test_answers_of_calls_granted_before_it_opened_are_not_counted_twice(store):
    b = Breaker(store, POLICY)
    in_flight = [b.before_call("findymail", now=T0) for _ in range(8)]
    for permit in in_flight[:5]:
        b.after_call(permit, ok=False, now=T0 + 1)
    for permit in in_flight[5:]:
        b.after_call(permit, ok=False, now=T0 + 2)  # arrive after it opened
    probe = b.before_call("findymail", now=T0 + 61)
    b.after_call(probe, ok=True, now=T0 + 62)
    fail(b, "findymail", 4, T0 + 63)
    assert b.state_of("findymail", now=T0 + 63) == CLOSED


def test_a_call_admitted_before_it_opened_is_not_sent_once_it_is_open(store):
    b = Breaker(store, POLICY)
    waiting = b.before_call("prospeo", now=T0)  # admitted, then it waits for a slot and rate
    fail(b, "prospeo", 5, T0 + 0.5)
    with pytest.raises(BreakerOpen) as refused:
        b.confirm(waiting, now=T0 + 1)
    assert refused.value.retry_at == dt.datetime.fromtimestamp(T0 + 60.5, tz=dt.UTC)
    probe = b.before_call("prospeo", now=T0 + 61)
    b.confirm(probe, now=T0 + 61.5)  # the probe itself goes out
    with pytest.raises(BreakerOpen):
        b.confirm(waiting, now=T0 + 61.5)  # half-open: the probe and nothing else
    b.after_call(probe, ok=True, now=T0 + 62)
    b.confirm(waiting, now=T0 + 63)  # closed again: it may go


def test_a_write_based_on_a_stale_read_is_refused(store):
    """Two workers read the same state; only the first one's write goes through."""
    state, version = store.load("aiark")
    assert (state, version) == (State(), 0)
    assert store.swap("aiark", version, State(results="x"))
    assert not store.swap("aiark", version, State(results="."))
    state, version = store.load("aiark")
    assert state == State(results="x")
    assert store.swap("aiark", version, State(results="x."))
    assert not store.swap("aiark", version, State(results="xx"))
    assert store.load("aiark")[0] == State(results="x.")


actions = st.lists(
    st.tuples(st.sampled_from(["call", "ok", "fail"]), st.floats(0, 40), st.integers(0, 9)),
    max_size=60,
)


@hypothesis.settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(actions, st.booleans())
def test_the_store_gives_the_same_answers_as_the_pure_core(store, steps, warm_up):
    provider = f"p-{uuid.uuid4().hex[:12]}"
    policy = dataclasses.replace(POLICY, warm_up=warm_up)
    shared = Breaker(store, policy)
    state, now, permits = State(), T0, []
    for action, wait, index in steps:
        now += wait
        if action == "call":
            state, decision = admit(state, now, policy)
            try:
                permit = shared.before_call(provider, now=now)
            except BreakerBusy:
                assert decision.busy
            except BreakerOpen as refused:
                assert not decision.allowed and not decision.busy
                assert refused.retry_at.timestamp() == pytest.approx(decision.retry_at)
            else:
                assert decision.allowed and permit.probe == decision.probe
                assert permit.pending == decision.pending
                permits.append(permit)
        elif permits:
            permit = permits.pop(index % len(permits))
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
            shared.after_call(permit, ok=ok, now=now)
        assert store.load(provider)[0] == state


def test_a_call_that_never_left_gives_its_place_back_while_warming_up(store):
    policy = dataclasses.replace(POLICY, threshold=2, warm_up=True)
    b = Breaker(store, policy)
    first = b.before_call("prospeo", now=T0)
    b.before_call("prospeo", now=T0)
    with pytest.raises(BreakerBusy):
        b.before_call("prospeo", now=T0)
    b.give_back(first)  # refused for money, say: it counts neither way
    third = b.before_call("prospeo", now=T0 + 1)
    assert third.pending is not None
    assert store.load("prospeo")[0].results == ""
    # A worker that died with its call out holds its place for `probe_ttl` only.
    assert b.before_call("prospeo", now=T0 + policy.probe_ttl + 0.5).pending is not None


def test_the_public_functions_use_redis_when_it_is_configured(settings, redis_prefix):
    url, _prefix = redis_prefix
    settings.REDIS_URL = url
    provider = f"redis-{uuid.uuid4().hex[:8]}"
    for _ in range(settings.BREAKER_FAILURE_THRESHOLD):
        breaker.after_call(breaker.before_call(provider), ok=False)
    try:
        assert breaker.state_of(provider) == OPEN
        assert RedisStore(url).load(provider)[0].opened_at is not None
        with pytest.raises(BreakerOpen):
            breaker.before_call(provider)
    finally:
        RedisStore(url).client.delete(RedisStore(url).key(provider))


@pytest.mark.django_db
def test_the_public_functions_use_the_database_by_default(settings):
    settings.REDIS_URL = ""
    settings.BREAKER_FAILURE_THRESHOLD = 2
    breaker.after_call(breaker.before_call("hunter"), ok=False)
    breaker.after_call(breaker.before_call("hunter"), ok=True)
    assert breaker.state_of("hunter") == CLOSED
    breaker.after_call(breaker.before_call("hunter"), ok=False)
    assert breaker.state_of("hunter") == OPEN
    assert ProviderBreaker.objects.get(provider="hunter").opened_at is not None


def race_for_the_probe(make_store, provider: str, workers: int = 20) -> list[bool]:
    """`workers` threads ask at once, right after the cooldown: who got the probe?"""
    barrier = threading.Barrier(workers)
    got: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            b = Breaker(make_store(), POLICY)
            barrier.wait()
            try:
                permit = b.before_call(provider, now=T0 + 60)
            except BreakerOpen:
                permit = None
            with lock:
                got.append(permit is not None and permit.probe)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return got


def test_only_one_redis_worker_takes_the_probe(redis_prefix):
    url, prefix = redis_prefix
    fail(Breaker(RedisStore(url, prefix=prefix), POLICY), "dropcontact", 5, T0)
    got = race_for_the_probe(lambda: RedisStore(url, prefix=prefix), "dropcontact")
    assert len(got) == 20
    assert got.count(True) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_only_one_database_worker_takes_the_probe():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent workers need PostgreSQL (the PostgreSQL pass runs this)")
    fail(Breaker(DatabaseStore(), POLICY), "dropcontact", 5, T0)
    got = race_for_the_probe(DatabaseStore, "dropcontact")
    assert len(got) == 20
    assert got.count(True) == 1


def test_a_process_without_redis_never_loads_the_redis_package():
    # The embedded default has no Redis: its workers use the database store and must not pay
    # for importing a client they never use.
    import os
    import subprocess
    import sys

    script = (
        "import sys, django; django.setup()\n"
        "from enrichment.discovery.prober import smtp_breaker\n"
        "from enrichment.engine.breaker import default_breaker\n"
        "assert type(default_breaker().store).__name__ == 'DatabaseStore'\n"
        "smtp_breaker()\n"
        "print('redis' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"
