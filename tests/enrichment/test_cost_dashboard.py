"""The "Coûts" page: figures from rows written by the real ledger, attempts and calls."""

import datetime as dt
import html
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from enrichment.engine import breaker, ledger
from enrichment.engine.breaker_stores import redis_client
from enrichment.engine.money import paris_day
from enrichment.models import EnrichmentItem, ProviderAttempt, ProviderCall
from tests.factories import ProspectFactory

COSTS = reverse("admin:enrichment_costdashboard_changelist")


def text(response) -> str:
    page = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(html.unescape(page).split())


def row(response, attribute: str, value: str) -> str:
    """One table row, as a person reads it."""
    match = re.search(rf'<tr {attribute}="{value}">(.*?)</tr>', response.content.decode(), re.S)
    assert match, f"no row {value}"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())


def svg_page(response) -> str:
    return html.unescape(response.content.decode())


def spend(workspace, provider, amount, *, key, when=None, settle=True):
    """A paid call as the gateway makes it: reserve, then settle (or keep it in flight)."""
    ledger.reserve(workspace.pk, amount, key=key, provider=provider, now=when)
    if settle:
        ledger.settle(workspace.pk, key=key, cost=amount, now=when)


def calls(workspace, provider, count, *, when=None):
    for _n in range(count):
        call = ProviderCall.objects.create(
            workspace=workspace, provider=provider, endpoint="/", method="POST", outcome="ok"
        )
        if when:
            ProviderCall.objects.for_workspace(workspace).filter(pk=call.pk).update(created_at=when)


def attempts(workspace, provider, results):
    prospect = ProspectFactory(workspace=workspace)
    item = EnrichmentItem.objects.create(
        workspace=workspace, prospect=prospect, provider="waterfall_email"
    )
    for n, result in enumerate(results):
        ProviderAttempt.objects.create(
            workspace=workspace,
            item=item,
            provider=provider,
            field="email",
            idempotency_key=f"{item.pk}:{provider}:{n}",
            result=result,
        )


@pytest.fixture
def money(workspace):
    """50 € topped up, a 5 € cap, spending two days ago and today, calls and attempts."""
    now = timezone.now()
    ledger.top_up(workspace.pk, "50", key="top-up")
    ledger.set_daily_cap(workspace.pk, "5")
    spend(workspace, "prospeo", "0.50", key="p1", when=now - dt.timedelta(days=2))
    spend(workspace, "prospeo", "1.25", key="p2")
    ledger.reserve(workspace.pk, "0.30", key="l1", provider="leadmagic")
    ledger.release(workspace.pk, key="l1")  # a free miss
    spend(workspace, "hunter", "0.20", key="h1", settle=False)  # still in flight
    spend(workspace, "prospeo", "3", key="old", when=now - dt.timedelta(days=40))
    calls(workspace, "prospeo", 3)
    calls(workspace, "prospeo", 4, when=now - dt.timedelta(days=40))
    calls(workspace, "leadmagic", 1)
    attempts(workspace, "prospeo", ["found", "found", "not_found"])
    attempts(workspace, "leadmagic", ["not_found", "temporary"])
    attempts(workspace, "hunter", ["not_asked", ""])
    return workspace


def test_the_dashboard_shows_the_ledgers_figures(member_client, money):
    response = member_client.get(COSTS)

    assert response.status_code == 200
    page = text(response)
    assert "Coûts de : Acme Lyon" in page
    assert "Solde 45,05 €" in page  # 50 - 3 (40 days ago) - 1,75 - 0,20 (in flight)
    assert "0,20 € retenus par des appels en cours" in page
    assert "Dépensé aujourd'hui 1,45 € sur 5,00 €" in page
    assert "3,55 € restants aujourd'hui" in page
    assert "Dépensé sur la période 1,95 €" in page
    assert "Appels sur la période 4" in page
    assert row(response, "data-provider", "prospeo") == "Prospeo 3 3 2 66,7 % 1,75 € 0,88 €"
    assert row(response, "data-provider", "leadmagic") == "LeadMagic 1 2 0 0,0 % 0,00 € —"
    assert row(response, "data-provider", "hunter") == "Hunter 0 0 0 — 0,20 € —"


