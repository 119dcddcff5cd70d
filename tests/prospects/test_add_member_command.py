"""`manage.py add_member`: the operator's way to add someone at once; safe to re-run."""

import pytest
from django.core.management import CommandError, call_command

from prospects import access
from prospects.models import Membership


def run(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("add_member", *args, stdout=out)
    return out.getvalue().strip()


def test_adds_then_changes_nothing_then_changes_the_role(workspace, other_member):
    args = ("--workspace", "acme-lyon", "--user", "intrus")
    assert run(*args) == "intrus est maintenant membre de « Acme Lyon » (Membre)."
    assert run(*args) == "intrus était déjà dans « Acme Lyon » (Membre) : rien n'a changé."
    assert run(*args, "--role", "admin") == (
        "intrus était déjà dans « Acme Lyon » : rôle Membre → Administrateur."
    )
    assert Membership.objects.get(user=other_member, workspace=workspace).role == "admin"
    assert Membership.objects.filter(user=other_member).count() == 2


def test_the_person_keeps_working_in_their_own_workspace(workspace, other_workspace, other_member):
    run("--workspace", "acme-lyon", "--user", "intrus")
    assert access.remembered_workspace_id(other_member) == other_workspace.pk


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ("--workspace", "inconnu", "--user", "intrus"),
            "Aucun espace de travail n'a l'identifiant",
        ),
        (("--workspace", "acme-lyon", "--user", "personne"), "Aucun compte n'a le nom"),
    ],
)
def test_unknown_workspace_or_account_is_a_clear_error(workspace, other_member, args, error):
    with pytest.raises(CommandError, match=error):
        run(*args)
    assert not Membership.objects.filter(workspace=workspace).exists()
