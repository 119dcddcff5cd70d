"""The credit ledger's refusals, each with its stable outcome code."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal


class LedgerError(Exception):
    """Base of the ledger's refusals; `code` is the stable outcome code."""

    code = "ledger_error"


class InsufficientCredits(LedgerError):
    code = "insufficient_credits"

    def __init__(self, balance: Decimal, amount: Decimal) -> None:
        super().__init__(f"balance {balance} € is below {amount} €")
        self.balance = balance
        self.amount = amount


class DailyCapReached(LedgerError):
    """Today's spending would pass the cap: try again at `resume_at` (next Paris midnight)."""

    code = "daily_cap_reached"

    def __init__(self, *, cap: Decimal, spent: Decimal, resume_at: dt.datetime, scope: str):
        super().__init__(f"{scope} daily cap {cap} € reached ({spent} € spent)")
        self.cap = cap
        self.spent = spent
        self.resume_at = resume_at
        self.scope = scope


class IdempotencyConflict(LedgerError):
    """The key was already used for another amount, provider or outcome."""

    code = "idempotency_conflict"


class UnknownReservation(LedgerError, LookupError):
    code = "unknown_reservation"
