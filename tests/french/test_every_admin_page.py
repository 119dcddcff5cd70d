"""Every admin page, walked as a superuser and as a workspace member, speaks French: no msgid
of ours without its translation, no English phrase of Django's admin, on any list, add form,
change form (one per model, with a real object), custom view or error page."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import URLPattern, reverse
from django.utils import timezone

from campaigns.models import Campaign
from enrichment import credentials, crypto
from enrichment.discovery import guards
from enrichment.discovery.contacts import add_contact, record_address
from enrichment.engine import ledger
from enrichment.models import (
    DiscoveryJob,
    EnrichmentItem,
    EnrichmentJob,
    ProviderAttempt,
    ProviderBatch,
    ProviderCall,
)
from enrichment.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from prospects.access import invite_to_workspace, remember_workspace
from prospects.models import ImportBatch, Prospect
from prospects.services import suppress_person
from tests.factories import CompanyFactory, ProspectFactory

from .catalogue import Msgid, _pattern, has_french, untranslated

# Pages that are not pages: downloads, redirects to a form, the htmx partials are walked too.
SITE_PAGES = (
    ("admin:index", ()),
    ("admin:technique", ()),
    ("admin:breakers", ()),
    ("admin:home-live", ()),
    ("admin:password_change", ()),
    ("admin:app_list", ("prospects",)),
    ("admin:app_list", ("enrichment",)),
    ("admin:app_list", ("campaigns",)),
    ("enrichment:progress", ()),
    ("enrichment:progress-partial", ()),
    ("enrichment:jobs", ()),
    ("choose-workspace", ()),
    ("invitations", ()),
)
MISSING_PAGES = ("/admin/n-existe-pas/", "/n-existe-pas/")


@pytest.fixture
def one_of_each(workspace, admin_user, member):
    """One object of every model the admin shows, in the workspace, with French data."""
    now = timezone.now()
    company = CompanyFactory(workspace=workspace, name="Boulangerie Ménard", domain="menard.fr")
    prospect = ProspectFactory(
        workspace=workspace,
        company=company,
        first_name="Hélène",
        last_name="Ménard",
        status=Prospect.Status.NOT_VERIFIED,
        verification_reason=Prospect.Reason.UNVERIFIED,
        enriched_at=now,
    )
    ProspectFactory(workspace=workspace, status=Prospect.Status.VERIFIED, verified_at=now)
    suppress_person(workspace, email="opposee@exemple.fr", user=admin_user)
    invite_to_workspace(workspace, invitee="nouvelle@exemple.fr", role="member")
    ImportBatch.objects.create(
        workspace=workspace,
        filename="salon-lyon.csv",
        status="done",
        total_rows=3,
        created_count=2,
        duplicate_count=1,
        created_by=member,
    )
    credentials.set_api_key(workspace, "dropcontact", "cle-secrete-1234")
    job = EnrichmentJob.objects.create(
        workspace=workspace,
        kind="email",
        status="paused",
        total_items=2,
        done_items=1,
        pause_reason="daily_cap",
        paused_until=now,
        providers=["prospeo", "leadmagic"],
    )
    batch = ProviderBatch.objects.create(workspace=workspace, request_id="lot-1", size=1)
    item = EnrichmentItem.objects.create(
        workspace=workspace,
        prospect=prospect,
        provider="email",
        job=job,
        batch=batch,
        status=EnrichmentItem.Status.DONE,
        outcome="not_found",
    )
    call = ProviderCall.objects.create(
        workspace=workspace,
        provider="prospeo",
        endpoint="/email-finder",
        method="POST",
        status_code=200,
        outcome="ok",
        records=1,
    )
    ProviderAttempt.objects.create(
        workspace=workspace,
        item=item,
        provider="prospeo",
        field="email",
        idempotency_key=f"{job.pk}:{item.pk}:email:prospeo",
        call=call,
        result="not_found",
    )
    ledger.top_up(workspace.pk, "25", key="recharge")
    ledger.reserve(workspace.pk, "0.50", key="appel", provider="prospeo")
    Campaign.objects.create(workspace=workspace, name="Salon de Lyon")
    Group.objects.create(name="Commerciaux")
    contact, _created = add_contact(
        workspace, first_name="Aurélie", last_name="Dupré", domain="menard.fr", method="website"
    )
    record_address(contact, email="aurelie.dupre@menard.fr", status="verified", score=91)
    DiscoveryJob.objects.create(
        workspace=workspace, domain="menard.fr", status="failed", error_code="internal_error"
    )
    # Probing held back: the queue, the home and Technique warn about it.
    guards.record_block("mx.menard.fr", "554 5.7.1 Service unavailable; blocked using zen")
    guards.record_port_unreachable()
    endpoint = WebhookEndpoint.objects.create(
        workspace=workspace,
        url="https://crm.exemple.fr/sourcier",
        events=["job.completed"],
        encrypted_secret=crypto.encrypt("whsec_" + "A" * 32),
    )
    event = WebhookEvent.objects.create(
        workspace=workspace, event_id="msg_1", type="job.completed", key="k1", payload="{}"
    )
    WebhookDelivery.objects.create(workspace=workspace, endpoint=endpoint, event=event)


def _object_pk(model_admin, workspace) -> object | None:
    queryset = model_admin.model._default_manager.all()
    if hasattr(queryset, "for_workspace"):
        queryset = queryset.for_workspace(workspace)
    return queryset.order_by("pk").values_list("pk", flat=True).first()


def _model_pages(workspace) -> list[tuple[str, str]]:
    """(kind, url) of every view each model admin serves, with an object where it needs one."""
    pages = []
    for model_admin in admin.site._registry.values():
        pk = _object_pk(model_admin, workspace)
        for pattern in model_admin.get_urls():
            if not isinstance(pattern, URLPattern) or not pattern.name:
                continue
            converters = list(pattern.pattern.converters)
            if converters and pk is None:
                continue
            if len(converters) > 1:
                continue
            args = [pk] if converters else []
            kind = pattern.name.rsplit("_", 1)[-1]
            pages.append((kind, reverse(f"admin:{pattern.name}", args=args)))
    return pages


def walk(client: Client, workspace) -> tuple[list[str], dict[str, list[str]]]:
    """The pages read (those answering 200), and each one's English."""
    urls = [reverse(name, args=args) for name, args in SITE_PAGES]
    urls += [url for _kind, url in _model_pages(workspace)]
    read, problems = [], {}
    for url in urls:
        response = client.get(url)
        if response.status_code in (301, 302, 403, 405) or response.get("Content-Disposition"):
            continue
        assert response.status_code == 200, (url, response.status_code)
        read.append(url)
        if found := untranslated(response.content.decode()):
            problems[url] = found
    for url in MISSING_PAGES:
        response = client.get(url)
        assert response.status_code == 404
        if found := untranslated(response.content.decode()):
            problems[url] = found
    return read, problems


