"""Nobody can route another person's work into their workspace: invitations, not capture."""

import html
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from prospects import access
from prospects.models import (
    ImportBatch,
    Invitation,
    Membership,
    Workspace,
    tidy_workspace_name,
    workspace_name_key,
)
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from tests.fixtures import csv_files

INVITATIONS = reverse("admin:prospects_invitation_changelist")
INVITE = reverse("admin:prospects_invitation_add")
PROSPECTS = reverse("admin:prospects_prospect_changelist")


def text(response) -> str:
    return html.unescape(response.content.decode())


def logged_in(user) -> Client:
    """A fresh browser session for this person, as after logging in."""
    client = Client()
    client.force_login(user)
    return client


def upload_csv(client: Client, tmp_path, **extra):
    path = csv_files.excel_semicolon_cp1252(tmp_path / "salon.csv")
    data = {"file": SimpleUploadedFile("salon.csv", path.read_bytes()), **extra}
    return client.post(reverse("admin:prospects_importbatch_upload"), data)


@pytest.fixture
def alice_ws(db):
    return WorkspaceFactory(name="Acme France", slug="acme-france")


@pytest.fixture
def alice(alice_ws):
    return MembershipFactory(workspace=alice_ws, user__username="alice").user


@pytest.fixture
def evil_ws(db):
    return WorkspaceFactory(name="Espace E", slug="espace-e")


@pytest.fixture
def evil(evil_ws):
    return MembershipFactory(workspace=evil_ws, user__username="eve", role="admin").user


@pytest.fixture
def evil_client(evil) -> Client:
    return logged_in(evil)


def invite(client: Client, invitee: str, role: str = "member"):
    return client.post(INVITE, {"invitee": invitee, "role": role})


def answer(client: Client, invitation: Invitation, what: str):
    return client.post(reverse("invitation-answer", args=[invitation.pk, what]))


# --- the capture scenario -------------------------------------------------------------------


def test_capture_scenario_no_longer_routes_alices_import(
    evil_client, evil_ws, alice, alice_ws, tmp_path, media_root
):
    change = reverse("admin:prospects_workspace_change", args=[evil_ws.pk])
    for lookalike in ("Acme  France", "acme france", "ACME\u00a0France\u200b"):
        page = evil_client.post(change, {"name": lookalike, "slug": "espace-e", "timezone": "UTC"})
        assert page.status_code == 200
        assert "Un autre espace de travail porte déjà ce nom" in text(page)
    # Cyrillic letters drawn like Latin ones: all of them, or mixed in.
    for lookalike in ("АСМЕ Ғrаnсе", "\u0410cme France", "Асме France"):
        page = evil_client.post(change, {"name": lookalike, "slug": "espace-e", "timezone": "UTC"})
        assert page.status_code == 200
        assert "porte déjà ce nom" in text(page) or "mélange des alphabets" in text(page)
    evil_ws.refresh_from_db()
    assert evil_ws.name == "Espace E"

    response = invite(evil_client, "alice")
    assert response.status_code == 302
    assert not Membership.objects.filter(user=alice, workspace=evil_ws).exists()

    client = logged_in(alice)
    page = text(client.get(PROSPECTS))
    assert "Espace de travail : Acme France" in " ".join(page.replace("<strong>", "").split())
    assert 'id="invitation-banner"' in page
    upload_csv(client, tmp_path)
    assert ImportBatch.objects.for_workspace(alice_ws).count() == 1
    assert ImportBatch.objects.for_workspace(evil_ws).count() == 0

    # Even once she accepts, her work stays where it was: joining never switches workspaces.
    answer(client, Invitation.objects.for_workspace(evil_ws).get(), "accept")
    assert Membership.objects.filter(user=alice, workspace=evil_ws).exists()
    upload_csv(logged_in(alice), tmp_path)
    assert ImportBatch.objects.for_workspace(alice_ws).count() == 2
    assert ImportBatch.objects.for_workspace(evil_ws).count() == 0


def messages_shown(client: Client, response) -> list[str]:
    """What the person reads on the page the response leads to."""
    return [str(m) for m in get_messages(client.get(response["Location"]).wsgi_request)]


def test_the_answer_is_the_same_whether_the_account_exists_or_not(evil_client, alice):
    existing = invite(evil_client, "alice")
    existing_messages = messages_shown(evil_client, existing)
    missing = invite(evil_client, "personne-inconnue")
    missing_messages = messages_shown(evil_client, missing)
    assert existing.status_code == missing.status_code == 302
    assert existing["Location"] == missing["Location"]
    assert existing_messages == missing_messages
    assert len(existing_messages) == 1
    assert "si ce compte existe" in existing_messages[0]
    listing = text(evil_client.get(INVITATIONS))
    assert listing.count("En attente") == 2  # both look alike to the inviter


