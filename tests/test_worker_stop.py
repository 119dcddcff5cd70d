"""A real worker stops cleanly when its whole process group gets SIGTERM, as honcho (`make run`,
the Procfile) and `kill -- -PGID` send it: a warm shutdown, exit code 0, no error line.

It runs on whatever broker the suite is configured with: the filesystem queue of the embedded
default (in a throw-away var dir), or Redis in the PostgreSQL + Redis pass.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]
# A bound, not a measurement: the stop takes a few seconds; before the fix it never ended.
# (honcho itself sends SIGKILL 5 s after its SIGTERM.)
STOP_BOUND_SECONDS = 15
READY_BOUND_SECONDS = 90


def pool_processes(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(child) for child in children]


def wait_until(condition, bound: float, what: str, log: Path) -> None:
    """Poll `condition` until it holds; fail with the worker's log past `bound` seconds."""
    deadline = time.monotonic() + bound
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not reached:\n{log.read_text(errors='replace')}")
        time.sleep(0.1)


def test_a_worker_stops_cleanly_when_its_process_group_gets_sigterm(tmp_path):
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "SOURCIER_VAR_DIR": str(tmp_path),
        "SECRET_KEY": settings.SECRET_KEY,
        "SOURCIER_FERNET_KEYS": ",".join(settings.SOURCIER_FERNET_KEYS),
        "SOURCIER_SUPPRESSION_KEY": settings.SOURCIER_SUPPRESSION_KEY,
        "LOG_LEVEL": "INFO",
    }
    with open(log, "wb") as output:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "--quiet",
                "worker",
                "--concurrency",
                "2",
                # Its own queue: on a shared Redis it takes nobody else's messages.
                "--queues",
                f"stop-test-{os.getpid()}",
                "--hostname",
                f"stop-test-{os.getpid()}@localhost",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until(
            lambda: "ready." in log.read_text(errors="replace"),
            READY_BOUND_SECONDS,
            "worker ready",
            log,
        )
        wait_until(
            lambda: len(pool_processes(worker.pid)) == 2,
            READY_BOUND_SECONDS,
            "pool processes started",
            log,
        )
        # Each pool process moves to its own group as it starts (config/celery.py), so that
        # the SIGTERM below reaches the main process only; give them that moment.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all(
            os.getpgid(child) == child for child in pool_processes(worker.pid)
        ):
            time.sleep(0.1)
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            code = worker.wait(timeout=STOP_BOUND_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the worker did not stop:\n{log.read_text(errors='replace')}")
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
    output = log.read_text(errors="replace")
    assert code == 0, output
    assert "Warm shutdown" in output
    assert "ERROR" not in output and "Traceback" not in output, output
