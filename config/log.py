"""One log format for every process (web, worker, beat): UTC time with its offset, then level,
logger and message; and a filter that keeps the beat sweeper's routine lines out of the log.

Django sets the process time zone to TIME_ZONE, so `asctime` would be Paris time in one
process and whatever Celery's own formatter chose in another; every line is UTC here.
"""

from __future__ import annotations

import logging
import time

# The tasks beat sends every few seconds: what they do is logged by the tasks themselves, and
# only when there was something to do.
ROUTINE_TASKS = (
    "enrichment.tasks.dispatch_due_work_task",
    "enrichment.tasks.expire_leases_task",
    "prospects.tasks.sweep_imports_task",
    "prospects.tasks.purge_idempotency_keys_task",
    "enrichment.tasks.purge_discovered_contacts_task",
    "enrichment.tasks.recheck_email_probes_task",
)
# Celery's loggers that write a line per task sent (beat), received (worker) and finished.
TASK_LOGGERS = ("celery.beat", "celery.worker.strategy", "celery.app.trace")


class UTCFormatter(logging.Formatter):
    """`2026-03-02T08:15:04.123+00:00 INFO name message`."""

    converter = time.gmtime
    default_time_format = "%Y-%m-%dT%H:%M:%S"
    default_msec_format = "%s.%03d+00:00"


class RoutineTaskFilter(logging.Filter):
    """Drop Celery's INFO lines about the routine beat tasks; keep every other line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO or record.name not in TASK_LOGGERS:
            return True
        message = record.getMessage()
        return not any(task in message for task in ROUTINE_TASKS)


def use_django_logging(**kwargs) -> None:
    """Celery's `setup_logging` hook: keep the LOGGING that Django configured, and nothing else.

    Connected, it stops Celery from adding its own handlers (its own format and clock) to the
    root and to the multiprocessing logger; the latter is sent to the root handler instead.
    """
    logging.getLogger("multiprocessing").propagate = True
