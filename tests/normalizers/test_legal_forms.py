"""Legal forms at either end of a company name, and names that only look like them."""

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from prospects.normalizers import LEGAL_FORMS, clean_legal_form

NAMES = [
    ("Dupont SAS", "Dupont", "SAS"),
    ("Dupont S.A.S.", "Dupont", "SAS"),
    ("Dupont, SAS", "Dupont", "SAS"),
    ("Dupont (SAS)", "Dupont", "SAS"),
    ("Dupont - sas", "Dupont", "SAS"),
    ("SAS Dupont", "Dupont", "SAS"),
    ("S.A.R.L. Les Jardins de Marie", "Les Jardins de Marie", "SARL"),
    ("Boulangerie Martin SARL", "Boulangerie Martin", "SARL"),
    ("Martin EURL", "Martin", "EURL"),
    ("Conseil Durand SASU", "Conseil Durand", "SASU"),
    ("SCI du Parc", "du Parc", "SCI"),
    ("Garage Petit SNC", "Garage Petit", "SNC"),
    ("Les Menuisiers Réunis SCOP", "Les Menuisiers Réunis", "SCOP"),
    ("Cabinet Moreau SELARL", "Cabinet Moreau", "SELARL"),
    ("EI Lambert", "Lambert", "EI"),
    ("Compagnie de Saint-Gobain S.A.", "Compagnie de Saint-Gobain", "SA"),
    ("Orange SA", "Orange", "SA"),
    ("Airbus SE", "Airbus", "SE"),
    ("Acme Inc.", "Acme", "Inc."),
    ("Acme, Inc", "Acme", "Inc."),
    ("Acme Incorporated", "Acme", "Inc."),
    ("Stripe, LLC", "Stripe", "LLC"),
    ("Widgets Ltd", "Widgets", "Ltd"),
    ("Widgets Limited", "Widgets", "Ltd"),
    ("Tesco PLC", "Tesco", "PLC"),
    ("Microsoft Corporation", "Microsoft", "Corp."),
    ("Siemens AG", "Siemens", "AG"),
    ("Bosch GmbH", "Bosch", "GmbH"),
    ("Müller GmbH & Co. KG", "Müller", "GmbH & Co. KG"),
    ("Telefónica S.L.", "Telefónica", "S.L."),
    ("Philips N.V.", "Philips", "NV"),
    ("Heineken BV", "Heineken", "BV"),
    ("Foxconn Co., Ltd.", "Foxconn", "Co., Ltd."),
    ("Dupont Sàrl", "Dupont", "SARL"),
    ("Dupont SARL SAS", "Dupont", "SAS"),
    # Nothing to strip.
    ("Sasha", "Sasha", ""),
    ("Saint-Gobain", "Saint-Gobain", ""),
    ("Casino Guichard", "Casino Guichard", ""),
    ("Hôtel & Spa du Lac", "Hôtel & Spa du Lac", ""),
    ("Le Spa", "Le Spa", ""),
    ("Elsa", "Elsa", ""),
    ("SNCF Réseau", "SNCF Réseau", ""),
    ("Atelier sa maison", "Atelier sa maison", ""),
    # A form that is the whole name stays.
    ("SAS", "SAS", ""),
    ("(SARL)", "(SARL)", ""),
    ("", "", ""),
]


@pytest.mark.parametrize(("name", "rest", "form"), NAMES)
def test_company_name_reads_as_expected(name, rest, form):
    assert clean_legal_form(name) == (rest, form)


def test_the_table_is_large_enough_to_mean_something():
    assert len(NAMES) >= 30


@given(st.text())
def test_any_name_gives_a_known_form_or_none(name):
    rest, form = clean_legal_form(name)
    assert form in {*LEGAL_FORMS, ""}
    assert rest or not name.strip() or not form


@given(st.text())
def test_cleaning_twice_is_cleaning_once(name):
    rest, _form = clean_legal_form(name)
    assert clean_legal_form(rest) == (rest, "")


@given(st.text())
def test_a_name_never_becomes_empty(name):
    rest, _form = clean_legal_form(name)
    assert bool(rest.strip()) == bool(name.strip())


_BASE = st.from_regex(r"[A-Z][a-zéè]{2,12}( [A-Z][a-zéè]{2,12})?", fullmatch=True)
_FRENCH = st.sampled_from(["SAS", "SARL", "SASU", "EURL", "SCI", "SNC"])


@given(
    _BASE,
    _FRENCH,
    st.sampled_from(["{b} {f}", "{b}, {f}", "{b} ({f})", "{b} - {f}", "{f} {b}"]),
    st.sampled_from([str.upper, str.lower, str.title, lambda f: ".".join(f) + "."]),
)
def test_a_french_form_is_found_however_it_is_written(base, form, layout, spelling):
    assume(clean_legal_form(base)[1] == "")
    name = layout.format(b=base, f=spelling(form))
    assert clean_legal_form(name) == (base, form)
