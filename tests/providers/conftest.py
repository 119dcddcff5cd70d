# The adapter tests talk to the same seeded sandbox as the sandbox tests.
from tests.sandbox.conftest import _server, sandbox, world  # noqa: F401
