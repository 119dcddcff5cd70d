"""The login limits count each account once however it is typed, and each client behind a proxy."""

import pytest
from django.core.cache import cache
from django.test import RequestFactory
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from prospects.login_limits import client_address, login_username_key
from tests.test_security import load_settings

LOGIN = "/admin/login/"
LIMIT = 5


@pytest.fixture(autouse=True)
def _fresh_counts(settings):
    # A day's window: a count never restarts in the middle of a test.
    settings.SOURCIER_LOGIN_RATE = f"{LIMIT}/d"
    cache.clear()
    yield
    cache.clear()


def attempt(client, username: str, *, peer: str, forwarded_for: str | None = None) -> int:
    extra = {"REMOTE_ADDR": peer}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client.post(
        reverse("login"), {"username": username, "password": "mauvais"}, **extra
    ).status_code


def fullwidth(text: str) -> str:
    """What a Japanese input method types for ASCII letters and digits."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


# --- One count per account --------------------------------------------------------------


def test_spellings_of_a_username_share_one_count(client, member):
    variants = [" claire", "claire ", fullwidth("claire"), "\tclaire\u3000", "CLAIRE"]
    statuses = [
        attempt(client, variants[i % len(variants)], peer=f"192.0.2.{i + 1}") for i in range(LIMIT)
    ]
    assert statuses == [200] * LIMIT
    assert attempt(client, "claire", peer="192.0.2.99") == 429


def test_other_accounts_keep_their_own_count(client, member):
    for i in range(LIMIT + 1):
        attempt(client, "claire", peer=f"192.0.2.{i + 1}")
    assert attempt(client, "mathieu", peer="192.0.2.99") == 200


@given(
    name=st.text(
        alphabet=st.characters(min_codepoint=ord("a"), max_codepoint=ord("z")), min_size=1
    ),
    left=st.sampled_from(["", " ", "\t", "\u3000", "  "]),
    right=st.sampled_from(["", " ", "\n", "\u3000"]),
)
def test_every_padded_or_fullwidth_spelling_gets_the_same_key(name, left, right):
    def key(username: str) -> str:
        return login_username_key("login", RequestFactory().post(LOGIN, {"username": username}))

    assert key(f"{left}{name}{right}") == key(name)
    assert key(fullwidth(name)) == key(name)
    assert key(name.upper()) == key(name)


# --- One count per client, behind a proxy or not -----------------------------------------


def test_without_trusted_proxies_a_forwarded_header_is_ignored(client, db, settings):
    settings.SOURCIER_TRUSTED_PROXIES = []
    statuses = [
        attempt(client, f"inconnu{i}", peer="203.0.113.7", forwarded_for=f"198.51.100.{i}")
        for i in range(LIMIT + 1)
    ]
    assert statuses[:LIMIT] == [200] * LIMIT
    assert statuses[-1] == 429


def test_behind_a_trusted_proxy_clients_are_counted_separately(client, db, settings):
    settings.SOURCIER_TRUSTED_PROXIES = ["10.0.0.0/8"]
    for i in range(LIMIT):
        assert attempt(client, f"inconnu{i}", peer="10.0.0.2", forwarded_for="198.51.100.1") == 200
    assert attempt(client, "inconnu-x", peer="10.0.0.2", forwarded_for="198.51.100.1") == 429
    assert attempt(client, "inconnu-y", peer="10.0.0.2", forwarded_for="198.51.100.2") == 200


def test_a_client_behind_the_proxy_cannot_pick_its_address(client, db, settings):
    settings.SOURCIER_TRUSTED_PROXIES = ["10.0.0.2"]
    statuses = [
        # The client wrote the left part; the proxy appended what it saw.
        attempt(
            client,
            f"inconnu{i}",
            peer="10.0.0.2",
            forwarded_for=f"198.51.100.{i}, 203.0.113.7",
        )
        for i in range(LIMIT + 1)
    ]
    assert statuses[-1] == 429


def address(settings, proxies, *, peer, forwarded_for=None, header="X-Forwarded-For") -> str:
    settings.SOURCIER_TRUSTED_PROXIES = proxies
    settings.SOURCIER_CLIENT_IP_HEADER = header
    extra = {"REMOTE_ADDR": peer}
    if forwarded_for is not None:
        extra["HTTP_" + header.upper().replace("-", "_")] = forwarded_for
    return client_address(RequestFactory().get("/", **extra))


@pytest.mark.parametrize(
    ("proxies", "peer", "forwarded_for", "expected"),
    [
        ([], "203.0.113.7", "198.51.100.1", "203.0.113.7"),
        (["10.0.0.0/8"], "203.0.113.7", "198.51.100.1", "203.0.113.7"),
        (["10.0.0.0/8"], "10.0.0.2", "198.51.100.1", "198.51.100.1"),
        (["10.0.0.0/8"], "10.0.0.2", "1.1.1.1, 198.51.100.1, 10.0.0.3", "198.51.100.1"),
        (["10.0.0.0/8"], "10.0.0.2", None, "10.0.0.2"),
        (["10.0.0.0/8"], "10.0.0.2", "pas-une-adresse", "10.0.0.2"),
        (["10.0.0.0/8"], "10.0.0.2", "198.51.100.1:51234", "198.51.100.1"),
        (["2001:db8::/32"], "2001:db8::1", "[2a01:e0a::7]:443, 2001:db8::2", "2a01:e0a::7"),
        (["2001:db8::/32"], "2001:db8::1", "2a01:e0a::7", "2a01:e0a::7"),
        (["127.0.0.1"], "", "198.51.100.1", "198.51.100.1"),
    ],
)
def test_client_address(settings, proxies, peer, forwarded_for, expected):
    assert address(settings, proxies, peer=peer, forwarded_for=forwarded_for) == expected


def test_the_header_is_a_setting(settings):
    got = address(
        settings, ["10.0.0.2"], peer="10.0.0.2", forwarded_for="198.51.100.4", header="X-Real-IP"
    )
    assert got == "198.51.100.4"


def test_a_bad_trusted_proxy_stops_the_start():
    result = load_settings(SOURCIER_TRUSTED_PROXIES="10.0.0.0/8,proxy.interne")
    assert result.returncode != 0
    assert "SOURCIER_TRUSTED_PROXIES: 'proxy.interne'" in result.stderr
