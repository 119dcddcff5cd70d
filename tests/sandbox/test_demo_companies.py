"""The demo workspace, seeded then enriched by the sandbox's Dropcontact: one company each."""

import datetime as dt
import time
from collections import Counter

from django.utils import timezone

from enrichment import services
from enrichment.demo import seed_demo_workspace
from enrichment.models import DropcontactBatch, EnrichmentItem
from prospects.models import Company, Prospect


def _make_due(workspace) -> None:
    past = timezone.now() - dt.timedelta(seconds=1)
    EnrichmentItem.objects.for_workspace(workspace).filter(status="pending").update(
        next_attempt_at=past
    )
    DropcontactBatch.objects.for_workspace(workspace).filter(
        status__in=["sending", "polling"]
    ).update(next_attempt_at=past)


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
        _make_due(workspace)
        with django_capture_on_commit_callbacks(execute=True):
            services.dispatch_due_work()
        time.sleep(0.1)

    assert prospects.filter(status="verified").exists()
    names = Counter(Company.objects.for_workspace(workspace).values_list("name_key", flat=True))
    assert [name for name, count in names.items() if count > 1] == []
