from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from enrichment.demo import seed_demo_workspace


class Command(BaseCommand):
    help = "Creates the demo workspace (slug 'demo'), its prospects and its admin; safe to re-run."

    def handle(self, *args, **options) -> None:
        summary = seed_demo_workspace()
        self.stdout.write(
            _("Demo workspace “%(name)s”: %(count)s new prospects.")
            % {"name": summary.workspace.name, "count": summary.created_prospects}
        )
        if summary.sandbox_key:
            self.stdout.write(_("The sandbox API key is set: the demo prospects get enriched."))
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
