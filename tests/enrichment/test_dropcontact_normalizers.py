"""A Dropcontact answer, replayed with `responses`, leaves the derived fields set."""

import pytest

from prospects.models import Prospect
from tests.enrichment.test_dropcontact_pipeline import (
    echo_ready,
    make_due,
    new_prospect,
    submit_ok,
    sweep,
)


@pytest.fixture(autouse=True)
def _fast_polls(settings):
    settings.DROPCONTACT_POLL_INTERVAL_SECONDS = 0


def test_title_and_naf_label_from_dropcontact_are_classified(
    keyed, http, django_capture_on_commit_callbacks
):
    prospect = new_prospect(keyed, django_capture_on_commit_callbacks)
    assert (prospect.seniority, prospect.department) == ("", "")  # no title was given
    submit_ok(http)
    # The documented sample's `naf5_des` is "Culture de la vigne".
    echo_ready(http, job="Head of Sales")
    for _ in range(3):
        make_due(keyed)
        sweep(django_capture_on_commit_callbacks)

    prospect = Prospect.objects.for_workspace(keyed).select_related("company").get()
    assert prospect.job_title == "Head of Sales"
    assert (prospect.seniority, prospect.department) == ("head", "sales")
    assert prospect.company.industry == "Culture de la vigne"
    assert prospect.company.industry_code == "agriculture_food"


def test_company_created_from_the_answer_gets_its_legal_form(
    keyed, http, django_capture_on_commit_callbacks
):
    prospect = new_prospect(
        keyed,
        django_capture_on_commit_callbacks,
        company_name="",
        linkedin_url="https://www.linkedin.com/in/eloise-lefevre",
    )
    assert prospect.company is None
    submit_ok(http)
    echo_ready(http, company="Acme Conseil SAS", naf5_des="Programmation informatique")
    for _ in range(3):
        make_due(keyed)
        sweep(django_capture_on_commit_callbacks)

    prospect = Prospect.objects.for_workspace(keyed).select_related("company").get()
    assert prospect.company.name == "Acme Conseil SAS"
    assert (prospect.company.legal_form, prospect.company.industry_code) == ("SAS", "software")
    assert (prospect.seniority, prospect.department) == ("director", "sales")


def test_unstorable_or_overlong_provider_values_are_stored_cleaned(
    keyed, http, django_capture_on_commit_callbacks
):
    """A vendor's NUL byte or an over-long value never stops a batch (PostgreSQL refuses both):
    the NUL is shown as U+FFFD and the value is cut to its column, its full text kept aside."""
    new_prospect(
        keyed,
        django_capture_on_commit_callbacks,
        company_name="",
        linkedin_url="https://www.linkedin.com/in/eloise-lefevre",
    )
    submit_ok(http)
    long_title = "Directeur commercial " + "très " * 100
    echo_ready(http, job=long_title, company="Acme\x00 Conseil SAS")
    for _ in range(3):
        make_due(keyed)
        sweep(django_capture_on_commit_callbacks)

    prospect = Prospect.objects.for_workspace(keyed).select_related("company").get()
    title_column = Prospect._meta.get_field("job_title").max_length
    assert prospect.job_title == long_title[:title_column].rstrip()
    assert prospect.company.name == "Acme\ufffd Conseil SAS"
    assert prospect.status == Prospect.Status.VERIFIED
