"""API keys: the set_api_key and rotate_keys commands, and who may see or set a key."""

import io
import sys

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from enrichment import credentials, crypto
from enrichment.models import ProviderCredential

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


@pytest.fixture
def old_key(settings):
    settings.SOURCIER_FERNET_KEYS = [OLD]
    return settings


def run(command, *args, stdin=""):
    """Run a command as an operator would, with `stdin` piped in; (stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        call_command(command, *args, stdout=out, stderr=err)
    finally:
        sys.stdin = saved
    return out.getvalue(), err.getvalue()


def stored(workspace, provider="hunter"):
    return ProviderCredential.objects.for_workspace(workspace).get(provider=provider)


# --- set_api_key -------------------------------------------------------------------------


def test_set_api_key_reads_stdin_and_prints_only_the_last_4(workspace):
    out, err = run(
        "set_api_key",
        "--workspace",
        "acme-lyon",
        "--provider",
        "hunter",
        stdin="  hk-secret-9876\n",
    )
    assert "••••9876" in out and "hk-secret" not in out + err
    assert credentials.get_api_key(workspace.pk, "hunter") == "hk-secret-9876"
    assert stored(workspace).last4 == "9876"


def test_set_api_key_twice_replaces_the_key_and_clears_a_refusal(workspace):
    run("set_api_key", "--workspace", "acme-lyon", "--provider", "hunter", stdin="first-1111")
    credentials.mark_key_refused(workspace.pk, "hunter")
    run("set_api_key", "--workspace", "acme-lyon", "--provider", "HUNTER", stdin="second-2222")
    assert credentials.get_api_key(workspace.pk, "hunter") == "second-2222"
    assert ProviderCredential.objects.for_workspace(workspace).count() == 1


@pytest.mark.parametrize("stdin", ["", "   \n", "\n\n"])
def test_empty_input_is_refused_with_how_to_pipe_the_key(workspace, stdin):
    with pytest.raises(CommandError, match="Aucune clé API sur l'entrée standard"):
        run("set_api_key", "--workspace", "acme-lyon", "--provider", "hunter", stdin=stdin)
    assert not ProviderCredential.objects.for_workspace(workspace).exists()


def test_two_lines_are_refused_rather_than_stored_as_one_key(workspace):
    with pytest.raises(CommandError, match="plusieurs lignes"):
        run("set_api_key", "--workspace", "acme-lyon", "--provider", "hunter", stdin="ab\ncd")


def test_unknown_provider_lists_the_valid_slugs(workspace):
    with pytest.raises(CommandError) as caught:
        run("set_api_key", "--workspace", "acme-lyon", "--provider", "zoominfo", stdin="k-1234")
    message = str(caught.value)
    assert "zoominfo" in message and "dropcontact" in message and "prospeo" in message
    assert "k-1234" not in message


def test_unknown_workspace_lists_the_existing_slugs(workspace, other_workspace):
    with pytest.raises(CommandError) as caught:
        run("set_api_key", "--workspace", "acme", "--provider", "hunter", stdin="k-1234")
    assert "acme-lyon" in str(caught.value) and "concurrent-paris" in str(caught.value)


def test_a_key_given_as_an_argument_is_refused_without_being_repeated(workspace):
    with pytest.raises(CommandError) as caught:
        run("set_api_key", "--workspace", "acme-lyon", "--provider", "hunter", "sk-typed-5555")
    assert "entrée standard" in str(caught.value)
    assert "sk-typed" not in str(caught.value)


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    secret=st.text(
        st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=5, max_size=60
    ).filter(lambda s: s == s.strip() and not any(ch.isspace() for ch in s))
)
def test_any_key_is_stored_readable_and_shown_only_as_its_last_4(workspace, secret):
    credential = credentials.set_api_key(workspace, "prospeo", secret)
    assert credentials.get_api_key(workspace.pk, "prospeo") == secret
    assert secret not in credential.encrypted_key
    assert str(credential).endswith(credentials.masked(secret[-4:]))
    assert secret not in str(credential)


# --- rotate_keys -------------------------------------------------------------------------


def test_rotation_moves_every_key_to_the_newest_and_a_rerun_changes_nothing(
    old_key, workspace, other_workspace
):
    credentials.set_api_key(workspace, "hunter", "hk-ours-1111")
    credentials.set_api_key(other_workspace, "hunter", "hk-theirs-2222")
    credentials.set_api_key(workspace, "prospeo", "pk-ours-3333")
    old_key.SOURCIER_FERNET_KEYS = [NEW, OLD]

    out, err = run("rotate_keys", "--batch-size", "2")
    assert "re-chiffrées : 3 ; déjà sur la clé la plus récente : 0 ; illisibles : 0." in out
    assert "hk-" not in out + err and "pk-" not in out + err

    # The old key can now be removed: every key still opens.
    old_key.SOURCIER_FERNET_KEYS = [NEW]
    assert credentials.get_api_key(workspace.pk, "hunter") == "hk-ours-1111"
    assert credentials.get_api_key(other_workspace.pk, "hunter") == "hk-theirs-2222"
    assert credentials.get_api_key(workspace.pk, "prospeo") == "pk-ours-3333"

    tokens = set(ProviderCredential.objects.unscoped().values_list("encrypted_key", flat=True))
    out, _err = run("rotate_keys")
    assert "re-chiffrées : 0 ; déjà sur la clé la plus récente : 3" in out
    assert set(ProviderCredential.objects.unscoped().values_list("encrypted_key", flat=True)) == (
        tokens
    )


def test_a_rotation_stopped_midway_resumes_where_it_stopped(old_key, workspace):
    for provider in ("hunter", "prospeo", "apollo", "leadmagic"):
        credentials.set_api_key(workspace, provider, f"{provider}-key-0000")
    old_key.SOURCIER_FERNET_KEYS = [NEW, OLD]

    def crash_after_first_batch(done: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        credentials.rotate_keys(batch_size=1, progress=crash_after_first_batch)
    on_newest = [crypto.is_current(t) for t in _tokens_in_pk_order()]
    assert on_newest == [True, False, False, False]

    result = credentials.rotate_keys(batch_size=3)
    assert (result.rotated, result.current, result.unreadable) == (3, 1, 0)
    assert all(crypto.is_current(t) for t in _tokens_in_pk_order())


def _tokens_in_pk_order():
    return list(
        ProviderCredential.objects.unscoped().order_by("pk").values_list("encrypted_key", flat=True)
    )


def test_a_key_no_configured_key_opens_is_reported_and_left_alone(old_key, workspace):
    credentials.set_api_key(workspace, "hunter", "hk-ours-1111")
    old_key.SOURCIER_FERNET_KEYS = [Fernet.generate_key().decode()]
    credentials.set_api_key(workspace, "prospeo", "pk-ours-3333")
    lost = stored(workspace).encrypted_key
    old_key.SOURCIER_FERNET_KEYS = [NEW, old_key.SOURCIER_FERNET_KEYS[0]]

    with pytest.raises(CommandError, match=r"^1 clé n.est ouverte par aucune"):
        run("rotate_keys")
    assert stored(workspace).encrypted_key == lost
    assert credentials.get_api_key(workspace.pk, "prospeo") == "pk-ours-3333"
    assert crypto.is_current(stored(workspace, "prospeo").encrypted_key)


def test_a_zero_batch_size_is_refused(workspace):
    with pytest.raises(CommandError, match="au moins 1"):
        run("rotate_keys", "--batch-size", "0")


# --- Who may set a key -------------------------------------------------------------------

ADD = reverse("admin:enrichment_providercredential_add")


def test_a_workspace_admin_cannot_set_another_workspace_key(
    admin_client_ws, workspace, other_workspace
):
    theirs = credentials.set_api_key(other_workspace, "hunter", "leur-cle-zzzz")
    admin_client_ws.post(
        ADD, {"workspace": other_workspace.pk, "provider": "prospeo", "api_key": "mine-1234"}
    )
    change = reverse("admin:enrichment_providercredential_change", args=[theirs.pk])
    missing = reverse("admin:enrichment_providercredential_change", args=[999999])
    response = admin_client_ws.post(change, {"api_key": "mine-5678"})
    # Answered exactly as for a key that does not exist.
    assert (response.status_code, response.get("Location")) == (
        admin_client_ws.post(missing, {"api_key": "x"}).status_code,
        "/admin/",
    )
    assert (
        not ProviderCredential.objects.for_workspace(other_workspace)
        .filter(provider="prospeo")
        .exists()
    )
    assert credentials.get_api_key(other_workspace.pk, "hunter") == "leur-cle-zzzz"


def test_a_member_cannot_set_a_key_of_their_own_workspace(member_client, workspace):
    member_client.post(ADD, {"workspace": workspace.pk, "provider": "hunter", "api_key": "m-1234"})
    assert not ProviderCredential.objects.for_workspace(workspace).exists()
