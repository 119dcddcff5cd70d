"""Applying a Dropcontact answer costs the same number of queries for 5 records as for 50.

Each batch mixes every kind of record the apply step handles differently (verified, a bare
company learning its domain, a prospect without a company, an address another prospect holds,
an address on the objection list, do not contact), so that a query per record on any of these
paths shows up as a difference between the two sizes.
"""

import json

import pytest
import responses
from django.db import connection
from django.test.utils import CaptureQueriesContext
from stdnum import luhn

from enrichment import services
from enrichment.models import EnrichmentItem, ProviderBatch
from enrichment.pipelines import dropcontact as pipeline
from prospects import services as prospect_services
from prospects.models import FieldProvenance, Prospect, SuppressionEntry
from tests.enrichment.test_dropcontact_pipeline import POLL_URL, make_due, record, submit_ok
from tests.factories import CompanyFactory, ProspectFactory

KEY = "dc-secret-key-1234"
KINDS = ("verified", "bare", "no_company", "taken", "objected", "do_not_contact")


@pytest.fixture(autouse=True)
def _one_batch_at_once(settings):
    settings.DROPCONTACT_BATCH_WINDOW_SECONDS = 0
    settings.DROPCONTACT_POLL_INTERVAL_SECONDS = 0


def person(workspace, index: int, kind: str) -> tuple[Prospect, dict]:
    """A prospect of this kind, and the record Dropcontact answers for it."""
    name = {"first_name": f"Prénom{index}", "last_name": f"Nom{index}", "email": ""}
    domain = f"societe-{index}.example"
    siren = f"{index:08d}" + luhn.calc_check_digit(f"{index:08d}")
    values = {
        "first_name": name["first_name"],
        "last_name": name["last_name"],
        "full_name": f"{name['first_name']} {name['last_name']}",
        "email": [{"email": f"p{index}@{domain}", "qualification": "nominatif@pro"}],
        "company": f"Société {index}",
        "website": f"www.{domain}",
        "phone": f"01 45 00 {index // 100:02d} {index % 100:02d}",
        "mobile_phone": f"06 12 00 {index // 100:02d} {index % 100:02d}",
        "linkedin": f"https://fr.linkedin.com/in/personne-{index}",
        "siren": siren,
        "siret": "",
    }
    if kind == "verified":
        company = CompanyFactory(workspace=workspace, name=f"Société {index}", domain=domain)
    elif kind == "bare":
        company = CompanyFactory(workspace=workspace, name=f"Société {index}", domain="")
    else:
        company = None
    if kind == "taken":
        ProspectFactory(workspace=workspace, company=None, email=f"p{index}@{domain}")
    if kind == "objected":
        prospect_services.suppress_person(workspace, email=f"p{index}@{domain}")
    if kind == "do_not_contact":
        values["email"] = [{"email": f"p{index}@{domain}", "qualification": "Ne_Pas_Contacter@pro"}]
    prospect = ProspectFactory(workspace=workspace, company=company, job_title="", **name)
    return prospect, record(**values)


def apply_batch(workspace, http, size: int, *, first: int) -> tuple[int, list[Prospect]]:
    """Queue `size` prospects, send them, and count the queries of the step that applies the
    answer (the poll: claim, call, merge, write, settle)."""
    people = [person(workspace, first + i, KINDS[i % len(KINDS)]) for i in range(size)]
    services.queue_enrichment(workspace.pk, [prospect.pk for prospect, _ in people])
    submit_ok(http)
    batch = pipeline.claim_batch(workspace.pk, api_key_present=True)
    assert pipeline.process_batch(batch.pk, api_key=KEY) == "submitted"
    answers = {}
    for item in EnrichmentItem.objects.for_workspace(workspace).filter(batch=batch):
        answer = dict(next(r for p, r in people if p.pk == item.prospect_id))
        answers[str(item.pk)] = {**answer, "custom_fields": {"sourcier_item": str(item.pk)}}
    data = [answers[sent] for sent in sorted(answers, key=int)]
    http.add(responses.GET, POLL_URL, body=json.dumps({"success": True, "data": data}))
    make_due(workspace)
    with CaptureQueriesContext(connection) as queries:
        assert pipeline.process_batch(batch.pk, api_key=KEY) == "applied"
    assert ProviderBatch.objects.for_workspace(workspace).get(pk=batch.pk).status == "done"
    return len(queries), [prospect for prospect, _ in people]


def outcomes(prospects: list[Prospect]) -> dict[str, list[tuple[str, str]]]:
    """(status, reason) of each prospect, by kind."""
    found = {p.pk: p for p in Prospect.objects.for_workspace(prospects[0].workspace_id)}
    result: dict[str, list[tuple[str, str]]] = {kind: [] for kind in KINDS}
    for index, prospect in enumerate(prospects):
        stored = found[prospect.pk]
        result[KINDS[index % len(KINDS)]].append((stored.status, stored.verification_reason))
    return result


def test_applying_60_records_costs_no_more_queries_than_applying_6(keyed, http):
    few, _ = apply_batch(keyed, http, 6, first=1000)
    objections = SuppressionEntry.objects.for_workspace(keyed).count()
    many, prospects = apply_batch(keyed, http, 60, first=2000)

    # Every kind was applied as it should be: doing nothing (or half) cannot pass.
    settled = outcomes(prospects)
    assert set(settled["verified"]) == {("verified", "")}
    assert set(settled["bare"]) == {("verified", "")}
    assert set(settled["no_company"]) == {("verified", "")}
    assert set(settled["taken"]) == {("not_verified", "address_taken")}
    assert set(settled["objected"]) == {("not_verified", "no_email_found")}
    assert set(settled["do_not_contact"]) == {("not_verified", "do_not_contact")}
    stored = Prospect.objects.for_workspace(keyed).filter(pk__in=[p.pk for p in prospects])
    assert stored.filter(company__domain="").count() == 0  # the bare companies learnt theirs
    assert stored.filter(company__siren="").exclude(company=None).count() == 0
    # Left as they were: the prospects whose address was taken, and those not to contact.
    assert stored.filter(company=None).count() == 10 * 2
    # The do-not-contact addresses went on the objection list, one entry each.
    assert SuppressionEntry.objects.for_workspace(keyed).count() - objections == 10 + 10
    current = FieldProvenance.objects.for_workspace(keyed).filter(
        prospect__in=prospects, source="dropcontact", is_current=True, field="email"
    )
    assert current.count() == 30
    # Ten times the records, the same queries (give or take a chunk of a bulk write).
    assert many - few <= 2, (few, many)
