from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from enrichment.engine import jobs, ledger
from enrichment.engine.outcomes import Outcome
from enrichment.models import CreditEntry, ProviderCall
from prospects.models import Workspace

NO_CAP = {"none", "aucun"}


def euros(amount: Decimal) -> str:
    """12345.5 -> "12 345,50 €" (two decimals, four when a fraction of a cent is there)."""
    places = 2 if amount == amount.quantize(Decimal("0.01")) else 4
    text = f"{amount:,.{places}f}".replace(",", "\u202f").replace(".", ",")
    return f"{text} €"


def number(amount: Decimal) -> int | float:
    """A JSON number: an integer when whole, else the 4-decimal value."""
    return int(amount) if amount == amount.to_integral_value() else float(amount)


class Command(BaseCommand):
    help = (
        "Show a workspace's credits (balance, spending today and in all, daily cap); "
        "optionally top them up or set the daily cap."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True, help="slug of the workspace")
        parser.add_argument("--top-up", metavar="N", help="add N euros of credits")
        parser.add_argument(
            "--key",
            metavar="K",
            help=(
                "idempotency key of the top-up (default: a new one each run). Give the same "
                "key to re-run a top-up safely: it is credited once."
            ),
        )
        parser.add_argument(
            "--daily-cap",
            metavar="N|none",
            help="cap the workspace's spending per Paris day at N euros; none removes it",
        )
        parser.add_argument(
            "--json", action="store_true", help="end with one line of JSON (for scripts)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        translation.activate(settings.LANGUAGE_CODE)
        workspace = self._workspace(options["workspace"])
        try:
            if options["daily_cap"] is not None:
                self._set_cap(workspace, options["daily_cap"])
            if options["top_up"] is not None:
                self._top_up(workspace, options["top_up"], options["key"] or uuid.uuid4().hex)
        except ledger.InvalidAmount as error:
            raise CommandError(str(error)) from None
        report = ledger.summary(workspace.pk)
        if options["json"]:
            self.stdout.write(json.dumps(self._json(workspace, report)))
        else:
            self.stdout.write(self._text(workspace, report))

    def _workspace(self, slug: str) -> Workspace:
        workspace = Workspace.objects.filter(slug=slug).first()
        if workspace is None:
            known = ", ".join(Workspace.objects.order_by("slug").values_list("slug", flat=True))
            raise CommandError(
                _("No workspace has the slug “%(slug)s”. Existing workspaces: %(known)s.")
                % {"slug": slug, "known": known or "—"}
            )
        return workspace

    def _set_cap(self, workspace: Workspace, value: str) -> None:
        cap = None if value.strip().lower() in NO_CAP else ledger.parse_amount(_decimal(value))
        ledger.set_daily_cap(workspace.pk, cap)
        self._resume(workspace, Outcome.DAILY_CAP)
        if cap is None:
            self.stdout.write(_("Daily cap removed."))
        else:
            self.stdout.write(_("Daily cap set to %(amount)s.") % {"amount": euros(cap)})

    def _top_up(self, workspace: Workspace, value: str, key: str) -> None:
        amount = ledger.parse_amount(_decimal(value), allow_zero=False)
        done = (
            CreditEntry.objects.for_workspace(workspace)
            .filter(kind=CreditEntry.Kind.TOP_UP, idempotency_key=key)
            .exists()
        )
        try:
            ledger.top_up(workspace.pk, amount, key=key, note="manage.py credits")
        except ledger.IdempotencyConflict:
            raise CommandError(
                _("The key “%(key)s” was already used for a top-up of another amount.")
                % {"key": key}
            ) from None
        if done:
            self.stdout.write(
                _("Already credited with the key “%(key)s”: nothing added.") % {"key": key}
            )
        else:
            self.stdout.write(
                _("%(amount)s credited (key “%(key)s”).") % {"amount": euros(amount), "key": key}
            )
            self._resume(workspace, Outcome.NO_CREDITS)

    def _resume(self, workspace: Workspace, code: str) -> None:
        """The work that waited for this money goes now, not at its pause's end."""
        released = jobs.resume_money_pauses(workspace.pk, [code])
        if released:
            self.stdout.write(
                ngettext(
                    "%(count)s enrichment waiting for credit goes again now.",
                    "%(count)s enrichments waiting for credit go again now.",
                    released,
                )
                % {"count": released}
            )

    def _text(self, workspace: Workspace, report: dict[str, Any]) -> str:
        cap = report["daily_cap"]
        lines = [
            _("Workspace: %(name)s") % {"name": workspace},
            _("Balance: %(amount)s") % {"amount": euros(report["balance"])},
            _("Spent today: %(amount)s") % {"amount": euros(report["spent_today"])},
            _("Spent in all: %(amount)s") % {"amount": euros(report["spent_total"])},
            _("Daily cap: %(amount)s") % {"amount": _("none") if cap is None else euros(cap)},
        ]
        if report["in_flight"]:
            lines.append(
                _("Held for calls in progress: %(amount)s") % {"amount": euros(report["in_flight"])}
            )
        if report["cap_reached_until"] is not None:
            lines.append(
                _("Daily cap reached: spending resumes at %(time)s (Paris time).")
                % {"time": report["cap_reached_until"].strftime("%d/%m/%Y %H:%M")}
            )
        return "\n".join(lines)

    def _json(self, workspace: Workspace, report: dict[str, Any]) -> dict[str, Any]:
        calls = (
            ProviderCall.objects.for_workspace(workspace)
            .values_list("provider")
            .annotate(n=Count("id"))
            .order_by("provider")
        )
        cap = report["daily_cap"]
        return {
            "balance": number(report["balance"]),
            "spent_today": number(report["spent_today"]),
            "spent_total": number(report["spent_total"]),
            "daily_cap": None if cap is None else number(cap),
            "calls_by_provider": dict(calls),
            "spent_by_provider": {
                provider: number(spent) for provider, spent in report["spent_by_provider"].items()
            },
        }


def _decimal(value: str) -> str:
    """An amount typed with a decimal comma ("12,5") read as the admin's form reads it."""
    text = value.strip()
    return text.replace(",", ".") if text.count(",") == 1 and "." not in text else text