def test_inviting_again_refreshes_the_open_invitation(evil_client, evil_ws):
    invite(evil_client, "Alice@Example.fr")
    invite(evil_client, " alice@example.fr ", role="admin")
    invitation = Invitation.objects.for_workspace(evil_ws).get()
    assert invitation.role == "admin"
    assert invitation.invitee == "alice@example.fr"


def test_a_hostile_invitee_gets_a_french_error(evil_client, evil_ws):
    page = invite(evil_client, "alice <script>")
    assert page.status_code == 200
    assert "sans espace" in text(page)
    assert not Invitation.objects.for_workspace(evil_ws).exists()


# --- answering ------------------------------------------------------------------------------


def test_invitee_accepts_by_email_and_becomes_member_with_the_role(evil_client, evil_ws, alice):
    invite(evil_client, alice.email.upper(), role="admin")
    client = logged_in(alice)
    page = text(client.get(reverse("invitations")))
    assert "Espace E" in page and "eve" in page
    (invitation,) = Invitation.objects.for_invitee(alice)
    response = answer(client, invitation, "accept")
    assert response.status_code == 302
    assert Membership.objects.get(user=alice, workspace=evil_ws).role == "admin"
    invitation.refresh_from_db()
    assert invitation.accepted_at and invitation.answered_by == alice
    assert answer(client, invitation, "accept").status_code == 404
    assert 'id="invitation-banner"' not in text(client.get(PROSPECTS))


def test_invitee_declines_and_nothing_changes(evil_client, evil_ws, alice):
    invite(evil_client, "alice")
    client = logged_in(alice)
    invitation = Invitation.objects.for_invitee(alice).get()
    assert answer(client, invitation, "decline").status_code == 302
    assert not Membership.objects.filter(user=alice, workspace=evil_ws).exists()
    assert answer(client, invitation, "accept").status_code == 404
    assert Invitation.objects.for_workspace(evil_ws).get().status == "declined"


def test_nobody_else_can_accept_someone_elses_invitation(evil_client, evil_ws, alice, member):
    invite(evil_client, "alice")
    invitation = Invitation.objects.for_workspace(evil_ws).get()
    other = logged_in(member)
    assert answer(other, invitation, "accept").status_code == 404
    assert answer(other, invitation, "decline").status_code == 404
    assert answer(other, Invitation(pk=999999), "accept").status_code == 404
    assert "Espace E" not in text(other.get(reverse("invitations")))
    assert not Membership.objects.filter(user=member, workspace=evil_ws).exists()
    invitation.refresh_from_db()
    assert invitation.status == "pending"


def test_an_expired_invitation_cannot_be_accepted(evil_client, evil_ws, alice):
    invite(evil_client, "alice")
    invitation = Invitation.objects.for_workspace(evil_ws).get()
    Invitation.objects.for_workspace(evil_ws).update(expires_at=timezone.now() - timedelta(1))
    assert answer(logged_in(alice), invitation, "accept").status_code == 404
    assert not Membership.objects.filter(user=alice, workspace=evil_ws).exists()


def test_invitation_answer_is_post_only(evil_client, evil_ws, alice):
    invite(evil_client, "alice")
    invitation = Invitation.objects.for_workspace(evil_ws).get()
    url = reverse("invitation-answer", args=[invitation.pk, "accept"])
    assert logged_in(alice).get(url).status_code == 405
    assert answer(logged_in(alice), invitation, "maybe").status_code == 404


# --- who may add whom -----------------------------------------------------------------------


def test_workspace_admin_cannot_add_a_member_directly(admin_client_ws, workspace, other_member):
    members = text(admin_client_ws.get(reverse("admin:prospects_membership_changelist")))
    assert reverse("admin:prospects_membership_add") not in members
    assert "Inviter quelqu'un" in members
    response = admin_client_ws.post(
        reverse("admin:prospects_membership_add"),
        {"account": other_member.username, "role": "admin"},
    )
    assert response.status_code == 403
    assert not other_member.memberships.filter(workspace=workspace).exists()


def test_workspace_admin_changes_a_role_but_never_whose_membership_it_is(
    admin_client_ws, workspace, member, other_member
):
    membership = Membership.objects.get(user=member, workspace=workspace)
    url = reverse("admin:prospects_membership_change", args=[membership.pk])
    admin_client_ws.post(url, {"account": other_member.username, "role": "admin"})
    membership.refresh_from_db()
    assert (membership.user, membership.role) == (member, "admin")


