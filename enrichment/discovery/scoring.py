"""One address's score (0–100) and status from what was observed: format, DNS, SMTP, pattern.

Pure. The bands are the platform's one confidence scale: verified ≥ 80, unknown 50–79,
risky < 50; invalid is a fact (bad syntax, no mail server, mailbox refused), not a score band.
Risky says the domain accepts every address; a domain whose DNS did not answer is unknown.
Two rules hold whatever the pattern says: a catch-all domain is never "verified" (it accepts
every address, so an accepted RCPT proves nothing), and only an SMTP "yes" from a host that
does not accept everything can reach "verified".
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

VERIFIED = "verified"
UNKNOWN = "unknown"
RISKY = "risky"
INVALID = "invalid"
STATUSES = (VERIFIED, UNKNOWN, RISKY, INVALID)

VERIFIED_MIN = 80
UNKNOWN_MIN = 50

# What the mail route of the domain says (dns.py): where mail for the domain would go.
ROUTE_MX = "mx"
ROUTE_A = "a_fallback"
ROUTE_NULL_MX = "null_mx"
ROUTE_NXDOMAIN = "nxdomain"
ROUTE_NO_MAIL = "no_mail"
ROUTE_DNS_ERROR = "dns_error"
UNDELIVERABLE_ROUTES = {
    ROUTE_NULL_MX: "null_mx",
    ROUTE_NXDOMAIN: "domain_not_found",
    ROUTE_NO_MAIL: "no_mail_server",
}

# What the SMTP conversation said about the recipient (smtp.py).
SMTP_ACCEPTED = "accepted"
SMTP_REJECTED = "rejected"
SMTP_DEFERRED = "deferred"
SMTP_BLOCKED = "blocked"
SMTP_UNREACHABLE = "unreachable"
SMTP_NOT_PROBED = "not_probed"
SMTP_PAUSED = "paused"
SMTP_BUDGET = "budget"  # today's probe budget is spent: nothing was asked


@functools.lru_cache(maxsize=16_384)
def check_syntax(email: str) -> tuple[str | None, str]:
    """(normalised address, "") or (None, why): email-validator, never a DNS query.

    Pure, and asked again for every person of a domain (its postmaster address): cached.
    """
    try:
        result = validate_email(email or "", check_deliverability=False)
    except EmailNotValidError as exc:
        return None, str(exc)
    return result.normalized.lower(), ""


@dataclass(frozen=True)
class Observation:
    """Everything known about one address when it is scored."""

    syntax_ok: bool = True
    route: str = ROUTE_MX
    smtp: str = SMTP_NOT_PROBED
    catch_all: bool | None = None
    accepts_all_provider: str = ""  # "microsoft", "yahoo": hosts whose "yes" means little
    pattern_matches: bool = False  # the address follows the domain's learned pattern
    pattern_known: int = 0  # addresses that back the learned pattern
    pattern_share: float = 0.0  # the learned pattern's share of them


@dataclass(frozen=True)
class Score:
    score: int
    status: str
    reason: str


def _pattern_bonus(obs: Observation) -> int:
    if not obs.pattern_matches:
        return 0
    if obs.pattern_known >= 3:
        return round(20 * obs.pattern_share)
    return 5 * min(obs.pattern_known, 2)


def _band(score: int) -> str:
    if score >= VERIFIED_MIN:
        return VERIFIED
    if score >= UNKNOWN_MIN:
        return UNKNOWN
    return RISKY


def score(obs: Observation) -> Score:
    """The score, status and reason code for one observed address."""
    if not obs.syntax_ok:
        return Score(0, INVALID, "invalid_syntax")
    if obs.route in UNDELIVERABLE_ROUTES:
        return Score(0, INVALID, UNDELIVERABLE_ROUTES[obs.route])
    if obs.smtp == SMTP_REJECTED:
        return Score(5, INVALID, "mailbox_not_found")
    bonus = _pattern_bonus(obs)
    if obs.route == ROUTE_DNS_ERROR:
        # The domain's DNS did not answer (SERVFAIL, timeout): nothing is known about the
        # address. "unknown", never "risky", which says the domain accepts everything.
        return _clamped(
            UNKNOWN_MIN + bonus // 2, low=UNKNOWN_MIN, high=VERIFIED_MIN - 1, reason="dns_error"
        )
    if obs.accepts_all_provider and (obs.catch_all or obs.smtp == SMTP_ACCEPTED):
        # Their hosts say yes to everyone at RCPT time and bounce later: the yes is worthless.
        reason = f"accept_all_provider:{obs.accepts_all_provider}"
        return _clamped(35 + bonus // 2, high=UNKNOWN_MIN - 1, reason=reason)
    if obs.catch_all:
        return _clamped(30 + bonus, high=UNKNOWN_MIN - 1, reason="catch_all")
    if obs.smtp == SMTP_ACCEPTED:
        if obs.catch_all is None:
            # Not yet known whether the domain accepts everything: the "yes" may mean nothing.
            return _clamped(
                60 + bonus, low=UNKNOWN_MIN, high=VERIFIED_MIN - 1, reason="catch_all_unknown"
            )
        # An A-record fallback host that says yes is a little less telling than an MX.
        base = 88 if obs.route == ROUTE_MX else 82
        return _clamped(base + bonus, low=VERIFIED_MIN, reason="mailbox_accepted")
    reason = {
        SMTP_DEFERRED: "greylisted",
        SMTP_BLOCKED: "blocked_by_mail_host",
        SMTP_UNREACHABLE: "smtp_unreachable",
        SMTP_PAUSED: "probing_paused",
        SMTP_BUDGET: "daily_budget_spent",
    }.get(obs.smtp, "not_probed")
    return _clamped(55 + bonus, low=UNKNOWN_MIN, high=VERIFIED_MIN - 1, reason=reason)


def _clamped(value: int, *, low: int = 0, high: int = 100, reason: str) -> Score:
    bounded = max(low, min(high, value))
    return Score(bounded, _band(bounded), reason)
