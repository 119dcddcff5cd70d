"""Delivering a webhook: claim the delivery row, POST outside any transaction, record the
attempt under the claim's token, and schedule the next one.

Each attempt is signed afresh (a new `webhook-timestamp`) under the event's one `webhook-id`,
goes only to the address the guard checked at that moment, never follows a redirect and gives
up after 10 s. A 2xx delivers; a 410 disables the endpoint; anything else is retried after
5 s, 10 s and 20 s, then on the Standard Webhooks schedule (5 min, 30 min, 2 h, 5 h, 10 h,
10 h), and fails after the last.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from urllib3.exceptions import HTTPError as TransportError
from urllib3.exceptions import NewConnectionError
from urllib3.exceptions import TimeoutError as TransportTimeout

from ..engine import claims
from . import netguard, signing
from .models import WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

Status = WebhookDelivery.Status
TIMEOUT_SECONDS = 10.0
# Seconds to wait after each failed attempt; one attempt more than delays, then failed.
RETRY_DELAYS = (5, 10, 20, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
# A sending worker owns the row this long: past it the sweeper hands the delivery to another
# (an attempt takes at most the connect and read timeouts).
LEASE_SECONDS = 3 * TIMEOUT_SECONDS
USER_AGENT = "Sourcier-Webhooks/1.0"

# The last attempt's error, as stored (codes) and as shown (French through gettext).
ERRORS = {
    "http_status": _("The receiver answered with an error status"),
    "redirect": _("The receiver answered with a redirect (never followed)"),
    "gone": _("The receiver answered 410 Gone: endpoint disabled"),
    "timeout": _("No answer within 10 seconds"),
    "connection_failed": _("Connection failed"),
    "address_forbidden": _("The URL leads to a forbidden address"),
    "url_invalid": _("The URL is not valid"),
    "scheme_forbidden": _("Only http and https URLs are allowed"),
    "port_forbidden": _("Only ports 80 and 443 are allowed"),
    "unresolvable": _("The host name does not resolve"),
    "interrupted": _("The sending worker stopped before recording the answer"),
    "endpoint_disabled": _("The endpoint is disabled"),
    "secret_unreadable": _("The signing secret cannot be decrypted with the configured keys"),
}


@dataclass(frozen=True)
class Answer:
    """What one attempt got: a status code, or an error code; and how long it took."""

    status_code: int | None
    latency_ms: int
    error: str = ""


def claim_delivery(delivery_id: int, *, now: dt.datetime | None = None) -> WebhookDelivery | None:
    """Take a due delivery (or one whose worker's lease ran out) for one attempt; None when it
    is not due or another worker has it. The attempt is counted here, so a worker killed
    mid-attempt still uses one up and a delivery can never retry forever."""
    now = now or timezone.now()
    token = claims.new_token()
    taken = (
        WebhookDelivery.objects.unscoped()
        .due(now)
        .filter(pk=delivery_id)
        .update(
            status=Status.SENDING,
            attempts=F("attempts") + 1,
            next_attempt_at=now + dt.timedelta(seconds=LEASE_SECONDS),
            lease_token=token,
            updated_at=now,
        )
    )
    if not taken:
        return None
    return (
        WebhookDelivery.objects.unscoped()
        .select_related("endpoint", "event")
        .filter(pk=delivery_id, lease_token=token)
        .first()
    )


def deliver(delivery_id: int) -> str:
    """One attempt of one delivery; returns a short outcome word (safe to run twice)."""
    delivery = claim_delivery(delivery_id)
    if delivery is None:
        return "not-due"
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        return finish(delivery, status=Status.CANCELLED, error="endpoint_disabled")
    if delivery.attempts > MAX_ATTEMPTS:
        # The last attempt's worker died before recording it.
        return finish(delivery, status=Status.FAILED, error="interrupted")
    try:
        secrets = endpoint.signing_secrets()
    except ValueError:
        answer = Answer(status_code=None, latency_ms=0, error="secret_unreadable")
    else:
        body = delivery.event.payload.encode()
        headers = signing.signed_headers(secrets, delivery.event.event_id, int(time.time()), body)
        answer = post(endpoint.url, headers, body)
    return record(delivery, answer)


def post(url: str, headers: dict[str, str], body: bytes) -> Answer:
    """POST the body to the checked address of the URL (resolved now, once)."""
    started = time.monotonic()
    try:
        target = netguard.check_url(
            url,
            resolve=netguard.resolve_with_system,
            allowed_hosts=settings.SOURCIER_WEBHOOK_ALLOWED_HOSTS,
        )
    except netguard.Refused as refused:
        return Answer(status_code=None, latency_ms=0, error=refused.code)
    pool = netguard.pinned_pool(target, timeout=TIMEOUT_SECONDS)
    try:
        answer = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers={
                **headers,
                "content-type": "application/json",
                "user-agent": USER_AGENT,
            },
            redirect=False,
            preload_content=False,
        )
        status = answer.status
        answer.close()
    except NewConnectionError:
        # Before the timeout: urllib3 makes a refused connection a kind of connect timeout.
        return Answer(status_code=None, latency_ms=elapsed_ms(started), error="connection_failed")
    except TransportTimeout:
        return Answer(status_code=None, latency_ms=elapsed_ms(started), error="timeout")
    except (TransportError, OSError):
        return Answer(status_code=None, latency_ms=elapsed_ms(started), error="connection_failed")
    finally:
        pool.close()
    return Answer(status_code=status, latency_ms=elapsed_ms(started), error=error_for(status))


def elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def error_for(status: int) -> str:
    if 200 <= status < 300:
        return ""
    if status == 410:
        return "gone"
    if 300 <= status < 400:
        return "redirect"
    return "http_status"


def record(delivery: WebhookDelivery, answer: Answer) -> str:
    """Write the attempt's result under the claim; decide delivered, retry, failed."""
    now = timezone.now()
    fields = {"last_status_code": answer.status_code, "latency_ms": answer.latency_ms}
    if not answer.error:
        return finish(delivery, status=Status.DELIVERED, delivered_at=now, **fields)
    if answer.error == "gone":
        with transaction.atomic():
            outcome = finish(delivery, status=Status.FAILED, error="gone", **fields)
            disable(delivery.endpoint, reason=WebhookEndpoint.DisabledReason.GONE)
        return outcome
    if delivery.attempts >= MAX_ATTEMPTS:
        return finish(delivery, status=Status.FAILED, error=answer.error, **fields)
    wait = RETRY_DELAYS[delivery.attempts - 1]
    outcome = finish(
        delivery,
        status=Status.PENDING,
        error=answer.error,
        next_attempt_at=now + dt.timedelta(seconds=wait),
        **fields,
    )
    if outcome == "lease-lost":
        return outcome
    if wait <= 60:
        # Short waits are kept by the task queue too; the sweeper backs every wait up.
        from ..tasks import deliver_webhook_task

        deliver_webhook_task.apply_async((delivery.pk,), countdown=wait)
    return f"retry-in-{wait}s"


def finish(delivery: WebhookDelivery, *, status: str, **values) -> str:
    """Update the delivery under its claim ('lease-lost' when a successor has it)."""
    values.setdefault("error", "")
    try:
        claims.write_claimed(
            delivery,
            statuses=(Status.SENDING,),
            status=status,
            updated_at=timezone.now(),
            **values,
        )
    except claims.LeaseLost:
        return "lease-lost"
    return str(status)


def disable(endpoint: WebhookEndpoint, *, reason: str) -> None:
    """Stop an endpoint: no new deliveries, and the waiting ones are cancelled."""
    now = timezone.now()
    WebhookEndpoint.objects.for_workspace(endpoint.workspace_id).filter(
        pk=endpoint.pk, is_active=True
    ).update(is_active=False, disabled_reason=reason, disabled_at=now, updated_at=now)
    WebhookDelivery.objects.for_workspace(endpoint.workspace_id).filter(
        endpoint_id=endpoint.pk, status=Status.PENDING
    ).update(status=Status.CANCELLED, error="endpoint_disabled", updated_at=now)
    log.info("webhook endpoint %s disabled (%s)", endpoint.pk, reason)


def dispatch_due_deliveries(*, workspace_id: int | None = None, limit: int = 500) -> int:
    """Hand due deliveries (and those whose worker died) to workers."""
    from ..tasks import deliver_webhook_task

    due = WebhookDelivery.objects.unscoped().due()
    if workspace_id is not None:
        due = due.filter(workspace_id=workspace_id)
    ids = list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
    for delivery_id in ids:
        deliver_webhook_task.delay(delivery_id)
    return len(ids)
