"""The demo workspace: people from the sandbox world, so enrichment has real answers offline."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from prospects import services as prospect_services
from prospects.models import Membership, Prospect, Source, Workspace

from . import credentials
from .engine import ledger
from .providers.registry import PROVIDERS
from .sandbox.world import World

DEMO_SLUG = "demo"
DEMO_USERNAME = "demo"


@dataclass
class DemoSummary:
    workspace: Workspace
    username: str
    password: str
    password_from_env: bool
    created_prospects: int
    sandbox_key: bool


# Euros the demo workspace starts with (once: the top-up has a fixed key).
DEMO_CREDIT = Decimal("20")


def demo_password() -> tuple[str, bool]:
    """From SOURCIER_DEMO_PASSWORD, else generated once and kept (0600) in var/."""
    if settings.SOURCIER_DEMO_PASSWORD:
        return settings.SOURCIER_DEMO_PASSWORD, True
    path = settings.VAR_DIR / "demo_password"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(12))
        path.chmod(0o600)
    return path.read_text().strip(), False


def seed_demo_workspace(*, people: int = 40) -> DemoSummary:
    """Create (or bring up to date) the demo workspace, its admin and its prospects."""
    workspace, _ = Workspace.objects.get_or_create(
        slug=DEMO_SLUG, defaults={"name": "Démo Sourcier", "timezone": "Europe/Paris"}
    )
    password, from_env = demo_password()
    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(
        username=DEMO_USERNAME, defaults={"email": "demo@sourcier.example"}
    )
    user.is_staff = True
    user.is_active = True
    user.set_password(password)
    user.save()
    Membership.objects.update_or_create(
        user=user, workspace=workspace, defaults={"role": Membership.Role.ADMIN}
    )
    sandbox = bool(settings.SOURCIER_SANDBOX_URL)
    if sandbox:
        # Every vendor of the sandbox, and a little money to try the waterfalls with.
        for provider in PROVIDERS:
            if provider in credentials.KEYLESS:
                continue
            if credentials.get_api_key(workspace.pk, provider) is None:
                credentials.set_api_key(
                    workspace, provider, settings.SOURCIER_SANDBOX_KEY, user=user
                )
        ledger.top_up(workspace.pk, DEMO_CREDIT, key="demo-top-up", note="demo")

    created = 0
    if not Prospect.objects.for_workspace(workspace).exists():
        world = World.build(settings.SOURCIER_SANDBOX_SEED, settings.SOURCIER_SANDBOX_SIZE)
        for index, person in enumerate(world.people[:people]):
            # Partial data, as a sales team would have it: names and company, sometimes only
            # a LinkedIn profile; enrichment fills the rest.
            data = (
                {"linkedin_url": person.linkedin_url}
                if index % 7 == 6
                else {
                    "first_name": person.first_name,
                    "last_name": person.last_name,
                    "company_name": person.company.name,
                    "company_website": person.company.website if index % 2 else "",
                    "job_title": person.job_title if index % 3 == 0 else "",
                }
            )
            try:
                with transaction.atomic():
                    prospect_services.create_prospect(
                        workspace, data=data, source=Source.IMPORT, user=user
                    )
                created += 1
            except prospect_services.ProspectRejected:
                continue
    return DemoSummary(
        workspace=workspace,
        username=DEMO_USERNAME,
        password=password,
        password_from_env=from_env,
        created_prospects=created,
        sandbox_key=sandbox,
    )
