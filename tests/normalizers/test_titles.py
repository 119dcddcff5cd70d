"""Seniority and department from real French and English job titles."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prospects.normalizers import DEPARTMENTS, SENIORITIES, department_of, seniority_of

# (title as people write it, seniority, department); "" is unknown.
TITLES = [
    ("DRH", "director", "hr"),
    ("DAF", "director", "finance"),
    ("DSI", "director", "it"),
    ("PDG", "c_level", "executive"),
    ("P.D.G.", "c_level", "executive"),
    ("DG", "c_level", "executive"),
    ("CEO", "c_level", "executive"),
    ("CTO", "c_level", "it"),
    ("CFO", "c_level", "finance"),
    ("COO", "c_level", "operations"),
    ("CMO", "c_level", "marketing"),
    ("VP Sales", "vp", "sales"),
    ("V.P. Sales", "vp", "sales"),
    ("Senior Vice President Sales", "vp", "sales"),
    ("VP Marketing", "vp", "marketing"),
    ("Head of Sales", "head", "sales"),
    ("Directeur commercial", "director", "sales"),
    ("DIRECTEUR COMMERCIAL", "director", "sales"),
    ("Directrice commerciale", "director", "sales"),
    ("Directrice des ressources humaines", "director", "hr"),
    ("Directeur administratif et financier", "director", "finance"),
    ("Directrice administrative et financière", "director", "finance"),
    ("Directeur technique", "director", "it"),
    ("Directeur des systèmes d'information", "director", "it"),
    ("Directeur d'usine", "director", "operations"),
    ("Directeur·rice marketing", "director", "marketing"),
    ("Directeur général", "c_level", "executive"),
    ("Président-directeur général", "c_level", "executive"),
    ("Présidente-directrice générale", "c_level", "executive"),
    ("Managing Director", "c_level", "executive"),
    ("Chief Financial Officer", "c_level", "finance"),
    ("Chief Technology Officer", "c_level", "it"),
    ("Responsable marketing", "manager", "marketing"),
    ("Responsable des achats", "manager", "purchasing"),
    ("Responsable logistique", "manager", "operations"),
    ("Responsable grands comptes", "manager", "sales"),
    ("Responsable partenariats", "manager", "sales"),
    ("Responsable RH", "manager", "hr"),
    ("Responsable SI", "manager", "it"),
    ("Responsable qualité", "manager", "operations"),
    ("Responsable service client", "manager", "customer_success"),
    ("Responsable ADV", "manager", "sales"),
    ("RSSI", "manager", "it"),
    ("Customer Success Manager", "manager", "customer_success"),
    ("Key Account Manager", "manager", "sales"),
    ("Procurement Manager", "manager", "purchasing"),
    ("Partnerships Manager", "manager", "sales"),
    ("Product Marketing Manager", "manager", "marketing"),
    ("Community Manager", "manager", "marketing"),
    ("Office manager", "manager", "operations"),
    ("Team Leader Sales", "manager", "sales"),
    ("Cheffe de projet digital", "manager", ""),
    ("Chargé(e) de recrutement", "entry", "hr"),
    ("Chargée de recrutement", "entry", "hr"),
    ("Chargé d'affaires", "entry", "sales"),
    ("Ingénieur commercial", "entry", "sales"),
    ("Ingénieure commerciale", "entry", "sales"),
    ("Business developer", "entry", "sales"),
    ("Account Executive", "entry", "sales"),
    ("Développeur Full Stack", "entry", "it"),
    ("Data Scientist", "entry", "it"),
    ("Juriste", "entry", "legal"),
    ("Comptable", "entry", "finance"),
    ("Contrôleur de gestion", "entry", "finance"),
    ("Gestionnaire de paie", "entry", "hr"),
    ("Talent Acquisition Specialist", "entry", "hr"),
    ("Technicien de maintenance", "entry", "operations"),
    ("Opérateur de production", "entry", "operations"),
    ("Acheteuse", "entry", "purchasing"),
    ("Assistant to the CEO", "entry", "executive"),
    ("Assistante de direction", "entry", "executive"),
    ("Sales Operations Lead", "senior", "sales"),
    ("Sr. Software Engineer", "senior", "it"),
    ("Lead Developer", "senior", "it"),
    ("Stagiaire", "intern", ""),
    ("Stagiaire marketing digital", "intern", "marketing"),
    ("Alternant(e)", "intern", ""),
    ("Alternante chargée de communication", "intern", "marketing"),
    ("Fondateur", "owner", "executive"),
    ("Co-fondatrice", "owner", "executive"),
    ("Co-founder & CTO", "owner", "it"),
    ("Gérant", "owner", "executive"),
    ("Gérante", "owner", "executive"),
    ("Chef d'entreprise", "owner", "executive"),
    ("General Counsel", "director", "legal"),
    # Ambiguous or empty: unknown rather than guessed.
    ("CPO", "c_level", ""),
    ("Vice-présidente", "vp", ""),
    ("Directeur", "director", ""),
    ("Manager", "manager", ""),
    ("Consultant", "entry", ""),
    ("Ingénieur", "entry", ""),
    ("Product Owner", "", "product"),
    ("Bénévole", "", ""),
    ("Étudiant", "", ""),
    ("-", "", ""),
    ("", "", ""),
]


@pytest.mark.parametrize(("title", "seniority", "department"), TITLES)
def test_title_reads_as_expected(title, seniority, department):
    assert (seniority_of(title), department_of(title)) == (seniority, department)


def test_the_table_is_large_enough_to_mean_something():
    assert len({title for title, _s, _d in TITLES}) >= 60


def test_a_product_owner_is_not_a_business_owner():
    assert seniority_of("Product Owner") != "owner"
    assert seniority_of("Owner") == "owner"


def test_a_vice_president_is_not_a_president():
    assert seniority_of("Vice-président") == "vp"
    assert seniority_of("Président") == "c_level"


@given(st.text())
def test_any_text_gives_a_known_code_or_unknown(text):
    assert seniority_of(text) in {*SENIORITIES, ""}
    assert department_of(text) in {*DEPARTMENTS, ""}


@given(st.sampled_from([title for title, _s, _d in TITLES]), st.sampled_from(["upper", "lower"]))
def test_case_does_not_count(title, case):
    changed = getattr(title, case)()
    assert seniority_of(changed) == seniority_of(title)
    assert department_of(changed) == department_of(title)


@given(st.sampled_from([title for title, _s, _d in TITLES]))
def test_accents_do_not_count(title):
    from anyascii import anyascii

    assert seniority_of(anyascii(title)) == seniority_of(title)
    assert department_of(anyascii(title)) == department_of(title)


@given(st.sampled_from([title for title, _s, _d in TITLES]), st.sampled_from(["  ", " - ", ", "]))
def test_spacing_and_punctuation_around_do_not_count(title, padding):
    assert seniority_of(f"{padding}{title}{padding}") == seniority_of(title)
    assert department_of(f"{padding}{title}{padding}") == department_of(title)
