"""Normalised values: the fast paths give exactly what email_validator and phonenumbers give."""

import hashlib
import hmac
import re

import phonenumbers
import pytest
from django.test import override_settings
from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st

from prospects import normalize

ATEXT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~"


def email_by_email_validator(value: str) -> str | None:
    """What normalize_email stored before its fast path: None for a rejected address."""
    value = " ".join(value.split()).strip("<>").strip()
    if not value:
        return ""
    if value.lower().startswith("mailto:"):
        value = value[7:]
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def email_by_normalize(value: str) -> str | None:
    try:
        return normalize.normalize_email(value)
    except normalize.InvalidValue:
        return None


def phone_by_phonenumbers(value: str) -> str | None:
    value = " ".join(value.split())
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, "FR")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_by_normalize(value: str) -> str | None:
    try:
        return normalize.normalize_phone(value)
    except normalize.InvalidValue:
        return None


labels = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-éüß", min_size=0, max_size=70)
domains = st.one_of(
    st.lists(labels, min_size=1, max_size=4).map(".".join),
    st.sampled_from(
        [
            "acme.fr",
            "ACME.FR",
            "société.fr",
            "xn--socit-esab.fr",
            "acme.example",
            "localhost",
            "[192.168.0.1]",
            "acme..fr",
            "-acme.fr",
            "acme.fr.",
            "acme",
            "a@b.fr",
            "\u0338acme.fr",
            "acme.f r",
        ]
    ),
)
local_parts = st.one_of(
    st.text(alphabet=ATEXT + ".", min_size=0, max_size=70),
    st.text(min_size=0, max_size=12),
    st.sampled_from(['"jean pierre"', '"a@b"', "élo", "a..b", ".a", "a.", "Jean Dupont <jp"]),
)
addresses = st.one_of(
    st.builds(lambda local, domain: f"{local}@{domain}", local_parts, domains),
    st.emails(),
    st.text(max_size=40),
)


@settings(max_examples=1500, deadline=None)
@given(addresses)
@example("Eloise.Lefevre@SGE.fr")
@example("mailto:jp@fables.fr")
@example("<jp@fables.fr>")
@example("Jean Dupont <jp@fables.fr>")
@example("jp@\u0338fables.fr")
@example("a" * 64 + "@" + "b" * 63 + ".fr")
@example("a" * 65 + "@fables.fr")
@example("a" * 60 + "@" + ".".join(["b" * 63] * 3) + ".fr")
@example("postmaster@fables.fr")
@example("jp@fables")
@example("jp at fables.fr")
def test_email_is_what_email_validator_says(value):
    assert email_by_normalize(value) == email_by_email_validator(value)


def test_email_examples():
    assert normalize.normalize_email(" Eloise.Lefevre@SGE.fr ") == "eloise.lefevre@sge.fr"
    assert normalize.normalize_email("jp@XN--SOCIT-ESAB.fr") == "jp@société.fr"
    assert normalize.normalize_email("") == ""
    for bad in ("jp at fables.fr", "jp@fables", "jp@fables..fr", "a" * 250 + "@fables.fr"):
        with pytest.raises(normalize.InvalidValue):
            normalize.normalize_email(bad)


separators = st.sampled_from(["", " ", ".", "-", "  ", "\u00a0", "/", "_"])
prefixes = st.sampled_from(["0", "+33", "+33 ", "+33 (0)", "+33(0)", "+33 (0) ", "0033 ", "00", ""])


@st.composite
def french_numbers(draw):
    digits = draw(st.text(alphabet="0123456789", min_size=7, max_size=11))
    sep = draw(separators)
    pairs = [digits[0], *(digits[i : i + 2] for i in range(1, len(digits), 2))]
    return draw(prefixes) + sep.join(pairs)


@settings(max_examples=3000, deadline=None)
@given(st.one_of(french_numbers(), st.text(alphabet="0123456789 +().-", max_size=20)))
@example("06 12 34 56 78")
@example("+33 6 12 34 56 78")
@example("+33 (0)6 12 34 56 78")
@example("06.12.34.56.78")
@example("0612345678")
@example("+33612345678")
@example("00 12 34 56 78")
@example("06 12 34 56 7")
@example("12")
@example("+44 20 7946 0958")
def test_phone_is_what_phonenumbers_says(value):
    assert phone_by_normalize(value) == phone_by_phonenumbers(value)


def test_phone_examples():
    assert normalize.normalize_phone("06 12 34 56 78") == "+33612345678"
    assert normalize.normalize_phone("+33 (0)1 41 63 60 83") == "+33141636083"
    assert normalize.normalize_phone("+44 20 7946 0958") == "+442079460958"
    with pytest.raises(normalize.InvalidValue):
        normalize.normalize_phone("12")


@given(st.text(max_size=30))
@example("  Éloïse \u00a0 Lefèvre\t")
@example("\x1c a \u2003b\u3000")
def test_clean_text_collapses_every_whitespace_run(value):
    expected = re.sub(r"\s+", " ", value).strip()
    assert normalize.clean_text(value) == expected


def test_fold_examples():
    assert normalize.fold("Éloïse  Lefèvre") == "eloise lefevre"
    assert normalize.fold("Société Générale d'Équipement") == "societe generale d equipement"
    assert normalize.fold(None) == ""


def test_keyed_hash_is_an_hmac_with_the_current_key(settings):
    settings.SOURCIER_SUPPRESSION_KEY = "first-key"
    first = normalize.keyed_hash("email", "eloise@sge.fr")
    expected = hmac.new(b"first-key", b"email:eloise@sge.fr", hashlib.sha256).hexdigest()
    assert first == expected
    assert normalize.keyed_hash("email", "eloise@sge.fr") == expected

    settings.SOURCIER_SUPPRESSION_KEY = "second-key"
    assert normalize.keyed_hash("email", "eloise@sge.fr") != first
    assert normalize.keyed_hash("phone", "eloise@sge.fr") != normalize.keyed_hash(
        "email", "eloise@sge.fr"
    )


@settings(max_examples=300, deadline=None)
@given(key=st.text(max_size=100), kind=st.sampled_from(["email", "phone"]), value=st.text())
# Keys longer than SHA-256's 64-byte block are hashed first: both sides of that border.
@example(key="k" * 64, kind="email", value="a@b.fr")
@example(key="k" * 65, kind="email", value="a@b.fr")
@example(key="é" * 40, kind="phone", value="+33612345678")
def test_keyed_hash_equals_the_standard_hmac_for_any_key_and_value(key, kind, value):
    with override_settings(SOURCIER_SUPPRESSION_KEY=key):
        got = normalize.keyed_hash(kind, value)
    expected = hmac.new(key.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
    assert got == expected
