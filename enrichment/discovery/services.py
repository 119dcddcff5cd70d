"""Verify an address, or find a person's best address on a domain (the discovery services).

Public API (everything else in the package is an implementation detail):

- `verify_address(email, *, workspace_id=None, smtp=True) -> Verdict`
- `find_best_address(first, last, domain, *, known=(), workspace_id=None, smtp=True) -> Verdict`
  (`Verdict.email` is "" when no address could be found)
- `recheck_due_probes(*, now=None, domains=None) -> int`: asks greylisted addresses again
  once due (of those domains only, if given)
- `Discovery`: the same operations sharing one set of SMTP sessions (a file, a job); close it.

The workspace's objection list (without a workspace, every workspace's: objections fail
closed) is read before anything is asked: an address on it (or, for a person, any of their
likely addresses) is never probed. Every probe is an `EmailProbe`
row created before the network is used and finished after, each step its own short write; a
probe already answered (within SOURCIER_PROBE_RESULT_DAYS) is read back instead of being
asked again, so replaying a verification sends nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import replace

from django.conf import settings
from django.utils import timezone

from ..models import EmailProbe
from . import objections, records
from .asking import MailQuestions
from .dns import MailRoute
from .patterns import KnownAddress, PatternEvidence, learn_from_patterns, rank_candidates
from .permutations import candidates, is_junk_name, pattern_of
from .prober import Prober
from .scoring import (
    INVALID,
    SMTP_BLOCKED,
    SMTP_BUDGET,
    SMTP_DEFERRED,
    SMTP_NOT_PROBED,
    SMTP_PAUSED,
    SMTP_UNREACHABLE,
    UNDELIVERABLE_ROUTES,
    Observation,
    check_syntax,
    score,
)
from .smtp import accepts_all_provider
from .verdicts import InTurn, Verdict, objected

__all__ = [
    "SILENT", "Discovery", "InTurn", "Verdict", "find_best_address", "normalize_domain",
    "recheck_due_probes", "verify_address",
]  # fmt: skip

# A catch-all check that got no answer for these reasons: asking about the address would not
# get one either.
SILENT = (SMTP_BLOCKED, SMTP_PAUSED, SMTP_UNREACHABLE, SMTP_BUDGET)


class Discovery(MailQuestions):
    """Verifications sharing SMTP sessions, DNS answers and one clock; `close()` at the end.

    Raises ProbeConfigError at once when `smtp` is on and SOURCIER_SMTP_HELO or
    SOURCIER_SMTP_MAIL_FROM cannot be used (missing, localhost, example domain).
    """

    def __init__(
        self,
        *,
        workspace_id: int | None = None,
        smtp: bool = True,
        now: dt.datetime | None = None,
    ) -> None:
        super().__init__(
            workspace_id=workspace_id,
            prober=Prober.from_settings() if smtp else None,
            now=now,
        )

    def __enter__(self) -> Discovery:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.prober is not None:
            self.prober.close()

    @property
    def warnings(self) -> set[str]:
        return self.prober.warnings if self.prober else set()

    def verify(
        self, email: str, *, pattern: str = "", evidence: PatternEvidence | None = None
    ) -> Verdict:
        """The verdict on one address (syntax, DNS, catch-all, then one RCPT)."""
        address, _why = check_syntax(email)
        if address is None:
            result = score(Observation(syntax_ok=False))
            return Verdict((email or "").strip(), result.status, result.score, result.reason)
        if self._objecting([address]):
            return objected(address)
        return self._verify_checked(address, pattern=pattern, evidence=evidence)

    def _verify_checked(
        self, address: str, *, pattern: str = "", evidence: PatternEvidence | None = None
    ) -> Verdict:
        """`verify` for an address whose syntax and objection were checked already."""
        domain = address.rpartition("@")[2]
        route, row = self.route(domain)
        if route.status in UNDELIVERABLE_ROUTES or self.prober is None:
            # Without SMTP a catch-all answer found earlier still counts.
            return self._verdict(address, route, row.catch_all, None, pattern, evidence)
        catch_all, silent = self.catch_all(route, row) if route.deliverable else (None, "")
        probe = None
        if route.deliverable and not catch_all and silent not in SILENT:
            probe = self.probe(address, route, pattern=pattern)
        return self._verdict(address, route, catch_all, probe, pattern, evidence, smtp=silent)

    def _verdict(
        self,
        address: str,
        route: MailRoute,
        catch_all: bool | None,
        probe: EmailProbe | None,
        pattern: str,
        evidence: PatternEvidence | None,
        smtp: str = "",
    ) -> Verdict:
        if probe is not None:
            smtp = probe.status
        smtp = smtp or SMTP_NOT_PROBED
        if probe is not None and probe.status == EmailProbe.Status.PENDING:
            smtp = SMTP_DEFERRED
        matches = bool(evidence and pattern and evidence.best == pattern)
        obs = Observation(
            route=route.status,
            smtp=smtp,
            catch_all=catch_all,
            accepts_all_provider=_accepts_all(route),
            pattern_matches=matches,
            pattern_known=evidence.known if evidence else 0,
            pattern_share=evidence.share if evidence else 0.0,
        )
        result = score(obs)
        return Verdict(
            email=address,
            status=result.status,
            score=result.score,
            reason=result.reason,
            catch_all=bool(catch_all),
            pattern=pattern,
            evidence=evidence.text() if evidence else "",
            mx_ok=route.deliverable,
            smtp_code=probe.reply_code if probe else None,
            smtp_reply=probe.reply_text if probe else "",
            mail_host=probe.mail_host if probe else "",
            recheck_at=probe.recheck_at if probe else None,
        )

    # -- a person ---------------------------------------------------------------------------

    def evidence(self, domain: str, known: Iterable[KnownAddress]) -> PatternEvidence:
        """The domain's pattern from the given known addresses and our confirmed probes."""
        known = tuple(known)
        if domain not in self._patterns:
            self._patterns[domain] = records.verified_patterns(domain, self.workspace_id)
        # Asked for every person of a batch: kept until the domain confirms one more address
        # (its patterns only grow) or other known addresses are given.
        key = (domain, known, len(self._patterns[domain]))
        if self._evidence.get(domain, (None,))[0] != key:
            given = [
                pattern_of(k.email, k.first_name, k.last_name)
                for k in known
                if k.email.lower().endswith("@" + domain)
            ]
            self._evidence[domain] = (key, learn_from_patterns(given + self._patterns[domain]))
        return self._evidence[domain][1]

    def find_best(
        self,
        first_name: str,
        last_name: str,
        domain: str,
        *,
        known: Iterable[KnownAddress] = (),
    ) -> Verdict:
        """The person's most likely address, confirmed by SMTP when the domain allows it."""
        domain = normalize_domain(domain)
        prepared = self.prepare(first_name, last_name, domain, known=known)
        if isinstance(prepared, Verdict):
            return prepared
        ranked, evidence = prepared
        return self._first_confirmed(ranked, domain, evidence)

    def find_best_many(
        self, people: list[tuple[str, str]], domain: str, *, known: Iterable[KnownAddress] = ()
    ) -> list[Verdict]:
        """`find_best` for many (first name, last name) of one domain, their candidates asked
        in rounds: one session transaction and one write of probe rows per round."""
        from .colleagues import find_colleagues

        return find_colleagues(self, people, normalize_domain(domain), list(known))

    def find_best_across(
        self,
        people: list[tuple[str, str, str]],
        *,
        known: dict[str, list[KnownAddress]] | None = None,
        on_wave: Callable[[], object] | None = None,
    ) -> list[Verdict]:
        """`find_best` for many (first name, last name, domain): each domain's people asked
        together, and the domains' rounds side by side (one write of probe rows per wave of
        rounds, the domains sharing mail hosts asked in one session). In order. `on_wave`
        is called after each wave."""
        from .colleagues import find_across

        batch: dict[str, list[tuple[str, str]]] = {}
        places = []
        for first_name, last_name, domain in people:
            staff = batch.setdefault(normalize_domain(domain), [])
            places.append((normalize_domain(domain), len(staff)))
            staff.append((first_name, last_name))
        given = {normalize_domain(d): list(k) for d, k in (known or {}).items()}
        found = find_across(self, batch, given, on_wave)
        return [found[domain][index] for domain, index in places]

    def prepare(
        self, first_name: str, last_name: str, domain: str, *, known: Iterable[KnownAddress] = ()
    ) -> Verdict | tuple[list, PatternEvidence]:
        """The verdict when nothing is to be confirmed by SMTP (no name, objection, no mail,
        catch-all, probing impossible), else the person's ranked candidates to ask in turn
        and the domain's evidence (`domain` already normalized)."""
        _address, why = check_syntax(f"postmaster@{domain}")
        if why or not domain:
            return Verdict("", INVALID, 0, "invalid_domain")
        if is_junk_name(first_name) or is_junk_name(last_name):
            return Verdict("", INVALID, 0, "invalid_name")  # "=HYPERLINK(…)": nothing asked
        options = candidates(first_name, last_name)
        if not options:
            return Verdict("", INVALID, 0, "no_name")
        evidence = self.evidence(domain, known)
        # No address is longer than 254 characters (RFC 5321 with RFC 3696's erratum).
        longest = 254 - len(domain) - 1
        ranked = [c for c in rank_candidates(options, evidence) if len(c.local) <= longest]
        if not ranked:
            return Verdict("", INVALID, 0, "invalid_domain")
        limit = settings.SOURCIER_SMTP_MAX_RCPTS_PER_PERSON
        if self._objecting([c.address(domain) for c in ranked[:limit]]):
            # One of the person's likely addresses objected: nobody is asked about any of them.
            return objected("")
        route, row = self.route(domain)
        if route.status in UNDELIVERABLE_ROUTES:
            verdict = self.verify(ranked[0].address(domain))
            return replace(verdict, email="")
        unconfirmable = self.prober is None or not route.deliverable
        catch_all, silent = (None, "") if unconfirmable else self.catch_all(route, row)
        if unconfirmable or catch_all or (catch_all is None and silent != SMTP_DEFERRED):
            # Nothing to ask, or nothing an answer would prove: the best guess, unconfirmed.
            top = ranked[0]
            return self.verify(top.address(domain), pattern=top.pattern, evidence=evidence)
        return ranked[:limit], evidence

    def _first_confirmed(self, ranked: list, domain: str, evidence: PatternEvidence) -> Verdict:
        """Ask about the candidates in turn and stop at the first that is not refused."""
        addresses = [c.address(domain) for c in ranked]
        self._prefetched = records.latest_probes(self.workspace_id, addresses)
        try:
            asking = InTurn(ranked, domain)
            while (candidate := asking.next()) is not None:
                address = candidate.address(domain)
                # `prepare` checked every candidate's syntax and objection already.
                verdict = self._verify_checked(
                    address, pattern=candidate.pattern, evidence=evidence
                )
                asking.answered(address, verdict)
            return asking.verdict
        finally:
            self._prefetched = {}

    def _objecting(self, addresses: list[str]) -> bool:
        """Is any of these on the workspace's objection list (no workspace: on any list)?"""
        if self._none_objected:
            return False
        return bool(objections.objecting_emails(self.workspace_id, addresses))

    def recheck_due(self, *, domains: Iterable[str] | None = None) -> int:
        """Ask every due greylisted address again (of `domains` only, if given); returns how
        many were asked. The discovered contacts whose answer waited on them have their best
        address chosen again. Every domain's due addresses are asked in one wave
        (`probe_routes`)."""
        from .checking import refresh_after_recheck

        by_domain: dict[str, dict[str, str]] = {}
        mine = records.due_rechecks(self.now(), domains=domains, workspace_id=self.workspace_id)
        for probe in mine:
            by_domain.setdefault(probe.domain, {}).setdefault(probe.email, probe.pattern)
        due = [email for asked in by_domain.values() for email in asked]
        objecting = objections.objecting_emails(self.workspace_id, due) if due else set()
        # Someone who objected since is never asked again: their rechecks are dropped (left
        # due, they would come back first every time and crowd out the others).
        records.claim_rechecks([probe for probe in mine if probe.email in objecting])
        self.preload(list(by_domain))
        rounds = []
        for domain, asked in by_domain.items():
            wanted = self._recheck_domain(domain, asked, objecting)
            if wanted is not None:
                rounds.append(wanted)
        if rounds:
            # The due probes just read are their addresses' latest (a newer attempt is only
            # ever made by claiming one, which ends its recheck): not read again. One another
            # worker claims meanwhile is read again by the claim (`_claim_due`).
            self._prefetched = {probe.email: probe for probe in mine}
            try:
                self.probe_routes(rounds)
            finally:
                self._prefetched = {}
        rechecked = [(email, domain) for domain, asked in by_domain.items() for email in asked]
        refresh_after_recheck(self, rechecked, now=self.now())
        return len(rechecked)

    def _recheck_domain(
        self, domain: str, asked: dict[str, str], objecting: set[str]
    ) -> tuple[MailRoute, dict[str, str]] | None:
        """What `verify` would ask about each address of `domain` (address -> pattern): the
        route and addresses to ask, or None when nothing is to be asked."""
        asked = {email: p for email, p in asked.items() if email not in objecting}
        route, row = self.route(domain)
        if not asked or not route.deliverable or self.prober is None:
            return None
        catch_all, silent = self.catch_all(route, row)
        if catch_all or silent in SILENT:
            return None
        return route, asked


