"""Probe rows made without Django's constructor are real instances: the same values as the
ORM's own, saved and reloaded as usual."""

import pytest
from django.utils import timezone

from enrichment.discovery import records
from enrichment.discovery.model_rows import read_rows, unsaved_rows
from enrichment.models import EmailProbe


@pytest.mark.django_db
def test_rows_read_in_bulk_are_the_orm_rows():
    now = timezone.now()
    records.start_probes([
        {"workspace_id": None, "email": f"p{i}@exemple.example", "domain": "exemple.example",
         "attempt": 1, "now": now, "pattern": "first.last"}
        for i in range(3)
    ])  # fmt: skip
    rows = EmailProbe.objects.unscoped().order_by("pk")
    fields = [f.attname for f in EmailProbe._meta.concrete_fields]
    light = read_rows(rows)
    assert [[getattr(r, f) for f in fields] for r in light] == [
        [getattr(r, f) for f in fields] for r in rows
    ]
    probe = light[0]
    probe.status = EmailProbe.Status.ACCEPTED
    probe.save(update_fields=["status"])
    probe.refresh_from_db()
    assert probe.status == "accepted" and probe.created_at == now
    assert not probe._state.adding


@pytest.mark.django_db
def test_new_rows_take_the_model_defaults_and_save():
    (probe,) = unsaved_rows(EmailProbe, [{
        "key": "k", "email": "a@exemple.example", "domain": "exemple.example",
        "created_at": timezone.now(),
    }])  # fmt: skip
    assert probe.pk is None and probe._state.adding
    assert (probe.status, probe.attempt, probe.kind, probe.transcript) == (
        EmailProbe.Status.PENDING, 1, EmailProbe.Kind.ADDRESS, ""
    )
    probe.save()
    assert EmailProbe.objects.unscoped().get(pk=probe.pk).email == "a@exemple.example"


@pytest.mark.django_db
def test_a_field_left_unread_is_read_when_asked_for():
    now = timezone.now()
    (made,) = records.start_probes([
        {"workspace_id": None, "email": "a@exemple.example", "domain": "exemple.example",
         "attempt": 1, "now": now},
    ])  # fmt: skip
    made.transcript = "RCPT TO:<a@exemple.example>\n250 OK"
    records.finish_probes([made])
    (probe,) = read_rows(EmailProbe.objects.unscoped(), without=("transcript",))
    assert probe.get_deferred_fields() == {"transcript"}
    assert probe.transcript == "RCPT TO:<a@exemple.example>\n250 OK"


@pytest.mark.django_db
def test_a_batch_past_the_most_rows_reads_none(monkeypatch):
    now = timezone.now()
    records.start_probes([
        {"workspace_id": None, "email": f"p{i}@exemple.example", "domain": "exemple.example",
         "attempt": 1, "now": now}
        for i in range(3)
    ])  # fmt: skip
    assert len(records.latest_probes_of_domains(None, ["exemple.example"])) == 3
    monkeypatch.setattr(records, "MOST_BATCH_PROBES", 2)
    assert records.latest_probes_of_domains(None, ["exemple.example"]) is None
