"""Real Celery workers on PostgreSQL + Redis against the sandbox vendors, over loopback.

These tests run in the PostgreSQL + Redis pass (`DATABASE_URL=postgres://… REDIS_URL=redis://…
make test`); on the embedded SQLite default they are skipped with that reason.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app
from enrichment import sweeper
from enrichment.models import EnrichmentItem
from enrichment.sandbox.server import start_sandbox
from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]


def _postgres_and_redis() -> bool:
    return connection.vendor == "postgresql" and bool(settings.REDIS_URL)


@pytest.fixture(autouse=True)
def _needs_postgres_and_redis(request):
    if connection.vendor != "postgresql":
        pytest.skip("worker tests run in the PostgreSQL + Redis pass (DATABASE_URL, REDIS_URL)")
    require(bool(settings.REDIS_URL), "REDIS_URL is needed for the worker tests")


@pytest.fixture
def sandbox():
    server = start_sandbox(seed=11, size=90, ready_after=0.5)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def broker():
    """Tasks go through Redis for real (the rest of the suite runs them inline)."""
    celery_app.conf.task_always_eager = False
    with celery_app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")
    try:
        yield celery_app
    finally:
        celery_app.conf.task_always_eager = True


class Workers:
    """Celery worker processes sharing the test database, each in its own process group."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen] = []

    def start(self, concurrency: int = 4, *extra: str) -> subprocess.Popen:
        """Start a worker; `extra` arguments go to `celery worker` (e.g. "--beat")."""
        index = len(self.procs)
        log = open(self.log_dir / f"worker{index}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                str(concurrency),
                "--hostname",
                f"w{index}-{os.getpid()}@localhost",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                *extra,
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen) -> None:
        """SIGKILL the worker and its pool children: no cleanup, no acknowledgement."""
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)

    def logs(self) -> str:
        return "\n".join(
            path.read_text(errors="replace")[-3000:] for path in sorted(self.log_dir.glob("*.log"))
        )


@pytest.fixture
def workers_factory(sandbox, broker, tmp_path) -> Iterator[Callable[..., Workers]]:
    made: list[Workers] = []

    def make(**overrides: str) -> Workers:
        db = connection.settings_dict
        env = {
            **os.environ,
            "DATABASE_URL": (
                f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
                f"/{db['NAME']}"
            ),
            "REDIS_URL": settings.REDIS_URL,
            "SECRET_KEY": settings.SECRET_KEY,
            "SOURCIER_FERNET_KEYS": ",".join(settings.SOURCIER_FERNET_KEYS),
            "SOURCIER_SUPPRESSION_KEY": settings.SOURCIER_SUPPRESSION_KEY,
            "SOURCIER_SANDBOX_URL": sandbox.url,
            "SOURCIER_DROPCONTACT_POLL_INTERVAL": "0.3",
            "SOURCIER_RETRY_DELAYS": "1,1,1",
            "SOURCIER_LEASE_SECONDS": "8",
            "SOURCIER_PROVIDER_TIMEOUT": "2",
            "LOG_LEVEL": "WARNING",
            **overrides,
        }
        workers = Workers(env, tmp_path)
        made.append(workers)
        return workers

    yield make
    for workers in made:
        workers.stop_all()


def settle(
    workspace_id: int, *, expected: int, timeout: float, workers: Workers | None = None
) -> None:
    """Play the beat sweeper until the workspace's `expected` items exist and none is queued
    or in flight (items are created by a worker, so they appear a moment after the prospects)."""
    deadline = time.monotonic() + timeout
    items = EnrichmentItem.objects.for_workspace(workspace_id)
    while time.monotonic() < deadline:
        sweeper.dispatch_due_work()
        created, active = items.count(), items.active().count()
        if created >= expected and active == 0:
            return
        time.sleep(0.5)
    logs = workers.logs() if workers else ""
    pytest.fail(f"{created}/{expected} items, {active} still active after {timeout:.0f} s\n{logs}")
