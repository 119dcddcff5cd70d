"""Deliveries against a real loopback receiver: signed, retried on schedule with the same id,
never lost when the receiver dies mid-delivery, 410 disables, a replayed task does nothing."""

import datetime as dt
import socket
import threading
import time

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from enrichment import crypto, sweeper
from enrichment.tasks import deliver_webhook_task
from enrichment.webhooks import delivery, services
from enrichment.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.webhook_receiver import Receiver

from .conftest import emit_one

Status = WebhookDelivery.Status
pytestmark = pytest.mark.django_db


def fall_due(row: WebhookDelivery) -> None:
    """Time passes: the delivery's next attempt (or its worker's lease) is now due."""
    WebhookDelivery.objects.for_workspace(row.workspace_id).filter(pk=row.pk).update(
        next_attempt_at=timezone.now()
    )


def reload(row: WebhookDelivery) -> WebhookDelivery:
    return WebhookDelivery.objects.for_workspace(row.workspace_id).get(pk=row.pk)


def test_a_delivery_is_signed_and_the_reference_library_verifies_it(workspace, endpoint, receiver):
    _endpoint, secret = endpoint
    (row,) = emit_one(workspace)

    assert delivery.deliver(row.pk) == "delivered"

    (request,) = receiver.requests
    assert Webhook(secret).verify(request["body"], request["headers"])["type"] == "job.completed"
    assert request["headers"]["webhook-id"] == row.event.event_id
    assert request["headers"]["content-type"] == "application/json"
    assert request["path"] == "/hooks/sourcier"
    row = reload(row)
    assert (row.status, row.attempts, row.last_status_code) == (Status.DELIVERED, 1, 204)
    assert row.latency_ms is not None and row.delivered_at is not None


def test_retries_wait_5_10_20_seconds_and_each_attempt_is_signed_afresh_with_the_same_id(
    workspace, endpoint, receiver
):
    _endpoint, secret = endpoint
    receiver.script.extend([500, 502, 429])
    (row,) = emit_one(workspace)
    waits = []
    for _attempt in range(3):
        before = timezone.now()
        assert delivery.deliver(row.pk).startswith("retry-in-")
        row = reload(row)
        assert row.status == Status.PENDING and row.error in ("http_status",)
        waits.append(round((row.next_attempt_at - before).total_seconds()))
        time.sleep(1.05)  # a new second: the next signature's timestamp differs
        fall_due(row)
    assert delivery.deliver(row.pk) == "delivered"

    assert waits == [5, 10, 20]
    assert [r["headers"]["webhook-id"] for r in receiver.requests] == [row.event.event_id] * 4
    stamps = [r["headers"]["webhook-timestamp"] for r in receiver.requests]
    assert len(set(stamps)) == 4
    for request in receiver.requests:
        Webhook(secret).verify(request["body"], request["headers"])
    assert len({r["body"] for r in receiver.requests}) == 1
    assert reload(row).attempts == 4


def test_a_receiver_that_never_accepts_gets_the_whole_schedule_then_the_delivery_fails(
    workspace, endpoint, receiver
):
    receiver.script.extend([503] * 20)
    (row,) = emit_one(workspace)
    waits = []
    for _attempt in range(delivery.MAX_ATTEMPTS - 1):
        before = timezone.now()
        delivery.deliver(row.pk)
        waits.append(round((reload(row).next_attempt_at - before).total_seconds()))
        fall_due(row)
    assert delivery.deliver(row.pk) == "failed"

    assert waits == [5, 10, 20, 300, 1800, 7200, 18000, 36000, 36000]
    row = reload(row)
    assert (row.status, row.attempts, row.last_status_code) == (Status.FAILED, 10, 503)
    fall_due(row)
    assert delivery.deliver(row.pk) == "not-due"
    assert len(receiver.requests) == 10


def test_a_receiver_killed_mid_delivery_loses_nothing(workspace, endpoint, receiver):
    _endpoint, secret = endpoint
    receiver.script.append("hang-up")
    (row,) = emit_one(workspace)

    assert delivery.deliver(row.pk) == "retry-in-5s"
    assert reload(row).error == "connection_failed"
    receiver.stop()
    fall_due(row)
    assert delivery.deliver(row.pk) == "retry-in-10s"  # nobody listens now
    assert reload(row).error == "connection_failed"

    receiver.start()  # back, on the same port
    fall_due(row)
    assert delivery.deliver(row.pk) == "delivered"
    ids = [r["headers"]["webhook-id"] for r in receiver.requests]
    assert ids == [row.event.event_id] * 2  # the killed attempt and the one that got through
    Webhook(secret).verify(receiver.requests[-1]["body"], receiver.requests[-1]["headers"])


def test_a_worker_killed_after_claiming_is_replaced_when_its_lease_ends(
    workspace, endpoint, receiver
):
    (row,) = emit_one(workspace)
    assert delivery.claim_delivery(row.pk) is not None  # then the worker dies

    assert delivery.deliver(row.pk) == "not-due"  # its lease still holds
    fall_due(row)  # the lease ran out
    counts = sweeper.dispatch_due_work()

    assert counts["deliveries"] == 1
    row = reload(row)
    assert (row.status, row.attempts) == (Status.DELIVERED, 2)
    assert len(receiver.requests) == 1


