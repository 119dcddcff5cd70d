"""For every row: rejected with a reason, or stored; never an exception.

The whole path of a row, written to the database the suite runs on (SQLite, then PostgreSQL
in CI, whose text refuses NUL and whose columns refuse one character too many): the shared
cleaning rules, the match keys, the import's chunk write, and `create_prospect`.
"""

import contextlib
import itertools
import operator

import pytest
from django.db import models
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from prospects import normalize, services
from prospects.imports.classify import Row, SeenKeys, classify
from prospects.imports.writing import CompanyCache, write_chunk
from prospects.models import ImportBatch, Prospect, RejectedRow

FIELDS = list(services.FIELD_LABELS)
_lines = itertools.count(2)  # each example's line in the batch

_TRICKY = st.sampled_from(
    [
        *("[", "]", "@", "﹫", "\x00", "//", "https://", "http://[", "mailto:", ".", ":", "#"),
        *("?", "%", "\\", "<", ">", '"', "linkedin.com/in/", "www.", "acme.fr", "xn--"),
        *("+33 6 12 34 56 78", "06 12 34 56 78", "Éloïse", "中文", "😀", "👩‍💻", "🇫🇷"),
        *("שלום", "مرحبا", "\u202e", "\u200f", "e\u0301", "\u0301\u0301", "İ", "ß", "ǅ", "ﬁ"),
        *(" ", "\t", "\n", "\u00a0", "\u3000", "\ufeff"),
    ]
)
# Any character but a surrogate (no file decodes to one; `is_storable` covers them anyway).
_ANY = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
_MIXED = st.lists(st.one_of(_TRICKY, _ANY), max_size=6).map("".join)
_LONG = st.builds(
    operator.mul,
    st.sampled_from(["中", "😀", "a", "é", "[", "\x00", "ﷺ", "e\u0301", "İ", "-"]),
    st.integers(min_value=60, max_value=700),
)
_CELL = st.one_of(st.just(""), _MIXED, _LONG)
_DOMAIN = st.sampled_from(["acme.fr", "中文.cn", "[1.2.3.4]", "xn--e1afmkfd.xn--p1ai", "a.example"])
_EMAIL = st.one_of(_CELL, st.builds("{}@{}".format, _MIXED, _DOMAIN))
_WEBSITE = st.one_of(_CELL, st.builds("https://{}.{}".format, _MIXED, _DOMAIN))
ROWS = st.fixed_dictionaries(
    {
        **dict.fromkeys(FIELDS, _CELL),
        "email": _EMAIL,
        "company_website": _WEBSITE,
        "company_domain": st.one_of(_CELL, _DOMAIN),
    }
)


@settings(max_examples=300, deadline=None)
@given(value=st.one_of(_CELL, _EMAIL, _WEBSITE))
def test_the_normalisers_raise_only_invalid_value(value):
    for normaliser in (
        normalize.normalize_domain,
        normalize.normalize_email,
        normalize.canonical_linkedin,
        normalize.normalize_phone,
        normalize.fold,
        normalize.company_name_key,
    ):
        with contextlib.suppress(normalize.InvalidValue):
            normaliser(value)


def person(**values: str) -> dict[str, str]:
    return {**dict.fromkeys(FIELDS, ""), "first_name": "Éloïse", "last_name": "Lefèvre", **values}


def assert_storable(instance: models.Model) -> None:
    """What PostgreSQL would refuse, checked on SQLite too: NUL, and text past its column."""
    for field in instance._meta.concrete_fields:
        value = getattr(instance, field.attname)
        if isinstance(value, str):
            assert normalize.is_storable(value), field.name
            if field.max_length:
                assert len(value) <= field.max_length, field.name


@pytest.fixture
def batch(workspace):
    return ImportBatch.objects.create(
        workspace=workspace,
        filename="property.csv",
        status=ImportBatch.Status.IMPORTING,
        mapping={"columns": FIELDS, "fields": FIELDS},
    )


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(data=ROWS)
@example(data=person(company_website="[oops"))
@example(data=person(company_website="https://[broken"))
@example(data=person(company_domain="a@[1.2.3.4]"))
@example(data=person(company_website="contact﹫acme.fr"))
@example(data=person(first_name="Élo\x00ïse", company_name="SGE"))
@example(data=person(company_name="中" * 255))
@example(data=person(first_name="😀" * 150, last_name="😀" * 150, company_name="中" * 255))
def test_a_row_is_rejected_with_a_reason_or_stored(workspace, other_workspace, batch, data):
    line = next(_lines)
    row = Row(line, [data[name] for name in FIELDS])

    # The import: classify, companies, then the chunk's write.
    classify(workspace.pk, [row], FIELDS, SeenKeys(), look_up_existing=False)
    CompanyCache(workspace.pk).assign([row])
    write_chunk(batch, [row])

    if row.reason:
        kept = RejectedRow.objects.for_workspace(workspace).get(batch=batch, line_number=line)
        assert kept.detail and (kept.reason, kept.detail) == (row.reason, row.detail)
        assert all(normalize.is_storable(value) for value in kept.data.values())
    else:
        stored = Prospect.objects.for_workspace(workspace).get(pk=row.prospect_id)
        assert (stored.first_name, stored.email) == (
            row.clean.prospect["first_name"],
            row.clean.prospect["email"],
        )
        assert_storable(stored)
        if stored.company:
            assert_storable(stored.company)

    # The same values typed in or sent through the API.
    try:
        prospect = services.create_prospect(other_workspace, data=data)
    except services.ProspectRejected as exc:
        assert str(exc) and exc.reason in RejectedRow.Reason.values
    else:
        prospect.refresh_from_db()
        assert_storable(prospect)
        if prospect.company:
            assert_storable(prospect.company)
