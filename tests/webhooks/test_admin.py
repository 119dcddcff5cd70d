"""The webhook screens: the secret shown once, rotation, disabling, the delivery log and
"Renvoyer"; another workspace's endpoint or delivery is a 404 like a missing one."""

import html
import re

import pytest
from django.urls import reverse

from enrichment import crypto
from enrichment.webhooks import delivery, services
from enrichment.webhooks.models import EventType, WebhookDelivery, WebhookEndpoint

from .conftest import emit_one

pytestmark = pytest.mark.django_db
ENDPOINTS = reverse("admin:enrichment_webhookendpoint_changelist")
ADD = reverse("admin:enrichment_webhookendpoint_add")
DELIVERIES = reverse("admin:enrichment_webhookdelivery_changelist")


def text(response) -> str:
    page = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(html.unescape(page).split())


def shown_secret(response) -> str:
    return re.search(r'<code id="webhook-secret">(whsec_[^<]+)</code>', response.content.decode())[
        1
    ]


def test_creating_an_endpoint_shows_its_secret_once(admin_client_ws, workspace, receiver):
    response = admin_client_ws.post(
        ADD, {"url": receiver.url, "events": [EventType.JOB_COMPLETED, EventType.JOB_FAILED]}
    )

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = shown_secret(response)
    assert "ne sera plus jamais affiché" in text(response)
    endpoint = WebhookEndpoint.objects.for_workspace(workspace).get()
    assert crypto.decrypt(endpoint.encrypted_secret) == secret
    assert endpoint.events == [EventType.JOB_COMPLETED, EventType.JOB_FAILED]
    change = admin_client_ws.get(
        reverse("admin:enrichment_webhookendpoint_change", args=[endpoint.pk])
    )
    listing = admin_client_ws.get(ENDPOINTS)
    assert secret not in change.content.decode() and secret not in listing.content.decode()


def test_a_private_address_is_refused_in_french(admin_client_ws, workspace):
    response = admin_client_ws.post(
        ADD, {"url": "http://169.254.169.254/latest", "events": [EventType.JOB_COMPLETED]}
    )

    assert response.status_code == 200
    assert "adresse privée, locale ou réservée" in text(response)
    assert not WebhookEndpoint.objects.for_workspace(workspace).exists()


def test_rotating_shows_the_new_secret_once_and_keeps_the_old_one_signing(
    admin_client_ws, workspace, endpoint
):
    hook, old = endpoint
    url = reverse("admin:enrichment_webhookendpoint_rotate", args=[hook.pk])
    assert "Oui, changer le secret" in admin_client_ws.get(url).content.decode()

    new = shown_secret(admin_client_ws.post(url))

    hook.refresh_from_db()
    assert new != old
    assert hook.signing_secrets() == [new, old]


def test_disabling_stops_the_deliveries(admin_client_ws, workspace, endpoint):
    hook, _secret = endpoint
    (row,) = emit_one(workspace)

    response = admin_client_ws.post(
        ENDPOINTS, {"action": "disable", "_selected_action": [hook.pk]}, follow=True
    )

    assert "1 point d'accès désactivé." in text(response)
    hook.refresh_from_db()
    assert not hook.is_active
    assert WebhookDelivery.objects.for_workspace(workspace).get(pk=row.pk).status == "cancelled"


def test_the_delivery_log_shows_what_happened_and_resends(
    admin_client_ws, workspace, endpoint, receiver
):
    receiver.script.append(500)
    (row,) = emit_one(workspace)
    delivery.deliver(row.pk)

    page = text(admin_client_ws.get(DELIVERIES))
    assert "Tâche terminée" in page and "En attente" in page
    assert "500" in page and "Le destinataire a répondu par un statut d’erreur" in page

    response = admin_client_ws.post(
        DELIVERIES, {"action": "resend", "_selected_action": [row.pk]}, follow=True
    )
    assert "1 envoi sera renvoyé." in text(response)
    row.refresh_from_db()
    assert (row.attempts, row.error) == (0, "")


def test_members_do_not_see_webhooks(member_client, endpoint):
    assert member_client.get(ENDPOINTS).status_code == 403
    assert member_client.get(DELIVERIES).status_code == 403


def test_other_workspace_gets_404(admin_client_ws, other_workspace, receiver, settings):
    hook, _secret = services.create_endpoint(
        other_workspace, url=receiver.url, events=EventType.values
    )
    (row,) = emit_one(other_workspace)
    urls = [
        reverse("admin:enrichment_webhookendpoint_change", args=[hook.pk]),
        reverse("admin:enrichment_webhookendpoint_rotate", args=[hook.pk]),
        reverse("admin:enrichment_webhookendpoint_delete", args=[hook.pk]),
        reverse("admin:enrichment_webhookdelivery_change", args=[row.pk]),
    ]
    missing = [re.sub(r"/\d+/", "/999999/", url) for url in urls]
    for url in urls + missing:
        assert admin_client_ws.get(url).status_code == 404, url
    for url in urls[1:3]:
        assert admin_client_ws.post(url, {"post": "yes"}).status_code == 404, url
    admin_client_ws.post(ENDPOINTS, {"action": "disable", "_selected_action": [hook.pk]})
    admin_client_ws.post(DELIVERIES, {"action": "resend", "_selected_action": [row.pk]})

    hook.refresh_from_db()
    assert hook.signing_secrets() == [_secret] and hook.is_active
    assert WebhookDelivery.objects.for_workspace(other_workspace).get(pk=row.pk).attempts == 0
    assert hook.url not in text(admin_client_ws.get(ENDPOINTS))
    assert row.event.event_id not in text(admin_client_ws.get(DELIVERIES))


def test_deleting_an_endpoint_takes_its_log_with_it(admin_client_ws, workspace, endpoint):
    hook, _secret = endpoint
    emit_one(workspace)
    url = reverse("admin:enrichment_webhookendpoint_delete", args=[hook.pk])
    assert admin_client_ws.get(url).status_code == 200

    assert admin_client_ws.post(url, {"post": "yes"}).status_code == 302

    assert not WebhookEndpoint.objects.for_workspace(workspace).exists()
    assert not WebhookDelivery.objects.for_workspace(workspace).exists()
