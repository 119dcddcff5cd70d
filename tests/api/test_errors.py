"""One error envelope, in French or English, never a 500; rate limits with Retry-After."""

import pytest

from .test_auth import assert_envelope


def test_bad_json_is_422(api):
    assert_envelope(api.post("/api/v1/prospects", raw="{not json"), 422, "invalid_json")


@pytest.mark.parametrize(
    "body",
    [[], {"email": 5}, {"email": {"a": 1}}, {"email": "x" * 5000}, "texte", None, 12],
)
def test_invalid_bodies_are_422_never_500(api, body):
    response = api.post("/api/v1/prospects", body)
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] in {"validation_error", "invalid"}


def test_validation_errors_name_the_field(api):
    body = assert_envelope(api.post("/api/v1/prospects", {"email": 5}), 422, "validation_error")
    assert body["error"]["fields"][0]["loc"][-1] == "email"


def test_field_errors_speak_the_request_s_language_and_give_their_type(api):
    url = "/api/v1/prospects?limit=100000&page=premiere"
    french = api.get(url).json()["error"]["fields"]
    english = api.get(url, headers={"Accept-Language": "en"}).json()["error"]["fields"]
    by_field = {error["loc"][-1]: error for error in french}
    assert by_field["limit"]["type"] == "less_than_equal"
    assert by_field["limit"]["msg"] == "Doit valoir au plus 100."
    assert by_field["page"]["msg"] == "Un nombre entier est attendu."
    assert {error["loc"][-1]: error["msg"] for error in english}["limit"] == "Must be at most 100."
    missing = api.post("/api/v1/enrichment-jobs", {}).json()["error"]["fields"]
    assert [(e["type"], e["msg"]) for e in missing] == [("missing", "Ce champ est obligatoire.")]


def test_unknown_path_and_method_are_envelopes(api):
    assert_envelope(api.get("/api/v1/nothing-here"), 404, "not_found")
    response = api.client.delete("/api/v1/prospects", headers=api.headers)
    assert_envelope(response, 405, "method_not_allowed")


def test_messages_follow_accept_language(api):
    french = api.get("/api/v1/prospects/999999", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    english = api.get("/api/v1/prospects/999999", headers={"Accept-Language": "en-GB,en;q=0.8"})
    default = api.get("/api/v1/prospects/999999")
    assert french.json()["error"]["code"] == english.json()["error"]["code"] == "not_found"
    assert english.json()["error"]["message"] == "Not found."
    assert french.json()["error"]["message"] == "Introuvable."
    assert default.json() == french.json()
    assert english["Content-Language"] == "en"
    assert "Accept-Language" in english["Vary"]


def test_service_messages_are_translated_too(api):
    body = {"prospect_ids": [999999]}
    english = api.post("/api/v1/enrichment-jobs", body, headers={"Accept-Language": "en"})
    french = api.post("/api/v1/enrichment-jobs", body, headers={"Accept-Language": "fr"})
    assert english.json()["error"]["message"].startswith("Unknown prospect id(s)")
    assert french.json()["error"]["message"] != english.json()["error"]["message"]


def test_rate_limit_per_key_is_429_with_retry_after(api, member_api, settings):
    settings.SOURCIER_API_RATE = "3/m"
    for _ in range(3):
        assert api.get("/api/v1/stats").status_code == 200
    limited = api.get("/api/v1/stats")
    assert_envelope(limited, 429, "rate_limited")
    assert 1 <= int(limited["Retry-After"]) <= 60
    # Another key of the same address has its own count.
    assert member_api.get("/api/v1/stats").status_code == 200


def test_rate_limit_per_address_counts_every_key(api, member_api, settings):
    settings.SOURCIER_API_IP_RATE = "4/m"
    for client in (api, member_api, api, member_api):
        assert client.get("/api/v1/stats").status_code == 200
    limited = member_api.get("/api/v1/stats")
    assert_envelope(limited, 429, "rate_limited")
    assert int(limited["Retry-After"]) >= 1
    # Unauthenticated guessing counts against the address too.
    settings.SOURCIER_API_IP_RATE = "1/m"
    from django.core.cache import cache

    cache.clear()
    from .conftest import ApiClient

    guesser = ApiClient("sk_guess")
    assert guesser.get("/api/v1/stats").status_code == 401
    assert guesser.get("/api/v1/stats").status_code == 429


def test_a_body_past_the_upload_limit_is_an_envelope(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api.post("/api/v1/prospects", {"first_name": "x" * 2000})
    assert_envelope(response, 413, "request_too_large")
