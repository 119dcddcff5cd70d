"""Where breaker states live between workers: one database row, or one Redis hash, per provider.

Both offer the same two operations: a read that returns the state with its version, and a
compare-and-set that writes only if the version is still the one read. Version 0 means "no
state stored yet" (a closed breaker that has seen no call).
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from enrichment.models import ProviderBreaker

from .breaker import State

if TYPE_CHECKING:
    import redis


class DatabaseStore:
    """One `ProviderBreaker` row per provider, changed by conditional UPDATEs."""

    def load(self, provider: str) -> tuple[State, int]:
        # Read on every session a prober opens: the columns alone (the provider is unique).
        rows = ProviderBreaker.objects.filter(provider=provider).values_list(
            "results", "opened_at", "probe_until", "generation", "pending", "version"
        )
        row = next(iter(rows[:1]), None)
        if row is None:
            return State(), 0
        results, opened_at, probe_until, generation, pending, version = row
        state = State(
            results=results,
            opened_at=opened_at,
            probe_until=probe_until,
            generation=generation,
            pending=tuple(float(until) for until in pending.split()),
        )
        return state, version

    def swap(self, provider: str, version: int, state: State) -> bool:
        fields = {
            "results": state.results,
            "opened_at": state.opened_at,
            "probe_until": state.probe_until,
            "generation": state.generation,
            "pending": " ".join(repr(until) for until in state.pending),
        }
        if version == 0:
            try:
                with transaction.atomic():
                    ProviderBreaker.objects.create(provider=provider, version=1, **fields)
            except IntegrityError:
                return False  # another worker stored the first state: read it again
            return True
        updated = ProviderBreaker.objects.filter(provider=provider, version=version).update(
            version=version + 1, **fields
        )
        return updated == 1


# Compare-and-set in one round trip: Redis runs a script alone, so nothing slips between the
# version check and the write.
SWAP_SCRIPT = """
local current = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if current ~= tonumber(ARGV[1]) then
  return 0
end
redis.call('HSET', KEYS[1], 'v', current + 1, 's', ARGV[2])
return 1
"""

_clients: dict[str, redis.Redis] = {}
_clients_lock = threading.Lock()


def redis_client(url: str) -> redis.Redis:
    """One client (and connection pool) per URL and process."""
    # Imported by the first client: a process without Redis (the embedded default) never
    # loads the package, whose import costs a tenth of a second.
    import redis

    with _clients_lock:
        if url not in _clients:
            _clients[url] = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        return _clients[url]


class RedisStore:
    """One hash per provider: `v` the version, `s` the state as JSON."""

    def __init__(self, url: str, *, prefix: str = "sourcier:breaker:") -> None:
        self.client = redis_client(url)
        self.prefix = prefix
        self._swap = self.client.register_script(SWAP_SCRIPT)

    def key(self, provider: str) -> str:
        return f"{self.prefix}{provider}"

    def load(self, provider: str) -> tuple[State, int]:
        version, payload = self.client.hmget(self.key(provider), ["v", "s"])
        if version is None:
            return State(), 0
        fields = json.loads(payload)
        fields["pending"] = tuple(fields.get("pending", ()))
        return State(**fields), int(version)

    def swap(self, provider: str, version: int, state: State) -> bool:
        payload = json.dumps(
            {
                "results": state.results,
                "opened_at": state.opened_at,
                "probe_until": state.probe_until,
                "generation": state.generation,
                "pending": list(state.pending),
            }
        )
        return bool(self._swap(keys=[self.key(provider)], args=[version, payload]))
