"""The batch page of an import that stopped: what it says, "Reprendre l'import", expiry."""

import datetime as dt

import pytest
from django.utils import timezone

from prospects import imports
from prospects.models import ImportBatch, Prospect
from prospects.tasks import sweep_imports_task
from tests.fixtures import csv_files

from .test_import_admin import batches, stored_files, text, upload, url

REFRESH = '<meta http-equiv="refresh"'


@pytest.fixture
def background(settings):
    """Files of more than 2 rows are imported by a worker (inline in the tests)."""
    settings.SOURCIER_IMPORT_SYNC_MAX_ROWS = 2


@pytest.fixture
def uploaded(member_client, workspace, tmp_path):
    upload(member_client, csv_files.excel_utf8_bom(tmp_path / "f.csv"))
    return batches(workspace).get()


def set_state(batch, **values):
    ImportBatch.objects.for_workspace(batch.workspace_id).filter(pk=batch.pk).update(**values)
    batch.refresh_from_db()
    return batch


def abandon(batch):
    """What a worker killed before its first chunk leaves behind: importing, lease run out."""
    return set_state(
        batch,
        status=ImportBatch.Status.IMPORTING,
        lease_token="a" * 32,
        lease_until=timezone.now() - dt.timedelta(seconds=5),
    )


def test_an_abandoned_import_offers_to_resume_and_resuming_dispatches_it(
    member_client, workspace, uploaded, background, django_capture_on_commit_callbacks
):
    batch = abandon(uploaded)

    page = text(member_client.get(url("change", batch.pk)))
    assert REFRESH not in page  # nothing to watch: the page waits for the person
    assert "Cet import ne progresse plus" in page
    assert 'id="resume-form"' in page and "Reprendre l'import" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = member_client.post(url("run", batch.pk), follow=True)

    assert "L'import se déroule en arrière-plan" in text(response)
    batch.refresh_from_db()
    assert (batch.status, batch.created_count) == (ImportBatch.Status.DONE, 3)
    assert Prospect.objects.for_workspace(workspace).count() == 3
    assert REFRESH not in text(member_client.get(url("change", batch.pk)))


def test_a_small_abandoned_import_resumes_in_the_request(member_client, workspace, uploaded):
    batch = abandon(uploaded)

    member_client.post(url("run", batch.pk))

    batch.refresh_from_db()
    assert (batch.status, batch.created_count) == (ImportBatch.Status.DONE, 3)


def test_a_running_import_says_until_when_and_cannot_be_started_twice(
    member_client, workspace, uploaded, background, settings, django_capture_on_commit_callbacks
):
    settings.SOURCIER_IMPORT_LEASE_SECONDS = 120
    running = imports.claim_import(uploaded)
    deadline = timezone.localtime(running.lease_until).strftime("%H:%M:%S")

    page = text(member_client.get(url("change", running.pk)))
    assert REFRESH in page
    assert f"S'il ne progresse plus d'ici {deadline}, il sera considéré comme abandonné" in page
    assert 'id="resume-form"' not in page

    with django_capture_on_commit_callbacks(execute=True) as sent:
        response = member_client.post(url("run", running.pk), follow=True)

    assert sent == []
    assert "Cet import est déjà en cours." in text(response)
    after = ImportBatch.objects.for_workspace(workspace).get(pk=running.pk)
    assert (after.status, after.lease_token) == (ImportBatch.Status.IMPORTING, running.lease_token)
    assert not Prospect.objects.for_workspace(workspace).exists()


