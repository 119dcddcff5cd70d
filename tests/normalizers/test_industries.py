"""Industry codes from NAF labels, NAF codes and LinkedIn-style industries."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prospects.normalizers import INDUSTRIES, industry_of

INDUSTRY_TEXTS = [
    # Dropcontact's `naf5_des`: INSEE's NAF labels.
    ("Programmation informatique", "software"),
    ("Édition de logiciels applicatifs", "software"),
    ("Conseil en systèmes et logiciels informatiques", "it_services"),
    ("Traitement de données, hébergement et activités connexes", "it_services"),
    ("Activités des sièges sociaux", "other"),
    ("Conseil pour les affaires et autres conseils de gestion", "consulting"),
    ("Activités comptables", "consulting"),
    ("Ingénierie, études techniques", "consulting"),
    ("Activités des agences de travail temporaire", "consulting"),
    ("Activités des agences de publicité", "media_marketing"),
    ("Mécanique industrielle", "manufacturing"),
    ("Fabrication de matériel électrique", "manufacturing"),
    ("Commerce de gros de fournitures et équipements industriels divers", "retail"),
    ("Commerce de détail de boulangerie", "retail"),
    ("Vente à distance sur catalogue spécialisé", "retail"),
    ("Transports routiers de fret interurbains", "transport_logistics"),
    ("Construction de maisons individuelles", "construction"),
    ("Formation continue d'adultes", "education"),
    ("Boulangerie et boulangerie-pâtisserie", "agriculture_food"),
    ("Culture de la vigne", "agriculture_food"),
    ("Hébergement médicalisé pour personnes âgées", "healthcare"),
    ("Activités hospitalières", "healthcare"),
    ("Hôtels et hébergement similaire", "hospitality"),
    ("Administration publique générale", "public_sector"),
    ("Télécommunications sans fil", "telecom"),
    ("Location de terrains et d'autres biens immobiliers", "real_estate"),
    ("Production d'électricité", "energy"),
    # Free French labels (the sandbox world's, files').
    ("Logiciels et services informatiques", "software"),
    ("Conseil informatique", "it_services"),
    ("Marketing et publicité", "media_marketing"),
    ("Transport et logistique", "transport_logistics"),
    ("Agroalimentaire", "agriculture_food"),
    ("E-commerce", "retail"),
    # LinkedIn-style English industries.
    ("Computer Software", "software"),
    ("Software Development", "software"),
    ("Information Technology and Services", "it_services"),
    ("IT Services and IT Consulting", "it_services"),
    ("Financial Services", "finance_insurance"),
    ("Banking", "finance_insurance"),
    ("Insurance", "finance_insurance"),
    ("Management Consulting", "consulting"),
    ("Business Consulting and Services", "consulting"),
    ("Staffing and Recruiting", "consulting"),
    ("Marketing and Advertising", "media_marketing"),
    ("Hospital & Health Care", "healthcare"),
    ("Real Estate", "real_estate"),
    ("Telecommunications", "telecom"),
    ("Oil & Energy", "energy"),
    ("Higher Education", "education"),
    ("Government Administration", "public_sector"),
    ("Restaurants", "hospitality"),
    ("Automotive", "manufacturing"),
    ("Food & Beverages", "agriculture_food"),
    ("Non-profit Organization Management", "other"),
    # NAF codes, with or without the dot, the letter, a prefix.
    ("62.01Z", "software"),
    ("6201Z", "software"),
    ("62.02A", "it_services"),
    ("58.29C", "software"),
    ("70.10Z", "other"),
    ("70.22Z", "consulting"),
    ("01.22E", "agriculture_food"),
    ("NAF 47.91B", "retail"),
    ("Code APE : 4941A", "transport_logistics"),
    ("86.10Z", "healthcare"),
    ("6201Z - Programmation informatique", "software"),
    # Nothing to read.
    ("", ""),
    ("2024 revenue", ""),
    ("Divers", ""),
]


@pytest.mark.parametrize(("text", "code"), INDUSTRY_TEXTS)
def test_industry_text_reads_as_expected(text, code):
    assert industry_of(text) == code


def test_the_table_is_large_enough_to_mean_something():
    assert len(INDUSTRY_TEXTS) >= 40


def test_every_naf_division_has_a_code():
    # Divisions of NAF rév. 2 (INSEE): each must land somewhere in the taxonomy.
    divisions = [
        1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
        25, 26, 27, 28, 29, 30, 31, 32, 33, 35, 36, 37, 38, 39, 41, 42, 43, 45, 46, 47, 49,
        50, 51, 52, 53, 55, 56, 58, 59, 60, 61, 62, 63, 64, 65, 66, 68, 69, 70, 71, 72, 73,
        74, 75, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 90, 91, 92, 93, 94, 95, 96, 97,
        98, 99,
    ]  # fmt: skip
    for division in divisions:
        assert industry_of(f"{division:02d}.11Z") in INDUSTRIES, division


@given(st.text())
def test_any_text_gives_a_known_code_or_unknown(text):
    assert industry_of(text) in {*INDUSTRIES, ""}


@given(st.sampled_from([text for text, _code in INDUSTRY_TEXTS]), st.booleans())
def test_case_and_accents_do_not_count(text, upper):
    from anyascii import anyascii

    changed = anyascii(text)
    changed = changed.upper() if upper else changed.lower()
    assert industry_of(changed) == industry_of(text)
