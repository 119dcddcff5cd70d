"""The prospect list's campaign filter counts the campaign's members, not the prospects joined
to them (which PostgreSQL counts by scanning every prospect of the workspace)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, CampaignMember
from prospects.models import Prospect
from tests.factories import ProspectFactory

CHANGELIST = reverse("admin:prospects_prospect_changelist")


def counts(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]


@pytest.fixture
def campaign(workspace, other_workspace):
    salon = Campaign.objects.create(workspace=workspace, name="Salon")
    for n in range(3):
        prospect = ProspectFactory(
            workspace=workspace,
            last_name=f"Membre{n}",
            status=Prospect.Status.VERIFIED,
            verified_at=timezone.now(),
        )
        CampaignMember.objects.create(workspace=workspace, campaign=salon, prospect=prospect)
    ProspectFactory.create_batch(4, workspace=workspace)
    ProspectFactory.create_batch(2, workspace=other_workspace)
    return salon


def test_campaign_filter_counts_the_members_not_the_prospects(member_client, campaign):
    with CaptureQueriesContext(connection) as captured:
        body = member_client.get(CHANGELIST, {"campaign": campaign.pk}).content.decode()
    assert "3 prospects" in body
    assert body.count('class="action-select"') == 3
    (count,) = counts(captured)
    # Read from the members' own table: no join that would scan the prospects.
    assert '"campaigns_campaignmember"' in count
    assert '"prospects_prospect"' not in count


def test_campaign_filter_with_another_filter_counts_both(member_client, workspace, campaign):
    member = CampaignMember.objects.for_workspace(workspace).first().prospect
    Prospect.objects.for_workspace(workspace).filter(pk=member.pk).update(source="api")
    params = {"campaign": campaign.pk, "source__exact": "api"}
    with CaptureQueriesContext(connection) as captured:
        body = member_client.get(CHANGELIST, params).content.decode()
    assert body.count('class="action-select"') == 1
    assert "1 prospect<" in body
    # Not the members' count: they are three.
    assert all('"prospects_prospect"' in sql for sql in counts(captured))


def test_another_workspace_campaign_counts_nobody(member_client, other_workspace, campaign):
    theirs = Campaign.objects.create(workspace=other_workspace, name="Leur salon")
    body = member_client.get(CHANGELIST, {"campaign": theirs.pk}).content.decode()
    assert "0 prospect" in body
    assert 'class="action-select"' not in body


def test_a_search_count_stops_at_its_bound(member_client, workspace, monkeypatch):
    from prospects import admin_lists

    monkeypatch.setattr(admin_lists, "SEARCH_COUNT_LIMIT", 2)
    monkeypatch.setattr("prospects.admin.SEARCH_COUNT_LIMIT", 2)
    ProspectFactory.create_batch(4, workspace=workspace, last_name="Ménard")
    ProspectFactory(workspace=workspace, last_name="Autre")
    with CaptureQueriesContext(connection) as captured:
        body = member_client.get(CHANGELIST, {"q": "menard"}).content.decode()
    assert 'data-count-kind="bound"' in body
    assert "plus de 2 prospects" in body
    assert body.count('class="action-select"') == 4  # one page: every match is listed
    (count,) = counts(captured)
    assert "LIMIT 3" in count
    body = member_client.get(CHANGELIST, {"q": "autre"}).content.decode()
    assert 'data-count-kind="exact"' in body
    assert "1 prospect<" in body