@pytest.mark.parametrize(
    "state",
    [
        {"status": "importing"},  # no lease at all: stuck since before leases
        {"status": "importing", "lease_token": "", "lease_until": "future"},  # waiting
        {"status": "importing", "lease_token": "b" * 32, "lease_until": "past"},
        {"status": "failed", "error": "Le fichier envoyé n'est plus disponible."},
        {"status": "done"},
        {"status": "expired", "stored_file": ""},
    ],
)
def test_the_batch_page_answers_in_every_state(member_client, uploaded, state):
    moments = {"future": timezone.now() + dt.timedelta(minutes=2), "past": timezone.now()}
    values = {k: moments.get(v, v) if k == "lease_until" else v for k, v in state.items()}
    batch = set_state(uploaded, **values)

    response = member_client.get(url("change", batch.pk))
    assert response.status_code == 200
    page = text(response)
    live = batch.status == "importing" and state.get("lease_until") == "future"
    assert (REFRESH in page) == live
    resumable = batch.status == "failed" or (batch.status == "importing" and not live)
    assert ('id="resume-form"' in page) == resumable


def test_another_workspace_abandoned_import_is_a_404(
    member_client, other_workspace, other_member, tmp_path, django_capture_on_commit_callbacks
):
    with open(csv_files.excel_utf8_bom(tmp_path / "theirs.csv"), "rb") as fh:
        theirs = imports.create_batch(
            other_workspace, chunks=[fh.read()], filename="theirs.csv", user=other_member
        )
    theirs = abandon(theirs)

    with django_capture_on_commit_callbacks(execute=True) as sent:
        assert member_client.post(url("run", theirs.pk)).status_code == 404
    page = member_client.get(url("change", theirs.pk))
    missing = member_client.get(url("change", 999999))
    assert page.status_code == missing.status_code and "theirs.csv" not in text(page)

    assert sent == []
    theirs.refresh_from_db()
    assert (theirs.status, theirs.lease_token) == (ImportBatch.Status.IMPORTING, "a" * 32)
    assert not Prospect.objects.for_workspace(other_workspace).exists()


# --- Abandoned previews ----------------------------------------------------------------------


def test_an_untouched_preview_loses_its_file_and_says_so(
    member_client, workspace, uploaded, media_root, settings, django_capture_on_commit_callbacks
):
    settings.SOURCIER_IMPORT_PREVIEW_TTL_HOURS = 24
    recent = upload(member_client, csv_files.excel_utf8_bom(media_root.parent / "autre.csv"))
    assert recent.status_code == 302
    set_state(uploaded, touched_at=timezone.now() - dt.timedelta(hours=25))
    assert len(stored_files(media_root)) == 2

    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_imports_task.delay().get() == "resumed 0, expired 1"

    uploaded.refresh_from_db()
    assert (uploaded.status, uploaded.stored_file) == (ImportBatch.Status.EXPIRED, "")
    assert len(stored_files(media_root)) == 1  # the other, recent preview keeps its file
    # Coming back to the preview, the person is told what happened, in French.
    response = member_client.get(url("preview", uploaded.pk), follow=True)
    page = text(response)
    assert response.status_code == 200
    assert "Cet aperçu est resté inutilisé plus de 24 heures" in page
    assert f'href="{url("upload")}"' in page
    assert REFRESH not in page
    # Importing it does nothing; it can be deleted.
    member_client.post(url("run", uploaded.pk))
    assert not Prospect.objects.for_workspace(workspace).exists()
    assert member_client.post(url("delete", uploaded.pk), {"post": "yes"}).status_code == 302


def test_opening_a_preview_keeps_it(member_client, uploaded, media_root, settings):
    settings.SOURCIER_IMPORT_PREVIEW_TTL_HOURS = 24
    set_state(uploaded, touched_at=timezone.now() - dt.timedelta(hours=23))

    member_client.get(url("preview", uploaded.pk))

    assert imports.expire_previews(now=timezone.now() + dt.timedelta(hours=2)) == 0
    uploaded.refresh_from_db()
    assert uploaded.status == ImportBatch.Status.PREVIEW
    assert len(stored_files(media_root)) == 1


def test_previews_are_kept_forever_when_the_ttl_is_zero(uploaded, settings):
    settings.SOURCIER_IMPORT_PREVIEW_TTL_HOURS = 0
    assert imports.expire_previews(now=timezone.now() + dt.timedelta(days=365)) == 0
