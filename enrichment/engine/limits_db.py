"""The database backend of the limits (the embedded default): numbered slots and per-second
counters in shared tables, so they hold across every worker and host that shares the database.

Concurrency: a call takes one of N numbered slots per (workspace, provider); the unique
constraint on the slot number makes "at most N at once" a database fact, not a hope. A lease
that its holder never released (a killed worker) expires and its slot is taken over.

Rate: a counter per provider per wall-clock second, incremented only while under the limit.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ..models import ProviderLease, ProviderRateWindow


def acquire_slot(
    workspace_id: int, provider: str, *, limit: int, ttl: float
) -> ProviderLease | None:
    """Take a free concurrency slot (or an expired one); None when all `limit` are held."""
    now = timezone.now()
    expires = now + dt.timedelta(seconds=ttl)
    token = secrets.token_hex(16)
    held = set(
        ProviderLease.objects.filter(
            workspace_id=workspace_id, provider=provider, expires_at__gt=now
        ).values_list("slot", flat=True)
    )
    for slot in range(limit):
        if slot in held:
            continue
        # An expired lease in this slot belongs to a dead holder: take the slot over.
        taken = ProviderLease.objects.filter(
            workspace_id=workspace_id, provider=provider, slot=slot, expires_at__lte=now
        ).update(token=token, expires_at=expires)
        if taken:
            return ProviderLease.objects.get(token=token)
        try:
            with transaction.atomic():
                return ProviderLease.objects.create(
                    workspace_id=workspace_id,
                    provider=provider,
                    slot=slot,
                    token=token,
                    expires_at=expires,
                )
        except IntegrityError:
            continue  # someone took this slot between our read and our write
    return None


def slots_held(workspace_id: int, provider: str) -> int:
    return ProviderLease.objects.filter(
        workspace_id=workspace_id, provider=provider, expires_at__gt=timezone.now()
    ).count()


def renew_slot(lease: ProviderLease, *, ttl: float) -> bool:
    """Hold the slot `ttl` seconds more from now; False when the lease expired meanwhile."""
    now = timezone.now()
    return bool(
        ProviderLease.objects.filter(token=lease.token, expires_at__gt=now).update(
            expires_at=now + dt.timedelta(seconds=ttl)
        )
    )


def release_slot(lease: ProviderLease) -> None:
    ProviderLease.objects.filter(token=lease.token).delete()


def take_rate_token(provider: str, *, per_second: int, count: int = 1) -> float:
    """Count `count` requests (all or none) in this second's window: 0 when allowed, else
    seconds to wait.

    One statement whether or not the window exists yet (`INSERT … ON CONFLICT DO UPDATE …
    WHERE` room is left): the first request of a second costs what the others cost.
    """
    now = time.time()
    window = int(now)
    meta, quote = ProviderRateWindow._meta, connection.ops.quote_name
    table = quote(meta.db_table)
    provider_col, window_col, count_col = (
        quote(meta.get_field(name).column) for name in ("provider", "window", "count")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({provider_col}, {window_col}, {count_col}) "  # noqa: S608
            f"VALUES (%s, %s, %s) ON CONFLICT ({provider_col}, {window_col}) "
            f"DO UPDATE SET {count_col} = {table}.{count_col} + %s "
            f"WHERE {table}.{count_col} <= %s RETURNING {count_col}",
            [provider, window, count, count, per_second - count],
        )
        allowed = cursor.fetchone() is not None
    return 0.0 if allowed else window + 1 - now


def purge_expired(older_than_seconds: int = 3600) -> int:
    """Drop expired leases and old rate windows (housekeeping; correctness never needs it)."""
    now = timezone.now()
    leases, _ = ProviderLease.objects.filter(expires_at__lte=now).delete()
    windows, _ = ProviderRateWindow.objects.filter(
        window__lt=int(time.time()) - older_than_seconds
    ).delete()
    return leases + windows