def test_superuser_adds_a_member_at_once(client, django_user_model, workspace, other_member):
    boss = django_user_model.objects.create_superuser("patronne", "p@sourcier.example", "x")
    client.force_login(boss)
    response = client.post(
        reverse("admin:prospects_membership_add"),
        {"account": other_member.email.upper(), "workspace": workspace.pk, "role": "member"},
    )
    assert response.status_code == 302
    assert other_member.memberships.filter(workspace=workspace).exists()
    # Their own workspace stays the one they work in.
    assert access.remembered_workspace_id(other_member) != workspace.pk


def test_invitations_are_the_admins_business_and_scoped(
    evil_client, evil_ws, admin_client_ws, member_client, workspace
):
    invite(evil_client, "alice")
    theirs = Invitation.objects.for_workspace(evil_ws).get()
    own_page = evil_client.get(reverse("admin:prospects_invitation_change", args=[theirs.pk]))
    assert own_page.status_code == 200 and "En attente" in text(own_page)
    assert "alice" not in text(admin_client_ws.get(INVITATIONS))
    for view in ("change", "delete"):
        url = reverse(f"admin:prospects_invitation_{view}", args=[theirs.pk])
        missing = reverse(f"admin:prospects_invitation_{view}", args=[999999])
        assert admin_client_ws.get(url).status_code == admin_client_ws.get(missing).status_code
    admin_client_ws.post(
        reverse("admin:prospects_invitation_delete", args=[theirs.pk]), {"post": "yes"}
    )
    assert Invitation.objects.for_workspace(evil_ws).exists()
    assert member_client.get(INVITATIONS).status_code == 403
    assert member_client.post(INVITE, {"invitee": "x", "role": "admin"}).status_code == 403
    assert not Invitation.objects.for_workspace(workspace).exists()


# --- the current workspace ------------------------------------------------------------------


@pytest.fixture
def two_workspaces_member(workspace, other_workspace):
    user = UserFactory(username="bernard")
    MembershipFactory(user=user, workspace=workspace)
    MembershipFactory(user=user, workspace=other_workspace)
    return user


def test_several_workspaces_and_no_choice_means_the_choice_page(
    two_workspaces_member, other_workspace, tmp_path, media_root
):
    client = logged_in(two_workspaces_member)
    response = client.get(PROSPECTS)
    choose = reverse("choose-workspace")
    assert response.status_code == 302
    assert response["Location"].startswith(choose + "?next=")
    WorkspaceFactory(name="Espace d'autrui", slug="autrui")
    page = text(client.get(response["Location"]))
    assert "Choisissez votre espace de travail" in page
    assert "Acme Lyon" in page and "Concurrent Paris" in page
    assert "Espace d'autrui" not in page
    # Nothing is written in the meantime, whatever the door.
    assert upload_csv(client, tmp_path).status_code == 302
    assert not ImportBatch.objects.unscoped().exists()
    htmx = client.get(reverse("enrichment:progress"), headers={"HX-Request": "true"})
    assert htmx["HX-Redirect"] == choose

    chosen = client.post(
        reverse("switch-workspace"), {"workspace": other_workspace.pk, "next": PROSPECTS}
    )
    assert chosen["Location"] == PROSPECTS
    assert client.get(PROSPECTS).status_code == 200


def test_the_choice_is_remembered_across_logins(two_workspaces_member, other_workspace):
    client = logged_in(two_workspaces_member)
    client.post(reverse("switch-workspace"), {"workspace": other_workspace.pk})
    client.post(reverse("admin:logout"))
    again = Client()
    assert again.login(username="bernard", password="motdepasse-solide-42")
    response = again.get(PROSPECTS)
    assert response.status_code == 200
    assert response.wsgi_request.workspace == other_workspace


def test_a_remembered_workspace_one_left_is_not_used(
    two_workspaces_member, workspace, other_workspace
):
    third = WorkspaceFactory(name="Troisième", slug="troisieme")
    MembershipFactory(user=two_workspaces_member, workspace=third)
    access.remember_workspace(two_workspaces_member, other_workspace)
    Membership.objects.filter(user=two_workspaces_member, workspace=other_workspace).delete()
    response = logged_in(two_workspaces_member).get(PROSPECTS)
    assert response["Location"].startswith(reverse("choose-workspace"))


def test_a_single_workspace_is_simply_the_current_one(member_client, workspace):
    response = member_client.get(PROSPECTS)
    assert response.status_code == 200
    assert response.wsgi_request.workspace == workspace


