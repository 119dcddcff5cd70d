"""A circuit breaker per provider, shared by every worker and host.

The core is pure: a frozen `State` and two transitions, `admit` (may this call go out?) and
`record` (what did it give?), both taking `now` in epoch seconds. A store keeps the state
between workers (the database by default, Redis when `REDIS_URL` is set); every change is a
compare-and-set on a version, so concurrent workers re-read instead of overwriting each other,
and exactly one of them takes the half-open probe.

Closed: calls go out; the last `window` outcomes are kept, and `threshold` failures among them
open the breaker. Open: every call is refused until `cooldown` has passed. Half-open: one probe
goes out; its success closes the breaker, its failure opens it again. A probe whose worker died
expires after `probe_ttl`, and the next call becomes the probe.

Warm-up (`Policy.warm_up`, the providers' breakers): while no call has succeeded since the
breaker (last) closed, the calls out plus the failures seen stay under `threshold`; the others
are told to wait a moment (`BreakerBusy`, not a refusal: the vendor is not known to be down).
So a vendor down from the start gets `threshold` calls, however many workers ask at once,
before the breaker opens; the first success lifts the limit. A call out is remembered until
its outcome or `probe_ttl` (its worker may have died).

Each transition bumps `generation`; a permit carries the generation it was granted in, so the
outcome of a call granted before the breaker opened (or of an expired probe that another probe
replaced) is ignored instead of counting twice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings

from .limits import SlotUnavailable

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"
FAILURE = "x"
SUCCESS = "."


@dataclass(frozen=True)
class Policy:
    """How many calls are watched, how many failures open, how long it stays open."""

    window: int = 10
    threshold: int = 5
    cooldown: float = 60.0
    probe_ttl: float = 30.0
    warm_up: bool = False

    @classmethod
    def from_settings(cls) -> Policy:
        return cls(
            window=settings.BREAKER_WINDOW,
            threshold=settings.BREAKER_FAILURE_THRESHOLD,
            cooldown=settings.BREAKER_COOLDOWN_SECONDS,
            probe_ttl=settings.BREAKER_PROBE_SECONDS,
            warm_up=True,
        )


@dataclass(frozen=True)
class State:
    """One provider's breaker: outcomes while closed, or when it opened and who probes."""

    results: str = ""
    opened_at: float | None = None
    probe_until: float | None = None
    generation: int = 0
    # While warming up: when each call out stops counting (its `probe_ttl` ends).
    pending: tuple[float, ...] = ()


@dataclass(frozen=True)
class Decision:
    """The answer to one call: allowed (maybe as the probe) or refused until `retry_at`;
    `busy` when refused only to wait for the calls out (warm-up), `pending` the call's mark
    among them."""

    allowed: bool
    probe: bool = False
    generation: int = 0
    retry_at: float | None = None
    busy: bool = False
    pending: float | None = None


def phase(state: State, now: float, policy: Policy) -> str:
    """closed, open or half_open at `now` (the cooldown ends by the clock, not by a write)."""
    if state.opened_at is None:
        return CLOSED
    if now < state.opened_at + policy.cooldown:
        return OPEN
    return HALF_OPEN


def admit(state: State, now: float, policy: Policy) -> tuple[State, Decision]:
    """Whether a call may go out now, and the state after granting it."""
    current = phase(state, now, policy)
    if current == CLOSED:
        if not policy.warm_up or SUCCESS in state.results:
            return state, Decision(allowed=True, generation=state.generation)
        return _warming_up(state, now, policy)
    if current == OPEN:
        return state, Decision(allowed=False, retry_at=state.opened_at + policy.cooldown)
    if state.probe_until is not None and now < state.probe_until:
        return state, Decision(allowed=False, retry_at=state.probe_until)
    probing = dataclasses.replace(
        state, probe_until=now + policy.probe_ttl, generation=state.generation + 1
    )
    return probing, Decision(allowed=True, probe=True, generation=probing.generation)


def _warming_up(state: State, now: float, policy: Policy) -> tuple[State, Decision]:
    """Closed with no success yet: a call goes out only while the calls out and the failures
    seen stay under the threshold."""
    out = tuple(until for until in state.pending if until > now)
    if state.results.count(FAILURE) + len(out) >= policy.threshold:
        waiting = dataclasses.replace(state, pending=out)
        return waiting, Decision(allowed=False, busy=True, retry_at=min(out, default=now))
    until = now + policy.probe_ttl
    counted = dataclasses.replace(state, pending=(*out, until))
    return counted, Decision(allowed=True, generation=state.generation, pending=until)


def opened(state: State, now: float) -> State:
    return State(opened_at=now, generation=state.generation + 1)


def given_back(state: State, pending: float | None) -> State:
    """The state without one call's mark among the calls out (it answered, or never left)."""
    if pending is None or pending not in state.pending:
        return state
    marks = list(state.pending)
    marks.remove(pending)
    return dataclasses.replace(state, pending=tuple(marks))


def record(
    state: State,
    *,
    generation: int,
    probe: bool,
    ok: bool,
    now: float,
    policy: Policy,
    pending: float | None = None,
) -> State:
    """The state after a call granted in `generation` succeeded (`ok`) or failed."""
    state = given_back(state, pending)
    if generation != state.generation:
        return state  # granted before a transition: its outcome no longer says anything
    if probe:
        if state.probe_until is None:
            return state
        return State(generation=state.generation + 1) if ok else opened(state, now)
    if state.opened_at is not None:
        return state
    results = (state.results + (SUCCESS if ok else FAILURE))[-policy.window :]
    if results.count(FAILURE) >= policy.threshold:
        return opened(state, now)
    return dataclasses.replace(state, results=results)


