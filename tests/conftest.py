import os

import pytest
from django.test import Client

from .factories import MembershipFactory, WorkspaceFactory
from .webhook_receiver import Receiver

PASSWORD = "motdepasse-solide-42"


@pytest.fixture(autouse=True, scope="session")
def _celery_runs_inline():
    """Tasks run in the test process unless a test starts real workers (tests/integration)."""
    from config.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield


@pytest.fixture(autouse=True)
def _no_batching_window(settings):
    """Unit tests send a partial Dropcontact batch at once (production waits ~2 s for more)."""
    settings.DROPCONTACT_BATCH_WINDOW_SECONDS = 0


def require(available: bool, reason: str) -> None:
    """Skip with a visible reason on a laptop that lacks a service; under CI it is a failure."""
    if available:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"required under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def workspace(db):
    return WorkspaceFactory(name="Acme Lyon", slug="acme-lyon")


@pytest.fixture
def other_workspace(db):
    return WorkspaceFactory(name="Concurrent Paris", slug="concurrent-paris")


@pytest.fixture
def member(workspace):
    return MembershipFactory(workspace=workspace, user__username="claire").user


@pytest.fixture
def admin_user(workspace):
    return MembershipFactory(workspace=workspace, user__username="mathieu", role="admin").user


@pytest.fixture
def other_member(other_workspace):
    return MembershipFactory(workspace=other_workspace, user__username="intrus").user


@pytest.fixture
def member_client(member) -> Client:
    client = Client()
    client.force_login(member)
    return client


@pytest.fixture
def admin_client_ws(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def receiver(settings):
    """A real webhook receiver on loopback, which the app is allowed to reach."""
    server = Receiver()
    settings.SOURCIER_WEBHOOK_ALLOWED_HOSTS = [f"127.0.0.1:{server.port}"]
    yield server
    server.stop()
