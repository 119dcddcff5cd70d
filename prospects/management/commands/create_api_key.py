from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from prospects.api_keys import create_api_key
from prospects.models import Membership, Workspace


class Command(BaseCommand):
    help = "Make an API key for a workspace and print it once, on the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True, help="slug of the workspace")
        parser.add_argument("--role", required=True, choices=Membership.Role.values)
        parser.add_argument("--name", required=True, help="what the key is for (e.g. n8n)")

    def handle(self, *args: Any, **options: Any) -> None:
        translation.activate(settings.LANGUAGE_CODE)
        slug, name = options["workspace"].strip(), options["name"].strip()
        workspace = Workspace.objects.filter(slug=slug).first()
        if workspace is None:
            raise CommandError(_("No workspace has the slug “%(slug)s”.") % {"slug": slug})
        if not name:
            raise CommandError(_("Give the key a name."))
        made = create_api_key(workspace, name=name, role=options["role"])
        self.stdout.write(
            _(
                "API key “%(name)s” (%(role)s) for “%(workspace)s”, prefix %(prefix)s. "
                "It is shown only once: store it now."
            )
            % {
                "name": made.api_key.name,
                "role": made.api_key.get_role_display(),
                "workspace": workspace.name,
                "prefix": made.api_key.prefix,
            }
        )
        # The contract: the key alone, on the last line of standard output.
        self.stdout.write(made.secret)
