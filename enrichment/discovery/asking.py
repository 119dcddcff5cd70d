"""Asking mail hosts, with every answer kept: a domain's route (DNS, cached by its TTL), its
catch-all check (once per domain) and one address's probe row (created before the network is
used, finished after; an answer still fresh is read back instead of asked again).

`MailQuestions` is the part of `services.Discovery` that talks to DNS, SMTP and the probe rows;
the verdicts and the choice of a person's best address are in services.py.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.utils import timezone

from ..models import EmailProbe, MailDomain
from . import records
from .dns import MailRoute, resolver
from .prober import Answer, Prober
from .scoring import (
    SMTP_ACCEPTED,
    SMTP_BLOCKED,
    SMTP_BUDGET,
    SMTP_DEFERRED,
    SMTP_REJECTED,
    SMTP_UNREACHABLE,
)

Status = EmailProbe.Status
FINAL = {Status.ACCEPTED, Status.REJECTED}
# A pending probe older than this belongs to a worker that died: it is asked again.
STALE_PENDING = dt.timedelta(minutes=10)
# The answer of a probe whose batch stopped before it was asked (nothing was sent): like an
# unreachable host, it is asked again next time.
NOT_ASKED = Answer(SMTP_UNREACHABLE, text="not asked: the batch stopped before it")
# A catch-all check's silences that last (greylisted until the recheck delay, a blocklist
# reply pausing the host for hours, the day's budget spent): not asked again meanwhile.
KEPT_SILENT = frozenset({SMTP_DEFERRED, SMTP_BLOCKED, SMTP_BUDGET})


class MailQuestions:
    """DNS routes, catch-all checks and probe rows for one caller (one clock, one prober)."""

    def __init__(
        self, *, workspace_id: int | None, prober: Prober | None, now: dt.datetime | None
    ) -> None:
        self.workspace_id = workspace_id
        self.prober = prober
        self._now = now
        self._domains: dict[str, MailDomain] = {}
        # A person's candidates' latest probes, read in one query and each used once.
        self._prefetched: dict[str, EmailProbe | None] = {}
        # For the span of a batch: the latest probe of every address of these domains (read
        # at once, then kept up to date with this batch's own), so its rounds read none.
        self._probed_domains: set[str] = set()
        self._latest_of: dict[str, EmailProbe] = {}
        # Set for the span of one batch of people when the objection list has no address.
        self._none_objected = False
        # Each domain's confirmed patterns: read once, then added to as probes confirm more.
        self._patterns: dict[str, list[str]] = {}
        # Each domain's evidence and what it was learned from (services.Discovery.evidence).
        self._evidence: dict[str, tuple] = {}
        # Domains whose catch-all check got no answer that a retry soon would change
        # (KEPT_SILENT): not asked again (nor read again) before this time, and why. A busy
        # or unreachable host is asked again by the next person.
        self._catch_all_silent: dict[str, tuple[dt.datetime, str]] = {}

    def now(self) -> dt.datetime:
        return self._now or timezone.now()

    # -- DNS and catch-all ------------------------------------------------------------------

    def route(self, domain: str) -> tuple[MailRoute, MailDomain]:
        """The domain's mail route: from the database while its TTL runs, else from DNS."""
        row = self._domains.get(domain) or records.load_domain(domain)
        self._domains[domain] = row
        route = records.cached_route(row, self.now())
        if route is None:
            route = resolver().route(domain)
            records.save_route(row, route, self.now())
        return route, row

    def catch_all(self, route: MailRoute, row: MailDomain) -> tuple[bool | None, str]:
        """Does the domain accept any recipient? Asked once, kept SOURCIER_CATCH_ALL_DAYS.

        Returns the answer (None: not known) and, when the host did not answer it, why
        (greylisted, blocked, paused, unreachable).
        """
        known = self._catch_all_known(row)
        return known if known is not None else self.check_catch_alls([(route, row)])[row.domain]

    def _catch_all_known(self, row: MailDomain) -> tuple[bool | None, str] | None:
        """The catch-all answer without asking (still fresh, nothing to ask with, greylisted
        until later), or None when the host is to be asked."""
        fresh = self.now() - dt.timedelta(days=settings.SOURCIER_CATCH_ALL_DAYS)
        if (
            row.catch_all is not None
            and row.catch_all_checked_at
            and (row.catch_all_checked_at > fresh)
        ):
            return row.catch_all, ""
        if self.prober is None:
            return row.catch_all, ""
        if self.prober.disabled:
            return None, SMTP_UNREACHABLE
        until, why = self._catch_all_silent.get(row.domain, (self.now(), ""))
        if until > self.now():
            return None, why  # greylisted, or not answered: not before the recheck delay
        return None

    def check_catch_alls(
        self, pairs: list[tuple[MailRoute, MailDomain]]
    ) -> dict[str, tuple[bool | None, str]]:
        """`catch_all` for many deliverable domains (route, row) side by side: their last
        checks read in one query, the probes created in one INSERT, the domains sharing mail
        hosts asked in one session, the answers written in one UPDATE and the domains' rows
        in one more. Returns each domain's (answer, why not)."""
        found: dict[str, tuple[bool | None, str]] = {}
        asking: dict[str, tuple[MailRoute, MailDomain, str]] = {}
        for route, row in pairs:
            known = self._catch_all_known(row)
            if known is not None:
                found[row.domain] = known
                continue
            # The same random address until it is answered: greylisting remembers recipients.
            local = row.catch_all_local or f"x{secrets.token_hex(6)}-nobody"
            asking[f"{local}@{row.domain}"] = (route, row, local)
        now = self.now()
        wait = dt.timedelta(seconds=settings.SOURCIER_SMTP_RECHECK_SECONDS)
        latest = records.latest_catch_all_probes(list(asking))
        rows = []
        for address, (_route, row, _local) in asking.items():
            last = latest.get(address)
            if last and last.status == Status.DEFERRED and last.created_at > now - wait:
                self._catch_all_silent[row.domain] = (last.created_at + wait, SMTP_DEFERRED)
                found[row.domain] = (None, SMTP_DEFERRED)  # greylisted: not before the delay
                continue
            rows.append({
                "workspace_id": None, "email": address, "domain": row.domain, "now": now,
                "attempt": (last.attempt + 1) if last else 1, "kind": EmailProbe.Kind.CATCH_ALL,
            })  # fmt: skip
        started = []
        for wanted, probe in zip(rows, records.start_probes(rows), strict=True):
            if probe is None:  # another worker is asking it
                found[wanted["domain"]] = (None, SMTP_DEFERRED)
            else:
                started.append(probe)
        route_of = {address: route for address, (route, _row, _local) in asking.items()}
        answers, failed = self._ask_grouped(started, route_of)
        changed = []
        for probe in started:
            answer = answers[probe.email]
            _route, row, local = asking[probe.email]
            for name, value in self._answer_fields(answer, recheck=False).items():
                setattr(probe, name, value)
            verdict = {SMTP_ACCEPTED: True, SMTP_REJECTED: False}.get(answer.status)
            if answer.status in KEPT_SILENT:
                self._catch_all_silent[row.domain] = (probe.created_at + wait, answer.status)
            row.catch_all, row.catch_all_local = verdict, "" if verdict is not None else local
            row.catch_all_checked_at = now if verdict is not None else None
            changed.append(row)
            found[row.domain] = (verdict, "" if verdict is not None else answer.status)
        records.finish_probes(started)
        records.save_catch_alls(changed)
        if failed is not None:
            raise failed
        return found

    def _ask_grouped(
        self, probes: list[EmailProbe], route_of: dict[str, MailRoute]
    ) -> tuple[dict[str, Answer], Exception | None]:
        """Ask about the probes' addresses, those whose domains' mail goes to the same hosts
        (the backup MX included, so a failover is the same for all) in one `ask_many`.

        Returns an answer for every probe, and the error that stopped the asking, if one did:
        the probes not asked then are answered NOT_ASKED, so that the caller finishes every
        row before raising it (no row is left pending, to be asked again by someone else
        later, and the other domains' answers are kept)."""
        by_hosts: dict[tuple, list[EmailProbe]] = {}
        for probe in probes:
            by_hosts.setdefault(route_of[probe.email].hosts, []).append(probe)
        answers: dict[str, Answer] = {}
        failed = None
        try:
            for group in by_hosts.values():
                got = self.prober.ask_many(route_of[group[0].email], [p.email for p in group])
                answers.update(zip((p.email for p in group), got, strict=True))
        except Exception as error:  # raised by the caller once every row is finished
            failed = error
        for probe in probes:
            answers.setdefault(probe.email, NOT_ASKED)
        return answers, failed

    # -- one address ------------------------------------------------------------------------

    def probe(self, email: str, route: MailRoute, *, pattern: str = "") -> EmailProbe:
        """The probe row answering for `email`: a recent one, or a new one asked now."""
        return self.probe_routes([(route, {email: pattern})])[email]

    def preload(self, domains: list[str]) -> None:
        """Read the mail rows and confirmed patterns of many domains at once (a batch's),
        rather than one query each as the domains come; ask DNS about those whose route is
        not known (side by side) and keep the answers in one write."""
        wanted = [d for d in domains if d not in self._domains]
        if wanted:
            self._domains.update(records.load_domains(wanted))
        stale = [d for d in domains if records.cached_route(self._domains[d], self.now()) is None]
        if stale:
            found = resolver().route_many(stale)
            records.save_routes([(self._domains[d], found[d]) for d in stale], self.now())
        wanted = [d for d in domains if d not in self._patterns]
        if wanted:
            self._patterns.update(records.verified_patterns_many(wanted, self.workspace_id))

    def probe_routes(
        self, rounds: list[tuple[MailRoute, dict[str, str]]]
    ) -> dict[str, EmailProbe]:
        """`probe` for many addresses, of one domain or several (each route with its
        addresses -> pattern): the probes to make are created in one INSERT before anything
        is sent, the domains whose mail goes to the same hosts asked together (`ask_many`:
        one session, pipelined), and finished in one UPDATE. Returns the probe row answering
        for each address."""
        route_of: dict[str, MailRoute] = {}
        pattern_of: dict[str, str] = {}
        for route, asked in rounds:
            for email, pattern in asked.items():
                route_of.setdefault(email, route)
                pattern_of.setdefault(email, pattern)
        emails = list(route_of)
        latest = self._latest_probes(emails)
        now = self.now()
        claimed = self._claim_due(latest, now)
        found: dict[str, EmailProbe] = {}
        rows = []
        for email in emails:
            previous = latest[email]
            if previous is not None and not self._ask_again(previous, now, claimed):
                found[email] = previous
                continue
            attempt = previous.attempt + 1 if previous else 1
            rows.append({
                "workspace_id": self.workspace_id, "email": email,
                "domain": route_of[email].domain, "attempt": attempt, "now": now,
                "pattern": pattern_of[email],
            })
        started = []
        for row, probe in zip(rows, records.start_probes(rows), strict=True):
            if probe is None:  # another worker is asking this very attempt
                found[row["email"]] = records.latest_probe(self.workspace_id, row["email"])
            else:
                started.append(probe)
        answers, failed = self._ask_grouped(started, route_of)
        for probe in started:
            recheck = probe.attempt <= settings.SOURCIER_SMTP_MAX_RECHECKS
            for name, value in self._answer_fields(answers[probe.email], recheck=recheck).items():
                setattr(probe, name, value)
            self._learn(probe)
            found[probe.email] = probe
        records.finish_probes(started)
        for email, probe in found.items():
            if email.rpartition("@")[2] in self._probed_domains:
                self._latest_of[email] = probe
        if failed is not None:
            raise failed
        return found

    def _latest_probes(self, emails: list[str]) -> dict[str, EmailProbe | None]:
        """The latest probe of each address: prefetched, read with its batch's domains, or
        read now (those left, in one query)."""
        latest = {e: self._prefetched.pop(e) for e in emails if e in self._prefetched}
        for email in emails:
            if email not in latest and email.rpartition("@")[2] in self._probed_domains:
                latest[email] = self._latest_of.get(email)
        missing = [e for e in emails if e not in latest]
        if missing:
            latest.update(records.latest_probes(self.workspace_id, missing))
        return latest

    def _claim_due(self, latest: dict[str, EmailProbe | None], now: dt.datetime) -> set[int]:
        """Claim every due recheck among the latest probes at once (one transaction, not
        one each): the ids this caller took. One another worker took meanwhile (beat's
        recheck, say) has a newer attempt by now: read again in place of the one known."""
        due = {
            email: p for email, p in latest.items()
            if p is not None and p.status == Status.DEFERRED
            and p.recheck_at is not None and p.recheck_at <= now
        }  # fmt: skip
        claimed = records.claim_rechecks(list(due.values()))
        taken_elsewhere = [email for email, p in due.items() if p.pk not in claimed]
        if taken_elsewhere:
            latest.update(records.latest_probes(self.workspace_id, taken_elsewhere))
        return claimed

    def read_probes_of(self, domains: list[str]) -> None:
        """Read the latest probe of every address of these domains at once (a batch's): the
        rounds that follow ask the database about none of them, until `forget_probes`. Another
        worker asking one of them meanwhile is still seen: its attempt's key is taken."""
        wanted = [d for d in domains if d not in self._probed_domains]
        if wanted:
            found = records.latest_probes_of_domains(self.workspace_id, wanted)
            if found is not None:  # else too many: the rounds read their own
                self._latest_of.update(found)
                self._probed_domains.update(wanted)

    def forget_probes(self) -> None:
        """The end of a batch: the next one reads its domains' probes afresh."""
        self._probed_domains, self._latest_of = set(), {}

    def _ask_again(
        self, latest: EmailProbe, now: dt.datetime, claimed: set[int] | None = None
    ) -> bool:
        """Is `latest` to be asked again? A due recheck is claimed first (exactly one caller
        asks it), or was among the `claimed` ids already."""
        if latest.status == Status.PENDING:
            return latest.created_at < now - STALE_PENDING
        if latest.status in FINAL:
            age = dt.timedelta(days=settings.SOURCIER_PROBE_RESULT_DAYS)
            return (latest.finished_at or latest.created_at) < now - age
        if latest.status == Status.DEFERRED:
            if latest.recheck_at is not None:
                if claimed is not None:
                    return latest.pk in claimed
                return latest.recheck_at <= now and records.claim_recheck(latest)
            # No recheck left: greylisted too long, "unknown" until the result ages out.
            return latest.attempt <= settings.SOURCIER_SMTP_MAX_RECHECKS
        return True  # blocked, paused, unreachable: worth asking again later

    def _answer_fields(self, answer: Answer, *, recheck: bool) -> dict:
        """A probe row's fields once answered (records.FINISH_FIELDS)."""
        now = self.now()
        recheck_at = None
        if answer.status == SMTP_DEFERRED and recheck:
            recheck_at = now + dt.timedelta(seconds=settings.SOURCIER_SMTP_RECHECK_SECONDS)
        return {
            "status": answer.status,
            "mail_host": answer.mail_host[:253],
            "reply_code": answer.code,
            "reply_text": answer.text[:512],
            "transcript": answer.transcript,
            "finished_at": now,
            "recheck_at": recheck_at,
        }

    def _learn(self, probe: EmailProbe) -> None:
        if probe.status == SMTP_ACCEPTED and probe.pattern and probe.domain in self._patterns:
            # What this run confirms teaches the next person on the domain at once.
            self._patterns[probe.domain].append(probe.pattern)
