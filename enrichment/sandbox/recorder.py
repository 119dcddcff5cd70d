"""The call record: every request served, counts by outcome, and concurrency per key."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

# Enough for any test or benchmark run; counts stay exact past it, only old details drop.
MAX_CALLS = 200_000


@dataclass(frozen=True)
class Call:
    vendor: str
    endpoint: str
    key: str
    started_at: float
    finished_at: float
    status: int | None
    outcome: str
    records: int | None = None
    # A digest of what was asked (method, path, query, body): the same question about the same
    # person gives the same subject, so tests can count how often each person was asked.
    subject: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Recorder:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: deque[Call] = deque(maxlen=MAX_CALLS)
        self._counts: dict[tuple[str, str, str], int] = {}
        self._in_flight: dict[tuple[str, str], int] = {}
        self._high_water: dict[tuple[str, str], int] = {}

    def enter(self, vendor: str, key: str) -> None:
        with self._lock:
            current = self._in_flight.get((vendor, key), 0) + 1
            self._in_flight[(vendor, key)] = current
            if current > self._high_water.get((vendor, key), 0):
                self._high_water[(vendor, key)] = current

    def leave(self, call: Call) -> None:
        with self._lock:
            slot = (call.vendor, call.key)
            self._in_flight[slot] = max(self._in_flight.get(slot, 1) - 1, 0)
            self._calls.append(call)
            count_key = (call.vendor, call.endpoint, call.outcome)
            self._counts[count_key] = self._counts.get(count_key, 0) + 1

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def high_water(self, vendor: str, key: str) -> int:
        with self._lock:
            return self._high_water.get((vendor, key), 0)

    def stats(self) -> dict[str, Any]:
        """Counts per vendor/endpoint/outcome, and in-flight and high-water per vendor/key."""
        with self._lock:
            counts: dict[str, dict[str, dict[str, int]]] = {}
            for (vendor, endpoint, outcome), number in sorted(self._counts.items()):
                counts.setdefault(vendor, {}).setdefault(endpoint, {})[outcome] = number
            return {
                "total": sum(self._counts.values()),
                "counts": counts,
                "high_water": _nest(self._high_water),
                "in_flight": _nest({slot: n for slot, n in self._in_flight.items() if n}),
            }

    def reset(self) -> None:
        """Forget calls, counts and high-water marks; requests in flight stay counted."""
        with self._lock:
            self._calls.clear()
            self._counts.clear()
            self._high_water = {slot: n for slot, n in self._in_flight.items() if n}


def _nest(values: dict[tuple[str, str], int]) -> dict[str, dict[str, int]]:
    nested: dict[str, dict[str, int]] = {}
    for (vendor, key), number in sorted(values.items()):
        nested.setdefault(vendor, {})[key] = number
    return nested
