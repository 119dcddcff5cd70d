"""Standard Webhooks 1.0 signatures: the spec's known answer, and the reference library agrees."""

import datetime as dt
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from enrichment.webhooks import signing

# The test vector published with the Standard Webhooks reference libraries.
KAT_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
KAT_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
KAT_TIMESTAMP = 1614265330
KAT_BODY = b'{"test": 2432232314}'
KAT_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_known_answer():
    assert signing.sign(KAT_SECRET, KAT_ID, KAT_TIMESTAMP, KAT_BODY) == KAT_SIGNATURE


def test_headers_carry_id_timestamp_and_signature():
    headers = signing.signed_headers([KAT_SECRET], KAT_ID, KAT_TIMESTAMP, KAT_BODY)
    assert headers == {
        "webhook-id": KAT_ID,
        "webhook-timestamp": str(KAT_TIMESTAMP),
        "webhook-signature": KAT_SIGNATURE,
    }


def test_generated_secret_is_32_bytes_and_accepted_by_the_reference_library():
    secret = signing.generate_secret()
    assert secret.startswith("whsec_")
    assert len(signing.secret_key(secret)) == 32
    assert secret != signing.generate_secret()
    Webhook(secret)


@pytest.mark.parametrize(
    "secret",
    [
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",  # no prefix
        "whsec_not base64!",
        "whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=",  # 23 bytes
        "whsec_",
    ],
)
def test_bad_secrets_are_refused(secret):
    with pytest.raises(signing.BadSecret):
        signing.sign(secret, "msg_1", 1, b"{}")


@given(
    body=st.dictionaries(st.text(max_size=20), st.integers() | st.text(max_size=30), max_size=5),
    msg_id=st.from_regex(r"msg_[A-Za-z0-9]{1,30}", fullmatch=True),
    timestamp=st.integers(min_value=1_600_000_000, max_value=2_000_000_000),
)
def test_the_reference_library_verifies_every_message_we_sign(body, msg_id, timestamp):
    secret = "whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYnk="
    payload = json.dumps(body)
    headers = signing.signed_headers([secret], msg_id, timestamp, payload.encode())
    reference = Webhook(secret)
    expected = reference.sign(msg_id, dt.datetime.fromtimestamp(timestamp, tz=dt.UTC), payload)
    assert headers["webhook-signature"] == expected


def test_the_reference_library_verifies_a_fresh_message():
    secret = signing.generate_secret()
    now = int(dt.datetime.now(tz=dt.UTC).timestamp())
    body = b'{"type":"job.completed","data":{"id":1}}'
    headers = signing.signed_headers([secret], "msg_abc", now, body)
    assert Webhook(secret).verify(body, headers) == {"type": "job.completed", "data": {"id": 1}}
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.generate_secret()).verify(body, headers)


def test_during_rotation_both_secrets_sign_and_either_verifies():
    new, old = signing.generate_secret(), signing.generate_secret()
    now = int(dt.datetime.now(tz=dt.UTC).timestamp())
    body = b'{"type":"prospect.verified"}'
    headers = signing.signed_headers([new, old], "msg_rot", now, body)
    signatures = headers["webhook-signature"].split(" ")
    assert len(signatures) == 2 and all(s.startswith("v1,") for s in signatures)
    for secret in (new, old):
        Webhook(secret).verify(body, headers)
        assert signing.verify(secret, headers, body, now=now)
    assert not signing.verify(signing.generate_secret(), headers, body, now=now)


def test_verify_refuses_a_stale_timestamp_and_a_changed_body():
    secret = signing.generate_secret()
    headers = signing.signed_headers([secret], "msg_1", 1_700_000_000, b"{}")
    assert signing.verify(secret, headers, b"{}", now=1_700_000_000 + 299)
    assert not signing.verify(secret, headers, b"{}", now=1_700_000_000 + 301)
    assert not signing.verify(secret, headers, b'{"x":1}', now=1_700_000_000)
