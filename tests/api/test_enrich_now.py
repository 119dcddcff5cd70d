"""The synchronous single enrichment against the sandbox vendors: the answer within the budget."""

import pytest

from prospects import services as prospect_services
from prospects.models import Prospect
from tests.enrichment.conftest import email_ws  # noqa: F401  (the fixture)
from tests.sandbox.conftest import _server, sandbox, world  # noqa: F401  (the fixtures)

from .conftest import ApiClient

pytestmark = pytest.mark.sandbox


@pytest.mark.django_db(transaction=True)
def test_enrich_now_returns_the_verdict_within_the_budget(email_ws, world, settings):  # noqa: F811
    # Committed writes, so that the job's items reach the (inline) workers as in production.
    settings.SOURCIER_API_ENRICH_BUDGET = 10.0
    from prospects.api_keys import create_api_key

    index = next(n for n, t in enumerate(world.truth_rows()) if t["prospeo_email"])
    truth = world.truth_rows()[index]
    data = {**world.prospect_data()[index], "email": ""}
    prospect = prospect_services.create_prospect(email_ws, data=data)
    api = ApiClient(create_api_key(email_ws, name="t", role="admin").secret)

    response = api.post(
        f"/api/v1/prospects/{prospect.pk}/enrich", {"fields": ["email"], "providers": ["prospeo"]}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["finished"] is True
    assert body["job"]["status"] == "completed"
    assert (body["email"], body["prospect_status"]) == (truth["prospeo_email"], "verified")
    assert body["records"][0]["provider_attempts"][0]["provider"] == "prospeo"
    prospect.refresh_from_db()
    assert prospect.status == Prospect.Status.VERIFIED
