from __future__ import annotations

import getpass
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from enrichment import credentials
from prospects.models import Workspace

# An operator with a typo should see which slugs exist, not a wall of them.
MAX_LISTED = 20


def workspace_or_error(slug: str) -> Workspace:
    """The workspace with this slug, or a CommandError listing the slugs that exist."""
    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is not None:
        return workspace
    slugs = list(
        Workspace.objects.order_by("slug").values_list("slug", flat=True)[: MAX_LISTED + 1]
    )
    listed = ", ".join(slugs[:MAX_LISTED]) + (", …" if len(slugs) > MAX_LISTED else "")
    raise CommandError(
        _('No workspace has the slug "%(slug)s". Existing workspaces: %(known)s.')
        % {"slug": slug, "known": listed or "—"}
    )


class Command(BaseCommand):
    help = (
        "Store a workspace's API key for a provider, read from standard input (never from the "
        "command line, which shell history keeps); prints only its last 4 characters."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        report = parser.error

        def error(message: str) -> None:
            # argparse repeats unknown arguments, which here would be the key itself.
            if "unrecognized arguments" in message:
                message = _("the API key is read from standard input, never from the arguments")
            report(message)

        parser.error = error  # type: ignore[method-assign]
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True, help="slug of the workspace")
        parser.add_argument("--provider", required=True, help="provider slug, e.g. dropcontact")

    def handle(self, *args: Any, **options: Any) -> None:
        translation.activate(settings.LANGUAGE_CODE)
        workspace = workspace_or_error(options["workspace"].strip())
        provider = options["provider"].strip().lower()
        try:
            credentials.check_provider(provider)
        except credentials.UnknownProvider as error:
            raise CommandError(str(error)) from None
        secret = self._read_key(workspace, provider)
        credential = credentials.set_api_key(workspace, provider, secret)
        self.stdout.write(
            _("API key for %(provider)s saved in “%(workspace)s”: %(key)s")
            % {
                "provider": provider,
                "workspace": workspace.name,
                "key": credentials.masked(credential.last4),
            }
        )

    def _read_key(self, workspace: Workspace, provider: str) -> str:
        stdin = sys.stdin
        if stdin is not None and stdin.isatty():
            prompt = _("API key for %(provider)s (not shown): ") % {"provider": provider}
            secret = getpass.getpass(prompt)
        else:
            secret = stdin.read() if stdin is not None else ""
        secret = secret.strip()
        if not secret:
            raise CommandError(
                _(
                    "No API key on standard input. Pipe it in, e.g. "
                    "`printenv KEY | manage.py set_api_key --workspace %(workspace)s "
                    "--provider %(provider)s`."
                )
                % {"workspace": workspace.slug, "provider": provider}
            )
        if any(ch.isspace() for ch in secret):
            raise CommandError(_("The API key contains spaces or several lines: paste it alone."))
        return secret
