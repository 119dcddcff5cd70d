"""`Idempotency-Key` with Stripe's semantics, kept in the database (one row per workspace and
key): the same key and body replay the stored response; the same key with another body is a
422; the same key while the first request is still being answered is a 409; 24 hours."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from prospects.api_models import IDEMPOTENCY_KEPT_FOR as KEEP_FOR
from prospects.models import IdempotentRequest, Workspace

# A request still unanswered after this long died with its worker: the key is free again.
# Longer than any request may take (the synchronous enrichment has a 10 s budget).
LOCK_FOR = dt.timedelta(seconds=60)
# Answers that are not stored: the request did not run (refused before its route, throttled,
# failed validation) or failed on our side; retrying with the same key runs it then.
NOT_STORED_CODES = frozenset(
    {
        "unauthenticated",
        "csrf_failed",
        "workspace_required",
        "rate_limited",
        "validation_error",
        "invalid_json",
        "server_error",
    }
)


@dataclass
class Claim:
    outcome: str  # "run", "replay", "mismatch" or "busy"
    record: IdempotentRequest | None = None
    token: str = ""


def valid_key(key: str) -> bool:
    return 0 < len(key) <= 255 and key.isprintable() and key.isascii()


def fingerprint(request: HttpRequest) -> str:
    """The request as a hash: method, path and the JSON body in a canonical form (the same
    object spaced or ordered differently is the same request)."""
    body = request.body
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))
        body = canonical.encode()
    except (ValueError, UnicodeDecodeError):
        pass
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def claim(workspace: Workspace, key: str, print_: str, *, now: dt.datetime | None = None) -> Claim:
    """Take the key for this request, or say why not (replay, mismatch, busy)."""
    now = now or timezone.now()
    rows = IdempotentRequest.objects.for_workspace(workspace)
    for _attempt in range(3):
        token = secrets.token_hex(16)
        try:
            with transaction.atomic():
                record = IdempotentRequest.objects.create(
                    workspace=workspace,
                    key=key,
                    fingerprint=print_,
                    lock_token=token,
                    locked_until=now + LOCK_FOR,
                    created_at=now,
                )
            return Claim("run", record, token)
        except IntegrityError:
            pass
        record = rows.filter(key=key).first()
        if record is None:
            continue  # expired and deleted meanwhile: try again
        if record.created_at <= now - KEEP_FOR:
            rows.filter(pk=record.pk, created_at=record.created_at).delete()
            continue
        if record.fingerprint != print_:
            return Claim("mismatch", record)
        if record.status_code is not None:
            return Claim("replay", record)
        if record.locked_until and record.locked_until > now:
            return Claim("busy", record)
        # Its request died unanswered: take the key over, unless another retry just did.
        taken = rows.filter(
            pk=record.pk, status_code__isnull=True, lock_token=record.lock_token
        ).update(lock_token=token, locked_until=now + LOCK_FOR)
        return Claim("run", record, token) if taken else Claim("busy", record)
    return Claim("busy")


def settle(claimed: Claim, response: HttpResponse) -> None:
    """Store the answer for replays, or free the key when the request did not really run."""
    rows = IdempotentRequest.objects.for_workspace(claimed.record.workspace_id).filter(
        pk=claimed.record.pk, lock_token=claimed.token
    )
    code = getattr(response, "api_error_code", "")
    if response.status_code >= 500 or code in NOT_STORED_CODES or response.streaming:
        rows.delete()
        return
    rows.update(
        status_code=response.status_code,
        content_type=response.get("Content-Type", "application/json"),
        body=stored_body(response),
        lock_token="",
        locked_until=None,
    )


# The top-level fields of an answer that hold a secret shown once (a webhook's whsec_…): kept
# out of the stored answer, so a replay gives them as "" rather than the database holding them.
SECRET_FIELDS = ("secret",)


def stored_body(response: HttpResponse) -> bytes:
    body = bytes(response.content)
    if not getattr(response, "holds_secret", False):
        return body
    data = json.loads(body)
    for name in SECRET_FIELDS:
        if name in data:
            data[name] = ""
    return json.dumps(data).encode()


def replay(record: IdempotentRequest) -> HttpResponse:
    response = HttpResponse(
        bytes(record.body), status=record.status_code, content_type=record.content_type
    )
    response["Idempotent-Replayed"] = "true"
    return response
