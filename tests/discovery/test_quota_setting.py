"""SOURCIER_DISCOVERY_QUOTAS, read from the environment at startup: `name=N` entries over the
defaults, a typo stopping the app with the entry at fault."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.discovery_quotas import parse_discovery_quotas
from enrichment.discovery import quotas

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_quotas_are_read_from_the_environment():
    shown = manage(
        "shell",
        "-c",
        "import json; from django.conf import settings; "
        "print(json.dumps(settings.SOURCIER_DISCOVERY_QUOTAS))",
        SOURCIER_DISCOVERY_QUOTAS="contacts=200, Company=80",
    )
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout.strip().splitlines()[-1]) == {
        "contacts_per_user_per_day": 200,
        "contacts_per_company": 80,
    }


def test_a_bad_value_stops_the_app_at_startup_with_a_clear_error():
    result = manage("check", SOURCIER_DISCOVERY_QUOTAS="contacts=100,emails=cinq")
    assert result.returncode != 0
    assert "ImproperlyConfigured: SOURCIER_DISCOVERY_QUOTAS: emails='cinq'" in result.stderr


def test_the_documented_defaults_are_the_defaults(settings):
    settings.SOURCIER_DISCOVERY_QUOTAS = parse_discovery_quotas("")
    written = parse_discovery_quotas("contacts=100,emails=500,jobs=10,company=50")
    assert written == quotas.QUOTA_DEFAULTS
    assert {name: quotas.quota(name) for name in written} == written
    settings.SOURCIER_DISCOVERY_QUOTAS = parse_discovery_quotas("jobs=3")
    assert (quotas.quota("jobs_per_user"), quotas.quota("contacts_per_company")) == (3, 50)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("contact=100", "'contact' is not a quota; known: contacts, emails, jobs, company"),
        ("contacts", "expected name=N"),
        ("contacts=0", "is not a whole number from 1"),
        ("contacts=-5", "is not a whole number from 1"),
        ("contacts=1e3", "is not a whole number from 1"),
        ("contacts=²", "is not a whole number from 1"),
        ("contacts=10000000", "from 1 to 1000000"),
        ("jobs=2,jobs=3", "'jobs' is given twice"),
    ],
)
def test_bad_values_are_refused_with_what_is_wrong(text, message):
    with pytest.raises(ValueError) as caught:
        parse_discovery_quotas(text)
    assert message in str(caught.value)