def test_a_worker_that_outlived_its_lease_records_nothing(workspace, endpoint, receiver):
    (row,) = emit_one(workspace)
    late = delivery.claim_delivery(row.pk)
    fall_due(row)
    assert delivery.deliver(row.pk) == "delivered"

    answer = delivery.Answer(status_code=500, latency_ms=3, error="http_status")
    assert delivery.record(late, answer) == "lease-lost"
    assert reload(row).status == Status.DELIVERED


def test_a_replayed_task_does_nothing(workspace, endpoint, receiver):
    (row,) = emit_one(workspace)

    assert deliver_webhook_task.delay(row.pk).get() == "delivered"
    assert deliver_webhook_task.delay(row.pk).get() == "not-due"
    assert len(receiver.requests) == 1
    assert reload(row).attempts == 1


def test_410_disables_the_endpoint_and_cancels_what_waits(workspace, endpoint, receiver):
    hook, _secret = endpoint
    receiver.script.append(410)
    first, second = emit_one(workspace, "test:1")[0], emit_one(workspace, "test:2")[0]

    assert delivery.deliver(first.pk) == "failed"

    hook.refresh_from_db()
    assert not hook.is_active and hook.disabled_reason == WebhookEndpoint.DisabledReason.GONE
    assert reload(first).error == "gone"
    assert reload(second).status == Status.CANCELLED
    assert delivery.deliver(second.pk) == "not-due"
    assert emit_one(workspace, "test:3") == []
    assert len(receiver.requests) == 1


def test_a_redirect_is_never_followed(workspace, endpoint, receiver, settings):
    elsewhere = Receiver()
    settings.SOURCIER_WEBHOOK_ALLOWED_HOSTS += [f"127.0.0.1:{elsewhere.port}"]
    try:
        receiver.script.append(("redirect", elsewhere.url))
        (row,) = emit_one(workspace)

        assert delivery.deliver(row.pk) == "retry-in-5s"

        row = reload(row)
        assert (row.last_status_code, row.error) == (302, "redirect")
        assert elsewhere.requests == []
    finally:
        elsewhere.stop()


def test_during_a_rotation_both_secrets_sign_until_the_overlap_ends(workspace, endpoint, receiver):
    hook, old = endpoint
    new = services.rotate_secret(workspace, hook.pk, overlap=dt.timedelta(hours=1))
    (row,) = emit_one(workspace, "test:1")
    delivery.deliver(row.pk)

    request = receiver.requests[-1]
    assert len(request["headers"]["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        Webhook(secret).verify(request["body"], request["headers"])

    WebhookEndpoint.objects.for_workspace(workspace).filter(pk=hook.pk).update(
        previous_secret_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    (row,) = emit_one(workspace, "test:2")
    delivery.deliver(row.pk)
    request = receiver.requests[-1]
    assert len(request["headers"]["webhook-signature"].split(" ")) == 1
    Webhook(new).verify(request["body"], request["headers"])
    with pytest.raises(Exception):  # noqa: B017 (the library's verification error)
        Webhook(old).verify(request["body"], request["headers"])


def test_secrets_are_encrypted_at_rest_and_never_shown_again(workspace, endpoint):
    hook, secret = endpoint
    stored = WebhookEndpoint.objects.for_workspace(workspace).get(pk=hook.pk)
    assert secret not in stored.encrypted_secret
    assert crypto.decrypt(stored.encrypted_secret) == secret
    assert secret not in str(stored) and secret not in repr(stored)


def test_redeliver_starts_a_failed_delivery_again_with_the_same_id(workspace, endpoint, receiver):
    receiver.script.extend([503] * 10)
    (row,) = emit_one(workspace)
    for _attempt in range(delivery.MAX_ATTEMPTS):
        delivery.deliver(row.pk)
        fall_due(row)
    assert reload(row).status == Status.FAILED

    assert services.redeliver(workspace, [row.pk]) == 1
    assert delivery.deliver(row.pk) == "delivered"
    assert receiver.requests[-1]["headers"]["webhook-id"] == row.event.event_id
    assert reload(row).attempts == 1


def test_a_receiver_that_never_answers_is_given_up_after_10_seconds(
    workspace, endpoint, receiver, settings
):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    hook, _secret = endpoint
    port = silent.getsockname()[1]
    WebhookEndpoint.objects.for_workspace(workspace).filter(pk=hook.pk).update(
        url=f"http://127.0.0.1:{port}/"
    )
    settings.SOURCIER_WEBHOOK_ALLOWED_HOSTS = [f"127.0.0.1:{port}"]
    accepted = []
    threading.Thread(target=lambda: accepted.append(silent.accept()), daemon=True).start()
    (row,) = emit_one(workspace)
    try:
        started = time.monotonic()
        assert delivery.deliver(row.pk) == "retry-in-5s"
        took = time.monotonic() - started
    finally:
        silent.close()

    assert 9.5 <= took < 15
    assert reload(row).error == "timeout"
