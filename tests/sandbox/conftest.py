import pytest

from enrichment.sandbox.server import start_sandbox
from enrichment.sandbox.world import World
from tests.sandbox.support import READY_AFTER


@pytest.fixture(scope="session")
def world() -> World:
    return World.build(42, 60)


@pytest.fixture(scope="session")
def _server():
    with start_sandbox(seed=42, size=60, ready_after=READY_AFTER) as server:
        yield server


@pytest.fixture
def sandbox(_server):
    """The shared sandbox, fresh for each test: no calls, no faults, full credits."""
    _server.reset()
    yield _server
    _server.reset()
