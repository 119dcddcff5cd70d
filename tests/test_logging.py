"""One log format and clock for every process; the beat sweeper is silent when idle."""

import logging

import pytest
from celery.app import trace
from django.conf import settings

from config.log import RoutineTaskFilter, UTCFormatter
from enrichment import sweeper
from enrichment.models import ProviderBatch
from enrichment.tasks import (
    dispatch_due_work_task,
    expire_leases_task,
    purge_discovered_contacts_task,
)
from prospects.tasks import sweep_imports_task

SWEEPER = "enrichment.tasks.dispatch_due_work_task"


def record(name, message, args=(), level=logging.INFO):
    return logging.LogRecord(name, level, __file__, 1, message, args, None)


def test_every_line_is_stamped_in_utc_with_its_offset():
    line = record("enrichment", "hello")
    line.created, line.msecs = 1_772_441_704.123, 123  # 08:55:04 UTC, 09:55:04 in Lyon
    formatted = UTCFormatter("%(asctime)s %(levelname)s %(name)s %(message)s").format(line)
    assert formatted == "2026-03-02T08:55:04.123+00:00 INFO enrichment hello"


def test_the_console_handler_uses_that_format_and_filter():
    (console,) = [h for h in logging.getLogger().handlers if isinstance(h.formatter, UTCFormatter)]
    assert any(isinstance(f, RoutineTaskFilter) for f in console.filters)


def test_celery_lines_about_the_routine_beat_tasks_are_dropped_and_others_kept():
    keep = RoutineTaskFilter().filter
    context = {"id": "c0ffee", "name": SWEEPER, "runtime": 0.01, "return_value": "'dispatched'"}
    assert not keep(record("celery.worker.strategy", trace.LOG_RECEIVED, context))
    assert not keep(record("celery.app.trace", trace.LOG_SUCCESS, context))
    assert not keep(
        record(
            "celery.beat",
            "Scheduler: Sending due task %s (%s)",
            ("dispatch-due-enrichment", SWEEPER),
        )
    )
    submit = {**context, "name": "enrichment.tasks.submit_dropcontact_task"}
    assert keep(record("celery.app.trace", trace.LOG_SUCCESS, submit))
    failed = record("celery.app.trace", trace.LOG_FAILURE, context, level=logging.ERROR)
    assert keep(failed)


@pytest.mark.parametrize("entry", sorted(settings.CELERY_BEAT_SCHEDULE))
def test_celery_says_nothing_about_any_beat_task(entry):
    # Each sends a line from beat and two from the worker every few seconds: ~50,000 a day.
    task = settings.CELERY_BEAT_SCHEDULE[entry]["task"]
    keep = RoutineTaskFilter().filter
    context = {"id": "c0ffee", "name": task, "runtime": 0.01, "return_value": "'resumed 0'"}
    assert not keep(record("celery.beat", "Scheduler: Sending due task %s (%s)", (entry, task)))
    assert not keep(record("celery.worker.strategy", trace.LOG_RECEIVED, context))
    assert not keep(record("celery.app.trace", trace.LOG_SUCCESS, context))


def test_the_sweeper_logs_nothing_when_there_is_nothing_to_do(db, caplog):
    with caplog.at_level(logging.DEBUG):
        dispatch_due_work_task()
        expire_leases_task()
        sweep_imports_task()
        purge_discovered_contacts_task()
    assert [r for r in caplog.records if r.levelno >= logging.INFO] == []


def test_the_sweeper_says_what_it_dispatched(workspace, caplog):
    ProviderBatch.objects.create(workspace=workspace)  # due now, nothing in it
    with caplog.at_level(logging.INFO, logger="enrichment.sweeper"):
        sweeper.dispatch_due_work()
    (line,) = [r for r in caplog.records if r.name == "enrichment.sweeper"]
    assert line.getMessage().startswith("sweeper: 1 batches, 0 workspaces and 0 items dispatched")
