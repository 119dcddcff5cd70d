"""The API keys page: administrators of the workspace only, the key shown once, revocation."""

from django.test import Client

from prospects.api_keys import create_api_key
from prospects.models import ApiKey

from .conftest import ApiClient

CHANGELIST = "/admin/prospects/apikey/"


def test_admin_creates_a_key_shown_once(admin_client_ws, workspace):
    response = admin_client_ws.post(CHANGELIST + "add/", {"name": "Zapier", "role": "member"})
    assert response.status_code == 200
    page = response.content.decode()
    key = ApiKey.objects.for_workspace(workspace).get()
    secret = page.split('class="api-key-secret"', 1)[1].split(">", 1)[1].split("<", 1)[0]
    assert secret.startswith(key.prefix)
    assert "Copiez-la maintenant" in page
    assert "no-store" in response["Cache-Control"]
    assert ApiClient(secret).get("/api/v1/stats").status_code == 200
    # Never again: not on the list, not on the key's page.
    listing = admin_client_ws.get(CHANGELIST).content.decode()
    detail = admin_client_ws.get(f"{CHANGELIST}{key.pk}/change/").content.decode()
    assert secret not in listing and secret not in detail
    assert key.prefix in listing


def test_list_shows_only_this_workspace_s_keys(admin_client_ws, workspace, other_workspace):
    create_api_key(workspace, name="La nôtre")
    theirs = create_api_key(other_workspace, name="La leur")
    listing = admin_client_ws.get(CHANGELIST).content.decode()
    assert "La nôtre" in listing and "La leur" not in listing
    assert admin_client_ws.get(f"{CHANGELIST}{theirs.api_key.pk}/change/").status_code in (302, 404)


def test_revoke_action(admin_client_ws, workspace, other_workspace):
    ours = create_api_key(workspace, name="n8n")
    theirs = create_api_key(other_workspace, name="autre")
    response = admin_client_ws.post(
        CHANGELIST,
        {"action": "revoke", "_selected_action": [ours.api_key.pk, theirs.api_key.pk]},
        follow=True,
    )
    assert "1 clé d’API révoquée." in response.content.decode()
    assert ApiClient(ours.secret).get("/api/v1/stats").status_code == 401
    assert ApiClient(theirs.secret).get("/api/v1/stats").status_code == 200


def test_members_do_not_see_keys(member_client, workspace):
    create_api_key(workspace, name="n8n")
    assert member_client.get(CHANGELIST).status_code == 403
    assert (
        member_client.post(CHANGELIST + "add/", {"name": "x", "role": "admin"}).status_code == 403
    )
    assert ApiKey.objects.for_workspace(workspace).count() == 1


def test_anonymous_is_sent_to_login(db):
    assert Client().get(CHANGELIST).status_code == 302


def test_a_superuser_viewing_every_workspace_chooses_one_before_adding(db, workspace):
    from tests.factories import UserFactory

    root = UserFactory(username="root", is_superuser=True)
    client = Client()
    client.force_login(root)
    create_api_key(workspace, name="n8n")
    assert "n8n" in client.get(CHANGELIST).content.decode()
    assert client.post(CHANGELIST + "add/", {"name": "x", "role": "admin"}).status_code == 403
    assert ApiKey.objects.unscoped().count() == 1
