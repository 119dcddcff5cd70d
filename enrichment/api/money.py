"""Euros in the API's answers: always four decimal places (the ledger's), so an amount reads
the same whether it was just computed or read back from the database ("0.1440", never
"0.144" from one route and "0.1440" from another)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator

from ..engine.money import PLACES


def _four_places(value: Decimal) -> Decimal:
    return value.quantize(PLACES)


Euros = Annotated[Decimal, AfterValidator(_four_places)]
