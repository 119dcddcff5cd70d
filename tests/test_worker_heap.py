"""A worker freezes its start-up objects before its pool forks (`config.heap`): a full garbage
collection mid-task no longer walks Django and the app's modules again."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECK = """
import gc
import sys
import django
django.setup()
from celery.signals import worker_init
import config.celery
before = gc.get_freeze_count()
assert "dns.resolver" not in sys.modules
worker_init.send(sender=None)
assert "dns.resolver" in sys.modules  # the discovery tasks' DNS library, before the fork
print(before, gc.get_freeze_count())
"""


def test_a_worker_freezes_its_startup_heap_when_it_starts():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    done = subprocess.run(
        [sys.executable, "-c", CHECK], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    before, after = map(int, done.stdout.split())
    assert before == 0
    assert after > 10_000  # Django and the app's modules
