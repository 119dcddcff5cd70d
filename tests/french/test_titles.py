"""Titles, buttons and actions that agree with their noun, and counts through ngettext."""

import html
import re

import pytest
from django.contrib import admin
from django.urls import reverse

from campaigns.models import Campaign
from config.admin_titles import WORDS
from prospects.services import suppress_person


def text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def test_every_registered_model_has_its_french_words():
    assert {model._meta.label_lower for model in admin.site._registry} <= set(WORDS)


def test_a_campaign_list_adds_and_deletes_in_agreement(admin_client_ws, workspace):
    Campaign.objects.create(workspace=workspace, name="Salon de Lyon")
    page = text(admin_client_ws.get(reverse("admin:campaigns_campaign_changelist")))
    assert "Supprimer les campagnes sélectionnées" in page
    assert "Nouvelle campagne" in page
    assert (
        "<h1>Campagnes</h1>"
        in admin_client_ws.get(reverse("admin:campaigns_campaign_changelist")).content.decode()
    )
    add = admin_client_ws.get(reverse("admin:campaigns_campaign_add")).content.decode()
    assert "<h1>Nouvelle campagne</h1>" in add


def test_the_objection_list_counts_entries(admin_client_ws, workspace):
    suppress_person(workspace, email="un@exemple.fr")
    suppress_person(workspace, email="deux@exemple.fr")
    response = admin_client_ws.get(reverse("admin:prospects_suppressionentry_changelist"))
    page = text(response)
    assert "2 entrées de la liste d'opposition" in page
    assert "<h1>Liste d'opposition</h1>" in html.unescape(response.content.decode())
    add = html.unescape(
        admin_client_ws.get(reverse("admin:prospects_suppressionentry_add")).content.decode()
    )
    assert "<h1>Nouvelle opposition</h1>" in add and "Ajout de entrée" not in add


@pytest.mark.parametrize(
    ("name", "title"),
    [("auth_user_add", "Nouvel utilisateur"), ("prospects_company_add", "Nouvelle société")],
)
def test_elision_and_gender_in_add_titles(client, django_user_model, name, title):
    boss = django_user_model.objects.create_superuser("patronne", "p@sourcier.example", "x")
    client.force_login(boss)
    assert f"<h1>{title}</h1>" in client.get(reverse(f"admin:{name}")).content.decode()


def test_two_pages_never_share_a_name(member_client):
    jobs = member_client.get(reverse("admin:enrichment_enrichmentjob_changelist"))
    recent = member_client.get(reverse("enrichment:jobs"))
    title = re.compile(r"<h1>([^<]+)</h1>")
    assert html.unescape(title.search(jobs.content.decode()).group(1)) == (
        "Tâches d'enrichissement"
    )
    assert html.unescape(title.search(recent.content.decode()).group(1)) == (
        "Dernières tâches d'enrichissement"
    )
