"""A canary key planted through every real path must never come out of any output.

Keys go in through the admin form, `set_api_key` and `rotate_keys`; a sandbox Dropcontact
accepts one workspace's key and refuses the other's. Then every output is searched: logs at
DEBUG, the commands' stdout and stderr, every admin page a person can open for these objects,
every stored row (dumpdata), and the error messages the pipeline kept.
"""

import io
import logging
import secrets
import sys
import time

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from enrichment import sweeper
from enrichment.engine import ledger
from enrichment.models import (
    EnrichmentItem,
    EnrichmentJob,
    ProviderBatch,
    ProviderCall,
    ProviderCredential,
)
from enrichment.sandbox.server import start_sandbox
from enrichment.sandbox.world import World
from prospects import services as prospect_services
from prospects.models import Prospect, Source
from tests.enrichment.test_dropcontact_pipeline import make_due
from tests.factories import MembershipFactory, WorkspaceFactory

# Unique per run, so nothing left from another run can make the search pass or fail.
CANARY = f"sk-canary-{secrets.token_hex(8)}"
ACCEPTED, REFUSED = f"{CANARY}-A1b2", f"{CANARY}-Zz99"
OTHER_KEYS = {"hunter": f"{CANARY}-h001", "prospeo": f"{CANARY}-p002"}
ITEM = EnrichmentItem.Status


@pytest.fixture
def canary_sandbox():
    with start_sandbox(seed=42, size=60, ready_after=0.2, keys=(ACCEPTED,)) as server:
        yield server


def run(command, *args, stdin=""):
    out, err = io.StringIO(), io.StringIO()
    saved, sys.stdin = sys.stdin, io.StringIO(stdin)
    try:
        call_command(command, *args, stdout=out, stderr=err)
    finally:
        sys.stdin = saved
    return out.getvalue() + err.getvalue()


def admin_of(workspace, username):
    client = Client()
    client.force_login(
        MembershipFactory(workspace=workspace, user__username=username, role="admin").user
    )
    return client


def add_people(workspace, people, capture):
    with capture(execute=True):
        for person in people:
            prospect_services.create_prospect(
                workspace,
                data={
                    "first_name": person.first_name,
                    "last_name": person.last_name,
                    "company_name": person.company.name,
                    "website": person.company.website,
                },
                source=Source.IMPORT,
            )


def settle(workspaces, capture, *, seconds=60):
    """Sweep as beat would until no item is queued or in flight."""
    deadline = time.monotonic() + seconds
    busy = EnrichmentItem.objects.unscoped().filter(status__in=[ITEM.PENDING, ITEM.SUBMITTED])
    while busy.exists():
        assert time.monotonic() < deadline, "the sandbox's answers never came"
        for workspace in workspaces:
            make_due(workspace)
        with capture(execute=True):
            sweeper.dispatch_due_work()
        time.sleep(0.05)


def pages(client, workspace):
    """Every admin and enrichment page a person can open for these objects."""
    urls = [reverse("admin:index"), reverse("enrichment:progress"), reverse("enrichment:jobs")]
    for model, rows in (
        ("providercredential", ProviderCredential),
        ("providercall", ProviderCall),
        ("enrichmentitem", EnrichmentItem),
        ("providerbatch", ProviderBatch),
        ("enrichmentjob", EnrichmentJob),
        ("prospect", Prospect),
    ):
        app = "prospects" if model == "prospect" else "enrichment"
        urls.append(reverse(f"admin:{app}_{model}_changelist"))
        for pk in rows.objects.for_workspace(workspace).values_list("pk", flat=True):
            urls.append(reverse(f"admin:{app}_{model}_change", args=[pk]))
            urls.append(reverse(f"admin:{app}_{model}_history", args=[pk]))
    urls.append(reverse("admin:prospects_workspace_change", args=[workspace.pk]))
    opened = {url: client.get(url) for url in urls}
    assert all(r.status_code == 200 for r in opened.values()), {
        u: r.status_code for u, r in opened.items() if r.status_code != 200
    }
    return {url: response.content.decode() for url, response in opened.items()}


