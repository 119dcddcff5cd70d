"""The internals (work rows, provider calls, attempts) sit in one "Technique" section of the
menu, for administrators; members keep their menu to what they work with."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from enrichment.engine import breaker
from enrichment.engine.breaker_stores import redis_client
from tests.factories import MembershipFactory

TECHNICAL = ("enrichmentitem", "providerbatch", "providercall", "providerattempt")
TECHNIQUE = reverse("admin:technique")
BREAKERS = reverse("admin:breakers")


def sections(content: str) -> dict[str, list[str]]:
    """Menu section name -> the model list URLs under it, as the app list renders them."""
    found = {}
    for match in re.finditer(
        r'<caption>\s*<a href="[^"]*"[^>]*>([^<]+)</a>(.*?)</table>', content, re.S
    ):
        found[match.group(1).strip()] = re.findall(r'href="(/admin/[^"]+/)"', match.group(2))
    return found


def urls(*models: str) -> set[str]:
    return {reverse(f"admin:enrichment_{model}_changelist") for model in models}


def test_administrators_find_the_internals_under_technique(admin_client_ws):
    menu = sections(admin_client_ws.get(reverse("admin:index")).content.decode())
    assert set(menu["Technique"]) == urls(*TECHNICAL) | {BREAKERS}
    assert not urls(*TECHNICAL) & set(menu["Enrichissement"])
    assert reverse("admin:enrichment_enrichmentjob_changelist") in menu["Enrichissement"]


def test_the_sidebar_of_every_page_has_the_same_section(admin_client_ws):
    page = admin_client_ws.get(reverse("admin:prospects_prospect_changelist")).content.decode()
    sidebar = page.split('id="nav-sidebar"')[1]
    assert set(sections(sidebar)["Technique"]) == urls(*TECHNICAL) | {BREAKERS}


def test_the_technique_page_lists_them(admin_client_ws):
    response = admin_client_ws.get(TECHNIQUE)
    assert response.status_code == 200
    content = response.content.decode()
    assert "<h1>Technique</h1>" in content
    assert urls(*TECHNICAL) <= set(re.findall(r'href="(/admin/[^"]+/)"', content))


def test_members_do_not_see_the_section(member_client):
    for url in (reverse("admin:index"), reverse("admin:prospects_prospect_changelist")):
        content = member_client.get(url).content.decode()
        menu = sections(content)
        assert menu and "Technique" not in content
        assert not urls(*TECHNICAL) & {u for listed in menu.values() for u in listed}
    assert member_client.get(TECHNIQUE).status_code == 403
    assert member_client.get(BREAKERS).status_code == 403
    enrichment = member_client.get(reverse("admin:app_list", args=["enrichment"]))
    assert not any(u in enrichment.content.decode() for u in urls(*TECHNICAL))


def test_members_still_follow_links_to_an_item_or_a_call(member_client):
    # A job's page links its items and their provider calls: the links keep working.
    for url in urls(*TECHNICAL):
        assert member_client.get(url).status_code == 200, url


def test_an_administrator_of_another_workspace_only_is_a_member_here(
    member, member_client, other_workspace
):
    MembershipFactory(user=member, workspace=other_workspace, role="admin")
    member_client.post(reverse("switch-workspace"), {"workspace": other_workspace.pk})
    assert "Technique" in member_client.get(reverse("admin:index")).content.decode()
    member_client.post(
        reverse("switch-workspace"),
        {"workspace": member.memberships.get(role="member").workspace_id},
    )
    assert "Technique" not in member_client.get(reverse("admin:index")).content.decode()


@pytest.fixture
def breakers_used():
    """Hunter's breaker opened by failures, Prospeo's closed after a success (real store).

    Redis outlives a test: what earlier tests' calls left in these two windows goes first."""
    keys = ("sourcier:breaker:hunter", "sourcier:breaker:prospeo")
    if settings.REDIS_URL:
        redis_client(settings.REDIS_URL).delete(*keys)
    guard = breaker.default_breaker()
    for _n in range(settings.BREAKER_FAILURE_THRESHOLD):
        guard.after_call(guard.before_call("hunter"), ok=False)
    guard.after_call(guard.before_call("prospeo"), ok=True)
    yield
    if settings.REDIS_URL:
        redis_client(settings.REDIS_URL).delete(*keys)


def test_the_breakers_page_shows_each_provider_s_state(admin_client_ws, breakers_used):
    content = admin_client_ws.get(BREAKERS).content.decode()
    hunter = re.search(r'<tr data-provider="hunter">(.*?)</tr>', content, re.S).group(1)
    prospeo = re.search(r'<tr data-provider="prospeo">(.*?)</tr>', content, re.S).group(1)
    assert "badge-breaker-open" in hunter and "Ouvert" in hunter
    assert re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d", hunter)
    assert "badge-breaker-closed" in prospeo and "0 sur le dernier appel" in prospeo