def test_the_chart_stacks_each_providers_spending_per_day(member_client, money):
    response = member_client.get(COSTS)
    svg = html.unescape(re.search(r"<svg viewBox.*?</svg>", response.content.decode(), re.S)[0])
    today = paris_day(timezone.now())
    two_days_ago = today - dt.timedelta(days=2)
    titles = re.findall(r"<rect [^>]*><title>(.*?)</title>", svg)
    assert sorted(titles) == sorted(
        [
            f"Prospeo, {two_days_ago:%d/%m/%Y} : 0,50\u00a0€",
            f"Prospeo, {today:%d/%m/%Y} : 1,25\u00a0€",
            f"Hunter, {today:%d/%m/%Y} : 0,20\u00a0€",
        ]
    )
    legend = re.search(r'<figcaption class="cost-legend">(.*?)</figcaption>', svg_page(response))
    assert " ".join(re.sub(r"<[^>]+>", " ", legend[1]).split()) == "Prospeo LeadMagic Hunter"


def test_a_chosen_period_counts_only_its_days(member_client, money):
    day = paris_day(timezone.now()) - dt.timedelta(days=2)
    response = member_client.get(COSTS, {"start": day.isoformat(), "end": day.isoformat()})
    assert "Dépensé sur la période 0,50 €" in text(response)
    assert row(response, "data-provider", "prospeo").endswith("0,50 € —")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2026-12-10", "end": "2026-12-01"}, "La date de début ne peut pas être après"),
        ({"start": "2026-02-31", "end": "2026-03-01"}, "Saisissez une date valide."),
        (
            {"start": "2024-01-01", "end": "2026-12-01"},
            "Choisissez une période d'au plus 366 jours",
        ),
        ({"start": "hier"}, "Saisissez une date valide."),
    ],
)
def test_a_bad_period_is_a_french_form_error(member_client, money, query, message):
    response = member_client.get(COSTS, query)
    assert response.status_code == 200
    page = text(response)
    assert message in page
    assert "Corrigez la période pour voir les chiffres." in page
    assert "Solde" not in page


def test_a_member_reads_the_cap_but_cannot_change_it(member_client, money):
    page = text(member_client.get(COSTS))
    assert "Plafond quotidien : 5,00 €. Seuls les administrateurs" in page
    response = member_client.post(COSTS, {"daily_cap": "100", "expected_workspace": money.pk})
    assert response.status_code == 403
    assert ledger.daily_cap(money.pk) == Decimal("5")


def test_an_administrator_sets_and_removes_the_cap(admin_client_ws, money):
    data = {"daily_cap": "12,50 €", "expected_workspace": money.pk}
    response = admin_client_ws.post(COSTS, data, follow=True)
    assert ledger.daily_cap(money.pk) == Decimal("12.50")
    assert "Plafond de dépenses quotidien fixé à 12,50 €." in text(response)
    admin_client_ws.post(COSTS, {"daily_cap": "", "expected_workspace": money.pk})
    assert ledger.daily_cap(money.pk) is None


def test_the_cap_field_shows_every_decimal_of_the_cap(admin_client_ws, money):
    ledger.set_daily_cap(money.pk, "7.1234")
    assert 'value="7,1234"' in admin_client_ws.get(COSTS).content.decode()
    ledger.set_daily_cap(money.pk, "7.5")
    assert 'value="7,50"' in admin_client_ws.get(COSTS).content.decode()


def test_a_bad_cap_is_a_french_form_error(admin_client_ws, money):
    response = admin_client_ws.post(COSTS, {"daily_cap": "douze", "expected_workspace": money.pk})
    assert response.status_code == 200
    assert "« douze » n'est pas un montant en euros." in text(response)
    assert ledger.daily_cap(money.pk) == Decimal("5")


