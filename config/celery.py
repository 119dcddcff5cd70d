"""Celery delivers work that the database records (DESIGN.md section 4)."""

import os

from celery import Celery
from celery.signals import (
    setup_logging,
    task_postrun,
    task_prerun,
    worker_init,
    worker_process_init,
)
from django.db import close_old_connections

from .heap import freeze_startup_heap
from .log import use_django_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("sourcier")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    # A task is acknowledged only once it has run, so a killed worker's task is redelivered;
    # every task is therefore safe to run twice.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_serializer="json",
    accept_content=["json"],
    result_serializer="json",
    task_ignore_result=True,
    result_backend=None,
    task_soft_time_limit=300,
    task_time_limit=360,
    timezone="Europe/Paris",
    enable_utc=True,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)
app.autodiscover_tasks()
# Django's LOGGING is the only logging configuration (one format and clock for every process).
setup_logging.connect(use_django_logging, weak=False)


@worker_init.connect
def _freeze_startup_heap(**kwargs) -> None:
    """The worker's start-up objects, out of the collector's reach before the pool forks."""
    freeze_startup_heap()


@worker_process_init.connect
def _own_process_group(**kwargs) -> None:
    """A pool process leaves the worker's process group.

    honcho (and `kill -- -PGID`) signal the whole group: SIGTERM reaching the pool processes
    directly killed them mid-shutdown ("exited with signal 15" errors), one of them holding the
    pool's queue lock, and the worker then hung until it was killed. Now only the main process
    gets the signal and stops its pool itself (warm shutdown); if it is killed outright, the
    pool processes die with it (Celery sets them a parent-death signal).
    """
    os.setpgid(0, 0)


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(task=None, **kwargs) -> None:
    """Around each task, what Django does around each request: a connection past its
    CONN_MAX_AGE, broken, or left inside a transaction is closed; a sound one is kept."""
    # An eager task runs inside its caller's transaction (tests): never close that one.
    if task is not None and not getattr(task.request, "is_eager", False):
        close_old_connections()
