"""gunicorn's log lines in the format of every other process (config/log.py): UTC with offset.

Used by the Procfile (`--logger-class`); the access line's own timestamp is left out of its
format, the line's prefix carries it.
"""

from gunicorn.glogging import Logger

from .log import UTCFormatter

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class UTCLogger(Logger):
    def _set_handler(self, log, output, fmt, stream=None):
        super()._set_handler(log, output, UTCFormatter(FORMAT), stream=stream)