def test_each_workspace_sees_only_its_own_money(
    member_client, money, other_workspace, other_member
):
    ledger.top_up(other_workspace.pk, "80", key="their-top-up")
    spend(other_workspace, "apollo", "7.77", key="theirs")
    calls(other_workspace, "apollo", 9)

    ours = text(member_client.get(COSTS))
    assert "7,77" not in ours and "Apollo 9" not in ours
    assert "Tous les espaces de travail" not in ours
    client = Client()
    client.force_login(other_member)
    theirs = text(client.get(COSTS))
    assert "Coûts de : Concurrent Paris" in theirs
    assert "Dépensé sur la période 7,77 €" in theirs and "1,75" not in theirs


def test_a_cap_form_from_another_workspace_is_refused(admin_client_ws, money, other_workspace):
    response = admin_client_ws.post(
        COSTS, {"daily_cap": "99", "expected_workspace": other_workspace.pk}
    )
    assert response.status_code == 302
    assert ledger.daily_cap(money.pk) == Decimal("5")
    assert ledger.daily_cap(other_workspace.pk) is None


def test_operators_see_every_workspace(money, other_workspace):
    spend(other_workspace, "apollo", "0", key="nothing")  # a budget row with nothing spent
    ledger.top_up(other_workspace.pk, "80", key="their-top-up")
    boss = get_user_model().objects.create_superuser("patronne", "p@sourcier.example", "x")
    client = Client()
    client.force_login(boss)
    response = client.get(COSTS)
    assert "Tous les espaces de travail (opérateurs)" in text(response)
    assert (
        row(response, "data-workspace", "acme-lyon") == "Acme Lyon 45,05 € 1,45 € 5,00 € 1,95 € 4"
    )
    assert row(response, "data-workspace", "concurrent-paris") == (
        "Concurrent Paris 80,00 € 0,00 € — 0,00 € 0"
    )
    assert "Choisissez un espace de travail dans l'en-tête pour voir ses coûts." in text(response)


@pytest.fixture
def open_hunter_breaker():
    """Hunter's breaker opened by five failures, through the real breaker and store."""
    guard = breaker.default_breaker()
    for _n in range(settings.BREAKER_FAILURE_THRESHOLD):
        guard.after_call(guard.before_call("hunter"), ok=False)
    yield
    if settings.REDIS_URL:
        redis_client(settings.REDIS_URL).delete("sourcier:breaker:hunter")


def test_breaker_states_are_badges(member_client, money, open_hunter_breaker):
    response = member_client.get(COSTS)
    section = response.content.decode().split('id="cost-breakers"')[1]
    assert re.search(r"Hunter</th><td><span class=\"badge badge-breaker-open\">Ouvert", section)
    assert re.search(r"Prospeo</th><td><span class=\"badge badge-breaker-closed\">Fermé", section)


def test_the_menu_has_a_costs_entry(member_client, workspace):
    index = member_client.get(reverse("admin:index")).content.decode()
    assert re.search(rf'<a href="{COSTS}"[^>]*>Coûts</a>', index)


def _queries(client, query) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(COSTS, query).status_code == 200
    return len(captured.captured_queries)


def test_the_query_count_does_not_grow_with_days_or_providers(member_client, workspace):
    ledger.top_up(workspace.pk, "100", key="top-up")
    today = paris_day(timezone.now())
    small = {"start": today.isoformat(), "end": today.isoformat()}
    spend(workspace, "prospeo", "0.1", key="one")
    calls(workspace, "prospeo", 1)
    attempts(workspace, "prospeo", ["found"])
    few = _queries(member_client, small)

    now = timezone.now()
    for provider in ("leadmagic", "findymail", "hunter", "apollo"):
        for day in range(60):
            spend(workspace, provider, "0.01", key=f"{provider}{day}", when=now - dt.timedelta(day))
        calls(workspace, provider, 3)
        attempts(workspace, provider, ["found", "not_found"])
    start = (today - dt.timedelta(days=90)).isoformat()
    many = _queries(member_client, {"start": start, "end": today.isoformat()})

    assert many == few
    assert few <= 40
