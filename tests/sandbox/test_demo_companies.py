"""The demo workspace, seeded then enriched by the sandbox's Dropcontact: one company each."""

import time
from collections import Counter

from enrichment import credentials, sweeper
from enrichment.demo import DEMO_CREDIT, seed_demo_workspace
from enrichment.engine import ledger
from enrichment.providers.registry import PROVIDERS
from prospects.models import Company, Prospect
from tests.enrichment.test_dropcontact_pipeline import make_due


def test_seed_demo_and_enrichment_leave_no_duplicate_company(
    db, sandbox, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.VAR_DIR = tmp_path
    settings.SOURCIER_SANDBOX_URL = sandbox.url
    settings.PROVIDER_BASE_URLS = {
        **settings.PROVIDER_BASE_URLS,
        "dropcontact": sandbox.base_url("dropcontact"),
    }
    settings.DROPCONTACT_POLL_INTERVAL_SECONDS = 0

    with django_capture_on_commit_callbacks(execute=True):
        summary = seed_demo_workspace()
    workspace = summary.workspace
    prospects = Prospect.objects.for_workspace(workspace)
    # The sandbox answers after a moment: sweep as beat would until every prospect settled.
    deadline = time.monotonic() + 60
    while prospects.filter(status__in=["new", "enriching"]).exists():
        assert time.monotonic() < deadline, "the sandbox's answers never came"
        make_due(workspace)
        with django_capture_on_commit_callbacks(execute=True):
            sweeper.dispatch_due_work()
        time.sleep(0.1)

    assert prospects.filter(status="verified").exists()
    names = Counter(Company.objects.for_workspace(workspace).values_list("name_key", flat=True))
    assert [name for name, count in names.items() if count > 1] == []


def test_the_demo_has_every_sandbox_key_and_its_credit_once(db, sandbox, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.SOURCIER_SANDBOX_URL = sandbox.url
    seed_demo_workspace()
    workspace = seed_demo_workspace().workspace  # seeding again changes nothing

    assert ledger.balance(workspace.pk) == DEMO_CREDIT
    for provider in set(PROVIDERS) - credentials.KEYLESS:
        assert credentials.has_usable_key(workspace.pk, provider), provider


def test_seeding_again_says_there_is_nothing_new_to_enrich(db, settings, tmp_path, sandbox):
    import io

    from django.core.management import call_command

    settings.VAR_DIR = tmp_path
    settings.SOURCIER_SANDBOX_URL = sandbox.url
    outputs = []
    for _ in range(2):
        out = io.StringIO()
        call_command("seed_demo", stdout=out)
        outputs.append(out.getvalue())
    assert "vont être enrichis" in outputs[0]
    assert "0 nouveau prospect" in outputs[1]
    assert "vont être enrichis" not in outputs[1]
    assert "rien de nouveau à enrichir" in outputs[1]
