import pytest
from django.core.cache import cache
from django.test import Client

from prospects.api_keys import create_api_key


@pytest.fixture(autouse=True)
def _fresh_rate_counts():
    """Rate-limit counters live in the cache: each test starts with none."""
    cache.clear()
    yield
    cache.clear()


class ApiClient:
    """A test client that sends one API key and JSON bodies."""

    def __init__(self, secret: str | None, **headers: str) -> None:
        self.client = Client()
        self.headers = dict(headers)
        if secret is not None:
            self.headers["Authorization"] = f"Bearer {secret}"

    def get(self, path: str, **kw):
        return self.client.get(path, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def delete(self, path: str, **kw):
        return self.client.delete(path, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def post(self, path: str, data=None, *, raw: str | None = None, **kw):
        import json

        body = raw if raw is not None else json.dumps(data if data is not None else {})
        headers = {**self.headers, **kw.pop("headers", {})}
        return self.client.post(path, body, content_type="application/json", headers=headers, **kw)


@pytest.fixture
def admin_key(workspace):
    return create_api_key(workspace, name="n8n", role="admin")


@pytest.fixture
def member_key(workspace):
    return create_api_key(workspace, name="crm", role="member")


@pytest.fixture
def other_key(other_workspace):
    return create_api_key(other_workspace, name="theirs", role="admin")


@pytest.fixture
def api(admin_key) -> ApiClient:
    return ApiClient(admin_key.secret)


@pytest.fixture
def member_api(member_key) -> ApiClient:
    return ApiClient(member_key.secret)


@pytest.fixture
def other_api(other_key) -> ApiClient:
    return ApiClient(other_key.secret)
