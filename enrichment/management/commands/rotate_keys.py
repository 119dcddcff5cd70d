from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from tqdm import tqdm

from enrichment import credentials
from enrichment.models import ProviderCredential


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored API key with the newest key of SOURCIER_FERNET_KEYS "
        "(safe to stop and re-run: keys already on the newest key are skipped)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=100,
            help="keys re-encrypted per transaction (default 100)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        translation.activate(settings.LANGUAGE_CODE)
        if options["batch_size"] < 1:
            raise CommandError(_("The batch size must be at least 1."))
        total = ProviderCredential.objects.unscoped().count()
        # tqdm rewrites its line with "\r": the raw stream, not the wrapper adding newlines.
        stream = getattr(self.stderr, "_out", self.stderr)
        with tqdm(total=total, unit=" " + _("keys"), file=stream, mininterval=0.5) as bar:
            result = credentials.rotate_keys(batch_size=options["batch_size"], progress=bar.update)
        self.stdout.write(
            _(
                "Keys re-encrypted: %(rotated)s; already on the newest key: %(current)s; "
                "unreadable: %(unreadable)s."
            )
            % {
                "rotated": result.rotated,
                "current": result.current,
                "unreadable": result.unreadable,
            }
        )
        if result.unreadable:
            raise CommandError(
                ngettext(
                    "%(count)s key is opened by none of SOURCIER_FERNET_KEYS: put back the key "
                    "that encrypted it, or save this API key again.",
                    "%(count)s keys are opened by none of SOURCIER_FERNET_KEYS: put back the key "
                    "that encrypted them, or save these API keys again.",
                    result.unreadable,
                )
                % {"count": result.unreadable}
            )
