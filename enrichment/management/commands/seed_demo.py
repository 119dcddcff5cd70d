from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from enrichment.demo import seed_demo_workspace


class Command(BaseCommand):
    help = "Creates the demo workspace (slug 'demo'), its prospects and its admin; safe to re-run."

    def handle(self, *args, **options) -> None:
        summary = seed_demo_workspace()
        self.stdout.write(
            ngettext(
                "Demo workspace “%(name)s”: %(count)s new prospect.",
                "Demo workspace “%(name)s”: %(count)s new prospects.",
                summary.created_prospects,
            )
            % {"name": summary.workspace.name, "count": summary.created_prospects}
        )
        if summary.sandbox_key and summary.created_prospects:
            self.stdout.write(_("The sandbox API key is set: the demo prospects get enriched."))
        elif summary.sandbox_key:
            self.stdout.write(_("The demo was already there: nothing new to enrich."))
        self.stdout.write(
            self.style.SUCCESS(
                _("Demo login: %(user)s / %(password)s")
                % {
                    "user": summary.username,
                    "password": _("(from SOURCIER_DEMO_PASSWORD)")
                    if summary.password_from_env
                    else summary.password,
                }
            )
        )
