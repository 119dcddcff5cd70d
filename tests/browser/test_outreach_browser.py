"""In a real browser: 'Envoyer à un outil (webhook)' from a campaign's page, the endpoint chosen
on the confirmation page, the signed list received by a loopback receiver without the member
who objected since."""

import time

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from standardwebhooks.webhooks import Webhook

from campaigns.models import Campaign
from campaigns.services import add_prospects_to_campaign
from enrichment.webhooks import services
from enrichment.webhooks.models import EventType
from prospects.models import Prospect
from prospects.services import suppress_person
from tests.factories import ProspectFactory

pytestmark = pytest.mark.browser


def test_a_campaign_is_sent_to_the_chosen_endpoint(log_in, member, workspace, receiver):
    endpoint, secret = services.create_endpoint(
        workspace, url=receiver.url, events=[EventType.CAMPAIGN_EXPORTED]
    )
    campaign = Campaign.objects.create(workspace=workspace, name="Salon VivaTech")
    verified = {"status": Prospect.Status.VERIFIED, "verified_at": timezone.now()}
    kept = ProspectFactory(workspace=workspace, first_name="Hélène", email="h@acme.fr", **verified)
    gone = ProspectFactory(workspace=workspace, first_name="Zoé", email="z@acme.fr", **verified)
    add_prospects_to_campaign(campaign, [kept, gone])
    suppress_person(workspace, email="z@acme.fr")

    page = log_in("claire")
    page.goto(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    page.click("#send-to-tool")
    expect(page.locator("#outreach-summary")).to_contain_text("1 prospect sera envoyé")
    expect(page.locator(".excluded-reason")).to_have_text("Sur la liste d'opposition")
    page.select_option("#id_endpoint", str(endpoint.pk))
    page.click("#outreach-send")
    expect(page.locator(".messagelist")).to_contain_text("1 prospect envoyé à")

    deadline = time.monotonic() + 10
    while not receiver.requests and time.monotonic() < deadline:
        time.sleep(0.1)
    (request,) = receiver.requests
    message = Webhook(secret).verify(request["body"], request["headers"])
    assert [p["email"] for p in message["data"]["prospects"]] == ["h@acme.fr"]
    assert message["data"]["left_out"] == [{"id": gone.pk, "reason": "objected"}]
