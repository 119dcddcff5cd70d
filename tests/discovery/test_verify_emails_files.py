"""`verify_emails` reads its file as the prospect import does (encodings, quoted line breaks),
keeps every input column, looks up by name the rows without an address, speaks French, and
never probes an address on an objection list, with or without --workspace."""

import csv

import pytest
from django.core.management import CommandError, call_command

from enrichment.models import EmailProbe
from enrichment.sandbox import mail_world as mw
from prospects.services import suppress_person


def verify(tmp_path, data, *args):
    """OUT.csv's header and rows, as lists of cells."""
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    call_command("verify_emails", str(source), "--out", str(out), *args)
    with open(out, encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    return header, rows


def someone(world, plan):
    normal = plan.domain_of_kind(mw.NORMAL)
    return next(p for p in world.people if p.company.domain == normal and p.mailbox_exists)


def rcpts(mail_sandbox):
    return [address for session in mail_sandbox.sessions for address, _code in session.rcpts]


def test_a_utf8_file_with_one_windows_1252_line_is_refused_and_nothing_is_asked(
    mail_sandbox, tmp_path, plan
):
    domain = plan.domain_of_kind(mw.NORMAL)
    data = (
        b"first_name,last_name,domain\n"
        + f"Éloïse,Lefèvre,{domain}\n".encode()
        + f"Hélène,Ménard,{domain}\n".encode("cp1252")
    )
    with pytest.raises(CommandError, match=r"^Ce fichier est en UTF-8 sauf la ligne 3, "):
        verify(tmp_path, data)
    assert not (tmp_path / "out.csv").exists()
    assert not EmailProbe.objects.unscoped().exists() and mail_sandbox.sessions == []


def test_a_quoted_line_break_stays_in_its_cell(mail_sandbox, tmp_path, plan):
    domain = plan.domain_of_kind(mw.NORMAL)
    text = f'email,note\r\nx@{domain},"ligne 1\nligne 2"\r\ny@{domain},"a\r\nb"\r\n'
    header, rows = verify(tmp_path, text, "--no-smtp")
    assert header[:2] == ["note", "email"]
    assert [(r[0], r[1]) for r in rows] == [
        ("ligne 1\nligne 2", f"x@{domain}"),
        ("a\r\nb", f"y@{domain}"),
    ]


def test_input_columns_named_as_results_are_kept_under_input_names(
    mail_sandbox, tmp_path, plan
):
    domain = plan.domain_of_kind(mw.NORMAL)
    text = (
        "email,status,score,email,Reason,input_score\n"
        f"x@{domain},client,12,autre@{domain},salon,deja-la\n"
    )
    header, rows = verify(tmp_path, text, "--no-smtp")
    kept = ["input_status", "input_score_2", "email (2)", "input_Reason", "input_score"]
    assert header[: len(kept)] == kept
    # The results' names and order are a contract: right after the input columns.
    assert header[len(kept) : len(kept) + 5] == ["email", "status", "score", "catch_all", "reason"]
    row = dict(zip(header, rows[0], strict=True))
    assert row["input_status"] == "client" and row["input_score_2"] == "12"
    assert row["email (2)"] == f"autre@{domain}" and row["input_Reason"] == "salon"
    assert row["input_score"] == "deja-la"
    assert (row["email"], row["status"], row["reason"]) == (f"x@{domain}", "unknown", "not_probed")


def test_a_row_without_an_address_is_looked_up_by_name(mail_sandbox, tmp_path, world, plan):
    person = someone(world, plan)
    domain = person.company.domain
    text = (
        "first_name,last_name,domain,email,note\n"
        f"{person.first_name},{person.last_name},{domain},,nom\n"
        f"Jean,Dupont,{domain},pas-une-adresse,adresse\n"
        ",,,,vide\n"
    )
    header, rows = verify(tmp_path, text)
    got = [dict(zip(header, row, strict=True)) for row in rows]
    assert [(r["email"], r["status"], r["reason"]) for r in got] == [
        (person.true_email, "verified", "mailbox_accepted"),
        ("pas-une-adresse", "invalid", "invalid_syntax"),
        ("", "invalid", "invalid_domain"),
    ]
    assert got[0]["first_name"] == person.first_name


def test_without_a_probe_identity_the_whole_message_is_french(mail_sandbox, settings, tmp_path):
    settings.SOURCIER_SMTP_HELO = ""
    with pytest.raises(CommandError) as caught:
        verify(tmp_path, "email\nx@exemple.fr\n")
    assert str(caught.value) == (
        "La sonde SMTP a besoin de SOURCIER_SMTP_HELO (un nom d'hôte à vous) et de "
        "SOURCIER_SMTP_MAIL_FROM (une adresse sur un domaine à vous). "
        "(ou lancez la commande avec --no-smtp)"
    )
    settings.SOURCIER_SMTP_HELO = "localhost"
    with pytest.raises(CommandError, match=r"doit nommer un vrai domaine .* « localhost »"):
        verify(tmp_path, "email\nx@exemple.fr\n")


def test_without_a_workspace_no_objection_list_is_ignored(
    mail_sandbox, tmp_path, world, plan, other_workspace
):
    person = someone(world, plan)
    colleague = next(
        p
        for p in world.people
        if p.company.domain == person.company.domain and p.mailbox_exists and p is not person
    )
    suppress_person(other_workspace, email=person.true_email)
    suppress_person(other_workspace, email=colleague.true_email)
    domain = person.company.domain
    text = (
        "first_name,last_name,domain,email\n"
        f",,,{person.true_email.upper()}\n"
        f"{colleague.first_name},{colleague.last_name},{domain},\n"
    )
    header, rows = verify(tmp_path, text)
    got = [dict(zip(header, row, strict=True)) for row in rows]
    assert [(r["status"], r["reason"]) for r in got] == [
        ("unknown", "objected"),
        ("unknown", "objected"),
    ]
    assert person.true_email not in rcpts(mail_sandbox)
    assert colleague.true_email not in rcpts(mail_sandbox)
    assert not EmailProbe.objects.unscoped().filter(
        email__in=[person.true_email, colleague.true_email]
    ).exists()


@pytest.mark.parametrize("how", ["same path", "link to it"])
def test_the_file_read_is_never_written_over(tmp_path, db, how):
    source = tmp_path / "in.csv"
    data = "email\nanne.martin@exemple.fr\npaul.durand@exemple.fr\n"
    source.write_text(data, encoding="utf-8")
    out = source
    if how == "link to it":
        out = tmp_path / "link.csv"
        out.symlink_to(source)
    with pytest.raises(CommandError, match=r"est le fichier lu : donnez à --out un autre"):
        call_command("verify_emails", str(source), "--out", str(out), "--no-smtp")
    assert source.read_text(encoding="utf-8") == data


def test_a_name_no_person_has_is_answered_invalid_and_never_asked(
    mail_sandbox, tmp_path, world, plan
):
    person = someone(world, plan)
    domain = person.company.domain
    header, rows = verify(
        tmp_path,
        "first_name,last_name,domain\n"
        f'"=HYPERLINK(""http://evil"")",+1+1,{domain}\n'
        f"-2,\tx,{domain}\n"
        f"{person.first_name},{person.last_name},{domain}\n",
    )
    status, reason = header.index("status"), header.index("reason")
    assert [(r[status], r[reason]) for r in rows[:2]] == [("invalid", "invalid_name")] * 2
    assert rows[2][header.index("email")] == person.true_email
    assert all(a.endswith(domain) and "hyperlink" not in a for a in rcpts(mail_sandbox))
    assert not any(a.startswith("x@") for a in rcpts(mail_sandbox))


def test_a_megabyte_cell_on_one_line_is_its_row_s_matter_only(mail_sandbox, tmp_path, plan):
    # No quote opened it, so it swallowed no row: every row gets its answer.
    domain = plan.domain_of_kind(mw.NORMAL)
    huge = "a" * 2_000_000
    text = f"email,note\r\nx@{domain},ok\r\n{huge}@{domain},\r\ny@{domain},{huge}\r\n"
    limit = csv.field_size_limit(10_000_000)
    try:
        header, rows = verify(tmp_path, text, "--no-smtp")
    finally:
        csv.field_size_limit(limit)
    assert header[:4] == ["note", "email", "status", "score"]
    assert [(r[1][:12], r[2], r[0][:3]) for r in rows] == [
        (f"x@{domain}"[:12], "unknown", "ok"),
        ("a" * 12, "invalid", ""),
        (f"y@{domain}"[:12], "unknown", "aaa"),
    ]


def test_cells_past_the_header_are_kept_under_column_names(mail_sandbox, tmp_path, plan):
    domain = plan.domain_of_kind(mw.NORMAL)
    text = f"email,note,Colonne 4\r\nx@{domain},a,b,c,d\r\ny@{domain},e\r\n"
    header, rows = verify(tmp_path, text, "--no-smtp")
    assert header[:5] == ["note", "Colonne 4", "Colonne 4'", "Colonne 5", "email"]
    assert [r[:5] for r in rows] == [["a", "b", "c", "d", f"x@{domain}"],
                                     ["e", "", "", "", f"y@{domain}"]]


def test_a_row_with_more_cells_than_a_header_may_name_refuses_the_file(tmp_path, db, settings):
    settings.SOURCIER_IMPORT_MAX_COLUMNS = 5
    with pytest.raises(CommandError, match=r"^Le fichier a trop de colonnes \(7\) : 5 au maximum"):
        verify(tmp_path, "email,note\r\nx@exemple.fr" + ",a" * 6 + "\r\n", "--no-smtp")
    assert not (tmp_path / "out.csv").exists()
