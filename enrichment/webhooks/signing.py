"""Standard Webhooks 1.0 signatures (https://www.standardwebhooks.com/, "Signature scheme").

Pure: secrets, message ids and times in, header values out; no ORM, no settings.

A secret is `whsec_` + base64 of the key bytes; the signed content is `{id}.{timestamp}.{body}`;
the signature header lists `v1,<base64 HMAC-SHA256>` values separated by spaces, one per secret
the receiver may still hold (both while a rotated secret overlaps with its successor).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets as random
from collections.abc import Mapping, Sequence

PREFIX = "whsec_"
MIN_KEY_BYTES = 24
KEY_BYTES = 32
# How far a receiver lets a timestamp drift before refusing the message (the spec's default).
TOLERANCE_SECONDS = 5 * 60


class BadSecret(ValueError):
    """Not a `whsec_` secret of at least 24 bytes."""


def generate_secret() -> str:
    """A new endpoint secret: 32 random bytes, shown once to the person who asked for it."""
    return PREFIX + base64.b64encode(random.token_bytes(KEY_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The key bytes of a `whsec_` secret (raises BadSecret)."""
    if not secret.startswith(PREFIX):
        raise BadSecret("a webhook secret starts with whsec_")
    try:
        key = base64.b64decode(secret[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadSecret("a webhook secret is base64 after whsec_") from exc
    if len(key) < MIN_KEY_BYTES:
        raise BadSecret(f"a webhook secret holds at least {MIN_KEY_BYTES} bytes")
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,` signature of `{msg_id}.{timestamp}.{body}`."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(
    secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three headers of one attempt: every secret in `secrets` signs (newest first)."""
    if not secrets:
        raise BadSecret("at least one secret signs a message")
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(s, msg_id, timestamp, body) for s in secrets),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: int,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """What a receiver does: a fresh timestamp and one matching `v1` signature."""
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        msg_id = lowered["webhook-id"]
        timestamp = int(lowered["webhook-timestamp"])
        offered = lowered["webhook-signature"].split(" ")
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, msg_id, timestamp, body).encode()
    return any(hmac.compare_digest(expected, candidate.encode()) for candidate in offered)