def test_superuser_keeps_the_all_workspaces_mode(client, django_user_model, workspace):
    boss = django_user_model.objects.create_superuser("patronne", "p@sourcier.example", "x")
    client.force_login(boss)
    page = text(client.get(PROSPECTS))
    assert "Tous les espaces de travail (aucun espace choisi)" in page
    client.post(reverse("switch-workspace"), {"workspace": workspace.pk})
    client.post(reverse("switch-workspace"), {"workspace": ""})
    fresh = Client()
    fresh.force_login(boss)
    assert fresh.get(PROSPECTS).wsgi_request.workspace is None


def test_a_form_for_another_workspace_is_refused_after_a_switch(
    two_workspaces_member, workspace, other_workspace, tmp_path, media_root
):
    client = logged_in(two_workspaces_member)
    client.post(reverse("switch-workspace"), {"workspace": workspace.pk})
    page = text(client.get(reverse("admin:prospects_importbatch_upload")))
    assert f'name="expected_workspace" value="{workspace.pk}"' in page
    # Meanwhile, in another tab:
    client.post(reverse("switch-workspace"), {"workspace": other_workspace.pk})
    response = upload_csv(client, tmp_path, expected_workspace=str(workspace.pk))
    assert response.status_code == 302
    assert not ImportBatch.objects.unscoped().exists()
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("Rien n'a été fait" in m and "Concurrent Paris" in m for m in messages)


# --- names ----------------------------------------------------------------------------------


def test_workspace_names_are_tidied_and_unique_ignoring_case_and_spaces(db):
    first = Workspace.objects.create(name="  Acme   France ", slug="a")
    assert first.name == "Acme France"
    clash = Workspace(name="ACME\tfrance", slug="b")
    with pytest.raises(Exception, match="Un autre espace de travail porte déjà ce nom"):
        clash.full_clean()
    from django.db import IntegrityError, transaction

    with transaction.atomic(), pytest.raises(IntegrityError):
        Workspace.objects.create(name="acme france", slug="c")


def test_a_name_drawn_in_lookalike_letters_is_the_same_name(db):
    Workspace.objects.create(name="Acme France", slug="a")
    for lookalike in ("Асме Fгаnсе", "ΑϹΜΕ France", "АСМЕ FRАNСЕ"):
        with pytest.raises(Exception, match=r"porte déjà ce nom|mélange des alphabets"):
            Workspace(name=lookalike, slug="b").full_clean()
    # All in Cyrillic, it is the same name as its Latin look.
    Workspace.objects.create(name="Acme", slug="d")
    with pytest.raises(Exception, match="porte déjà ce nom"):
        Workspace(name="Асме", slug="c").full_clean()
    # One alphabet, whatever it is, is a name like any other.
    for name in ("Москва Продажи", "Αθήνα", "Café Élan"):
        Workspace(name=name, slug="e").full_clean()


@pytest.mark.parametrize("name", ["\u200b", "\u200b\u200d", "\u00ad\ufeff"])
def test_a_name_of_invisible_characters_only_is_a_form_error(admin_client_ws, workspace, name):
    # Tidied, such a name is empty: a blank header, then a 500 on the second one (same key).
    url = reverse("admin:prospects_workspace_change", args=[workspace.pk])
    data = {"name": name, "slug": workspace.slug, "timezone": "Europe/Paris"}

    response = admin_client_ws.post(url, data)

    assert response.status_code == 200
    assert "Saisissez un nom fait de caractères visibles." in html.unescape(
        response.content.decode()
    )
    workspace.refresh_from_db()
    assert workspace.name == "Acme Lyon"


@given(
    words=st.lists(st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1), min_size=1),
    gaps=st.lists(st.sampled_from([" ", "  ", "\t", "\u00a0", " \u200b"]), min_size=1),
)
def test_spacing_and_case_never_make_a_different_name(words, gaps):
    spaced = "".join(w + gaps[i % len(gaps)] for i, w in enumerate(words))
    plain = " ".join(words)
    assert workspace_name_key(spaced) == workspace_name_key(plain)
    assert workspace_name_key(spaced.swapcase()) == workspace_name_key(plain.swapcase())
    assert workspace_name_key(plain.casefold()) == workspace_name_key(plain)
    assert tidy_workspace_name(tidy_workspace_name(spaced)) == tidy_workspace_name(spaced)


def test_a_workspace_picked_silently_before_is_not_kept(two_workspaces_member, other_workspace):
    client = logged_in(two_workspaces_member)
    session = client.session
    session["workspace_id"] = other_workspace.pk  # what the former default left in sessions
    session.save()
    assert client.get(PROSPECTS)["Location"].startswith(reverse("choose-workspace"))
