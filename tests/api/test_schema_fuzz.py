"""schemathesis over the whole published schema, through Django's WSGI app in this process: no
server error, and every check on each answer (status documented, body matching its schema and
content type, headers, invalid input refused, ...).

One built-in check is replaced by a stricter reading of it: `positive_data_acceptance` wants
every schema-valid request accepted, but a schema cannot say that "x@y" is not an email, that a
prospect is already verified or that a provider has no key; those refusals are 422s with their
own codes. What must never happen to schema-valid data is a *schema* refusal, which
`valid_data_is_never_a_validation_error` checks.
"""

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from prospects.api_keys import create_api_key
from tests.factories import ProspectFactory

from .support import make_discovery, make_job


def loopback(app):
    """Werkzeug's test client sends no REMOTE_ADDR, which a real server always sets; and, as
    Django's own test client does, the test's database connection (inside its transaction) is
    not closed at the end of each request."""

    def wrapped(environ, start_response):
        environ.setdefault("REMOTE_ADDR", "127.0.0.1")
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            return app(environ, start_response)
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)

    return wrapped


# Reading the schema touches no table: it can be loaded when the tests are collected.
SCHEMA = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", loopback(get_wsgi_application()))
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


SCHEMA_REFUSALS = {"validation_error", "invalid_json"}


def valid_data_is_never_a_validation_error(ctx, response, case) -> None:
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if response.status_code == 422:
        code = response.json()["error"]["code"]
        assert code not in SCHEMA_REFUSALS, f"schema-valid request refused: {response.text}"
    else:
        assert response.status_code < 400 or response.status_code in {401, 403, 404, 409, 429}


@pytest.fixture
def secret(workspace, other_workspace, settings):
    settings.SOURCIER_API_RATE = settings.SOURCIER_API_IP_RATE = "100000/m"
    settings.SOURCIER_API_ENRICH_BUDGET = 0.05
    cache.clear()
    # Something to find: a job with records, prospects, and another workspace's objects.
    make_job(workspace)
    make_job(other_workspace)
    ProspectFactory(workspace=workspace, status="needs_review")
    make_discovery(workspace)
    make_discovery(other_workspace, status="failed")
    return create_api_key(workspace, name="fuzz", role="admin").secret


def test_the_schema_covers_every_route():
    from .test_cross_workspace import api_routes

    assert sorted(op.label for op in OPERATIONS) == sorted(f"{m} {p}" for m, p in api_routes())
    assert len(OPERATIONS) >= 14


@pytest.mark.parametrize("mode", list(GenerationMode), ids=str)
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
def test_no_server_error_and_every_check_passes(operation, mode, secret):
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    def run(case):
        case.call_and_validate(
            headers={"Authorization": f"Bearer {secret}"},
            excluded_checks=[positive_data_acceptance],
            additional_checks=[valid_data_is_never_a_validation_error],
        )

    run()
