"""A domain is a host name DNS can hold (letters, digits and hyphens), or it is refused with
the French "Domaine invalide" on every path: the import (one row, never the file), the admin,
the API, discovery."""

import re

import idna
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from prospects import imports, normalize
from prospects.models import Company, ImportBatch, Prospect, RejectedRow
from tests.fixtures import csv_files

HOSTILE = ["exa mple.fr", "ab\x00c.fr", "-x.fr", "x_y.fr", "acme-.fr", "a.b-.fr", "ex%41mple.fr"]
LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")


def dns_holds(name: str) -> bool:
    """The rule, written again independently: LDH labels as sent (xn-- for accents)."""
    sent = name if name.isascii() else idna.encode(name).decode("ascii")
    labels = sent.split(".")
    return len(labels) >= 2 and len(sent) <= 253 and all(LABEL.match(x) for x in labels)


@pytest.mark.parametrize("value", [*HOSTILE, "ａｃｍｅ.fr", "exa\u00admple.fr", "☃.net"])
def test_what_is_not_a_host_name_is_an_invalid_domain(value):
    with pytest.raises(normalize.InvalidValue, match=r"^Domaine invalide : "):
        normalize.normalize_domain(value)
    with pytest.raises(normalize.InvalidValue):
        normalize.normalize_domain(f"https://www.{value}/contact")


def test_the_message_quotes_the_value_without_what_cannot_be_stored():
    with pytest.raises(normalize.InvalidValue) as caught:
        normalize.normalize_domain("ab\x00c.fr")
    assert str(caught.value) == "Domaine invalide : ab\ufffdc.fr"


@pytest.mark.parametrize(
    ("value", "domain"),
    [
        ("https://www.Acme.fr/contact", "acme.fr"),
        ("contact@sub.acme.co.uk", "acme.co.uk"),
        ("café.fr", "café.fr"),
        ("cafe\u0301.fr", "café.fr"),  # a decomposed accent is composed
        ("xn--caf-dma.fr", "xn--caf-dma.fr"),
        ("société-générale.fr.", "société-générale.fr"),
        ("straße.de", "straße.de"),
        ("equipe.sandbox.test", "sandbox.test"),
    ],
)
def test_host_names_with_or_without_accents_are_domains(value, domain):
    assert normalize.normalize_domain(value) == domain


_CHARS = st.sampled_from(
    [*"abcxyz019-._ @:/%é\u0301ß\x00\u00ad\u200bａ☃中", "xn--", "www.", "https://"]
)


@settings(max_examples=500, deadline=None)
@given(value=st.lists(_CHARS, max_size=14).map("".join))
@example(value="exa mple.fr")
@example(value="-x.fr")
def test_whatever_normalize_domain_returns_is_a_host_name(value):
    try:
        domain = normalize.normalize_domain(value)
    except normalize.InvalidValue:
        return
    assert domain == "" or dns_holds(domain), domain


def test_an_import_rejects_the_rows_with_a_bad_domain_and_imports_the_others(
    workspace, make_batch, tmp_path
):
    def row(n, site):
        first, email = f"Éloïse{n}", f"eloise{n}@equipement-sge.fr"
        return [first, "Lefèvre", email, "SGE", "Achats", "", "", site]

    rows = [csv_files.FRENCH_HEADER, row(1, "https://www.equipement-sge.fr")]
    rows += [row(10 + i, site) for i, site in enumerate(HOSTILE)]
    rows += [row(2, "equipement-sge.fr")]
    path = csv_files.write_csv(tmp_path / "salon.csv", rows, delimiter=";")

    batch = imports.run_import(make_batch(path))

    assert batch.status == ImportBatch.Status.DONE, batch.error
    assert (batch.created_count, batch.invalid_count) == (2, len(HOSTILE))
    rejected = RejectedRow.objects.for_workspace(workspace).order_by("line_number")
    said = dict(rejected.values_list("line_number", "detail"))
    for line, site in enumerate(HOSTILE, start=3):
        # A NUL is refused first, as anywhere in a row: the reason says so.
        expected = "impossible à enregistrer" if "\x00" in site else f"Domaine invalide : {site}"
        assert expected in said[line]
    assert set(Company.objects.for_workspace(workspace).values_list("domain", flat=True)) == {
        "equipement-sge.fr"
    }
    assert Prospect.objects.for_workspace(workspace).count() == 2
