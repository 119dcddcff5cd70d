"""The home page: the workspace at a glance, every number from the database and a link to the
list it counts, nothing from another workspace, and a query count that data does not grow."""

import datetime as dt
import html
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from enrichment import credentials
from enrichment.engine import ledger
from enrichment.models import EnrichmentItem, EnrichmentJob
from prospects.models import ImportBatch, Prospect
from tests.factories import ProspectFactory

HOME = reverse("admin:index")
LIVE = reverse("admin:home-live")
Status = Prospect.Status
Item = EnrichmentItem.Status


def page_text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def block(response, element_id: str) -> str:
    """The HTML of the element with this id (up to its matching closing tag)."""
    content = response.content.decode()
    start = content.index(f'id="{element_id}"')
    start = content.rindex("<", 0, start)
    tag = re.match(r"<(\w+)", content[start:]).group(1)
    depth, pos = 0, start
    for match in re.finditer(rf"<(/?){tag}\b[^>]*>", content[start:]):
        depth += -1 if match.group(1) else 1
        if depth == 0:
            pos = start + match.end()
            break
    return content[start:pos]


def linked_number(fragment: str, selector: str) -> tuple[int, str]:
    """(the number, its link) of a table row `<tr selector>…<a href=…>N</a>`."""
    match = re.search(
        rf"<tr {selector}>.*?<a href=\"([^\"]+)\">([\d\s\u202f\u00a0]+)</a>", fragment, re.S
    )
    assert match, selector
    return int(re.sub(r"\D", "", match.group(2))), html.unescape(match.group(1))


def listed_count(client: Client, url: str) -> int:
    """How many rows the admin list behind a link holds (its own count, not the page's)."""
    response = client.get(url)
    assert response.status_code == 200, url
    assert "e=1" not in response.get("Location", ""), url
    return response.context_data["cl"].result_count


def spend(workspace, provider, amount, *, key, when=None):
    ledger.reserve(workspace.pk, amount, key=key, provider=provider, now=when)
    ledger.settle(workspace.pk, key=key, cost=amount, now=when)


def fill(workspace, *, scale: int = 1, tag: str = "a"):
    """A workspace with prospects in every state, work under way, imports and spending."""
    now = timezone.now()
    statuses = {
        Status.NEW: 3,
        Status.ENRICHING: 2,
        Status.VERIFIED: 5,
        Status.NOT_VERIFIED: 3,
        Status.NEEDS_REVIEW: 2,
    }
    prospects = {}
    for status, count in statuses.items():
        prospects[status] = [
            ProspectFactory(
                workspace=workspace,
                status=status,
                enriched_at=now - dt.timedelta(days=n % 4)
                if status in (Status.VERIFIED, Status.NOT_VERIFIED, Status.NEEDS_REVIEW)
                else None,
                email=f"{tag}-{status}-{n}@exemple.fr",
            )
            for n in range(count * scale)
        ]
    objector = prospects[Status.NOT_VERIFIED][0]
    objector.verification_reason = Prospect.Reason.OBJECTED
    objector.save()
    for prospect in prospects[Status.ENRICHING]:
        EnrichmentItem.objects.create(
            workspace=workspace, prospect=prospect, provider="dropcontact", status=Item.WAITING_KEY
        )
    for n in range(scale):
        job = EnrichmentJob.objects.create(
            workspace=workspace,
            kind="email",
            status="running",
            total_items=40,
            done_items=10,
            failed_items=2,
        )
        EnrichmentJob.objects.create(workspace=workspace, kind="dropcontact", status="completed")
        ImportBatch.objects.create(
            workspace=workspace,
            filename=f"{tag}-salon-{n}.csv",
            status="importing",
            total_rows=250,
            mapping={"row_count": 1000},
        )
        ImportBatch.objects.create(
            workspace=workspace,
            filename=f"{tag}-fichier-{n}.csv",
            status="done",
            total_rows=10,
            created_count=8,
            duplicate_count=2,
        )
    ledger.top_up(workspace.pk, "100", key=f"{tag}-top-up")
    ledger.set_daily_cap(workspace.pk, "20")
    for n in range(scale):
        for provider in ("prospeo", "leadmagic")[:scale]:
            spend(workspace, provider, "1.50", key=f"{tag}-{provider}-{n}")
            spend(
                workspace,
                provider,
                "0.50",
                key=f"{tag}-{provider}-{n}-old",
                when=now - dt.timedelta(days=3 + n),
            )
    return job


@pytest.fixture
def busy(workspace, other_workspace):
    fill(other_workspace, scale=2, tag="other")
    return fill(workspace)


def test_the_home_is_the_landing_page(member_client, busy):
    response = member_client.get(HOME)
    assert response.status_code == 200
    assert "<h1>Tableau de bord — Acme Lyon</h1>" in response.content.decode()


def test_prospects_by_status_match_the_database_and_link_to_their_list(
    member_client, busy, workspace
):
    response = member_client.get(HOME)
    statuses = block(response, "home-statuses")
    for status in Status.values:
        shown, url = linked_number(statuses, f'data-status="{status}"')
        expected = Prospect.objects.for_workspace(workspace).filter(status=status).count()
        assert shown == expected, status
        assert listed_count(member_client, url) == expected, url
    assert page_text(block(response, "figure-prospects")) == "15 prospects"


