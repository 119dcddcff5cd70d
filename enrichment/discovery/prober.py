"""Asking mail hosts about recipients, politely: sessions, backup MX, breaker, limits.

A `Prober` keeps one open session per mail host and reuses it for every RCPT it asks there
(domains that share a host share the session). Before a host is contacted:

- its breaker (the engine's, one per mail host, opened by a single blocklist reply and kept
  open for SOURCIER_SMTP_BLOCK_PAUSE_SECONDS) must be closed;
- a concurrency slot for the host is taken (the engine's limits, shared by every worker),
  at most SOURCIER_SMTP_HOST_CONCURRENCY sessions at once, held until the session closes;
- each RCPT waits for the host's rate (SOURCIER_SMTP_HOST_RATE per second, every worker).

A host that cannot be reached hands over to the next MX. A mail host on a loopback, private
or reserved address is never contacted (an MX record is anyone's to write: it must not
point the prober into our own network) unless SOURCIER_SMTP_ALLOW_PRIVATE_HOSTS is set, as
for the sandbox. When no host at all could be
reached (outbound port 25 is commonly blocked), probing stops for the prober's lifetime and
`warning` says so: results are then "unknown", never "invalid".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import logging
import time
from dataclasses import dataclass, field

from django.conf import settings

from ..engine import breaker as breakers
from ..engine import limits
from . import guards
from .dns import MailRoute
from .scoring import (
    SMTP_BLOCKED,
    SMTP_BUDGET,
    SMTP_PAUSED,
    SMTP_UNREACHABLE,
)
from .smtp import (
    ProbeIdentity,
    Reply,
    SmtpConnectError,
    SmtpSession,
    SmtpSessionLost,
    classify,
    per_recipient,
)

log = logging.getLogger(__name__)

# The workspace id of the limits' slots: politeness is per mail host, whoever asks.
HOST_SCOPE = 0
# Hosts that refused a connection before any succeeded: past this, port 25 looks blocked.
UNREACHABLE_AFTER = 3
WARNING_PORT_BLOCKED = "smtp_port_unreachable"
WARNING_BLOCKED = "mail_host_blocked_us"
WARNING_PRIVATE_HOST = "mail_host_not_public"
WARNING_BUDGET = "daily_budget_spent"
# A kept session unused this long is closed: its concurrency slot goes to another worker.
IDLE_SECONDS = 2.0
# After giving a full session's slot back, wait this long so a waiting worker can take it.
HANDOVER_SECONDS = 0.1


def host_key(mail_host: str) -> str:
    """The limits' and breaker's name for a mail host (their columns hold 32 characters)."""
    return "mx:" + hashlib.sha256(mail_host.encode()).hexdigest()[:24]


def smtp_breaker() -> breakers.Breaker:
    """The engine's breaker with the blocklist policy: one block opens it for hours."""
    policy = breakers.Policy(
        window=1,
        threshold=1,
        cooldown=float(settings.SOURCIER_SMTP_BLOCK_PAUSE_SECONDS),
        probe_ttl=max(60.0, settings.SOURCIER_SMTP_TIMEOUT * 3),
    )
    return breakers.Breaker(breakers.default_breaker().store, policy)


@dataclass(frozen=True)
class Answer:
    """What a host said about one recipient (status is a scoring.SMTP_* value)."""

    status: str
    mail_host: str = ""
    code: int | None = None
    text: str = ""
    transcript: str = ""


@dataclass
class _Open:
    session: SmtpSession
    lease: object
    permit: breakers.Permit
    mark: int = 0
    # The session was full and closed; the slot and permit are kept for its successor.
    rolled: bool = False
    used_at: float = 0.0


