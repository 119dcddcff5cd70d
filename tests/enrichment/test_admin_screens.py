"""The enrichment screens: API keys, re-enrichment, live progress, read-only work rows."""

import html
import re

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from enrichment import credentials
from enrichment.models import (
    EnrichmentItem,
    EnrichmentJob,
    ProviderBatch,
    ProviderCall,
    ProviderCredential,
)
from prospects.models import Prospect
from tests.factories import ProspectFactory

SECRET = "dc-9f8e7d6c5b4a-abcd"
Item = EnrichmentItem.Status
Status = Prospect.Status


def text(response) -> str:
    """The page as a person reads it (entities such as &#x27; decoded)."""
    return html.unescape(response.content.decode())


def make_item(workspace, status=Item.PENDING, *, job=None, prospect=None, **kwargs):
    prospect = prospect or ProspectFactory(workspace=workspace, status=Status.ENRICHING)
    return EnrichmentItem.objects.create(
        workspace=workspace,
        prospect=prospect,
        provider="dropcontact",
        status=status,
        job=job,
        **kwargs,
    )


def items_of(prospect) -> list[EnrichmentItem]:
    return list(
        EnrichmentItem.objects.for_workspace(prospect.workspace_id).filter(prospect=prospect)
    )


def status_of(prospect) -> str:
    return Prospect.objects.for_workspace(prospect.workspace_id).get(pk=prospect.pk).status


@pytest.fixture
def superuser_client(db) -> Client:
    boss = get_user_model().objects.create_superuser("patronne", "p@sourcier.example", "x")
    client = Client()
    client.force_login(boss)
    return client


# --- API keys -------------------------------------------------------------------------------

CREDENTIALS = reverse("admin:enrichment_providercredential_changelist")
ADD_CREDENTIAL = reverse("admin:enrichment_providercredential_add")