def test_verified_rate_is_taken_among_prospects_given_a_verdict(member_client, busy):
    response = member_client.get(HOME)
    # 5 verified among 5 + 3 + 2 given a verdict.
    assert page_text(block(response, "figure-verified")).startswith("5 vérifiés")
    assert page_text(block(response, "figure-verified-rate")) == (
        "50 % des 10 prospects ayant reçu un verdict"
    )


def test_what_needs_a_person_matches_the_database_and_links_to_it(member_client, busy, workspace):
    attention = block(member_client.get(HOME), "home-attention")
    review, review_url = linked_number(attention, 'data-attention="needs_review"')
    assert review == 2 == listed_count(member_client, review_url)
    objected, objected_url = linked_number(attention, 'data-attention="objected"')
    assert objected == 1 == listed_count(member_client, objected_url)
    waiting, waiting_url = linked_number(attention, 'data-attention="waiting_key"')
    assert waiting == 2 == listed_count(member_client, waiting_url)
    assert "Clé API refusée" not in page_text(attention)


def test_a_refused_key_is_named_with_what_to_do(member_client, admin_client_ws, workspace):
    credential = credentials.set_api_key(workspace, "dropcontact", "cle-secrete-1234")
    credential.refused_at = timezone.now()
    credential.save()
    text = page_text(block(member_client.get(HOME), "refused-keys"))
    assert text == (
        "Clé API refusée par Dropcontact : en attente d'une nouvelle clé. "
        "Demandez à un administrateur de l'espace de travail de la remplacer."
    )
    admin_block = block(admin_client_ws.get(HOME), "refused-keys")
    assert reverse("admin:enrichment_providercredential_changelist") in admin_block


def test_money_figures_come_from_the_ledger(member_client, busy, workspace):
    response = member_client.get(HOME)
    # Today 1,50 € on a 20 € cap; this month 2,00 € unless the older spending fell last month.
    assert page_text(block(response, "figure-today")).startswith(
        "1,50 € dépensés aujourd'hui, sur un plafond journalier de 20,00 €"
    )
    now = timezone.localtime()
    month = Decimal("1.50") + (
        Decimal("0.50") if (now - dt.timedelta(days=3)).month == now.month else 0
    )
    assert page_text(block(response, "figure-month")).startswith(
        f"{month:.2f}".replace(".", ",") + " €"
    )
    balance = ledger.balance(workspace.pk)
    assert page_text(block(response, "figure-balance")).startswith(
        f"{balance:.2f}".replace(".", ",") + " €"
    )


def test_running_imports_and_jobs_show_their_own_progress(member_client, busy):
    live = block(member_client.get(LIVE), "home-live")
    assert 'hx-trigger="every 3s"' in live
    job_row = re.search(rf'<tr data-job="{busy.pk}">.*?</tr>', live, re.S).group(0)
    assert "30 %" in page_text(job_row)  # (10 done + 2 failed) of 40
    assert "10 / 40" in page_text(job_row)
    assert "a-salon-0.csv" in live and "25 %" in live  # 250 rows of 1000
    assert "other-salon" not in live
    EnrichmentJob.objects.for_workspace(busy.workspace_id).filter(pk=busy.pk).update(done_items=38)
    live = member_client.get(LIVE).content.decode()
    job_row = re.search(rf'<tr data-job="{busy.pk}">.*?</tr>', live, re.S).group(0)
    assert "100 %" in page_text(job_row)


def test_nothing_under_way_polls_slowly(member_client, workspace):
    live = block(member_client.get(LIVE), "home-live")
    assert 'hx-trigger="every 15s"' in live
    assert "Aucun import ni enrichissement en cours." in page_text(live)


def test_last_imports_are_the_workspace_s_own(member_client, busy):
    imports = page_text(block(member_client.get(HOME), "home-imports"))
    assert "a-fichier-0.csv" in imports and "other-fichier" not in imports


def test_charts_are_server_rendered_svg(member_client, busy):
    response = member_client.get(HOME)
    verified = block(response, "chart-verified")
    assert "<svg" in verified and "<script" not in verified
    assert len(re.findall(r"<rect ", verified)) >= 1
    assert re.search(r"<title>\d\d/\d\d/\d{4} : \d+\s% vérifiés \(\d+ sur \d+\)</title>", verified)
    spend_chart = block(response, "chart-spend")
    assert "Prospeo" in spend_chart and "LeadMagic" not in spend_chart


def test_htmx_is_served_from_our_static_files(member_client, busy):
    content = member_client.get(HOME).content.decode()
    assert re.search(r'<script src="/static/js/htmx\.min\.js"', content)


def test_no_workspace_chosen_asks_for_one(client, django_user_model, busy):
    boss = django_user_model.objects.create_superuser("patronne", "p@sourcier.example", "x")
    client.force_login(boss)
    response = client.get(HOME)
    assert response.status_code == 200
    assert "Choisissez un espace de travail dans l'en-tête pour voir son tableau de bord." in (
        html.unescape(response.content.decode())
    )


def _home_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(HOME).status_code == 200
    return len(captured.captured_queries)


def test_the_query_count_does_not_grow_with_the_data(member_client, workspace):
    fill(workspace, tag="first")
    small = _home_queries(member_client)
    fill(workspace, scale=3, tag="more")
    assert _home_queries(member_client) == small
