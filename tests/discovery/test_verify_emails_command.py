import csv
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enrichment.models import EmailProbe
from enrichment.sandbox import mail_world as mw


def run(tmp_path, text, *args):
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text(text, encoding="utf-8")
    call_command("verify_emails", str(source), "--out", str(out), *args)
    with open(out, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_one_row_per_address_with_the_input_columns(mail_sandbox, tmp_path, world, plan):
    normal = plan.domain_of_kind(mw.NORMAL)
    person = next(p for p in world.people if p.company.domain == normal and p.mailbox_exists)
    catch_all = sorted(plan.catch_all)[0]
    text = (
        "email,société\n"
        f"{person.true_email},Boréal\n"
        f"personne.inconnue@{normal},Autre\n"
        f"quelqu.un@{catch_all},Trois\n"
        f"a@{plan.domain_of_kind(mw.NULL_MX)},Quatre\n"
        'pas-une-adresse,=HYPERLINK("http://x")\n'
        ",Vide\n"
        f"{person.true_email},Doublon\n"
    )
    rows = run(tmp_path, text)
    assert list(rows[0])[:6] == ["société", "email", "status", "score", "catch_all", "reason"]
    got = [(r["email"], r["status"], r["catch_all"], r["reason"]) for r in rows]
    assert got == [
        (person.true_email, "verified", "false", "mailbox_accepted"),
        (f"personne.inconnue@{normal}", "invalid", "false", "mailbox_not_found"),
        (f"quelqu.un@{catch_all}", "risky", "true", "catch_all"),
        (f"a@{plan.domain_of_kind(mw.NULL_MX)}", "invalid", "false", "null_mx"),
        ("pas-une-adresse", "invalid", "false", "invalid_syntax"),
        ("", "invalid", "false", "invalid_syntax"),
        (person.true_email, "verified", "false", "mailbox_accepted"),
    ]
    assert rows[4]["société"].startswith("'=HYPERLINK")
    assert int(rows[0]["score"]) >= 80
    # The duplicate was read back from its probe, not asked again.
    assert EmailProbe.objects.unscoped().filter(email=person.true_email).count() == 1
    assert not any(s.saw_data for s in mail_sandbox.sessions)


def test_one_row_per_person_with_the_best_address(mail_sandbox, tmp_path, world, plan):
    normal = plan.domain_of_kind(mw.NORMAL)
    staff = [p for p in world.people if p.company.domain == normal]
    gone = next(
        p
        for p in world.people
        if not p.mailbox_exists
        and p.company.has_mx
        and p.company.domain not in plan.catch_all
        and plan.kinds[p.company.domain] == mw.NORMAL
    )
    lines = ["first_name;last_name;domain;poste"]
    lines += [f"{p.first_name};{p.last_name};https://www.{normal}/equipe;Vente" for p in staff]
    lines += [f"{gone.first_name};{gone.last_name};{gone.company.domain};Parti"]
    lines += [";;;Vide", f"Jean;Dupont;{plan.domain_of_kind(mw.NO_MAIL)};Sans MX"]
    rows = run(tmp_path, "\n".join(lines) + "\n")
    assert [r["email"] for r in rows[: len(staff)]] == [p.true_email for p in staff]
    assert {r["status"] for r in rows[: len(staff)]} == {"verified"}
    assert rows[1]["evidence"].startswith("preuves insuffisantes")
    assert [(r["email"], r["status"], r["reason"]) for r in rows[len(staff) :]] == [
        ("", "invalid", "no_mailbox_found"),
        ("", "invalid", "invalid_domain"),
        ("", "invalid", "no_mail_server"),
    ]
    assert rows[0]["poste"] == "Vente"


def test_no_smtp_works_on_the_embedded_default_without_a_probe_identity(
    mail_sandbox, settings, tmp_path, plan
):
    settings.SOURCIER_SMTP_HELO = ""
    text = f"email\njean.dupont@{plan.domain_of_kind(mw.NORMAL)}\nx@personne-ici.example\n"
    rows = run(tmp_path, text, "--no-smtp")
    assert [(r["status"], r["reason"]) for r in rows] == [
        ("unknown", "not_probed"),
        ("invalid", "domain_not_found"),
    ]
    assert mail_sandbox.sessions == []
    with pytest.raises(CommandError, match=r"SOURCIER_SMTP_HELO.*--no-smtp"):
        run(tmp_path, text)


def test_probes_belong_to_the_named_workspace(mail_sandbox, tmp_path, workspace, plan):
    address = f"personne.inconnue@{plan.domain_of_kind(mw.NORMAL)}"
    run(tmp_path, f"email\n{address}\n", "--workspace", workspace.slug)
    assert EmailProbe.objects.for_workspace(workspace).filter(email=address).count() == 1
    with pytest.raises(CommandError, match=r"Aucun espace de travail .* « inconnu »"):
        run(tmp_path, f"email\n{address}\n", "--workspace", "inconnu")


def test_a_file_without_the_columns_is_a_clear_error(mail_sandbox, tmp_path):
    with pytest.raises(CommandError, match=r"colonne « email ».*ses colonnes sont : nom, prenom"):
        run(tmp_path, "nom,prenom\nDupont,Jean\n")
    with pytest.raises(
        CommandError, match=r"Impossible de lire .*absent\.csv : fichier ou dossier introuvable"
    ):
        call_command("verify_emails", str(tmp_path / "absent.csv"), "--out", str(tmp_path / "o"))


def test_an_excel_file_in_windows_1252_is_read_and_the_summary_is_french(
    mail_sandbox, settings, tmp_path, plan
):
    settings.SOURCIER_SMTP_HELO = ""
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    domain = plan.domain_of_kind(mw.NORMAL)
    source.write_bytes(f"email;société\r\nx@{domain};Boréal\r\n".encode("cp1252"))
    stdout = io.StringIO()
    call_command("verify_emails", str(source), "--out", str(out), "--no-smtp", stdout=stdout)
    with open(out, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["email"], r["société"]) for r in rows] == [(f"x@{domain}", "Boréal")]
    assert stdout.getvalue().startswith(f"1 ligne → {out} (1 unknown)")


def test_a_files_people_are_looked_up_together_domain_beside_domain(
    mail_sandbox, tmp_path, world, plan
):
    """A file's people over several domains: each row's answer is the one it would get
    alone, but the domains' rounds are asked side by side, so the probe rows are written
    in far fewer statements than one per person."""
    people = [
        p for p in world.people if p.company.has_mx and plan.kinds[p.company.domain] == mw.NORMAL
    ]
    domains = {p.company.domain for p in people}
    assert len(domains) >= 4 and len(people) >= 12
    lines = ["first_name,last_name,domain"]
    lines += [f"{p.first_name},{p.last_name},{p.company.domain}" for p in people]
    with CaptureQueriesContext(connection) as queries:
        rows = run(tmp_path, "\n".join(lines) + "\n")

    for person, row in zip(people, rows, strict=True):
        assert row["status"] == plan.expected_status(person), person
        if row["status"] == "verified":
            assert row["email"] == person.true_email
    inserts = [
        q
        for q in queries.captured_queries
        if q["sql"].startswith('INSERT INTO "enrichment_emailprobe"')
    ]
    assert len(inserts) < len(people) / 2
    # Each address asked once, and every probe answered.
    rcpts = [address for s in mail_sandbox.sessions for address, _code in s.rcpts]
    assert len(set(rcpts)) == len(rcpts)
    assert not EmailProbe.objects.unscoped().filter(status="pending").exists()