def test_admin_adds_a_key_that_is_stored_encrypted(admin_client_ws, workspace, admin_user):
    response = admin_client_ws.post(ADD_CREDENTIAL, {"provider": "dropcontact", "api_key": SECRET})
    assert response.status_code == 302
    credential = ProviderCredential.objects.for_workspace(workspace).get()
    assert (credential.provider, credential.last4, credential.updated_by) == (
        "dropcontact",
        "abcd",
        admin_user,
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT encrypted_key FROM enrichment_providercredential")
        (stored,) = cursor.fetchone()
    assert SECRET not in stored
    assert credentials.get_api_key(workspace.pk, "dropcontact") == SECRET


def test_key_list_shows_only_the_last_four_characters(admin_client_ws, workspace):
    credentials.set_api_key(workspace, "dropcontact", SECRET)
    page = text(admin_client_ws.get(CREDENTIALS))
    assert "••••abcd" in page
    assert SECRET not in page
    assert "Dropcontact" in page


def test_edit_form_never_renders_the_key(admin_client_ws, workspace):
    credential = credentials.set_api_key(workspace, "dropcontact", SECRET)
    url = reverse("admin:enrichment_providercredential_change", args=[credential.pk])
    page = text(admin_client_ws.get(url))
    assert SECRET not in page
    assert credential.encrypted_key not in page
    assert "••••abcd" in page
    assert re.search(r'<input type="password" name="api_key"[^>]*>', page)
    assert 'name="api_key" value=' not in page


def test_empty_key_on_edit_keeps_the_old_one(admin_client_ws, workspace):
    credential = credentials.set_api_key(workspace, "dropcontact", SECRET)
    url = reverse("admin:enrichment_providercredential_change", args=[credential.pk])
    assert admin_client_ws.post(url, {"api_key": ""}).status_code == 302
    assert credentials.get_api_key(workspace.pk, "dropcontact") == SECRET


def test_new_key_on_edit_replaces_the_old_one(admin_client_ws, workspace):
    credential = credentials.set_api_key(workspace, "dropcontact", SECRET)
    url = reverse("admin:enrichment_providercredential_change", args=[credential.pk])
    assert admin_client_ws.post(url, {"api_key": "  nouvelle-cle-wxyz "}).status_code == 302
    assert credentials.get_api_key(workspace.pk, "dropcontact") == "nouvelle-cle-wxyz"
    assert "••••wxyz" in text(admin_client_ws.get(CREDENTIALS))
    assert ProviderCredential.objects.for_workspace(workspace).count() == 1


def test_adding_the_key_releases_the_items_waiting_for_it(admin_client_ws, workspace):
    waiting = make_item(workspace, Item.WAITING_KEY, outcome="key_missing")
    admin_client_ws.post(ADD_CREDENTIAL, {"provider": "dropcontact", "api_key": SECRET})
    waiting.refresh_from_db()
    assert waiting.status == Item.PENDING


def test_second_key_for_the_same_provider_is_refused(admin_client_ws, workspace):
    credentials.set_api_key(workspace, "dropcontact", SECRET)
    response = admin_client_ws.post(ADD_CREDENTIAL, {"provider": "dropcontact", "api_key": "x1234"})
    assert response.status_code == 200
    assert "déjà une clé pour ce fournisseur" in text(response)
    assert credentials.get_api_key(workspace.pk, "dropcontact") == SECRET


def test_add_form_requires_the_key(admin_client_ws, workspace):
    response = admin_client_ws.post(ADD_CREDENTIAL, {"provider": "dropcontact", "api_key": ""})
    assert response.status_code == 200
    assert not ProviderCredential.objects.for_workspace(workspace).exists()


def test_a_member_cannot_set_a_key(member_client, workspace):
    assert member_client.get(ADD_CREDENTIAL).status_code == 403
    response = member_client.post(ADD_CREDENTIAL, {"provider": "dropcontact", "api_key": SECRET})
    assert response.status_code == 403
    assert not ProviderCredential.objects.for_workspace(workspace).exists()


def test_a_member_cannot_replace_a_key(member_client, workspace):
    credential = credentials.set_api_key(workspace, "dropcontact", SECRET)
    url = reverse("admin:enrichment_providercredential_change", args=[credential.pk])
    member_client.post(url, {"api_key": "pirate-0000"})
    assert credentials.get_api_key(workspace.pk, "dropcontact") == SECRET


def credential_urls(credential) -> list[str]:
    return [CREDENTIALS, ADD_CREDENTIAL] + [
        reverse(f"admin:enrichment_providercredential_{view}", args=[credential.pk])
        for view in ("change", "delete", "history")
    ]


def test_a_member_cannot_even_see_the_keys(member_client, workspace):
    credential = credentials.set_api_key(workspace, "dropcontact", SECRET)
    for url in credential_urls(credential):
        response = member_client.get(url)
        assert response.status_code == 403, url
        assert "abcd" not in text(response)
    index = text(member_client.get(reverse("admin:index")))
    assert CREDENTIALS not in index
    assert reverse("admin:enrichment_enrichmentjob_changelist") in index


def test_a_workspace_admin_opens_every_key_page(admin_client_ws, workspace):
    credential = credentials.set_api_key(workspace, "dropcontact", SECRET)
    for url in credential_urls(credential):
        assert admin_client_ws.get(url).status_code == 200, url
    assert CREDENTIALS in text(admin_client_ws.get(reverse("admin:index")))


@pytest.mark.parametrize("view", ["change", "delete", "history"])
def test_other_workspace_key_gets_404(admin_client_ws, other_workspace, view):
    theirs = credentials.set_api_key(other_workspace, "dropcontact", "leur-cle-zzzz")
    response = admin_client_ws.get(
        reverse(f"admin:enrichment_providercredential_{view}", args=[theirs.pk])
    )
    missing = admin_client_ws.get(
        reverse(f"admin:enrichment_providercredential_{view}", args=[999999])
    )
    assert response.status_code == missing.status_code
    assert "zzzz" not in text(response)


def test_key_list_shows_only_own_workspace(admin_client_ws, workspace, other_workspace):
    credentials.set_api_key(other_workspace, "dropcontact", "leur-cle-zzzz")
    assert "zzzz" not in text(admin_client_ws.get(CREDENTIALS))


# --- Re-enrichment: list action -------------------------------------------------------------

CHANGELIST = reverse("admin:prospects_prospect_changelist")


def reenrich_action(client: Client, prospects, *, confirm=True):
    """The action as the list posts it, then (confirm) what its estimate page posts."""
    data = {"action": "reenrich", "_selected_action": [p.pk for p in prospects], "index": "0"}
    if not confirm:
        return client.post(CHANGELIST, data)
    return client.post(CHANGELIST, {**data, "confirm": "1"}, follow=True)


def test_the_action_shows_what_it_costs_and_queues_nothing_yet(member_client, workspace):
    from enrichment.engine import ledger

    ledger.top_up(workspace.pk, "1", key="t1")
    targets = [
        ProspectFactory(workspace=workspace, status=Status.NOT_VERIFIED),
        ProspectFactory(workspace=workspace, status=Status.NEEDS_REVIEW),
        ProspectFactory(workspace=workspace, status=Status.VERIFIED),
    ]
    page = reenrich_action(member_client, targets, confirm=False)
    assert page.status_code == 200
    body = " ".join(re.sub(r"<[^>]+>", " ", text(page)).split())
    assert "2 prospects sur 3 sélectionnés repartent chez Dropcontact" in body
    assert "Au plus 0,10 €" in body
    assert "Statut « Vérifié » : 1" in body
    for prospect in targets:
        assert not items_of(prospect)
        assert status_of(prospect) != Status.ENRICHING


def test_another_workspace_s_ids_are_said_not_to_exist(member_client, workspace, other_workspace):
    theirs = ProspectFactory(workspace=other_workspace, status=Status.NOT_VERIFIED)
    response = member_client.post(
        CHANGELIST,
        {"action": "reenrich", "_selected_action": [theirs.pk], "index": "0"},
        follow=True,
    )
    assert "Aucun des prospects sélectionnés n'existe dans cet espace de travail" in text(
        response
    )
    assert not items_of(theirs) and status_of(theirs) == Status.NOT_VERIFIED


def test_action_queues_not_verified_and_needs_review_prospects(member_client, workspace):
    targets = [
        ProspectFactory(workspace=workspace, status=Status.NOT_VERIFIED),
        ProspectFactory(workspace=workspace, status=Status.NEEDS_REVIEW),
    ]
    page = text(reenrich_action(member_client, targets))
    assert "2 prospects remis en file d'enrichissement." in page
    for prospect in targets:
        assert status_of(prospect) == Status.ENRICHING
        (item,) = items_of(prospect)
        # No key in this workspace: the item waits visibly instead of failing.
        assert item.status == Item.WAITING_KEY
    assert "Enrichissement en cours" in page


def test_action_with_a_key_queues_pending_items(member_client, workspace):
    credentials.set_api_key(workspace, "dropcontact", SECRET)
    prospect = ProspectFactory(workspace=workspace, status=Status.NOT_VERIFIED)
    reenrich_action(member_client, [prospect])
    (item,) = items_of(prospect)
    assert item.status == Item.PENDING


def test_action_refuses_a_verified_prospect_with_a_message(member_client, workspace):
    prospect = ProspectFactory(
        workspace=workspace, status=Status.VERIFIED, first_name="Inès", last_name="Vérifiée"
    )
    page = text(reenrich_action(member_client, [prospect]))
    (warning,) = re.findall(r'<li class="warning">(.*?)</li>', page)
    assert warning.startswith("Inès Vérifiée — ")
    assert str(Status.VERIFIED.label) in warning  # names the status that blocks it
    assert "Only prospects" not in warning  # in French, not the English msgid
    assert status_of(prospect) == Status.VERIFIED
    assert items_of(prospect) == []


def test_action_ignores_another_workspace_prospect(member_client, other_workspace):
    foreign = ProspectFactory(workspace=other_workspace, status=Status.NOT_VERIFIED)
    reenrich_action(member_client, [foreign])
    assert status_of(foreign) == Status.NOT_VERIFIED
    assert items_of(foreign) == []


# --- Re-enrichment: the button and its view -------------------------------------------------


def change_page(client: Client, prospect) -> str:
    return text(client.get(reverse("admin:prospects_prospect_change", args=[prospect.pk])))


def test_button_is_shown_for_not_verified_and_needs_review_only(member_client, workspace):
    url_for = lambda p: reverse("enrichment:reenrich", args=[p.pk])  # noqa: E731
    for status in (Status.NOT_VERIFIED, Status.NEEDS_REVIEW):
        prospect = ProspectFactory(workspace=workspace, status=status)
        page = change_page(member_client, prospect)
        assert "Relancer l'enrichissement" in page
        assert f'hx-post="{url_for(prospect)}"' in page
    for status in (Status.NEW, Status.ENRICHING, Status.VERIFIED):
        prospect = ProspectFactory(workspace=workspace, status=status)
        assert f'hx-post="{url_for(prospect)}"' not in change_page(member_client, prospect)


def test_panel_shows_the_last_items_with_their_state(member_client, workspace):
    prospect = ProspectFactory(workspace=workspace, status=Status.NEEDS_REVIEW)
    make_item(
        workspace,
        Item.NEEDS_REVIEW,
        prospect=prospect,
        attempts=4,
        outcome="vendor_error",
        outcome_detail="503",
    )
    page = change_page(member_client, prospect)
    assert "<h2>Enrichissement</h2>" in page
    assert "<td>Dropcontact</td>" in page  # whose item it is: Dropcontact or a waterfall
    assert "Dropcontact a répondu par une erreur (HTTP 503)" in page
    assert "À revoir" in page


def test_button_view_queues_and_shows_enriching(member_client, workspace):
    prospect = ProspectFactory(workspace=workspace, status=Status.NOT_VERIFIED)
    response = member_client.post(reverse("enrichment:reenrich", args=[prospect.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse(
        "admin:prospects_prospect_change", args=[prospect.pk]
    )
    page = text(response)
    assert "est de nouveau en file d'enrichissement" in page
    assert "Enrichissement en cours" in page
    assert status_of(prospect) == Status.ENRICHING
    assert len(items_of(prospect)) == 1


def test_button_view_answers_htmx_with_a_client_redirect(member_client, workspace):
    prospect = ProspectFactory(workspace=workspace, status=Status.NEEDS_REVIEW)
    response = member_client.post(
        reverse("enrichment:reenrich", args=[prospect.pk]), HTTP_HX_REQUEST="true"
    )
    assert response["HX-Redirect"] == reverse("admin:prospects_prospect_change", args=[prospect.pk])
    assert status_of(prospect) == Status.ENRICHING


@pytest.mark.parametrize("status", [Status.NEW, Status.ENRICHING, Status.VERIFIED])
def test_button_view_refuses_other_statuses_with_a_message(member_client, workspace, status):
    prospect = ProspectFactory(workspace=workspace, status=status)
    response = member_client.post(reverse("enrichment:reenrich", args=[prospect.pk]), follow=True)
    (error,) = re.findall(r'<li class="error">(.*?)</li>', text(response))
    assert str(prospect.get_status_display()) in error  # names the status that blocks it
    assert "Only prospects" not in error  # in French, not the English msgid
    assert status_of(prospect) == status
    assert items_of(prospect) == []


def test_button_view_gives_404_for_another_workspace_prospect(member_client, other_workspace):
    foreign = ProspectFactory(workspace=other_workspace, status=Status.NOT_VERIFIED)
    response = member_client.post(reverse("enrichment:reenrich", args=[foreign.pk]))
    assert response.status_code == 404
    assert status_of(foreign) == Status.NOT_VERIFIED
    assert items_of(foreign) == []


def test_button_view_accepts_only_post(member_client, workspace):
    prospect = ProspectFactory(workspace=workspace, status=Status.NOT_VERIFIED)
    assert member_client.get(reverse("enrichment:reenrich", args=[prospect.pk])).status_code == 405
    assert items_of(prospect) == []


def test_button_view_requires_login(client, workspace):
    prospect = ProspectFactory(workspace=workspace, status=Status.NOT_VERIFIED)
    response = client.post(reverse("enrichment:reenrich", args=[prospect.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert items_of(prospect) == []


def test_superuser_without_workspace_is_asked_to_choose_one(superuser_client, workspace):
    prospect = ProspectFactory(workspace=workspace, status=Status.NOT_VERIFIED)
    response = superuser_client.post(
        reverse("enrichment:reenrich", args=[prospect.pk]), follow=True
    )
    assert "Choisissez un espace de travail dans l'en-tête" in text(response)
    assert items_of(prospect) == []


# --- Live progress ----------------------------------------------------------------------------

PROGRESS = reverse("enrichment:progress")
PARTIAL = reverse("enrichment:progress-partial")


def figures(page: str) -> dict[str, int]:
    return {
        name: int(value)
        for name, value in re.findall(
            r'data-count="(\w+)">\s*<dt>[^<]*</dt>\s*<dd class="figure">(\d+)</dd>', page
        )
    }


@pytest.fixture
def some_work(workspace, other_workspace):
    job = EnrichmentJob.objects.create(workspace=workspace, kind="dropcontact", status="running")
    for status, count in [
        (Item.PENDING, 3),
        (Item.SUBMITTED, 2),
        (Item.DONE, 4),
        (Item.NEEDS_REVIEW, 1),
        (Item.WAITING_KEY, 2),
    ]:
        for _ in range(count):
            make_item(workspace, status, job=job)
    for _ in range(5):
        make_item(other_workspace, Item.PENDING)
    return job


def test_progress_page_counts_the_workspace_work(member_client, some_work):
    response = member_client.get(PROGRESS)
    page = text(response)
    assert response.status_code == 200
    assert "<title>Enrichissement en cours | " in page
    assert figures(page) == {
        "queued": 3,
        "in_flight": 2,
        "done": 4,
        "failed": 1,
        "waiting_key": 2,
    }
    assert 'hx-trigger="every 2s"' in page
    assert "Clé API manquante" in page


def test_partial_returns_only_the_figures_and_keeps_polling(member_client, workspace, some_work):
    page = text(member_client.get(PARTIAL, HTTP_HX_REQUEST="true"))
    assert "<html" not in page
    assert f'hx-get="{PARTIAL}"' in page and 'hx-trigger="every 2s"' in page
    assert figures(page)["queued"] == 3
    # A worker takes the queued items: the next poll shows it.
    EnrichmentItem.objects.for_workspace(workspace).filter(status=Item.PENDING).update(
        status=Item.SUBMITTED
    )
    page = text(member_client.get(PARTIAL, HTTP_HX_REQUEST="true"))
    assert (figures(page)["queued"], figures(page)["in_flight"]) == (0, 5)


def test_progress_of_one_job(member_client, workspace, some_work):
    make_item(workspace, Item.PENDING)  # outside the job
    page = text(member_client.get(PROGRESS, {"job": some_work.pk}))
    assert figures(page)["queued"] == 3
    assert f'hx-get="{PARTIAL}?job={some_work.pk}"' in page
    assert figures(text(member_client.get(PROGRESS)))["queued"] == 4


def test_missing_key_is_explained_with_a_link_for_admins(admin_client_ws, workspace):
    make_item(workspace, Item.WAITING_KEY)
    page = text(admin_client_ws.get(PROGRESS))
    assert "ils partent dès que l'espace de travail a une clé API Dropcontact" in page
    assert reverse("admin:enrichment_providercredential_add") in page


def test_missing_key_tells_members_to_ask_an_admin(member_client, workspace):
    make_item(workspace, Item.WAITING_KEY)
    page = text(member_client.get(PROGRESS))
    assert "Demandez à un administrateur" in page
    assert reverse("admin:enrichment_providercredential_add") not in page


@pytest.mark.parametrize("url", [PROGRESS, PARTIAL])
def test_other_workspace_job_gets_404(member_client, other_workspace, url):
    theirs = EnrichmentJob.objects.create(workspace=other_workspace, kind="dropcontact")
    assert member_client.get(url, {"job": theirs.pk}).status_code == 404
    assert member_client.get(url, {"job": "abc"}).status_code == 404


def test_jobs_list_shows_only_own_jobs(member_client, workspace, other_workspace, some_work):
    theirs = EnrichmentJob.objects.create(workspace=other_workspace, kind="dropcontact")
    page = text(member_client.get(reverse("enrichment:jobs")))
    assert f"?job={some_work.pk}" in page
    assert f"?job={theirs.pk}" not in page


@pytest.mark.parametrize("name", ["enrichment:progress", "enrichment:progress-partial"])
def test_superuser_without_workspace_gets_a_message(superuser_client, some_work, name):
    page = text(superuser_client.get(reverse(name)))
    assert "Choisissez un espace de travail dans l'en-tête pour voir son enrichissement." in page
    assert figures(page) == {}


@pytest.mark.parametrize(
    "name", ["enrichment:progress", "enrichment:progress-partial", "enrichment:jobs"]
)
def test_progress_pages_require_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_admin_index_links_to_the_progress_page(member_client):
    page = text(member_client.get(reverse("admin:index")))
    assert "Suivi de l'enrichissement" in page
    assert f'href="{PROGRESS}"' in page


# --- Read-only work rows --------------------------------------------------------------------


def work_rows(workspace):
    return {
        "enrichmentjob": EnrichmentJob.objects.create(workspace=workspace, kind="dropcontact"),
        "enrichmentitem": make_item(workspace, Item.WAITING_KEY, outcome="key_missing"),
        "providerbatch": ProviderBatch.objects.create(workspace=workspace, request_id="r-1"),
        "providercall": ProviderCall.objects.create(
            workspace=workspace,
            provider="dropcontact",
            endpoint="/v1/enrich/all",
            method="POST",
            outcome="ok",
            status_code=200,
        ),
    }


MODELS = ["enrichmentjob", "enrichmentitem", "providerbatch", "providercall"]


@pytest.mark.parametrize("model", MODELS)
def test_work_rows_are_read_only(admin_client_ws, workspace, model):
    row = work_rows(workspace)[model]
    assert admin_client_ws.get(reverse(f"admin:enrichment_{model}_changelist")).status_code == 200
    assert admin_client_ws.get(reverse(f"admin:enrichment_{model}_add")).status_code == 403
    delete = reverse(f"admin:enrichment_{model}_delete", args=[row.pk])
    assert admin_client_ws.post(delete, {"post": "yes"}).status_code == 403
    view = admin_client_ws.get(reverse(f"admin:enrichment_{model}_change", args=[row.pk]))
    assert view.status_code == 200
    assert 'name="_save"' not in view.content.decode()
    assert type(row).objects.for_workspace(workspace).filter(pk=row.pk).exists()


@pytest.mark.parametrize("model", MODELS)
def test_other_workspace_work_rows_get_404(member_client, other_workspace, model):
    theirs = work_rows(other_workspace)[model]
    changelist = member_client.get(reverse(f"admin:enrichment_{model}_changelist"))
    assert f"/{theirs.pk}/change/" not in changelist.content.decode()
    response = member_client.get(reverse(f"admin:enrichment_{model}_change", args=[theirs.pk]))
    missing = member_client.get(reverse(f"admin:enrichment_{model}_change", args=[999999]))
    assert response.status_code == missing.status_code
    assert response.status_code in (302, 404)


def test_items_list_shows_the_missing_key_state_and_filters(member_client, workspace):
    make_item(workspace, Item.WAITING_KEY, outcome="key_missing")
    make_item(workspace, Item.DONE, finished_at=timezone.now())
    url = reverse("admin:enrichment_enrichmentitem_changelist")
    page = text(member_client.get(url, {"status__exact": "waiting_key"}))
    assert "Clé API manquante" in page
    assert "badge-item-done" not in page
    assert member_client.get(url, {"provider": "dropcontact"}).status_code == 200


@pytest.mark.parametrize("url", [PROGRESS, PARTIAL])
@pytest.mark.parametrize("job", ["²", "①", "99999999999999999999999"])
def test_a_job_number_that_is_not_one_gets_404(member_client, workspace, url, job):
    # "²" passes str.isdigit() but not int(): it used to be a 500.
    assert member_client.get(url, {"job": job}).status_code == 404
