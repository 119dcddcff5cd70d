"""Error pages are French and look like the admin, even when the request or the database fails."""

import html

import pytest
from django.template import loader
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.csrf import csrf_failure

HOME_LINK = '<a href="/admin/">Retour à l\'accueil</a>'


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture(autouse=True)
def _production_like(settings):
    settings.DEBUG = False


@pytest.mark.parametrize("url", ["/n-existe-pas/", "/admin/n-existe-pas/"])
def test_a_missing_page_is_a_french_404(member_client, url):
    response = member_client.get(url)
    assert response.status_code == 404
    page = text(response)
    assert "Page introuvable" in page
    assert "Cette page n'existe pas ou n'est plus disponible." in page
    assert HOME_LINK in page
    assert "admin/css/base.css" in page
    assert "Not Found" not in page


def test_a_failing_page_is_a_french_500(db, settings):
    settings.ROOT_URLCONF = "tests.error_urls"
    client = Client(raise_request_exception=False)
    response = client.get("/panne/")
    assert response.status_code == 500
    page = text(response)
    assert "Erreur du serveur" in page
    assert "l'erreur a été enregistrée" in page
    assert "Server Error" not in page


def test_the_500_page_needs_neither_a_request_nor_the_database():
    # No `db` fixture here: any query while rendering would fail the test.
    page = loader.get_template("500.html").render()
    assert "Erreur du serveur" in page


def test_a_forbidden_page_is_a_french_403(member_client):
    response = member_client.get(reverse("admin:enrichment_providercredential_changelist"))
    assert response.status_code == 403
    page = text(response)
    assert "Accès refusé" in page
    assert "demandez-le à un administrateur de votre espace de travail" in page
    assert "403 Forbidden" not in page


def test_a_bad_host_is_a_french_400(db):
    response = Client().get("/admin/login/", HTTP_HOST="pirate.example")
    assert response.status_code == 400
    assert "Requête refusée" in text(response)


def test_a_form_without_its_token_gets_a_french_page(member):
    response = Client(enforce_csrf_checks=True).post(
        reverse("login"), {"username": member.username, "password": "motdepasse-solide-42"}
    )
    assert response.status_code == 403
    page = text(response)
    assert "Formulaire expiré" in page
    assert "rechargez la page" in page
    assert "CSRF verification failed" not in page


def test_the_csrf_page_needs_neither_a_session_nor_the_database():
    response = csrf_failure(RequestFactory().post("/admin/login/"), reason="CSRF cookie not set.")
    assert response.status_code == 403
    assert "Formulaire expiré" in text(response)
