"""`manage.py enrich`: the estimate, a job run to its end, a JSON last line, clear refusals."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from enrichment.models import EnrichmentJob
from prospects.models import Prospect
from tests.enrichment.test_waterfall import import_world


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("enrich", *args, stdout=out, stderr=err)
    return out.getvalue().strip().splitlines()


def test_estimate_prints_the_most_it_can_cost_and_spends_nothing(email_ws, world):
    import_world(email_ws, world, limit=6)
    lines = run("--workspace", email_ws.slug, "--fields", "email", "--estimate", "--json")
    last = json.loads(lines[-1])
    assert last["job"] is None and last["status"] == "estimated"
    assert last["counts"] == {"total": 6}
    assert last["estimate"]["providers"] == ["prospeo", "leadmagic", "findymail"]
    assert "au plus" in lines[0]
    assert not EnrichmentJob.objects.for_workspace(email_ws).exists()


@pytest.mark.django_db(transaction=True)
def test_wait_returns_when_the_job_is_done_with_its_counts(email_ws, world):
    # Committed for real: the job's workers start when it commits, as in production.
    import_world(email_ws, world, limit=5)
    lines = run(
        *("--workspace", email_ws.slug, "--fields", "email", "--providers", "leadmagic,prospeo"),
        *("--wait", "--timeout", "60", "--json"),
    )
    last = json.loads(lines[-1])
    job = EnrichmentJob.objects.for_workspace(email_ws).get()
    assert last["job"] == job.pk
    assert last["status"] == job.status
    assert last["counts"]["total"] == 5
    assert last["counts"]["done"] + last["counts"]["needs_review"] == 5
    assert job.providers == ["leadmagic", "prospeo"]
    assert not Prospect.objects.for_workspace(email_ws).filter(status="enriching").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workspace", "nobody", "--fields", "email"], "nobody"),
        (["--fields", "salary"], "salary"),
        (["--fields", "email", "--providers", "prospeo,acme"], "acme"),
        (["--fields", "email", "--providers", "hunter"], "Hunter"),
        (["--fields", "email", "--only-status", "verified,lost"], "lost"),
    ],
)
def test_bad_arguments_are_one_clear_error(email_ws, args, message):
    if "--workspace" not in args:
        args = ["--workspace", email_ws.slug, *args]
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert not EnrichmentJob.objects.for_workspace(email_ws).exists()


def test_a_negative_timeout_is_refused_before_any_job_starts(email_ws, world):
    import_world(email_ws, world, limit=2)
    with pytest.raises(CommandError, match=r"--timeout .* 0 ou plus.*: -1"):
        run("--workspace", email_ws.slug, "--fields", "email", "--wait", "--timeout", "-1")
    assert not EnrichmentJob.objects.for_workspace(email_ws).exists()


def test_with_keys_only_outside_the_default_order_the_refusal_names_them(workspace):
    from enrichment import credentials

    credentials.set_api_key(workspace, "hunter", "hunter-key")
    with pytest.raises(CommandError, match=r"une pour Hunter : indiquez-le .*--providers"):
        run("--workspace", workspace.slug, "--fields", "email")
    assert not EnrichmentJob.objects.for_workspace(workspace).exists()


def test_a_missing_selection_file_is_said_in_french(email_ws, tmp_path):
    missing = tmp_path / "absent.csv"
    with pytest.raises(CommandError, match=r"absent\.csv : fichier ou dossier introuvable"):
        run("--workspace", email_ws.slug, "--fields", "email", "--csv", str(missing))
    with pytest.raises(CommandError, match="c'est un dossier, pas un fichier"):
        run("--workspace", email_ws.slug, "--fields", "email", "--csv", str(tmp_path))
