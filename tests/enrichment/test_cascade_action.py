"""'Trouver les e-mails (cascade)': the estimate comes first, the job only on confirmation."""

import html
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from enrichment import bulk, credentials
from enrichment.engine import ledger
from enrichment.models import CreditEntry, EnrichmentItem, EnrichmentJob, ProviderCall
from enrichment.pipelines import waterfall
from prospects import services as prospect_services
from prospects.models import Prospect
from tests.factories import ProspectFactory

CHANGELIST = reverse("admin:prospects_prospect_changelist")
Status = Prospect.Status


def text(response) -> str:
    """The page as a person reads it: no tags, entities decoded, spaces collapsed."""
    page = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(html.unescape(page).split())


def markup(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def keyed(workspace):
    """Keys for Prospeo and LeadMagic, 10 € of credit and a 5 € daily cap."""
    for slug in ("prospeo", "leadmagic"):
        credentials.set_api_key(workspace, slug, f"{slug}-key-1234")
    ledger.top_up(workspace.pk, "10", key="top-up-1")
    ledger.set_daily_cap(workspace.pk, "5")
    return workspace


def ask(client, prospects, **data):
    """The action as the changelist posts it, plus what the confirmation page posts."""
    payload = {"action": "find_emails", "_selected_action": [p.pk for p in prospects], **data}
    return client.post(CHANGELIST, payload)


def nothing_spent_or_queued(workspace) -> bool:
    entries = CreditEntry.objects.for_workspace(workspace).exclude(kind=CreditEntry.Kind.TOP_UP)
    return not (
        EnrichmentJob.objects.for_workspace(workspace).exists()
        or entries.exists()
        or ProviderCall.objects.for_workspace(workspace).exists()
    )


def confirm_data(response, **extra):
    """The hidden fields the estimate page carries, as the browser would send them back."""
    context = response.context
    estimate = context["estimate"]
    return {
        "confirm": "1",
        "expected_most": str(estimate.most),
        "expected_order": ",".join(estimate.providers),
        **{f"position_{n}": slug for n, slug in enumerate(estimate.providers, start=1)},
        **extra,
    }


def test_the_estimate_is_shown_before_anything_is_spent(member_client, keyed):
    fresh = ProspectFactory.create_batch(3, workspace=keyed, status=Status.NEW)
    verified = ProspectFactory(workspace=keyed, status=Status.VERIFIED)
    busy = ProspectFactory(workspace=keyed, status=Status.NOT_VERIFIED)
    EnrichmentItem.objects.create(workspace=keyed, prospect=busy, provider=waterfall.PIPELINE)
    objector = ProspectFactory(workspace=keyed, status=Status.NEW, email="non.merci@refus.example")
    prospect_services.suppress_person(keyed, email="non.merci@refus.example")

    response = ask(member_client, [*fresh, verified, busy, objector])

    assert response.status_code == 200
    page = text(response)
    assert "Enrichir dans : Acme Lyon" in page
    assert "3 prospects sur 6 sélectionnés seront recherchés" in page
    assert "Statut « Vérifié » : 1" in page
    assert "Déjà en cours de recherche : 1" in page
    assert "Sur la liste d'opposition : 1" in page
    assert "Prospeo → LeadMagic" in page
    most = bulk.estimate_job(keyed.pk, [p.pk for p in fresh]).most
    assert most > 0
    assert f"Au plus {str(most).replace('.', ',')} €" in page
    assert "Solde 10,00 €" in page
    assert "Reste sous le plafond du jour 5,00 € (plafond 5,00 €)" in page
    assert 'value="Lancer la recherche"' in markup(response)
    assert nothing_spent_or_queued(keyed)
    assert EnrichmentItem.objects.for_workspace(keyed).count() == 1  # only the busy one


def test_confirming_creates_the_job_with_the_order_shown(member_client, keyed, member):
    prospects = ProspectFactory.create_batch(2, workspace=keyed, status=Status.NEW)
    shown = ask(member_client, prospects)

    response = ask(member_client, prospects, **confirm_data(shown))

    job = EnrichmentJob.objects.for_workspace(keyed).get()
    assert response.status_code == 302
    assert response.url == reverse("admin:enrichment_enrichmentjob_change", args=[job.pk])
    assert job.providers == ["prospeo", "leadmagic"]
    assert job.estimated_credits == shown.context["estimate"].most
    assert job.created_by == member
    queued = EnrichmentItem.objects.for_workspace(keyed).filter(job=job)
    assert sorted(queued.values_list("prospect_id", flat=True)) == sorted(p.pk for p in prospects)
    page = text(member_client.get(response.url))
    assert f"Tâche {job} lancée : 2 prospects via Prospeo → LeadMagic, au plus" in page


def test_a_chosen_order_is_estimated_then_used(member_client, keyed):
    credentials.set_api_key(keyed, "hunter", "hunter-key-1234")
    prospects = ProspectFactory.create_batch(2, workspace=keyed, status=Status.NEW)
    choice = {"position_1": "hunter", "position_2": "leadmagic", "position_3": ""}

    shown = ask(member_client, prospects, estimate="1", **choice)

    assert "Hunter → LeadMagic" in text(shown)
    assert nothing_spent_or_queued(keyed)
    ask(member_client, prospects, **confirm_data(shown, **choice))
    assert EnrichmentJob.objects.for_workspace(keyed).get().providers == ["hunter", "leadmagic"]


def test_confirming_another_order_than_the_one_shown_shows_it_first(member_client, keyed):
    prospects = ProspectFactory.create_batch(2, workspace=keyed, status=Status.NEW)
    shown = ask(member_client, prospects)
    data = confirm_data(shown, position_1="leadmagic", position_2="")

    response = ask(member_client, prospects, **data)

    assert response.status_code == 200
    assert "L'estimation a changé" in text(response)
    assert "Au plus" in text(response)
    assert nothing_spent_or_queued(keyed)


def test_no_provider_chosen_is_a_form_error(member_client, keyed):
    prospect = ProspectFactory(workspace=keyed, status=Status.NEW)
    response = ask(member_client, [prospect], estimate="1", position_1="", position_2="")
    assert response.status_code == 200
    assert "Choisissez au moins un fournisseur." in text(response)


def test_a_provider_chosen_twice_is_a_form_error(member_client, keyed):
    prospect = ProspectFactory(workspace=keyed, status=Status.NEW)
    twice = {"position_1": "prospeo", "position_2": "prospeo"}
    response = ask(member_client, [prospect], estimate="1", **twice)
    assert "Chaque fournisseur ne peut figurer qu'une fois : Prospeo." in text(response)
    assert nothing_spent_or_queued(keyed)


def test_choosing_a_provider_without_a_key_says_so(member_client, keyed):
    prospect = ProspectFactory(workspace=keyed, status=Status.NEW)
    response = ask(member_client, [prospect], estimate="1", position_1="findymail")
    assert "Pas de clé API utilisable pour : FindyMail." in text(response)


def test_providers_without_a_key_are_marked(member_client, keyed):
    prospect = ProspectFactory(workspace=keyed, status=Status.NEW)
    page = markup(ask(member_client, [prospect]))
    assert '<option value="findymail">FindyMail (pas de clé API)</option>' in page
    assert '<option value="prospeo" selected>Prospeo</option>' in page
    assert "1er fournisseur" in page and "2e fournisseur" in page


def test_no_key_at_all_is_a_french_message_not_an_error(member_client, workspace):
    prospect = ProspectFactory(workspace=workspace, status=Status.NEW)
    response = ask(member_client, [prospect])
    assert response.status_code == 302
    page = text(member_client.get(response.url))
    assert "Aucun fournisseur de la cascade e-mail n'a de clé API utilisable" in page
    assert not EnrichmentJob.objects.for_workspace(workspace).exists()


def test_a_job_refused_at_confirmation_is_explained(member_client, keyed):
    prospects = ProspectFactory.create_batch(2, workspace=keyed, status=Status.NEW)
    shown = ask(member_client, prospects)
    credentials.mark_key_refused(keyed.pk, "leadmagic")  # refused by the vendor meanwhile

    response = ask(member_client, prospects, **confirm_data(shown))

    assert response.status_code == 200
    assert "Pas de clé API utilisable pour : LeadMagic." in text(response)
    assert nothing_spent_or_queued(keyed)


def test_the_money_warnings_say_the_job_will_pause(member_client, keyed):
    ledger.set_daily_cap(keyed.pk, "0.01")
    prospects = ProspectFactory.create_batch(3, workspace=keyed, status=Status.NEW)
    page = text(ask(member_client, prospects))
    assert "Le plafond du jour ne couvre pas ce maximum" in page


def test_other_workspace_prospects_are_not_estimated(member_client, keyed, other_workspace):
    credentials.set_api_key(other_workspace, "prospeo", "their-key-9999")
    theirs = ProspectFactory.create_batch(2, workspace=other_workspace, status=Status.NEW)

    response = ask(member_client, theirs)

    assert response.status_code == 302
    assert "Aucun des prospects sélectionnés" in text(member_client.get(response.url))
    mine = ProspectFactory(workspace=keyed, status=Status.NEW)
    mixed = ask(member_client, [mine, *theirs])
    assert mixed.context["estimate"].prospect_ids == [mine.pk]
    assert nothing_spent_or_queued(keyed)
    assert not EnrichmentJob.objects.for_workspace(other_workspace).exists()


def test_the_action_is_offered_on_the_prospect_list(member_client, keyed):
    ProspectFactory(workspace=keyed)
    page = markup(member_client.get(CHANGELIST))
    assert re.search(r'<option value="find_emails">\s*Trouver les e-mails \(cascade\)', page)


def test_the_per_prospect_figure_is_the_sum_of_the_providers(member_client, keyed):
    prospect = ProspectFactory(workspace=keyed, status=Status.NEW)
    estimate = ask(member_client, [prospect]).context["estimate"]
    from enrichment.providers.registry import get_provider

    expected = get_provider("prospeo").max_cost + get_provider("leadmagic").max_cost
    assert estimate.per_prospect == expected
    assert estimate.most == (expected * 1).quantize(Decimal("0.01"))


def test_a_workspace_that_puts_discovery_first_sees_it_first_and_free(
    member_client, keyed, settings
):
    settings.SOURCIER_SMTP_HELO = "sonde.sourcier-demo.fr"
    settings.SOURCIER_SMTP_MAIL_FROM = "verification@sourcier-demo.fr"
    keyed.discovery_first = True
    keyed.save()
    prospect = ProspectFactory(workspace=keyed, status=Status.NEW)
    response = ask(member_client, [prospect])
    estimate = response.context["estimate"]
    assert estimate.providers == ["discovery", "prospeo", "leadmagic"]
    assert "Découverte interne → Prospeo → LeadMagic" in text(response)
    assert nothing_spent_or_queued(keyed)


def test_without_probing_set_up_discovery_is_not_in_the_order(member_client, keyed):
    keyed.discovery_first = True
    keyed.save()
    prospect = ProspectFactory(workspace=keyed, status=Status.NEW)
    assert ask(member_client, [prospect]).context["estimate"].providers == ["prospeo", "leadmagic"]
