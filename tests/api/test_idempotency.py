"""Idempotency-Key with Stripe's semantics: replay, 422 for another body, 409 while running."""

import datetime as dt
import json

from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from config.api_support import idempotency
from prospects.models import IdempotentRequest, Prospect

from .test_auth import assert_envelope

BODY = {"email": "lea.moreau@exemple.fr", "first_name": "Léa", "last_name": "Moreau"}


def post(api, body, key="cle-1", **headers):
    return api.post("/api/v1/prospects", body, headers={"Idempotency-Key": key, **headers})


def test_same_key_and_body_replays_the_stored_response(api, workspace):
    first = post(api, BODY)
    assert first.status_code == 201
    # Spaced and ordered differently: the same request.
    again = api.post(
        "/api/v1/prospects",
        raw='{ "last_name": "Moreau", "first_name": "Léa", "email": "lea.moreau@exemple.fr" }',
        headers={"Idempotency-Key": "cle-1"},
    )
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Prospect.objects.for_workspace(workspace).count() == 1


def test_without_a_key_a_retry_is_a_duplicate(api):
    assert api.post("/api/v1/prospects", BODY).status_code == 201
    assert_envelope(api.post("/api/v1/prospects", BODY), 409, "duplicate")


def test_a_refusal_is_replayed_too(api, workspace):
    api.post("/api/v1/prospects", BODY)
    first = post(api, BODY, key="cle-2")
    assert_envelope(first, 409, "duplicate")
    Prospect.objects.for_workspace(workspace).delete()
    replayed = post(api, BODY, key="cle-2")
    assert replayed.status_code == 409 and replayed.json() == first.json()


def test_same_key_with_another_body_is_422(api, workspace):
    post(api, BODY)
    other = post(api, {**BODY, "email": "autre@exemple.fr"})
    assert_envelope(other, 422, "idempotency_key_reused")
    assert Prospect.objects.for_workspace(workspace).count() == 1


def test_same_key_on_another_route_is_422(api):
    post(api, BODY)
    response = api.post("/api/v1/enrichment-jobs", BODY, headers={"Idempotency-Key": "cle-1"})
    assert_envelope(response, 422, "idempotency_key_reused")


def test_same_key_while_the_first_is_running_is_409(api, workspace):
    # The first request's claim, as its worker holds it while it runs.
    from django.test import RequestFactory

    request = RequestFactory().post("/api/v1/prospects", data=BODY, content_type="application/json")
    claimed = idempotency.claim(workspace, "cle-3", idempotency.fingerprint(request))
    assert claimed.outcome == "run"
    response = post(api, BODY, key="cle-3")
    assert_envelope(response, 409, "idempotency_key_in_use")
    assert response["Retry-After"]
    assert not Prospect.objects.for_workspace(workspace).exists()


def test_a_key_whose_request_died_can_be_retried(api, workspace):
    from django.test import RequestFactory

    request = RequestFactory().post("/api/v1/prospects", data=BODY, content_type="application/json")
    earlier = timezone.now() - idempotency.LOCK_FOR - dt.timedelta(seconds=1)
    idempotency.claim(workspace, "cle-4", idempotency.fingerprint(request), now=earlier)
    assert post(api, BODY, key="cle-4").status_code == 201


def test_keys_are_kept_24_hours(api, workspace):
    post(api, BODY)
    IdempotentRequest.objects.for_workspace(workspace).update(
        created_at=timezone.now() - dt.timedelta(hours=24, seconds=1)
    )
    Prospect.objects.for_workspace(workspace).delete()
    fresh = post(api, BODY)
    assert fresh.status_code == 201 and "Idempotent-Replayed" not in fresh
    assert Prospect.objects.for_workspace(workspace).count() == 1


def test_a_validation_failure_does_not_use_up_the_key(api):
    assert post(api, {"email": 5}, key="cle-5").status_code == 422
    assert post(api, BODY, key="cle-5").status_code == 201


def test_keys_belong_to_one_workspace(api, other_api, workspace, other_workspace):
    assert post(api, BODY).status_code == 201
    theirs = post(other_api, BODY)
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs
    assert Prospect.objects.for_workspace(other_workspace).count() == 1


def test_an_unusable_key_is_422(api):
    assert_envelope(post(api, BODY, key="x" * 300), 422, "idempotency_key_invalid")


def test_purge_forgets_old_keys(api, workspace):
    from prospects.api_keys import purge_idempotent_requests

    post(api, BODY)
    assert purge_idempotent_requests() == 0
    later = timezone.now() + dt.timedelta(hours=25)
    assert purge_idempotent_requests(now=later) == 1


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _request(body: str, path: str = "/api/v1/prospects"):
    from django.test import RequestFactory

    return RequestFactory().post(path, data=body, content_type="application/json")


@given(st.dictionaries(st.text(max_size=12), JSON_VALUES, max_size=6))
def test_the_same_object_is_the_same_request_however_it_is_written(body):
    compact = json.dumps(body, separators=(",", ":"))
    spaced = json.dumps(dict(reversed(list(body.items()))), indent=3, ensure_ascii=False)
    assert idempotency.fingerprint(_request(compact)) == idempotency.fingerprint(_request(spaced))
    changed = {**body, "a key longer than any drawn": 1}
    assert idempotency.fingerprint(_request(json.dumps(changed))) != idempotency.fingerprint(
        _request(compact)
    )
    other_route = _request(compact, "/api/v1/enrichment-jobs")
    assert idempotency.fingerprint(other_route) != idempotency.fingerprint(_request(compact))