def _expected_pages(workspace, *, kinds: tuple[str, ...]) -> set[str]:
    return {url for kind, url in _model_pages(workspace) if kind in kinds}


def test_every_page_a_superuser_opens_is_french(one_of_each, workspace, django_user_model):
    boss = django_user_model.objects.create_superuser("patronne", "p@sourcier.example", "x")
    remember_workspace(boss, workspace)
    client = Client()
    client.force_login(boss)
    read, problems = walk(client, workspace)
    assert problems == {}
    # The walk reached every list, add form and change form, not a handful of pages.
    changelists = _expected_pages(workspace, kinds=("changelist",))
    assert changelists <= set(read)
    change_forms = _expected_pages(workspace, kinds=("change",))
    assert len(change_forms & set(read)) >= len(admin.site._registry) - 1  # the cost page
    assert len(_expected_pages(workspace, kinds=("add",)) & set(read)) >= 8
    assert reverse("admin:technique") in read


def test_every_page_a_member_opens_is_french(one_of_each, workspace, member_client):
    read, problems = walk(member_client, workspace)
    assert problems == {}
    assert reverse("admin:prospects_prospect_changelist") in read
    assert reverse("admin:index") in read
    assert len(read) >= 30


def test_english_on_a_page_is_caught():
    page = "<h1>Modifier</h1><input type='submit' value=\"Save and continue editing\">"
    assert "'Save and continue editing' (Django admin)" in untranslated(page.replace("'", '"'))
    assert untranslated('<a title="Add another prospect">+</a>') != []
    assert untranslated("<a>Add</a> <button>Go</button>") == ["'Add' (English)", "'Go' (English)"]
    assert untranslated("<p>Enregistrer et continuer les modifications</p>") == []


def test_a_msgid_without_french_is_caught():
    def msgid(text: str) -> Msgid:
        return Msgid(text, None, "test", _pattern(text), text)

    assert has_french(msgid("Prospects by status"))
    assert not has_french(msgid("Nothing translates this sentence"))
