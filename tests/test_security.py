"""Settings that refuse unsafe production, and the login rate limit."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[1]


def load_settings(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SECRET_KEY", "DEBUG"))}
    clean.pop("DATABASE_URL", None)
    clean.pop("SOURCIER_FERNET_KEYS", None)
    clean.pop("SOURCIER_SUPPRESSION_KEY", None)
    return subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "env",
    [
        {"DATABASE_URL": "postgres://u@127.0.0.1/x", "DEBUG": "true", "SECRET_KEY": "s" * 50},
        {"DATABASE_URL": "postgres://u@127.0.0.1/x"},
    ],
)
def test_production_refuses_debug_or_the_default_secret(env):
    env["SOURCIER_FERNET_KEYS"] = "Z3gtq0jvOOfP4GEFBxcMayTTuLvOE_VVPS6VX3RftnU="
    env["SOURCIER_SUPPRESSION_KEY"] = "k" * 32
    result = load_settings(**env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr


def test_production_needs_an_encryption_key_for_api_keys():
    result = load_settings(DATABASE_URL="postgres://u@127.0.0.1/x", SECRET_KEY="s" * 50)
    assert result.returncode != 0
    assert "SOURCIER_FERNET_KEYS" in result.stderr


def test_production_needs_its_own_suppression_key():
    result = load_settings(
        DATABASE_URL="postgres://u@127.0.0.1/x",
        SECRET_KEY="s" * 50,
        SOURCIER_FERNET_KEYS="Z3gtq0jvOOfP4GEFBxcMayTTuLvOE_VVPS6VX3RftnU=",
    )
    assert result.returncode != 0
    assert "SOURCIER_SUPPRESSION_KEY" in result.stderr


def test_production_with_its_settings_starts():
    result = load_settings(
        DATABASE_URL="postgres://u@127.0.0.1/x",
        SECRET_KEY="s" * 50,
        SOURCIER_FERNET_KEYS="Z3gtq0jvOOfP4GEFBxcMayTTuLvOE_VVPS6VX3RftnU=",
        SOURCIER_SUPPRESSION_KEY="k" * 32,
    )
    assert result.returncode == 0, result.stderr


def test_login_is_rate_limited_per_username(client, member, settings):
    # Ten a day, not a minute: a window rolling over mid-test would restart the count.
    settings.SOURCIER_LOGIN_RATE = "10/d"
    cache.clear()
    url = reverse("login")
    statuses = [
        client.post(url, {"username": member.username, "password": "mauvais"}).status_code
        for _ in range(12)
    ]
    assert statuses[:10] == [200] * 10
    assert statuses[-1] == 429
    # Even the right password waits now: that is the point of the limit.
    response = client.post(url, {"username": member.username, "password": "motdepasse-solide-42"})
    assert response.status_code == 429
    assert "Trop de tentatives" in response.content.decode()
    cache.clear()


def test_login_page_needs_a_csrf_token(member):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        reverse("login"), {"username": member.username, "password": "motdepasse-solide-42"}
    )
    assert response.status_code == 403
