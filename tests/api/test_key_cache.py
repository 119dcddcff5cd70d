"""A key found is kept in the shared cache: later requests skip its query, and revoking it (or
changing its workspace) is seen at the very next request all the same."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from prospects import api_keys
from prospects.models import ApiKey

from .conftest import ApiClient


@pytest.fixture
def kept(settings):
    settings.SOURCIER_API_KEY_CACHE_SECONDS = 60


def key_queries(call) -> tuple[int, object]:
    """How many queries read the api-key table, and the response."""
    with CaptureQueriesContext(connection) as captured:
        response = call()
    table = ApiKey._meta.db_table
    reads = [q for q in captured.captured_queries if f'FROM "{table}"' in q["sql"]]
    return len(reads), response


def test_a_kept_key_is_not_read_again(kept, api):
    assert key_queries(lambda: api.get("/api/v1/stats"))[0] == 1
    reads, response = key_queries(lambda: api.get("/api/v1/stats"))
    assert response.status_code == 200
    assert reads == 0


def test_without_the_setting_the_key_is_read_each_time(settings, api):
    settings.SOURCIER_API_KEY_CACHE_SECONDS = 0
    api.get("/api/v1/stats")
    assert key_queries(lambda: api.get("/api/v1/stats"))[0] == 1


def test_a_revoked_key_is_refused_at_once_despite_the_cache(kept, workspace, admin_key):
    client = ApiClient(admin_key.secret)
    for _ in range(2):
        assert client.get("/api/v1/prospects").status_code == 200
    assert api_keys.revoke_api_key(workspace, admin_key.api_key.pk)
    response = client.get("/api/v1/prospects")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_revoking_one_key_leaves_the_others_working(kept, workspace, admin_key, member_key):
    admin, member = ApiClient(admin_key.secret), ApiClient(member_key.secret)
    assert admin.get("/api/v1/stats").status_code == 200
    assert member.get("/api/v1/stats").status_code == 200
    assert api_keys.revoke_api_key(workspace, admin_key.api_key.pk)
    assert admin.get("/api/v1/stats").status_code == 401
    assert member.get("/api/v1/stats").status_code == 200


def test_a_changed_workspace_is_read_again(kept, api, workspace):
    api.get("/api/v1/stats")
    workspace.name = "Acme Lyon 2"
    workspace.save()
    reads, response = key_queries(lambda: api.get("/api/v1/stats"))
    assert response.status_code == 200
    assert reads == 1


def test_a_lost_generation_trusts_nothing_kept(kept, api):
    from django.core.cache import cache

    api.get("/api/v1/stats")
    cache.delete(api_keys.GENERATION)
    assert key_queries(lambda: api.get("/api/v1/stats"))[0] == 1
    assert key_queries(lambda: api.get("/api/v1/stats"))[0] == 1  # kept under the new one
    assert key_queries(lambda: api.get("/api/v1/stats"))[0] == 0


def test_a_kept_key_still_records_its_use(kept, api, admin_key):
    api.get("/api/v1/stats")
    first = ApiKey.objects.unscoped().get(pk=admin_key.api_key.pk).last_used_at
    assert first is not None
    ApiKey.objects.unscoped().filter(pk=admin_key.api_key.pk).update(last_used_at=None)
    api.get("/api/v1/stats")  # the kept copy says it was just used: no write
    assert ApiKey.objects.unscoped().get(pk=admin_key.api_key.pk).last_used_at is None
