"""The kombu filesystem transport with atomic writes, for the embedded default.

kombu writes a message file in place; a worker polling every 50 ms can move and read it before
the bytes are written, get an empty file and die on a JSON error. Writing to a side folder and
renaming into the queue (atomic on one filesystem) means a worker only ever sees whole messages.
"""

import os
import uuid
from time import monotonic

from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

# Longest wait for a message in one poll of the worker's loop (see Transport.drain_events).
DRAIN_SECONDS = 0.25


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        staging = os.path.join(os.path.dirname(self.data_folder_out.rstrip("/")), "staging")
        os.makedirs(staging, exist_ok=True)
        temporary = os.path.join(staging, name)
        with open(temporary, "wb") as handle:
            handle.write(str_to_bytes(dumps(payload)))
        os.replace(temporary, os.path.join(self.data_folder_out, name))


class Transport(filesystem.Transport):
    Channel = Channel

    @property
    def default_connection_params(self):
        # A folder has no host: with kombu's default 'localhost' every process warned at start
        # that it had assumed one.
        return {"port": self.default_port, "hostname": ""}

    def drain_events(self, connection, timeout=None):
        # The worker's loop asks for up to 2 s of polling and looks at a pending shutdown only
        # between two asks: at 2 s a warm shutdown took 3-4 s before even stopping the pool.
        if timeout is None or timeout > DRAIN_SECONDS:
            timeout = DRAIN_SECONDS
        return super().drain_events(connection, timeout=timeout)
