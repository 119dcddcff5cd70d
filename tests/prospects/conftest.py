import threading
from pathlib import Path

import pytest
from django.db import connection

from prospects import imports
from prospects.models import ImportBatch
from prospects.signals import prospects_created


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploaded files go to a throw-away directory, never to var/."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def make_batch(workspace, member):
    """A batch for a file on disk, as the upload page creates it."""

    def make(path: Path, *, target=None) -> ImportBatch:
        with open(path, "rb") as fh:
            return imports.create_batch(
                target or workspace,
                chunks=iter(lambda: fh.read(4096), b""),
                filename=path.name,
                user=member,
            )

    return make


@pytest.fixture
def created_signals():
    """What `prospects_created` carried, as another app's receiver would see it."""
    received: list[dict] = []

    def receiver(sender, workspace_id, prospect_ids, **kwargs):
        received.append(
            {
                "workspace_id": workspace_id,
                "prospect_ids": list(prospect_ids),
                # Where the chunk was committed: which thread, on which connection.
                "thread": threading.current_thread().name,
                "connection": id(connection.connection),
            }
        )

    prospects_created.connect(receiver, weak=False)
    yield received
    prospects_created.disconnect(receiver)
