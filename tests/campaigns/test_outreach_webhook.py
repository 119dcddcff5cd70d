"""'Envoyer à un outil (webhook)': a campaign's send list and a prospect selection reach a real
loopback receiver, signed (Standard Webhooks), thin, under 20 kB a body, chunked past it; the
gate is checked again at sending time; confirming twice sends once; another workspace's
endpoint or campaign is refused."""

import json
import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from campaigns import outreach
from campaigns.models import Campaign
from campaigns.services import add_prospects_to_campaign
from enrichment.webhooks import delivery, services
from enrichment.webhooks.events import MAX_PAYLOAD_BYTES
from enrichment.webhooks.models import EventType, WebhookDelivery, WebhookEndpoint
from prospects.models import Prospect
from prospects.services import suppress_person
from tests.factories import CompanyFactory, ProspectFactory

Status = Prospect.Status
pytestmark = pytest.mark.django_db
EXPORT_ID = "0123456789abcdef0123456789abcdef"


def verified(workspace, **kwargs) -> Prospect:
    return ProspectFactory(
        workspace=workspace, status=Status.VERIFIED, verified_at=timezone.now(), **kwargs
    )


@pytest.fixture
def endpoint(workspace, receiver):
    return services.create_endpoint(
        workspace,
        url=receiver.url,
        events=[EventType.CAMPAIGN_EXPORTED, EventType.PROSPECTS_EXPORTED],
    )


@pytest.fixture
def campaign(workspace):
    return Campaign.objects.create(workspace=workspace, name="Salon VivaTech")


@pytest.fixture
def people(workspace, campaign):
    acme = CompanyFactory(workspace=workspace, name="Acme Énergie", domain="acme.fr")
    people = [
        verified(
            workspace,
            first_name="Hélène",
            last_name="Ménard",
            email="helene@acme.fr",
            company=acme,
            job_title="Directrice commerciale",
        ),
        verified(workspace, first_name="Bob", last_name="Martin", email="bob@acme.fr"),
        verified(workspace, first_name="Zoé", last_name="Opposée", email="zoe@acme.fr"),
        verified(workspace, first_name="Yves", last_name="Changé", email="yves@acme.fr"),
    ]
    assert len(add_prospects_to_campaign(campaign, people).added) == 4
    # Since they joined: Zoé objected, Yves's address changed (the verdict no longer stands).
    suppress_person(workspace, email="zoe@acme.fr")
    people[3].email = "yves.autre@acme.fr"
    people[3].save()
    return people


def deliver_all(workspace) -> None:
    for row in WebhookDelivery.objects.for_workspace(workspace).order_by("pk"):
        assert delivery.deliver(row.pk) == "delivered"


def received(receiver, secret) -> list[dict]:
    bodies = []
    for request in receiver.requests:
        assert len(request["body"]) < MAX_PAYLOAD_BYTES
        bodies.append(Webhook(secret).verify(request["body"], request["headers"]))
    return bodies


def test_campaign_send_list_reaches_the_tool_signed_without_who_objected_or_changed(
    member_client, workspace, campaign, people, endpoint, receiver
):
    _endpoint, secret = endpoint
    url = reverse("admin:campaigns_campaign_outreach", args=[campaign.pk])
    page = member_client.get(url).content.decode()
    assert "2 prospects seront envoyés" in page
    assert "Sur la liste d&#x27;opposition" in page and "Yves Changé" in page
    export_id = re.search(r'name="export_id" value="([0-9a-f]{32})"', page).group(1)

    response = member_client.post(url, {"endpoint": _endpoint.pk, "export_id": export_id})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    deliver_all(workspace)

    (message,) = received(receiver, secret)
    assert message["type"] == "campaign.exported"
    data = message["data"]
    assert data["campaign"] == {"id": campaign.pk, "name": "Salon VivaTech"}
    assert (data["export_id"], data["chunk"], data["chunks"]) == (export_id, 1, 1)
    assert (data["total"], data["left_out_total"]) == (2, 2)
    helene = next(p for p in data["prospects"] if p["id"] == people[0].pk)
    assert helene["email"] == "helene@acme.fr"
    assert (helene["company"], helene["company_domain"]) == ("Acme Énergie", "acme.fr")
    assert helene["job_title"] == "Directrice commerciale"
    assert sorted(p["id"] for p in data["prospects"]) == sorted([people[0].pk, people[1].pk])
    assert sorted((x["id"], x["reason"]) for x in data["left_out"]) == sorted(
        [(people[2].pk, "objected"), (people[3].pk, "not_verified")]
    )
    # Nothing personal about the people left out: their id and a reason code only.
    assert "zoe@acme.fr" not in json.dumps(data) and "Opposée" not in json.dumps(data)

    followed = member_client.get(response["Location"]).content.decode()
    assert "2 prospects envoyés à" in followed and "2 prospects laissés de côté" in followed


