"""Euros and Paris days: the units the ledger counts in."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

# Days, and so daily caps, are Paris days whatever the server's time zone.
PARIS = ZoneInfo("Europe/Paris")
PLACES = Decimal("0.0001")
ZERO = Decimal("0.0000")
# The columns hold 14 digits, 4 of them decimals.
MAX_AMOUNT = Decimal("9999999999.9999")


class InvalidAmount(ValueError):
    """Not an amount the ledger can hold; the message is for people (French when shown)."""

    code = "invalid_amount"


def parse_amount(value: Any, *, allow_zero: bool = True) -> Decimal:
    """A non-negative amount in euros with at most 4 decimals, or InvalidAmount."""
    try:
        if isinstance(value, bool):
            raise InvalidOperation
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        amount = Decimal("NaN")
    if not amount.is_finite():
        raise InvalidAmount(_("“%(value)s” is not an amount in euros.") % {"value": value})
    if amount < 0:
        raise InvalidAmount(_("The amount may not be negative: %(value)s.") % {"value": value})
    if amount == 0 and not allow_zero:
        raise InvalidAmount(_("The amount must be above zero: %(value)s.") % {"value": value})
    if amount > MAX_AMOUNT:
        raise InvalidAmount(_("The amount %(value)s is too large.") % {"value": value})
    if amount != amount.quantize(PLACES):
        raise InvalidAmount(
            _("An amount has at most 4 decimal places: %(value)s.") % {"value": value}
        )
    return amount.quantize(PLACES)


def paris_day(now: dt.datetime) -> dt.date:
    """The calendar day in Paris at `now`."""
    return now.astimezone(PARIS).date()


def next_midnight(now: dt.datetime) -> dt.datetime:
    """The next midnight in Paris after `now` (23, 24 or 25 hours away around DST)."""
    tomorrow = paris_day(now) + dt.timedelta(days=1)
    return dt.datetime.combine(tomorrow, dt.time(0), tzinfo=PARIS)
