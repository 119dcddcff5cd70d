"""Reading SOURCIER_PROVIDER_PRICES: the operator's own price per call and per success.

Pure (no Django import) so that settings can read it at startup and tests can hammer it.
Format: `slug:call=0.01,success=0.039;slug2:success=0.02` — euros, either part optional.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

PRICE_PARTS = ("call", "success")
# A price per call above this is a typo (a comma for a dot, cents for euros), not a vendor.
MAX_PRICE = Decimal("100")


def parse_provider_prices(text: str, *, known: Iterable[str]) -> dict[str, dict[str, Decimal]]:
    """`{slug: {"call": Decimal, "success": Decimal}}` with only the parts given; ValueError
    names the bad entry and what is expected."""
    slugs = sorted(known)
    table: dict[str, dict[str, Decimal]] = {}
    for entry in (part.strip() for part in text.split(";")):
        if not entry:
            continue
        slug, sep, pairs = entry.partition(":")
        slug = slug.strip().lower()
        if not sep or not pairs.strip():
            raise ValueError(f"{entry!r}: expected slug:call=…,success=…")
        if slug not in slugs:
            raise ValueError(f"{slug!r} is not a provider; known: {', '.join(slugs)}")
        if slug in table:
            raise ValueError(f"{slug!r} is given twice")
        table[slug] = _prices(slug, pairs)
    return table


def _prices(slug: str, pairs: str) -> dict[str, Decimal]:
    prices: dict[str, Decimal] = {}
    for pair in (p.strip() for p in pairs.split(",")):
        name, sep, value = pair.partition("=")
        name = name.strip().lower()
        if not sep or name not in PRICE_PARTS:
            raise ValueError(f"{slug}: {pair!r}: expected call=EUROS or success=EUROS")
        if name in prices:
            raise ValueError(f"{slug}: {name} is given twice")
        prices[name] = _euros(slug, name, value.strip())
    return prices


def _euros(slug: str, name: str, value: str) -> Decimal:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or not Decimal(0) <= amount <= MAX_PRICE:
        raise ValueError(
            f"{slug}: {name}={value!r} is not a price in euros between 0 and {MAX_PRICE} "
            "(use a dot: 0.039)"
        )
    return amount


# Requests per second Sourcier allows itself towards one vendor: a typo beyond this is refused.
MAX_RATE = 1000


def parse_provider_rates(
    text: str, *, known: Iterable[str], unit: str = "requests/s", name: str = "REQUESTS_PER_SECOND"
) -> dict[str, int]:
    """SOURCIER_PROVIDER_RATES, `slug=N,slug2=M`: the requests per second an operator's plan
    allows, over the registry's defaults (SOURCIER_PROVIDER_CONCURRENCIES: the calls at once,
    `unit` and `name` saying so). ValueError names the bad entry."""
    slugs = sorted(known)
    rates: dict[str, int] = {}
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        slug, sep, value = entry.partition("=")
        slug = slug.strip().lower()
        if not sep:
            raise ValueError(f"{entry!r}: expected slug={name}")
        if slug not in slugs:
            raise ValueError(f"{slug!r} is not a provider; known: {', '.join(slugs)}")
        if slug in rates:
            raise ValueError(f"{slug!r} is given twice")
        value = value.strip()
        if not value.isdigit() or not 1 <= int(value) <= MAX_RATE:
            raise ValueError(f"{slug}={value!r} is not a whole number of {unit} (1-{MAX_RATE})")
        rates[slug] = int(value)
    return rates