def normalize_domain(value: str | None) -> str:
    """'https://www.Acme.fr/contact' -> 'acme.fr'; an address gives its domain."""
    text = (value or "").strip().lower()
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text).rpartition("@")[2]
    text = text.split("/", 1)[0].split("?", 1)[0].split(":", 1)[0].rstrip(".")
    return text.removeprefix("www.")


def _accepts_all(route: MailRoute) -> str:
    """The provider whose hosts say yes to everyone, when the domain's mail goes there."""
    return next((p for h in route.hosts if (p := accepts_all_provider(h.name))), "")


def verify_address(email: str, *, workspace_id: int | None = None, smtp: bool = True) -> Verdict:
    """The verdict on one address; `smtp=False` stops at syntax and DNS."""
    with Discovery(workspace_id=workspace_id, smtp=smtp) as discovery:
        return discovery.verify(email)


def find_best_address(
    first_name: str,
    last_name: str,
    domain: str,
    *,
    known: Iterable[KnownAddress] = (),
    workspace_id: int | None = None,
    smtp: bool = True,
) -> Verdict:
    """The person's best address on `domain` (Verdict.email is "" when none was found)."""
    with Discovery(workspace_id=workspace_id, smtp=smtp) as discovery:
        return discovery.find_best(first_name, last_name, domain, known=known)


def recheck_due_probes(
    *, now: dt.datetime | None = None, domains: Iterable[str] | None = None
) -> int:
    """Ask again every greylisted address whose recheck is due, workspace by workspace (of
    `domains` only, if given: workers sharing a batch each recheck their own domains)."""
    if isinstance(domains, str):
        domains = [domains]
    domains = None if domains is None else sorted(set(domains))
    total = 0
    due = records.workspaces_with_due_rechecks(now or timezone.now(), domains=domains)
    for workspace_id in due:
        with Discovery(workspace_id=workspace_id, now=now) as discovery:
            total += discovery.recheck_due(domains=domains)
    return total
