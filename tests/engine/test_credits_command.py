"""`manage.py credits`: a workspace's money in French, or one line of JSON for scripts."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from enrichment.engine import ledger
from enrichment.models import CreditEntry, ProviderCall

pytestmark = pytest.mark.django_db


def credits(*args: str) -> str:
    out = io.StringIO()
    call_command("credits", *args, stdout=out)
    return out.getvalue()


def as_json(*args: str) -> dict:
    return json.loads(credits(*args, "--json").strip().splitlines()[-1])


def call(workspace, provider: str) -> ProviderCall:
    return ProviderCall.objects.create(
        workspace=workspace, provider=provider, endpoint="/v1/x", method="POST", outcome="ok"
    )


def test_it_shows_balance_spending_and_cap_in_french(workspace):
    ledger.top_up(workspace.pk, "1234.5", key="initial")
    ledger.reserve(workspace.pk, "2", key="a", provider="hunter")
    ledger.settle(workspace.pk, key="a", cost="0.0125")
    out = credits("--workspace", workspace.slug)
    assert out.splitlines() == [
        "Espace de travail : Acme Lyon",
        "Solde : 1\u202f234,4875 €",
        "Dépensé aujourd'hui : 0,0125 €",
        "Dépensé au total : 0,0125 €",
        "Plafond quotidien : aucun",
    ]


def test_json_last_line_has_the_contracted_keys(workspace, other_workspace):
    ledger.top_up(workspace.pk, "10", key="initial")
    ledger.reserve(workspace.pk, "1.5", key="a", provider="hunter")
    ledger.settle(workspace.pk, key="a", cost="1.25")
    ledger.reserve(workspace.pk, "2", key="b", provider="prospeo")
    for provider in ("hunter", "hunter", "prospeo"):
        call(workspace, provider)
    call(other_workspace, "hunter")
    ledger.top_up(other_workspace.pk, "99", key="initial")
    ledger.set_daily_cap(workspace.pk, "20")
    assert as_json("--workspace", workspace.slug) == {
        "balance": 6.75,
        "spent_today": 3.25,
        "spent_total": 3.25,
        "daily_cap": 20,
        "calls_by_provider": {"hunter": 2, "prospeo": 1},
        "spent_by_provider": {"hunter": 1.25, "prospeo": 2},
    }
    assert as_json("--workspace", other_workspace.slug)["daily_cap"] is None


def test_a_top_up_with_a_key_is_safe_to_run_again(workspace):
    out = credits("--workspace", workspace.slug, "--top-up", "50", "--key", "virement-7")
    assert "50,00 € crédités (clé « virement-7 »)." in out
    out = credits("--workspace", workspace.slug, "--top-up", "50", "--key", "virement-7")
    assert "Déjà crédité avec la clé « virement-7 » : rien n'a été ajouté." in out
    assert ledger.balance(workspace.pk) == Decimal("50")
    with pytest.raises(CommandError, match="a déjà servi à un rechargement d'un autre montant"):
        credits("--workspace", workspace.slug, "--top-up", "60", "--key", "virement-7")
    # Without a key every run is a new top-up.
    credits("--workspace", workspace.slug, "--top-up", "1")
    credits("--workspace", workspace.slug, "--top-up", "1")
    assert as_json("--workspace", workspace.slug)["balance"] == 52


def test_the_daily_cap_is_set_and_removed(workspace):
    assert "Plafond quotidien fixé à 12,50 €." in credits(
        "--workspace", workspace.slug, "--daily-cap", "12.5"
    )
    assert ledger.daily_cap(workspace.pk) == Decimal("12.5")
    out = credits("--workspace", workspace.slug, "--daily-cap", "none", "--json")
    assert "Plafond quotidien supprimé." in out
    assert json.loads(out.splitlines()[-1])["daily_cap"] is None


def test_amounts_take_a_decimal_comma_as_the_admin_does(workspace):
    assert "Plafond quotidien fixé à 0,50 €." in credits(
        "--workspace", workspace.slug, "--daily-cap", "0,5"
    )
    credits("--workspace", workspace.slug, "--top-up", "12,25", "--key", "fr")
    assert as_json("--workspace", workspace.slug)["balance"] == 12.25


def test_a_reached_cap_says_when_spending_resumes(workspace):
    ledger.top_up(workspace.pk, "10", key="initial")
    ledger.set_daily_cap(workspace.pk, "1")
    ledger.reserve(workspace.pk, "1", key="a", provider="hunter")
    out = credits("--workspace", workspace.slug)
    assert "Réservé pour les appels en cours : 1,00 €" in out
    tomorrow = ledger.next_midnight(timezone.now()).strftime("%d/%m/%Y")
    assert (
        f"Plafond quotidien atteint : les dépenses reprennent le {tomorrow} 00:00 "
        "(heure de Paris)." in out
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--top-up", "-5"], "Le montant ne peut pas être négatif : -5."),
        (["--top-up", "beaucoup"], "« beaucoup » n'est pas un montant en euros."),
        (["--top-up", "1e999"], "Le montant 1e999 est trop grand."),
        (["--top-up", "0"], "Le montant doit être supérieur à zéro : 0."),
        (["--daily-cap", "nan"], "« nan » n'est pas un montant en euros."),
        (["--daily-cap", "0.00001"], "Un montant a au plus 4 décimales : 0.00001."),
    ],
)
def test_a_bad_amount_is_a_one_line_error_and_changes_nothing(workspace, args, message):
    with pytest.raises(CommandError) as error:
        credits("--workspace", workspace.slug, *args)
    assert str(error.value) == message
    assert not CreditEntry.objects.for_workspace(workspace).exists()
    assert ledger.daily_cap(workspace.pk) is None


def test_an_unknown_workspace_is_named_with_the_existing_ones(workspace):
    with pytest.raises(CommandError) as error:
        credits("--workspace", "nulle-part")
    assert str(error.value) == (
        "Aucun espace de travail n'a l'identifiant « nulle-part ». Espaces existants : acme-lyon."
    )