@dataclass
class Prober:
    """One caller's SMTP sessions; close() (or `with`) ends them."""

    identity: ProbeIdentity
    port: int = 25
    warnings: set[str] = field(default_factory=set)
    sessions_opened: int = 0
    budget: guards.Budget | None = None
    _open: dict[str, _Open] = field(default_factory=dict)
    _reached: int = 0
    _refused: set[str] = field(default_factory=set)
    _handover_until: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_settings(cls) -> Prober:
        return cls(
            identity=ProbeIdentity.from_settings(),
            port=settings.SOURCIER_SMTP_PORT,
            budget=guards.Budget(),
        )

    def __enter__(self) -> Prober:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def disabled(self) -> bool:
        return WARNING_PORT_BLOCKED in self.warnings

    def ask(self, route: MailRoute, address: str) -> Answer:
        """The first reachable host's answer about `address` (backup MX on failure)."""
        return self.ask_many(route, [address])[0]

    def ask_many(self, route: MailRoute, addresses: list[str]) -> list[Answer]:
        """`ask` for many addresses of one domain: each session asks as many as it may at
        once (its RCPTs left, the host's rate), in one transaction, pipelined where the host
        offers it. The answers come in the order of `addresses`."""
        if self.disabled:
            return [Answer(SMTP_UNREACHABLE)] * len(addresses)
        answers: dict[int, Answer] = {}
        allowed = len(addresses)
        if self.budget is not None:
            allowed = self.budget.take_many(len(addresses))
        pending = list(range(allowed))
        for index in range(allowed, len(addresses)):
            # Nothing asked: never a verdict on the address, only "not today".
            self.warnings.add(WARNING_BUDGET)
            answers[index] = Answer(SMTP_BUDGET, text="daily probe budget spent")
        self._close_idle()
        while pending:
            got = self._ask_route(route, [addresses[i] for i in pending])
            answers.update(zip(pending, got, strict=False))
            pending = pending[len(got) :]
        return [answers[index] for index in range(len(addresses))]

    def _ask_route(self, route: MailRoute, batch: list[str]) -> list[Answer]:
        """Answers for the first addresses of `batch` (at least one) from the first host that
        can be reached."""
        paused = False
        for host in route.hosts:
            for ip in filter(self._may_connect, host.addresses):
                # A kept session the host has since closed is opened again, once.
                for _attempt in range(2):
                    try:
                        opened = self._session(host.name, ip)
                    except breakers.BreakerOpen:
                        paused = True
                        break
                    except limits.SlotUnavailable:
                        # Other workers hold every slot: not the recipients' doing.
                        return [Answer(SMTP_PAUSED, host.name, text="mail host busy")] * len(
                            batch
                        )
                    if opened is None:
                        break
                    answers = self._rcpts(host.name, opened, batch)
                    if answers is not None:
                        return answers
                if paused:
                    break
        if paused:
            return [Answer(SMTP_PAUSED)] * len(batch)
        if self._reached == 0 and len(self._refused) >= UNREACHABLE_AFTER:
            self.warnings.add(WARNING_PORT_BLOCKED)
            guards.record_port_unreachable()
            log.warning("SMTP port %s unreachable on every mail host: probing stopped", self.port)
        return [Answer(SMTP_UNREACHABLE)] * len(batch)

    def _may_connect(self, ip: str) -> bool:
        """Only public addresses: an MX record must not point the prober into our network."""
        if settings.SOURCIER_SMTP_ALLOW_PRIVATE_HOSTS:
            return True
        try:
            public = ipaddress.ip_address(ip).is_global
        except ValueError:
            public = False
        if not public:
            self.warnings.add(WARNING_PRIVATE_HOST)
        return public

    def _rcpts(self, name: str, opened: _Open, batch: list[str]) -> list[Answer] | None:
        """Ask about as many of `batch` as this session may (at least one); None when the
        host closed the session meanwhile."""
        session = opened.session
        rate = settings.SOURCIER_SMTP_HOST_RATE
        room = settings.SOURCIER_SMTP_RCPTS_PER_SESSION - session.rcpts
        chunk = batch[: max(1, min(room, rate))]
        limits.wait_for_rate(host_key(name), per_second=rate, max_wait=60.0, count=len(chunk))
        try:
            replies = session.check_many(chunk)
        except SmtpSessionLost:
            self._end(name, ok=True)
            return None
        answers = self._answers(name, opened, replies, chunk)
        if any(answer.status == SMTP_BLOCKED for answer in answers):
            self._end(name, ok=False)
        elif session.rcpts >= settings.SOURCIER_SMTP_RCPTS_PER_SESSION:
            # With every slot held, someone may be waiting for ours: give them the time to
            # take it. With one free, nobody waits (they would have taken it): the next
            # session goes on with this one's slot.
            busy = (
                limits.slots_held(HOST_SCOPE, host_key(name))
                >= settings.SOURCIER_SMTP_HOST_CONCURRENCY
            )
            if busy or opened.permit.probe:
                # A half-open breaker's trial ends with its session: a good one closes the
                # breaker for every worker.
                self._end(name, ok=True)
            else:
                # Its successor opens when the host is next asked, on this slot and permit.
                opened.session.close()
                opened.rolled = True
            if busy:
                self._handover_until[name] = time.monotonic() + HANDOVER_SECONDS
        else:
            opened.used_at = time.monotonic()
        return answers

    def _answers(
        self, name: str, opened: _Open, replies: list[Reply], chunk: list[str]
    ) -> list[Answer]:
        """One answer per reply, each with the transcript lines about its own recipient."""
        lines = opened.session.transcript[opened.mark :]
        opened.mark = len(opened.session.transcript)
        answers = [
            Answer(classify(reply), name, reply.code, reply.text, transcript)
            for reply, transcript in zip(replies, per_recipient(lines, chunk), strict=True)
        ]
        blocked = next((a for a in answers if a.status == SMTP_BLOCKED), None)
        if blocked is not None:
            self.warnings.add(WARNING_BLOCKED)
            guards.record_block(name, blocked.text)
            log.warning("mail host %s answered with a blocklist reply: probing paused", name)
        return answers

    def _answer(self, name: str, opened: _Open, reply: Reply) -> Answer:
        transcript = opened.session.transcript[opened.mark :]
        opened.mark = len(opened.session.transcript)
        status = classify(reply)
        if status == SMTP_BLOCKED:
            self.warnings.add(WARNING_BLOCKED)
            guards.record_block(name, reply.text)
            log.warning("mail host %s answered with a blocklist reply: probing paused", name)
        return Answer(status, name, reply.code, reply.text, "\n".join(transcript))

    def _session(self, name: str, ip: str) -> _Open | None:
        """The open session with `name`, or a new one; None when the host cannot be reached."""
        held = self._open.get(name)
        if held is not None and held.session.connected:
            return held
        if held is not None and held.rolled:
            successor = self._roll_over(name, ip, held)
            if successor is not None:
                return successor
        key = host_key(name)
        pause = self._handover_until.pop(name, 0.0) - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        breaker = smtp_breaker()
        permit = breaker.before_call(key)
        admitted = time.monotonic()
        lease = self._slot(key)
        try:
            # The wait for a slot may have outlasted the breaker: a block seen meanwhile wins.
            # A slot taken at once goes out as admitted (one store read less a session).
            if time.monotonic() - admitted > breakers.CONFIRM_AFTER_SECONDS:
                breaker.confirm(permit)
        except breakers.BreakerOpen:
            limits.release_slot(lease)
            raise
        return self._connect(name, ip, lease, permit)

    def _roll_over(self, name: str, ip: str, held: _Open) -> _Open | None:
        """A full session's successor on its slot and breaker permit (nobody was waiting for
        the slot when it ended): the lease renewed, the breaker read again (a block another
        worker saw meanwhile wins), then a new connection. None when the slot or the permit
        is no longer good (both given back: the caller starts afresh) or the host cannot be
        reached."""
        del self._open[name]
        still_good = limits.renew_slot(held.lease, ttl=_lease_ttl())
        try:
            if still_good:
                smtp_breaker().confirm(held.permit)
        except breakers.BreakerOpen:
            still_good = False
        if not still_good:
            limits.release_slot(held.lease)
            smtp_breaker().after_call(held.permit, ok=True)
            return None
        return self._connect(name, ip, held.lease, held.permit)

    def _connect(
        self, name: str, ip: str, lease: object, permit: breakers.Permit
    ) -> _Open | None:
        """A new session with the host on a slot and permit already held; None (the slot
        given back) when the host cannot be reached or will not talk."""
        key = host_key(name)
        session = SmtpSession(
            name,
            ip,
            self.port,
            self.identity,
            connect_timeout=settings.SOURCIER_SMTP_CONNECT_TIMEOUT,
            timeout=settings.SOURCIER_SMTP_TIMEOUT,
        )
        try:
            hello = session.open()
        except SmtpConnectError:
            limits.release_slot(lease)
            smtp_breaker().after_call(permit, ok=True)  # unreachable is not a block
            self._refused.add(name)
            return None
        self.sessions_opened += 1
        opened = _Open(session, lease, permit, used_at=time.monotonic())
        self._open[name] = opened
        self._reached += 1
        if self._reached == 1:
            guards.clear_port_unreachable()
        if hello.code >= 400:
            blocked = classify(hello) == SMTP_BLOCKED
            if blocked:
                self._answer(name, opened, hello)
            self._end(name, ok=not blocked)
            if blocked:
                raise breakers.BreakerOpen(key, dt.datetime.now(tz=dt.UTC))
            return None
        return opened

    def _slot(self, key: str) -> object:
        ttl = _lease_ttl()
        deadline = time.monotonic() + settings.SOURCIER_SMTP_TIMEOUT * 2
        while True:
            lease = limits.acquire_slot(
                HOST_SCOPE, key, limit=settings.SOURCIER_SMTP_HOST_CONCURRENCY, ttl=ttl
            )
            if lease is not None:
                return lease
            # Never hold one host's slot while waiting for another's: two workers each keeping
            # an idle session the other waits for would wait out their deadlines in turn.
            for name in list(self._open):
                self._end(name, ok=True)
            if time.monotonic() >= deadline:
                raise limits.SlotUnavailable(key)
            time.sleep(0.02)

    def _end(self, name: str, *, ok: bool) -> None:
        opened = self._open.pop(name, None)
        if opened is None:
            return
        opened.session.close()
        limits.release_slot(opened.lease)
        smtp_breaker().after_call(opened.permit, ok=ok)

    def _close_idle(self) -> None:
        idle_since = time.monotonic() - IDLE_SECONDS
        for name, opened in list(self._open.items()):
            if opened.used_at and opened.used_at < idle_since:
                self._end(name, ok=True)

    def end_sessions(self) -> None:
        """Close every open session: their hosts' slots go back to the other workers."""
        for name in list(self._open):
            self._end(name, ok=True)

    def close(self) -> None:
        self.end_sessions()
        if self.budget is not None:
            self.budget.give_back()


def _lease_ttl() -> float:
    """A slot is held for a whole session: its lease covers a full one."""
    return settings.SOURCIER_SMTP_TIMEOUT * (settings.SOURCIER_SMTP_RCPTS_PER_SESSION + 2)
