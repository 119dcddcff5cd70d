from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from prospects import access
from prospects.models import Workspace


class Command(BaseCommand):
    help = (
        "Create a workspace (operator). Re-running it with the same slug and name changes "
        "nothing; the same slug with another name is an error. --admin makes an existing "
        "account its administrator."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="slug of the new workspace, e.g. acme-lyon")
        parser.add_argument("--name", required=True, help="name shown to its members")
        parser.add_argument(
            "--auto-enrich",
            choices=Workspace.AutoEnrich.values,
            default=None,
            help="what new prospects get automatically (default: dropcontact)",
        )
        parser.add_argument("--admin", help="username of an existing account to make its admin")

    def handle(self, *args: Any, **options: Any) -> None:
        translation.activate(settings.LANGUAGE_CODE)
        slug, name = options["slug"].strip(), options["name"]
        admin = None
        if options["admin"]:
            username = options["admin"].strip()
            admin = get_user_model().objects.filter(username=username).first()
            if admin is None:
                raise CommandError(
                    _("No account has the username “%(user)s”.") % {"user": username}
                )
        try:
            result = access.create_workspace(
                slug, name=name, auto_enrich=options["auto_enrich"], admin=admin
            )
        except access.WorkspaceConflict as conflict:
            raise CommandError(
                _(
                    "The slug “%(slug)s” is already taken by “%(name)s” with other settings: "
                    "choose another slug, or change that workspace in the admin."
                )
                % {"slug": slug, "name": str(conflict)}
            ) from None
        except ValidationError as error:
            messages = [m for ms in error.message_dict.values() for m in ms]
            raise CommandError(" ".join(messages)) from None
        self._report(result)

    def _report(self, result: access.WorkspaceCreated) -> None:
        workspace = result.workspace
        params = {
            "slug": workspace.slug,
            "workspace": workspace.name,
            "auto": workspace.get_auto_enrich_display(),
        }
        if result.created:
            text = _("Workspace “%(workspace)s” (%(slug)s) created; new prospects get: %(auto)s.")
        else:
            text = _("Workspace “%(workspace)s” (%(slug)s) already exists: nothing changed.")
        self.stdout.write(text % params)
        if result.admin is not None:
            user = result.admin.membership.user.get_username()
            if result.admin.created or result.admin.previous_role != "admin":
                line = _("%(user)s is now its administrator.")
            else:
                line = _("%(user)s was already its administrator.")
            self.stdout.write(line % {"user": user})
