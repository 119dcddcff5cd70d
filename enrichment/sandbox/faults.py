"""Fault injection: per-vendor latency, error rates by kind, outages and rate limits.

A spec is changed while the server runs (from tests, the command line or the control endpoint);
every request reads the current spec once, so a change applies from the next request on.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any

# "429" is the vendor's own rate-limit answer (Hunter's is a 403), always with Retry-After.
KINDS = ("429", "500", "502", "503", "timeout", "reset", "malformed", "html", "schema")
_ALIASES = {"5xx": "500", "hang": "timeout", "rate_limit": "429", "json": "malformed"}
# A hang always ends: tests and benchmarks must stop by themselves.
MAX_HANG_SECONDS = 120.0
ALL_VENDORS = ("*", "all")


def normalize_kind(kind: str | int) -> str:
    text = str(kind).strip().lower()
    text = _ALIASES.get(text, text)
    if text not in KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; choose from {', '.join(KINDS)}")
    return text


@dataclass(frozen=True)
class FaultSpec:
    latency_ms: float | None = None
    latency_jitter_ms: float = 0.0
    rates: dict[str, float] = field(default_factory=dict)
    outage: bool = False
    # Absolute time.monotonic() windows during which the vendor is down.
    outage_windows: tuple[tuple[float, float], ...] = ()
    retry_after: float = 1.0
    hang_seconds: float = 30.0
    # Requests per second per key before the vendor answers 429; None keeps the vendor default.
    rate_limit: float | None = None
    # Credit balance per key for this vendor; None keeps the default.
    credits: int | None = None

    def in_outage(self, now: float) -> bool:
        return self.outage or any(start <= now < end for start, end in self.outage_windows)

    def as_dict(self) -> dict[str, Any]:
        now = time.monotonic()
        return {
            "latency_ms": self.latency_ms,
            "latency_jitter_ms": self.latency_jitter_ms,
            "rates": dict(self.rates),
            "outage": self.outage,
            "outage_windows": [[start - now, end - now] for start, end in self.outage_windows],
            "retry_after": self.retry_after,
            "hang_seconds": self.hang_seconds,
            "rate_limit": self.rate_limit,
            "credits": self.credits,
        }


def apply_changes(spec: FaultSpec, changes: dict[str, Any]) -> FaultSpec:
    """A new spec with the given changes; `error_rate` + `kinds` spread a rate evenly."""
    updates: dict[str, Any] = {}
    rates = dict(spec.rates)
    if "rates" in changes:
        rates = {normalize_kind(k): float(v) for k, v in (changes["rates"] or {}).items()}
    if "error_rate" in changes:
        kinds = [normalize_kind(k) for k in changes.get("kinds") or ["500"]]
        share = float(changes["error_rate"]) / len(kinds)
        rates = {kind: share for kind in kinds}
    updates["rates"] = {kind: rate for kind, rate in rates.items() if rate > 0}
    for name in ("latency_ms", "rate_limit"):
        if name in changes:
            value = changes[name]
            updates[name] = None if value is None else float(value)
    for name in ("latency_jitter_ms", "retry_after"):
        if name in changes:
            updates[name] = float(changes[name])
    if "hang_seconds" in changes:
        updates["hang_seconds"] = min(float(changes["hang_seconds"]), MAX_HANG_SECONDS)
    if "outage" in changes:
        updates["outage"] = bool(changes["outage"])
    if "outage_windows" in changes:
        now = time.monotonic()
        updates["outage_windows"] = tuple(
            (now + float(start), now + float(end)) for start, end in changes["outage_windows"]
        )
    if "credits" in changes:
        updates["credits"] = None if changes["credits"] is None else int(changes["credits"])
    unknown = set(changes) - {
        "rates", "error_rate", "kinds", "latency_ms", "latency_jitter_ms", "retry_after",
        "hang_seconds", "outage", "outage_windows", "rate_limit", "credits", "vendor", "clear",
    }
    if unknown:
        raise ValueError(f"unknown fault option(s): {', '.join(sorted(unknown))}")
    return replace(spec, **updates)


class FaultBook:
    """The current spec of every vendor, and the dice that decide which request fails."""

    def __init__(self, vendors: tuple[str, ...], *, seed: int = 0) -> None:
        self.vendors = vendors
        self._specs: dict[str, FaultSpec] = {vendor: FaultSpec() for vendor in vendors}
        self._lock = threading.Lock()
        self._rng = random.Random(f"sourcier-faults:{seed}")

    def spec(self, vendor: str) -> FaultSpec:
        return self._specs.get(vendor, FaultSpec())

    def update(self, vendor: str, changes: dict[str, Any]) -> None:
        targets = self.vendors if vendor in ALL_VENDORS else (vendor,)
        for target in targets:
            if target not in self._specs:
                raise ValueError(f"unknown vendor {vendor!r}")
        with self._lock:
            for target in targets:
                self._specs[target] = apply_changes(self._specs[target], changes)

    def clear(self, vendor: str | None = None) -> None:
        with self._lock:
            for target in self.vendors if vendor in (None, *ALL_VENDORS) else (vendor,):
                self._specs[target] = FaultSpec()

    def draw(self, spec: FaultSpec) -> str | None:
        """The fault kind this request suffers, if any."""
        if not spec.rates:
            return None
        with self._lock:
            roll = self._rng.random()
        total = sum(spec.rates.values())
        scale = max(total, 1.0)
        for kind, rate in spec.rates.items():
            if roll < rate / scale:
                return kind
            roll -= rate / scale
        return None

    def latency(self, spec: FaultSpec, default_ms: float) -> float:
        """Seconds to wait before answering: fixed, or uniform within +/- the jitter."""
        base = default_ms if spec.latency_ms is None else spec.latency_ms
        if spec.latency_jitter_ms:
            with self._lock:
                base += self._rng.uniform(-spec.latency_jitter_ms, spec.latency_jitter_ms)
        return max(base, 0.0) / 1000.0

    def snapshot(self) -> dict[str, dict[str, Any]]:
        return {vendor: spec.as_dict() for vendor, spec in self._specs.items()}


class RateLimiter:
    """A sliding one-second window per (vendor, key)."""

    def __init__(self) -> None:
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, vendor: str, key: str, per_second: float) -> float | None:
        """None if the request may go on, else the seconds to wait."""
        if per_second <= 0:
            return None
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault((vendor, key), deque())
            while hits and now - hits[0] >= 1.0:
                hits.popleft()
            if len(hits) >= per_second:
                return max(1.0 - (now - hits[0]), 0.001)
            hits.append(now)
        return None

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()
