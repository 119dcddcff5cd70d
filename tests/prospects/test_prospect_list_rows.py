"""The prospect list's rows, built once per column, are the admin's own rows to the byte."""

import pytest
from django.contrib.admin.templatetags import admin_list
from django.urls import reverse
from django.utils import timezone

from prospects import services
from prospects.admin_rows import result_rows
from prospects.models import Prospect
from tests.factories import CompanyFactory, ProspectFactory

CHANGELIST = reverse("admin:prospects_prospect_changelist")


@pytest.fixture
def varied(workspace):
    company = CompanyFactory(workspace=workspace, name="Électricité & Fils <SA>")
    ProspectFactory(workspace=workspace, first_name="Hélène", last_name="Ménard", company=company)
    ProspectFactory(workspace=workspace, first_name="Sans", last_name="Société", company=None,
                    job_title="  ")  # fmt: skip
    ProspectFactory(
        workspace=workspace,
        last_name="Vérifiée",
        status=Prospect.Status.VERIFIED,
        verified_at=timezone.now(),
        enrichment_source="dropcontact",
    )
    ProspectFactory(
        workspace=workspace,
        last_name="Refusée",
        status=Prospect.Status.NOT_VERIFIED,
        verification_reason="catch_all",
    )
    ProspectFactory(workspace=workspace, last_name="Opposée", email="non@exemple.fr")
    services.suppress_person(workspace, email="non@exemple.fr", phone="", reason="objection")


def rows(cells) -> list[list[str]]:
    return [[str(cell) for cell in row] for row in cells]


@pytest.mark.parametrize(
    "params",
    [{}, {"q": "menard"}, {"o": "-2.3"}, {"status__exact": "verified", "source__exact": "manual"}],
)
def test_rows_are_the_admins_own(member_client, varied, params):
    response = member_client.get(CHANGELIST, params)
    assert response.status_code == 200
    cl = response.context["cl"]
    ours = rows(result_rows(cl))
    assert ours, "the page lists somebody"
    assert ours == rows(admin_list.results(cl))
    assert "".join(ours[0]) in response.content.decode().replace("\n", "")