# A call that waited longer than this for its slot and rate asks its breaker again before it
# goes out (another worker may have opened it meanwhile); one that did not goes as admitted.
CONFIRM_AFTER_SECONDS = 0.05


class BreakerOpen(Exception):
    """The provider's breaker refuses calls until `retry_at`."""

    def __init__(self, provider: str, retry_at: dt.datetime) -> None:
        super().__init__(f"{provider} breaker open until {retry_at.isoformat()}")
        self.provider = provider
        self.retry_at = retry_at


class BreakerBusy(SlotUnavailable):
    """Warming up: enough calls are out to open the breaker should they fail; try again in a
    moment (a busy slot, not a vendor known to be down)."""


@dataclass(frozen=True)
class Permit:
    """Leave to make one call; hand it back to `after_call` with the outcome, or to
    `give_back` when the call never went out."""

    provider: str
    generation: int
    probe: bool = False
    pending: float | None = None


class Store(Protocol):
    """Where the state lives between workers: a versioned read and a compare-and-set."""

    def load(self, provider: str) -> tuple[State, int]: ...

    def swap(self, provider: str, version: int, state: State) -> bool: ...


class BreakerContention(RuntimeError):
    """The state kept changing under us for too long (never expected in practice)."""


# Every failed compare-and-set means another worker's write went through, so the loop always
# makes progress; the bound only guards against a store that never accepts a write.
MAX_SWAPS = 200


class Breaker:
    """The pure core over one store, with the clock read at each call."""

    def __init__(self, store: Store, policy: Policy) -> None:
        self.store = store
        self.policy = policy

    def _change(self, provider: str, step) -> Decision | None:
        for _attempt in range(MAX_SWAPS):
            state, version = self.store.load(provider)
            new, answer = step(state)
            if new == state or self.store.swap(provider, version, new):
                return answer
        raise BreakerContention(provider)

    def before_call(self, provider: str, *, now: float | None = None) -> Permit:
        """A permit for one call, or BreakerOpen with the time to try again."""
        now = time.time() if now is None else now
        decision = self._change(provider, lambda state: admit(state, now, self.policy))
        if decision.busy:
            raise BreakerBusy(provider)
        if not decision.allowed:
            retry_at = dt.datetime.fromtimestamp(decision.retry_at, tz=dt.UTC)
            raise BreakerOpen(provider, retry_at)
        return Permit(
            provider=provider,
            generation=decision.generation,
            probe=decision.probe,
            pending=decision.pending,
        )

    def give_back(self, permit: Permit) -> None:
        """A permit whose call never went out (refused for money, no slot): no outcome."""
        if permit.pending is not None:
            self._change(permit.provider, lambda state: (given_back(state, permit.pending), None))

    def after_call(self, permit: Permit, *, ok: bool, now: float | None = None) -> None:
        """Count the outcome of a call made with `permit` (a failure is the caller's call)."""
        now = time.time() if now is None else now

        def step(state: State) -> tuple[State, None]:
            new = record(
                state,
                generation=permit.generation,
                probe=permit.probe,
                ok=ok,
                now=now,
                policy=self.policy,
                pending=permit.pending,
            )
            return new, None

        self._change(permit.provider, step)

    def confirm(self, permit: Permit, *, now: float | None = None) -> None:
        """Raise BreakerOpen if the breaker opened since `permit` was granted.

        A call waits for a concurrency slot and its turn in the rate after it was admitted;
        without this check every call admitted before the breaker opened would still go out
        to a vendor that is down, one per waiting worker.
        """
        now = time.time() if now is None else now
        state, _version = self.store.load(permit.provider)
        current = phase(state, now, self.policy)
        # A probe is still ours while nothing replaced it; another call while it is closed.
        still = state.generation == permit.generation if permit.probe else current == CLOSED
        if still:
            return
        if current == OPEN:
            retry_at = state.opened_at + self.policy.cooldown
        else:
            retry_at = state.probe_until or now
        raise BreakerOpen(permit.provider, dt.datetime.fromtimestamp(retry_at, tz=dt.UTC))

    def state_of(self, provider: str, *, now: float | None = None) -> str:
        """closed, open or half_open, for the admin."""
        state, _version = self.store.load(provider)
        return phase(state, time.time() if now is None else now, self.policy)


def default_breaker() -> Breaker:
    """The breaker over the configured store: Redis when REDIS_URL is set, else the database."""
    from .breaker_stores import DatabaseStore, RedisStore

    store = RedisStore(settings.REDIS_URL) if settings.REDIS_URL else DatabaseStore()
    return Breaker(store, Policy.from_settings())


def before_call(provider: str) -> Permit:
    """A permit for one call to `provider`, or BreakerOpen(provider, retry_at)."""
    return default_breaker().before_call(provider)


def confirm(permit: Permit) -> None:
    """BreakerOpen if the breaker opened since `permit` was granted: do not send the call."""
    default_breaker().confirm(permit)


def after_call(permit: Permit, *, ok: bool) -> None:
    """Count one call's outcome: ok=False for timeouts, 5xx and network errors."""
    default_breaker().after_call(permit, ok=ok)


def give_back(permit: Permit) -> None:
    """The call `permit` allowed never went out: it counts neither way."""
    default_breaker().give_back(permit)


def state_of(provider: str) -> str:
    """closed, open or half_open."""
    return default_breaker().state_of(provider)
