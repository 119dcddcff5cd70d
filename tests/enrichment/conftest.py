import pytest
import responses

from enrichment import credentials


@pytest.fixture
def keyed(workspace):
    """The workspace with a Dropcontact key."""
    credentials.set_api_key(workspace, "dropcontact", "dc-secret-key-1234")
    return workspace


@pytest.fixture
def http():
    """Provider HTTP replayed by `responses` (the process boundary)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
