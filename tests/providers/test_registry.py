"""The provider registry and the operator's price table (SOURCIER_PROVIDER_PRICES)."""

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from hypothesis import given
from hypothesis import strategies as st

from config.provider_prices import MAX_PRICE, parse_provider_prices, parse_provider_rates
from enrichment.providers import registry
from enrichment.providers.registry import PROVIDER_CHOICES, PROVIDERS, Kind, get_provider

ADAPTERS = (
    "dropcontact",
    "prospeo",
    "leadmagic",
    "findymail",
    "aiark",
    "firecrawl",
    "hunter",
    "apollo",
    "clearbit",
)
ROOT = Path(__file__).resolve().parents[2]


def test_every_vendor_the_adapters_speak_has_an_entry_and_a_base_url():
    vendors = [slug for slug, spec in PROVIDERS.items() if spec.auth != "none"]
    assert set(vendors) == set(ADAPTERS) == set(django_settings.PROVIDER_DEFAULT_BASE_URLS)
    assert [slug for slug, _label in PROVIDER_CHOICES] == vendors


def test_in_house_discovery_is_free_and_needs_no_key():
    spec = PROVIDERS["discovery"]
    assert spec.auth == "none" and spec.max_cost == 0 and spec.fields == ("email",)
    assert "discovery" not in dict(PROVIDER_CHOICES)


@pytest.mark.parametrize("slug", ADAPTERS)
def test_each_entry_is_complete_and_priced_in_euros(slug):
    spec = PROVIDERS[slug]
    assert spec.slug == slug and spec.label and spec.fields and spec.docs_url.startswith("https")
    assert isinstance(spec.kind, Kind) and spec.rate_limit and spec.auth
    assert isinstance(spec.cost_per_call, Decimal) and isinstance(spec.cost_per_success, Decimal)
    assert Decimal(0) < spec.max_cost < Decimal(1)
    assert spec.requests_per_second >= 1 and 1 <= spec.concurrency <= 10


def test_pay_on_success_vendors_cost_nothing_for_a_miss():
    for slug in ("dropcontact", "prospeo", "leadmagic", "findymail", "hunter"):
        assert get_provider(slug).cost_per_call == 0, slug
        assert get_provider(slug).cost_per_success > 0, slug


def test_operator_prices_override_the_defaults(settings):
    settings.SOURCIER_PROVIDER_PRICES = parse_provider_prices(
        "prospeo:call=0.001,success=0.05; hunter:success=0.03", known=ADAPTERS
    )
    assert (get_provider("prospeo").cost_per_call, get_provider("prospeo").cost_per_success) == (
        Decimal("0.001"),
        Decimal("0.05"),
    )
    hunter = get_provider("hunter")
    assert hunter.cost_per_success == Decimal("0.03")
    assert hunter.cost_per_call == PROVIDERS["hunter"].cost_per_call
    assert get_provider("apollo") == PROVIDERS["apollo"]
    # The defaults themselves are never changed by an override.
    assert PROVIDERS["prospeo"].cost_per_success == Decimal("0.036")


def test_unknown_provider_is_a_key_error():
    with pytest.raises(KeyError):
        registry.get_provider("zoominfo")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("zoominfo:call=1", "'zoominfo' is not a provider; known: aiark, apollo"),
        ("prospeo", "expected slug:call=…,success=…"),
        ("prospeo:", "expected slug:call=…,success=…"),
        ("prospeo:price=1", "expected call=EUROS or success=EUROS"),
        ("prospeo:call=0,039", "expected call=EUROS or success=EUROS"),
        ("prospeo:call=abc", "call='abc' is not a price in euros"),
        ("prospeo:call=-1", "call='-1' is not a price in euros"),
        ("prospeo:success=NaN", "success='NaN' is not a price"),
        ("prospeo:success=Infinity", "success='Infinity' is not a price"),
        ("prospeo:success=1000", "between 0 and 100"),
        ("prospeo:call=1,call=2", "call is given twice"),
        ("prospeo:call=1;prospeo:success=2", "'prospeo' is given twice"),
    ],
)
def test_bad_price_tables_are_refused_with_what_is_wrong(text, message):
    with pytest.raises(ValueError) as caught:
        parse_provider_prices(text, known=ADAPTERS)
    assert message in str(caught.value)


def test_empty_and_spaced_tables_are_read():
    assert parse_provider_prices("", known=ADAPTERS) == {}
    assert parse_provider_prices(" ; Prospeo : Call = 0 ; ", known=ADAPTERS) == {
        "prospeo": {"call": Decimal("0")}
    }


PRICES = st.decimals(min_value=0, max_value=MAX_PRICE, places=4, allow_nan=False)


@given(
    st.dictionaries(
        st.sampled_from(ADAPTERS),
        st.fixed_dictionaries({}, optional={"call": PRICES, "success": PRICES}).filter(bool),
    )
)
def test_any_table_written_in_the_documented_format_reads_back_the_same(table):
    text = ";".join(
        f"{slug}:" + ",".join(f"{part}={value}" for part, value in prices.items())
        for slug, prices in table.items()
    )
    assert parse_provider_prices(text, known=ADAPTERS) == table


@given(st.text(max_size=40))
def test_any_text_is_read_or_refused_with_a_value_error(text):
    try:
        table = parse_provider_prices(text, known=ADAPTERS)
    except ValueError:
        return
    assert set(table) <= set(ADAPTERS)


def test_a_bad_table_stops_the_app_at_startup_with_a_clear_error():
    env = {**os.environ, "SOURCIER_PROVIDER_PRICES": "prospeo:success=0,039"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured: SOURCIER_PROVIDER_PRICES: prospeo:" in result.stderr


def test_operator_rates_override_the_registry_and_the_gateway_keeps_them(settings):
    settings.SOURCIER_PROVIDER_RATES = parse_provider_rates(
        " Prospeo = 40 ,hunter=2", known=ADAPTERS
    )
    assert get_provider("prospeo").requests_per_second == 40
    assert get_provider("hunter").requests_per_second == 2
    assert get_provider("leadmagic") == PROVIDERS["leadmagic"]
    assert PROVIDERS["prospeo"].requests_per_second == 5  # the default itself is unchanged


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("zoominfo=5", "'zoominfo' is not a provider"),
        ("prospeo", "expected slug=REQUESTS_PER_SECOND"),
        ("prospeo=0", "is not a whole number of requests/s"),
        ("prospeo=2.5", "is not a whole number of requests/s"),
        ("prospeo=5000", "(1-1000)"),
        ("prospeo=5,prospeo=6", "'prospeo' is given twice"),
    ],
)
def test_bad_rate_tables_are_refused_with_what_is_wrong(text, message):
    with pytest.raises(ValueError) as caught:
        parse_provider_rates(text, known=ADAPTERS)
    assert message in str(caught.value)


def test_operator_concurrencies_override_the_registry(settings):
    settings.SOURCIER_PROVIDER_CONCURRENCIES = parse_provider_rates(
        "prospeo=10", known=ADAPTERS, unit="calls at once", name="CALLS_AT_ONCE"
    )
    assert get_provider("prospeo").concurrency == 10
    assert get_provider("leadmagic").concurrency == PROVIDERS["leadmagic"].concurrency == 5
    with pytest.raises(ValueError, match="not a whole number of calls at once"):
        parse_provider_rates("prospeo=0", known=ADAPTERS, unit="calls at once")