def test_confirming_twice_sends_once(member_client, workspace, campaign, people, endpoint):
    url = reverse("admin:campaigns_campaign_outreach", args=[campaign.pk])
    form = {"endpoint": endpoint[0].pk, "export_id": EXPORT_ID}
    member_client.post(url, form)
    response = member_client.post(url, form, follow=True)
    assert "déjà été envoyée" in response.content.decode()
    assert WebhookDelivery.objects.for_workspace(workspace).count() == 1


def test_a_long_list_is_chunked_under_20_kb_and_puts_back_together(workspace, endpoint, receiver):
    _endpoint, secret = endpoint
    chosen = [
        verified(workspace, email=f"p{i}@exemple.fr", job_title="Responsable " + "x" * 150)
        for i in range(150)
    ]
    objector = verified(workspace, email="non@exemple.fr")
    suppress_person(workspace, email="non@exemple.fr")
    queryset = Prospect.objects.for_workspace(workspace)

    result = outreach.send_selection(
        workspace, queryset, endpoint_id=_endpoint.pk, export_id=EXPORT_ID
    )
    assert result.sent == 150 and result.deliveries > 1
    deliver_all(workspace)

    bodies = [m["data"] for m in received(receiver, secret)]
    assert {m for m in (b["chunks"] for b in bodies)} == {len(bodies)}
    assert sorted(b["chunk"] for b in bodies) == list(range(1, len(bodies) + 1))
    assert {b["export_id"] for b in bodies} == {EXPORT_ID}
    ids = [p["id"] for b in bodies for p in b["prospects"]]
    assert sorted(ids) == sorted(p.pk for p in chosen)
    assert [x for b in bodies for x in b["left_out"]] == [{"id": objector.pk, "reason": "objected"}]


def test_selection_action_sends_only_the_verified_of_this_workspace(
    member_client, workspace, other_workspace, endpoint, receiver
):
    _endpoint, secret = endpoint
    kept = verified(workspace, first_name="Anaïs", email="a@acme.fr")
    new = ProspectFactory(workspace=workspace, status=Status.NEW, email="n@acme.fr")
    objector = verified(workspace, email="m@acme.fr")
    suppress_person(workspace, email="m@acme.fr")
    foreign = verified(other_workspace, email="autre@ailleurs.fr")
    changelist = reverse("admin:prospects_prospect_changelist")
    selection = {
        "action": "send_to_tool",
        ACTION_CHECKBOX_NAME: [kept.pk, new.pk, objector.pk, foreign.pk],
    }
    page = member_client.post(changelist, selection).content.decode()
    assert "1 prospect sera envoyé" in page and "Pas encore enrichi" in page

    response = member_client.post(
        changelist,
        {**selection, "apply": "1", "endpoint": _endpoint.pk, "export_id": EXPORT_ID},
    )
    assert response.status_code == 302
    deliver_all(workspace)
    (message,) = received(receiver, secret)
    assert message["type"] == "prospects.exported"
    assert [p["id"] for p in message["data"]["prospects"]] == [kept.pk]
    assert sorted((x["id"], x["reason"]) for x in message["data"]["left_out"]) == sorted(
        [(new.pk, "new"), (objector.pk, "objected")]
    )


def test_an_endpoint_not_subscribed_or_of_another_workspace_receives_nothing(
    member_client, workspace, other_workspace, campaign, people, receiver
):
    theirs, _ = services.create_endpoint(
        other_workspace, url=receiver.url, events=[EventType.CAMPAIGN_EXPORTED]
    )
    jobs_only, _ = services.create_endpoint(
        workspace, url=receiver.url, events=[EventType.JOB_COMPLETED]
    )
    url = reverse("admin:campaigns_campaign_outreach", args=[campaign.pk])
    page = member_client.get(url).content.decode()
    assert "Aucun point d'accès actif de cet espace de travail" in page
    for endpoint_id in (theirs.pk, jobs_only.pk):
        response = member_client.post(url, {"endpoint": endpoint_id, "export_id": EXPORT_ID})
        assert response.status_code == 200
    with pytest.raises(WebhookEndpoint.DoesNotExist, match="not subscribed"):
        outreach.send_campaign(campaign, endpoint_id=jobs_only.pk, export_id=EXPORT_ID)
    with pytest.raises(WebhookEndpoint.DoesNotExist):
        outreach.send_campaign(campaign, endpoint_id=theirs.pk, export_id=EXPORT_ID)
    assert WebhookDelivery.objects.unscoped().count() == 0


def test_another_workspace_campaign_outreach_page_is_404(member_client, other_workspace):
    theirs = Campaign.objects.create(workspace=other_workspace, name="Concurrente")
    url = reverse("admin:campaigns_campaign_outreach", args=[theirs.pk])
    assert member_client.get(url).status_code == 404
