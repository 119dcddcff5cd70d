"""What discovery concludes about an address or a person (`Verdict`), and one person's
candidates asked in turn until a verdict is reached (`InTurn`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from .scoring import INVALID, UNKNOWN, UNKNOWN_MIN


@dataclass(frozen=True)
class Verdict:
    """What discovery concludes about one address (or, with email "", about a person)."""

    email: str
    status: str
    score: int
    reason: str
    catch_all: bool = False
    pattern: str = ""
    evidence: str = ""
    mx_ok: bool = False
    smtp_code: int | None = None
    smtp_reply: str = ""
    mail_host: str = ""
    recheck_at: dt.datetime | None = None
    tried: tuple[str, ...] = ()


class InTurn:
    """One person's candidates asked in turn, stopping at the first that is not refused.

    A greylisting host defers every new recipient: all candidates are asked anyway, so that
    each one's recheck is due at the same time and one recheck round settles them.
    """

    def __init__(self, ranked: list, domain: str) -> None:
        self.ranked, self.domain = ranked, domain
        self.tried: list[str] = []
        self.first_answer: Verdict | None = None
        self.deferred: Verdict | None = None
        self.found: Verdict | None = None
        self.rounds = 0

    def next_window(self) -> list:
        """The next candidates to ask about together (`find_best_many`'s rounds): one, then
        twice as many each round, none once the verdict is reached. A person whose likely
        addresses were refused has most likely left, and then every candidate is asked
        anyway: in 4 rounds rather than 10."""
        if self.found is not None:
            return []
        start, width = len(self.tried), 2**self.rounds
        self.rounds += 1
        return self.ranked[start : start + width]

    def next(self):
        """The next candidate to ask about, or None when the verdict is reached."""
        if self.found is not None or len(self.tried) >= len(self.ranked):
            return None
        return self.ranked[len(self.tried)]

    def answered(self, address: str, verdict: Verdict) -> None:
        self.tried.append(address)
        self.first_answer = self.first_answer or verdict
        if verdict.reason == "greylisted":
            self.deferred = self.deferred or verdict
        elif verdict.status != INVALID and self.found is None:
            # Confirmed, or an answer that says nothing (blocked, accept-all): asking about
            # more candidates would not say more.
            self.found = verdict

    @property
    def verdict(self) -> Verdict:
        tried = tuple(self.tried)
        if self.found is not None:
            return replace(self.found, tried=tried)
        if self.deferred is not None:
            return replace(self.deferred, tried=tried)
        return replace(
            self.first_answer, email="", tried=tried, reason="no_mailbox_found", pattern=""
        )


def objected(address: str) -> Verdict:
    """Someone who objected: never probed, so nothing is known."""
    return Verdict(address, UNKNOWN, UNKNOWN_MIN, "objected")
