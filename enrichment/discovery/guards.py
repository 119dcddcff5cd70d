"""What holds SMTP probing back, for every worker, and the warnings the admin shows about it.

- A mail host that answered with a blocklist reply is paused (its breaker is open) for
  SOURCIER_SMTP_BLOCK_PAUSE_SECONDS: a `ProbingPause` row names it until then.
- When the SMTP port could be reached on no mail host at all (outbound port 25 is commonly
  blocked), probing is disabled and a row without a mail host says so, until a prober reaches
  a host again or PORT_RETRY passes.
- The daily budget: at most SOURCIER_SMTP_DAILY_BUDGET RCPTs a day per sending host (named
  by its EHLO name), counted in the database so it holds across workers. Each prober reserves
  a few at a time and gives back what it did not use when it closes.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from ..models import ProbeBudget, ProbingPause

PORT_RETRY = dt.timedelta(hours=1)
# RCPTs a prober reserves at a time (what it did not use goes back when it closes).
BUDGET_CHUNK = 50
EVERY_HOST = ""


def record_block(mail_host: str, reply: str, *, now: dt.datetime | None = None) -> None:
    now = now or timezone.now()
    until = now + dt.timedelta(seconds=settings.SOURCIER_SMTP_BLOCK_PAUSE_SECONDS)
    _pause(mail_host[:253], ProbingPause.Reason.BLOCKED, reply, now, until)


def record_port_unreachable(*, now: dt.datetime | None = None) -> None:
    now = now or timezone.now()
    _pause(EVERY_HOST, ProbingPause.Reason.PORT_UNREACHABLE, "", now, now + PORT_RETRY)


def clear_port_unreachable() -> None:
    """A mail host answered: the port is not blocked (any more)."""
    ProbingPause.objects.filter(mail_host=EVERY_HOST).delete()


def _pause(host: str, reason: str, reply: str, now: dt.datetime, until: dt.datetime) -> None:
    values = {"reason": reason, "reply_text": reply[:512], "paused_at": now, "until": until}
    try:
        ProbingPause.objects.update_or_create(mail_host=host, defaults=values)
    except IntegrityError:  # created meanwhile by another worker
        ProbingPause.objects.filter(mail_host=host).update(**values)


def active_pauses(now: dt.datetime | None = None) -> list[ProbingPause]:
    return list(ProbingPause.objects.filter(until__gt=now or timezone.now()).order_by("mail_host"))


def budget_spent_today(now: dt.datetime | None = None) -> bool:
    per_day = settings.SOURCIER_SMTP_DAILY_BUDGET
    if per_day <= 0:
        return False
    return ProbeBudget.objects.filter(
        sender=_sender(), day=timezone.localdate(now), used__gte=per_day
    ).exists()


def warnings(now: dt.datetime | None = None) -> list[str]:
    """The French warnings about probing that is paused, disabled or out of budget."""
    said = []
    for pause in active_pauses(now):
        until = formats.date_format(timezone.localtime(pause.until), "d/m/Y H:i")
        if pause.mail_host == EVERY_HOST:
            said.append(
                _(
                    "SMTP probing is disabled: port %(port)s could be reached on no mail host "
                    "(the network blocks it outbound). Addresses stay “unknown”, never "
                    "“invalid”, until a mail host can be reached again."
                )
                % {"port": settings.SOURCIER_SMTP_PORT}
            )
        else:
            said.append(
                _(
                    "Probing is paused for the mail host %(host)s until %(until)s: it answered "
                    "with a blocklist reply (%(reply)s). Addresses it receives stay “unknown” "
                    "meanwhile."
                )
                % {"host": pause.mail_host, "until": until, "reply": pause.reply_text or "—"}
            )
    if budget_spent_today(now):
        said.append(
            _(
                "Today's SMTP probe budget (%(budget)s) is spent: addresses stay “unknown” "
                "until probing resumes tomorrow."
            )
            % {"budget": settings.SOURCIER_SMTP_DAILY_BUDGET}
        )
    return said


def _sender() -> str:
    return (settings.SOURCIER_SMTP_HELO or "").strip().lower()[:253]


class Budget:
    """One prober's share of the day's budget: RCPTs reserved a few at a time."""

    def __init__(self, per_day: int | None = None, sender: str | None = None) -> None:
        self.per_day = settings.SOURCIER_SMTP_DAILY_BUDGET if per_day is None else per_day
        self.sender = _sender() if sender is None else sender
        self._left = 0
        self._day: dt.date | None = None
        # The day whose budget row is known to exist (created by the first reservation).
        self._row_day: dt.date | None = None

    def take(self, now: dt.datetime | None = None) -> bool:
        """One RCPT may be sent (True), or today's budget is spent (False)."""
        return self.take_many(1, now) == 1

    def take_many(self, count: int, now: dt.datetime | None = None) -> int:
        """How many of `count` RCPTs may be sent (the first ones): fewer once today's budget
        is spent."""
        if self.per_day <= 0:
            return count
        day = timezone.localdate(now)
        if day != self._day:
            self.give_back()
            self._day = day
        granted = 0
        while granted < count:
            if self._left == 0:
                # What this ask needs at once (a round of a batch), at least a chunk.
                self._left = self._reserve(day, count - granted)
                if self._left == 0:
                    break
            step = min(self._left, count - granted)
            self._left -= step
            granted += step
        return granted

    def _reserve(self, day: dt.date, wanted: int = 1) -> int:
        if self._row_day != day:
            try:
                with transaction.atomic():
                    ProbeBudget.objects.get_or_create(sender=self.sender, day=day)
            except IntegrityError:
                pass  # created meanwhile by another worker
            self._row_day = day
        want = max(BUDGET_CHUNK, wanted)
        # While the day has that much left, one conditional statement takes it all.
        today = ProbeBudget.objects.filter(sender=self.sender, day=day)
        if today.filter(used__lte=self.per_day - want).update(used=F("used") + want):
            return want
        with transaction.atomic():  # the day's last RCPTs: what is left, under a lock
            row = ProbeBudget.objects.select_for_update().get(sender=self.sender, day=day)
            grant = max(0, min(want, self.per_day - row.used))
            if grant:
                ProbeBudget.objects.filter(pk=row.pk).update(used=F("used") + grant)
        return grant

    def give_back(self) -> None:
        """Return what was reserved and not used (a prober that closes)."""
        if self._left and self._day is not None:
            ProbeBudget.objects.filter(sender=self.sender, day=self._day).update(
                used=F("used") - self._left
            )
        self._left = 0
