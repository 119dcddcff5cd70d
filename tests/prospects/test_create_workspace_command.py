"""`manage.py create_workspace`, the workspace's auto-enrichment choice and who may change it."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from prospects import services
from prospects.models import Membership, Workspace
from tests.factories import UserFactory


def run(*args):
    out = io.StringIO()
    call_command("create_workspace", *args, stdout=out)
    return out.getvalue()


def test_creates_the_workspace_with_dropcontact_by_default(db):
    out = run("acme-lyon", "--name", "Acme Lyon")
    workspace = Workspace.objects.get(slug="acme-lyon")
    assert workspace.name == "Acme Lyon" and workspace.auto_enrich == "dropcontact"
    assert "« Acme Lyon » (acme-lyon) créé" in out and "Dropcontact" in out
    assert not Membership.objects.filter(workspace=workspace).exists()


@pytest.mark.parametrize(
    ("choice", "steps"),
    [
        ("none", ()),
        ("dropcontact", ("dropcontact",)),
        ("email", ("email",)),
        ("dropcontact,email", ("dropcontact", "email")),
    ],
)
def test_auto_enrich_choice_gives_the_steps_in_order(db, choice, steps):
    run("acme-lyon", "--name", "Acme Lyon", "--auto-enrich", choice)
    workspace = Workspace.objects.get(slug="acme-lyon")
    assert workspace.auto_enrich_steps == steps
    assert services.auto_enrich_steps(workspace.pk) == steps


def test_an_unknown_auto_enrich_choice_is_refused(db):
    with pytest.raises(CommandError, match="invalid choice"):
        run("acme-lyon", "--name", "Acme Lyon", "--auto-enrich", "email,dropcontact")
    assert not Workspace.objects.exists()


def test_admin_makes_the_existing_account_its_administrator(db):
    user = UserFactory(username="mathieu")
    out = run("acme-lyon", "--name", "Acme Lyon", "--admin", "mathieu")
    membership = Membership.objects.get(user=user)
    assert (membership.workspace.slug, membership.role) == ("acme-lyon", "admin")
    assert "mathieu en est maintenant administrateur." in out


def test_an_unknown_admin_is_refused_before_anything_is_created(db):
    with pytest.raises(CommandError, match="« personne »"):
        run("acme-lyon", "--name", "Acme Lyon", "--admin", "personne")
    assert not Workspace.objects.exists()


def test_running_it_again_changes_nothing_and_says_so(db):
    UserFactory(username="mathieu")
    run("acme-lyon", "--name", "Acme Lyon", "--auto-enrich", "email", "--admin", "mathieu")
    out = run("acme-lyon", "--name", "acme  LYON", "--admin", "mathieu")
    assert "existe déjà : rien n'a changé." in out
    assert "mathieu en était déjà administrateur." in out
    assert Workspace.objects.get().name == "Acme Lyon"
    assert Membership.objects.count() == 1


@pytest.mark.parametrize(
    "args", [("--name", "Acme Paris"), ("--name", "Acme Lyon", "--auto-enrich", "none")]
)
def test_a_taken_slug_with_other_settings_is_an_error(db, args):
    run("acme-lyon", "--name", "Acme Lyon", "--auto-enrich", "email")
    with pytest.raises(CommandError, match="déjà pris par « Acme Lyon »"):
        run("acme-lyon", *args)
    assert Workspace.objects.get().auto_enrich == "email"


def test_a_name_another_workspace_has_is_refused(db):
    run("acme-lyon", "--name", "Acme Lyon")
    with pytest.raises(CommandError, match="Un autre espace de travail porte déjà ce nom"):
        run("acme-2", "--name", "ACME lyon")
    assert Workspace.objects.count() == 1


@pytest.mark.parametrize(("slug", "name"), [("Acme Lyon!", "Acme"), ("acme", "\u200b")])
def test_a_bad_slug_or_an_invisible_name_is_a_clear_error(db, slug, name):
    with pytest.raises(CommandError) as caught:
        run(slug, "--name", name)
    assert "Traceback" not in str(caught.value) and str(caught.value)
    assert not Workspace.objects.exists()


# --- The admin page ----------------------------------------------------------------------


def change_url(workspace):
    return reverse("admin:prospects_workspace_change", args=[workspace.pk])


def test_a_workspace_admin_sees_and_changes_the_choice(admin_client_ws, workspace):
    page = admin_client_ws.get(change_url(workspace)).content.decode()
    assert "Enrichissement automatique des nouveaux prospects" in page
    assert "Dropcontact, puis la cascade e-mail" in page
    response = admin_client_ws.post(
        change_url(workspace),
        {
            "name": workspace.name,
            "slug": workspace.slug,
            "timezone": workspace.timezone,
            "auto_enrich": "none",
        },
    )
    assert response.status_code == 302
    workspace.refresh_from_db()
    assert workspace.auto_enrich == "none" and workspace.auto_enrich_steps == ()


def test_a_member_cannot_change_the_choice(member_client, workspace):
    member_client.post(
        change_url(workspace),
        {"name": workspace.name, "slug": workspace.slug, "timezone": "Europe/Paris",
         "auto_enrich": "none"},
    )  # fmt: skip
    workspace.refresh_from_db()
    assert workspace.auto_enrich == "dropcontact"


def test_an_admin_cannot_change_another_workspace(admin_client_ws, other_workspace):
    admin_client_ws.post(
        change_url(other_workspace),
        {"name": other_workspace.name, "slug": other_workspace.slug, "timezone": "Europe/Paris",
         "auto_enrich": "none"},
    )  # fmt: skip
    other_workspace.refresh_from_db()
    assert other_workspace.auto_enrich == "dropcontact"