def test_no_output_ever_shows_a_planted_key(
    db, canary_sandbox, settings, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.DEBUG)
    old = Fernet.generate_key().decode()
    settings.SOURCIER_FERNET_KEYS = [old]
    settings.DROPCONTACT_POLL_INTERVAL_SECONDS = 0
    settings.PROVIDER_BASE_URLS = {
        **settings.PROVIDER_BASE_URLS,
        "dropcontact": canary_sandbox.base_url("dropcontact"),
    }
    keyed = WorkspaceFactory(name="Canari Accepté", slug="canari-ok")
    refused = WorkspaceFactory(name="Canari Refusé", slug="canari-ko")
    for workspace in (keyed, refused):
        ledger.top_up(workspace.pk, "10", key="canary-top-up")
    clients = {keyed: admin_of(keyed, "admin-ok"), refused: admin_of(refused, "admin-ko")}
    outputs: dict[str, str] = {}

    # The admin form, the command, then a rotation to a new Fernet key.
    response = clients[keyed].post(
        reverse("admin:enrichment_providercredential_add"),
        {"workspace": keyed.pk, "provider": "dropcontact", "api_key": ACCEPTED},
        follow=True,
    )
    outputs["admin form answer"] = response.content.decode()
    outputs["set_api_key (refused key)"] = run(
        "set_api_key", "--workspace", "canari-ko", "--provider", "dropcontact", stdin=REFUSED
    )
    for provider, key in OTHER_KEYS.items():
        outputs[f"set_api_key {provider}"] = run(
            "set_api_key", "--workspace", "canari-ok", "--provider", provider, stdin=f"{key}\n"
        )
    settings.SOURCIER_FERNET_KEYS = [Fernet.generate_key().decode(), old]
    outputs["rotate_keys"] = run("rotate_keys", "--batch-size", "1")
    settings.SOURCIER_FERNET_KEYS = settings.SOURCIER_FERNET_KEYS[:1]

    # One enrichment that succeeds, one the vendor refuses.
    people = [p for p in World.build(42, 60).people if p.expected_verdict == "verified"][:3]
    add_people(keyed, people, django_capture_on_commit_callbacks)
    add_people(refused, people, django_capture_on_commit_callbacks)
    settle([keyed, refused], django_capture_on_commit_callbacks)

    # The keys were really used, and the two outcomes really happened.
    used = {(call.key, call.status) for call in canary_sandbox.calls}
    assert (ACCEPTED, 200) in used and (REFUSED, 401) in used
    assert Prospect.objects.for_workspace(keyed).filter(status="verified").exists()
    refused_items = EnrichmentItem.objects.for_workspace(refused)
    assert set(refused_items.values_list("status", flat=True)) == {ITEM.WAITING_KEY}
    assert "refusée" in refused_items[0].last_error

    outputs["logs (DEBUG)"] = "\n".join(
        f"{r.name} {r.levelname} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records
    )
    for workspace, client in clients.items():
        for url, page in pages(client, workspace).items():
            outputs[f"{workspace.slug} {url}"] = page
    superuser = get_user_model().objects.create_superuser("racine", "r@example.org", "x")
    root = Client()
    root.force_login(superuser)
    for url, page in pages(root, keyed).items():
        outputs[f"superuser {url}"] = page
    outputs["every stored row"] = run("dumpdata", "--all", "--indent", "0")
    stored_errors = [
        *(item.last_error for item in EnrichmentItem.objects.unscoped()),
        *(batch.last_error for batch in ProviderBatch.objects.unscoped()),
        *Prospect.objects.unscoped().values_list("last_error", flat=True),
    ]
    for error, excerpt in ProviderCall.objects.unscoped().values_list("error", "response_excerpt"):
        stored_errors += [error, excerpt]
    outputs["stored errors and answers"] = "\n".join(stored_errors)

    assert len(outputs) > 40
    assert (
        "••••A1b2"
        in outputs[f"canari-ok {reverse('admin:enrichment_providercredential_changelist')}"]
    )
    assert "••••Zz99" in outputs["set_api_key (refused key)"]
    leaks = sorted(name for name, text in outputs.items() if CANARY in text)
    assert leaks == []
