"""`manage.py enrich_backfill`: queue a workspace's prospects once, optionally wait for them."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from enrichment import credentials, services
from enrichment.engine import ledger
from enrichment.management.commands import enrich_backfill
from enrichment.models import EnrichmentItem, EnrichmentJob
from prospects.models import Prospect
from tests.factories import ProspectFactory

Status = Prospect.Status
Item = EnrichmentItem.Status


def backfill(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("enrich_backfill", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def items(workspace):
    return EnrichmentItem.objects.for_workspace(workspace)


def test_queues_new_prospects_only_once(workspace, other_workspace):
    new = [ProspectFactory(workspace=workspace) for _ in range(3)]
    ProspectFactory(workspace=workspace, status=Status.VERIFIED)
    ProspectFactory(workspace=workspace, status=Status.NOT_VERIFIED)
    foreign = ProspectFactory(workspace=other_workspace)

    out, _err = backfill("--workspace", workspace.slug)
    assert "3 prospects mis en file Dropcontact dans Acme Lyon" in out
    assert set(items(workspace).values_list("prospect_id", flat=True)) == {p.pk for p in new}
    assert not items(other_workspace).exists()
    assert Prospect.objects.for_workspace(other_workspace).get(pk=foreign.pk).status == Status.NEW

    out, _err = backfill("--workspace", workspace.slug)
    assert f"Aucun prospect au statut « {Status.NEW.label} » à enrichir" in out
    assert items(workspace).count() == 3


def test_without_a_key_it_says_the_prospects_wait(workspace):
    ProspectFactory(workspace=workspace)
    out, err = backfill("--workspace", workspace.slug)
    assert "n'a pas de clé API Dropcontact" in err
    assert items(workspace).get().status == Item.WAITING_KEY
    assert "/enrichment/progress/?job=" in out


def test_status_option_queues_not_verified_prospects(workspace):
    ProspectFactory(workspace=workspace)
    target = ProspectFactory(workspace=workspace, status=Status.NOT_VERIFIED)
    backfill("--workspace", workspace.slug, "--status", "NOT_VERIFIED")
    assert list(items(workspace).values_list("prospect_id", flat=True)) == [target.pk]


def test_wait_returns_with_a_summary_once_items_settle(workspace):
    ProspectFactory(workspace=workspace)
    ProspectFactory(workspace=workspace)
    out, err = backfill("--workspace", workspace.slug, "--wait", "--timeout", "30")
    job = EnrichmentJob.objects.for_workspace(workspace).get()
    assert f"Tâche n° {job.pk} : vérifiés : 0 · non vérifiés : 0 · à revoir : 0" in out
    assert "en attente de clé API : 2 · encore en cours : 0." in out
    assert "2/2" in err  # the progress bar reached the end


def test_wait_says_no_worker_runs_then_times_out(workspace):
    credentials.set_api_key(workspace, "dropcontact", "cle-de-test-1234")
    prospect = ProspectFactory(workspace=workspace)
    # Due at once and never picked up: nobody is working.
    with pytest.raises(CommandError, match="Toujours pas terminé après 1 s"):
        out, err = io.StringIO(), io.StringIO()
        try:
            call_command(
                "enrich_backfill",
                "--workspace",
                workspace.slug,
                "--wait",
                "--timeout",
                "1",
                "--stall-after",
                "0",
                stdout=out,
                stderr=err,
            )
        finally:
            assert "aucun worker Celery ne semble tourner" in err.getvalue()
            assert "make run" in err.getvalue()
            assert "encore en cours : 1." in out.getvalue()
    assert items(workspace).get(prospect=prospect).status == Item.PENDING


def test_no_worker_warning_waits_for_overdue_work(workspace):
    credentials.set_api_key(workspace, "dropcontact", "cle-de-test-1234")
    ProspectFactory(workspace=workspace)
    out, err = io.StringIO(), io.StringIO()
    future = timezone.now() + dt.timedelta(minutes=5)
    # A retry planned in 5 minutes is not a missing worker.
    job = services.queue_backfill(workspace)
    EnrichmentItem.objects.for_workspace(workspace).update(next_attempt_at=future)
    command = enrich_backfill.Command(stdout=out, stderr=err)
    progress = command._wait(workspace, job, timeout=1.0, stall_after=0.0)
    assert not progress.settled
    assert "aucun worker" not in err.getvalue()


def test_unknown_workspace_is_a_french_error(workspace):
    with pytest.raises(CommandError, match="Aucun espace de travail n'a l'identifiant « inconnu »"):
        backfill("--workspace", "inconnu")
    assert not EnrichmentJob.objects.unscoped().exists()


def test_an_unknown_status_lists_the_statuses_as_they_are_typed(workspace):
    with pytest.raises(CommandError, match="'new', 'not_verified', 'needs_review'"):
        call_command("enrich_backfill", "--workspace", workspace.slug, "--status", "bogus")


def test_a_timeout_of_zero_or_less_is_refused_before_anything_is_queued(workspace):
    ProspectFactory(workspace=workspace)
    with pytest.raises(CommandError, match="--timeout est un nombre de secondes supérieur à 0"):
        call_command("enrich_backfill", "--workspace", workspace.slug, "--wait", "--timeout", "0")
    assert not EnrichmentItem.objects.for_workspace(workspace).exists()


def test_without_credits_it_says_the_prospects_wait_for_a_top_up(workspace):
    credentials.set_api_key(workspace, "dropcontact", "cle-de-test-1234")
    ProspectFactory(workspace=workspace)
    _out, err = backfill("--workspace", workspace.slug)
    assert "Le solde de crédits (0,00 €) ne paie pas un seul enregistrement (0,0480 €)" in err
    assert "manage.py credits --top-up" in err


@pytest.mark.django_db(transaction=True)
def test_wait_returns_when_the_daily_cap_pauses_the_job(workspace, settings):
    settings.DROPCONTACT_BATCH_WINDOW_SECONDS = 0
    credentials.set_api_key(workspace, "dropcontact", "cle-de-test-1234")
    ledger.top_up(workspace.pk, "10", key="test-top-up")
    ledger.set_daily_cap(workspace.pk, "0")
    ProspectFactory(workspace=workspace)

    out, err = backfill("--workspace", workspace.slug, "--wait", "--timeout", "30")

    job = EnrichmentJob.objects.for_workspace(workspace).get()
    assert (job.status, job.pause_reason) == (EnrichmentJob.Status.PAUSED, "daily_cap")
    midnight = timezone.localtime(ledger.next_midnight(timezone.now()))
    assert f"En pause jusqu'au {midnight:%d/%m/%Y} 00:00." in out
    assert "ne paie pas" not in err
