"""The Redis backend of the limits (used when REDIS_URL is set): one atomic script per step.

Slots: a hash per (workspace, provider) whose fields are slot numbers and whose values are
"token expiry-ms"; a script takes the first free or expired slot, so "at most N at once" holds
whatever the number of workers, and a killed worker's slot comes back when its lease expires.
Rate: a counter per provider and wall-clock second, expiring by itself. Time is Redis's own
clock (TIME), so hosts whose clocks drift still agree.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass

import redis
from django.conf import settings

PREFIX = "sourcier:limits"

# KEYS[1] slots hash; ARGV: limit, ttl ms, token. Returns the slot number taken, or -1.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit, ttl = tonumber(ARGV[1]), tonumber(ARGV[2])
for slot = 0, limit - 1 do
  local held = redis.call('HGET', KEYS[1], slot)
  local expires = held and tonumber(string.match(held, ' (%d+)$')) or 0
  if expires <= now then
    redis.call('HSET', KEYS[1], slot, ARGV[3] .. ' ' .. (now + ttl))
    if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
    return slot
  end
end
return -1
"""

# KEYS[1] slots hash; ARGV: slot, token. Frees the slot only if this token still holds it.
_RELEASE = """
local held = redis.call('HGET', KEYS[1], ARGV[1])
if held and string.sub(held, 1, string.len(ARGV[2]) + 1) == ARGV[2] .. ' ' then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
"""

# KEYS[1] slots hash; ARGV: slot, token, ttl ms. Holds the slot ttl more from now if this
# token still holds it unexpired: 1, else 0.
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local held = redis.call('HGET', KEYS[1], ARGV[1])
if not held or string.sub(held, 1, string.len(ARGV[2]) + 1) ~= ARGV[2] .. ' ' then return 0 end
if tonumber(string.match(held, ' (%d+)$')) <= now then return 0 end
local ttl = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' ' .. (now + ttl))
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
"""

# KEYS[1] slots hash. Returns how many slots are held by a lease not yet expired.
_HELD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local held = 0
for _, value in ipairs(redis.call('HVALS', KEYS[1])) do
  if tonumber(string.match(value, ' (%d+)$')) > now then held = held + 1 end
end
return held
"""

# KEYS[1] rate prefix; ARGV: per second, requests. Counts them all or none; returns 0 when
# allowed, else ms until the next second.
_RATE = """
local t = redis.call('TIME')
local key = KEYS[1] .. ':' .. t[1]
local asked = tonumber(ARGV[2])
local count = redis.call('INCRBY', key, asked)
if count == asked then redis.call('EXPIRE', key, 2) end
if count <= tonumber(ARGV[1]) then return 0 end
redis.call('DECRBY', key, asked)
return 1000 - math.floor(tonumber(t[2]) / 1000)
"""


@dataclass(frozen=True)
class Lease:
    workspace_id: int
    provider: str
    slot: int
    token: str


_clients: dict[str, redis.Redis] = {}
_scripts: dict[tuple[str, str], object] = {}
_lock = threading.Lock()


def client() -> redis.Redis:
    """One connection pool per process and URL."""
    url = settings.REDIS_URL
    with _lock:
        if url not in _clients:
            _clients[url] = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        return _clients[url]


def _script(source: str):
    """The script as EVALSHA (loaded once by the server, its text not sent with each call)."""
    key = (settings.REDIS_URL, source)
    script = _scripts.get(key)
    if script is None:
        script = _scripts[key] = client().register_script(source)
    return script


def _slots_key(workspace_id: int, provider: str) -> str:
    return f"{PREFIX}:slots:{workspace_id}:{provider}"


def acquire_slot(workspace_id: int, provider: str, *, limit: int, ttl: float) -> Lease | None:
    token = secrets.token_hex(16)
    slot = _script(_ACQUIRE)(
        keys=[_slots_key(workspace_id, provider)], args=[limit, max(1, int(ttl * 1000)), token]
    )
    if int(slot) < 0:
        return None
    return Lease(workspace_id=workspace_id, provider=provider, slot=int(slot), token=token)


def slots_held(workspace_id: int, provider: str) -> int:
    return int(_script(_HELD)(keys=[_slots_key(workspace_id, provider)]))


def renew_slot(lease: Lease, *, ttl: float) -> bool:
    renewed = _script(_RENEW)(
        keys=[_slots_key(lease.workspace_id, lease.provider)],
        args=[lease.slot, lease.token, max(1, int(ttl * 1000))],
    )
    return bool(int(renewed))


def release_slot(lease: Lease) -> None:
    _script(_RELEASE)(
        keys=[_slots_key(lease.workspace_id, lease.provider)], args=[lease.slot, lease.token]
    )


def take_rate_token(provider: str, *, per_second: int, count: int = 1) -> float:
    wait_ms = _script(_RATE)(keys=[f"{PREFIX}:rate:{provider}"], args=[per_second, count])
    return int(wait_ms) / 1000


def purge_expired(older_than_seconds: int = 3600) -> int:
    """Nothing to do: every key expires by itself."""
    return 0
