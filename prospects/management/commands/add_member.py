from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from prospects import access
from prospects.models import Membership, Workspace


class Command(BaseCommand):
    help = "Make an existing account a member of a workspace at once (operator; safe to re-run)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True, help="slug of the workspace")
        parser.add_argument("--user", required=True, help="username of the existing account")
        parser.add_argument(
            "--role",
            choices=Membership.Role.values,
            default=Membership.Role.MEMBER,
            help="member (default) or admin",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        translation.activate(settings.LANGUAGE_CODE)
        slug, username = options["workspace"].strip(), options["user"].strip()
        workspace = Workspace.objects.filter(slug=slug).first()
        if workspace is None:
            raise CommandError(_("No workspace has the slug “%(slug)s”.") % {"slug": slug})
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(_("No account has the username “%(user)s”.") % {"user": username})
        added = access.add_member(workspace, user=user, role=options["role"])
        params = {
            "user": user.get_username(),
            "workspace": workspace.name,
            "role": Membership.Role(options["role"]).label,
        }
        if added.created:
            text = _("%(user)s is now a member of “%(workspace)s” (%(role)s).")
        elif added.previous_role != options["role"]:
            params["previous"] = Membership.Role(added.previous_role).label
            text = _("%(user)s was already in “%(workspace)s”: role %(previous)s → %(role)s.")
        else:
            text = _("%(user)s was already in “%(workspace)s” (%(role)s): nothing changed.")
        self.stdout.write(text % params)
