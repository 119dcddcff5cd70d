"""An industry code from what providers and files call a company's activity.

Three kinds of text arrive: French NAF labels (Dropcontact's `naf5_des`, "Programmation
informatique"), LinkedIn-style English industries ("Computer Software", "Financial
Services") and NAF codes themselves ("62.01Z", "6201Z"). A code is read by its division (two
digits), with the few groups that belong elsewhere (58.2 software publishing, 62.02 IT
consulting...); a label by ordered keyword rules, the specific before the general ("Conseil en
systèmes et logiciels informatiques" is IT services, not consulting). Unknown text gives "".
"""

from __future__ import annotations

import re
from functools import lru_cache

from .text import fold_words, words_pattern

INDUSTRIES = (
    "software",
    "it_services",
    "telecom",
    "consulting",
    "finance_insurance",
    "real_estate",
    "retail",
    "manufacturing",
    "construction",
    "energy",
    "transport_logistics",
    "healthcare",
    "education",
    "media_marketing",
    "hospitality",
    "public_sector",
    "agriculture_food",
    "other",
)

# NAF rév. 2 divisions (INSEE), as ranges of two-digit codes.
_DIVISIONS = (
    ((1, 3), "agriculture_food"),
    ((5, 6), "energy"),
    ((7, 8), "manufacturing"),
    ((9, 9), "energy"),
    ((10, 12), "agriculture_food"),
    ((13, 18), "manufacturing"),
    ((19, 19), "energy"),
    ((20, 20), "manufacturing"),
    ((21, 21), "healthcare"),
    ((22, 33), "manufacturing"),
    ((35, 39), "energy"),
    ((41, 43), "construction"),
    ((45, 47), "retail"),
    ((49, 53), "transport_logistics"),
    ((55, 56), "hospitality"),
    ((58, 60), "media_marketing"),
    ((61, 61), "telecom"),
    ((62, 63), "it_services"),
    ((64, 66), "finance_insurance"),
    ((68, 68), "real_estate"),
    ((69, 72), "consulting"),
    ((73, 73), "media_marketing"),
    ((74, 74), "consulting"),
    ((75, 75), "other"),
    ((77, 78), "consulting"),
    ((79, 79), "hospitality"),
    ((80, 82), "consulting"),
    ((84, 84), "public_sector"),
    ((85, 85), "education"),
    ((86, 88), "healthcare"),
    ((90, 93), "hospitality"),
    ((94, 94), "other"),
    ((95, 95), "other"),
    ((96, 98), "other"),
    ((99, 99), "public_sector"),
)
# Groups (first three or four digits) that do not follow their division.
_GROUPS = (
    ("582", "software"),
    ("6201", "software"),
    ("6391", "media_marketing"),
    ("701", "other"),  # head offices: says nothing of what the group does
    ("951", "it_services"),
)
_BY_DIVISION = {
    division: code for (low, high), code in _DIVISIONS for division in range(low, high + 1)
}

# "62.01Z", "6201Z", "62.01", "NAF 62.01Z", "Code APE : 6201Z - Programmation informatique".
_NAF_CODE = re.compile(
    r"^\s*(?:(?:code\s*)?(?:naf|ape)(?:\s*rev\.?\s*2)?\s*[:\-]?\s*)?"
    r"(\d{2})(?:\.(\d{1,2})\s?[A-Za-z]?|(\d{2})\s?[A-Za-z])(?![A-Za-z0-9.])",
    re.IGNORECASE,
)

# Ordered: the first rule that matches decides.
_LABEL_RULES = tuple(
    (code, words_pattern(alternatives))
    for code, alternatives in (
        ("other", [r"activites des sieges sociaux|sieges sociaux|holdings?|head offices?"]),
        # NAF's trade divisions (45-47) all start so, whatever they sell.
        ("retail", [r"commerces? de (?:gros|detail)|commerce et reparation|vente a distance"]),
        (
            "it_services",
            [
                r"conseil en systemes|conseil informatique|conseil en technologies|ssii|esn",
                r"it services|it consulting|infogerance|traitement de donnees|data processing",
                r"hebergement web|gestion d installations informatiques|computer network security",
                r"computer networking|computer hardware repair|reparation d ordinateurs",
            ],
        ),
        (
            "software",
            [
                r"logiciels?|software|saas|programmation informatique|edition de jeux",
                r"computer games|video games|internet|technology information and internet",
            ],
        ),
        ("it_services", [r"information technology|services informatiques|informatique"]),
        ("telecom", [r"telecommunications?|telecoms?|wireless|fournisseurs? d acces"]),
        (
            "healthcare",
            [
                r"hospitals?|hopitaux|hospitalier|hospitalieres?|health|healthcare|sante|medical",
                r"medicale?s?|medicalise|medico|pharma|pharmaceutiques?|pharmaceuticals",
                r"biotech|biotechnology|biotechnologies?|cliniques?|dentaires?|infirmiers?",
                r"action sociale|social work|medical devices|veterinaires?",
            ],
        ),
        (
            "media_marketing",
            [
                r"publicite|advertising|marketing|agences? de publicite|relations publiques",
                r"public relations|communication|media|medias|presse|journaux|newspapers",
                r"publishing|edition de livres|edition de journaux|edition de revues",
                r"radio|television|televisions|cinema|cinematographique|film|films",
                r"audiovisuel|audiovisuelle|broadcast|etudes de marche|market research|design",
            ],
        ),
        (
            "finance_insurance",
            [
                r"banques?|banking|bancaires?|assurances?|insurance|reassurance|financial",
                r"financiers?|financieres?|finance|investment|investissement|capital markets",
                r"venture capital|private equity|gestion de fonds|credit|fintech",
                r"services financiers|fonds de placement|intermediation monetaire",
            ],
        ),
        (
            "real_estate",
            [
                r"immobilier|immobiliere|immobilieres|real estate|agences immobilieres",
                r"location de terrains|biens immobiliers",
            ],
        ),
        (
            "construction",
            [
                r"construction|travaux|btp|batiment|batiments|genie civil|civil engineering",
                r"architecture|building materials|maconnerie|plomberie|electricite generale",
                r"promotion immobiliere",
            ],
        ),
        (
            "transport_logistics",
            [
                r"transports?|transportation|logistique|logistics|supply chain|entreposage",
                r"warehousing|fret|freight|trucking|airlines?|aviation|maritime|railroad",
                r"messagerie|postales?|courrier|demenagement|affretement",
            ],
        ),
        (
            "energy",
            [
                r"energie|energies|energy|electricite|electric utilities|utilities|gaz",
                r"petrole|oil|renewables|renouvelables?|solaire|eolien|nucleaire",
                r"dechets|waste|environmental services|eau|assainissement|depollution",
                r"extraction|mining|mines",
            ],
        ),
        (
            "education",
            [
                r"enseignement|education|formation|formations|e learning|elearning",
                r"higher education|universites?|university|ecoles?|schools?|training",
            ],
        ),
        (
            "hospitality",
            [
                r"hotels?|hotellerie|hospitality|restaurants?|restauration|tourisme|tourism",
                r"travel|voyages?|leisure|loisirs|sports?|sportives?|debits de boissons",
                r"hebergement touristique|camping|spectacle|entertainment|arts|fitness",
                r"events services|evenementiel",
            ],
        ),
        (
            "public_sector",
            [
                r"administration publique|administrations publiques|government|public policy",
                r"collectivites?|defense|military|armee|public administration|securite sociale",
            ],
        ),
        (
            "agriculture_food",
            [
                r"agriculture|agricoles?|culture de|cultures|elevage|farming|viticulture|vigne",
                r"vins?|wine|spirits|food|foods|alimentaires?|agroalimentaire|boulangerie",
                r"patisserie|boissons|beverages?|peche|fishing|sylviculture|dairy|laitiers?",
                r"boucherie|charcuterie|fromagerie",
            ],
        ),
        (
            "retail",
            [
                r"commerce|commerces|retail|wholesale|vente|ventes|e commerce|ecommerce",
                r"distribution|supermarches|hypermarches|grande distribution|magasins?",
                r"import and export|negoce|consumer goods",
            ],
        ),
        (
            "consulting",
            [
                r"conseil|conseils|consulting|consultancy|management consulting",
                r"comptables?|comptabilite|accounting|expertise comptable|juridiques?",
                r"legal services|law practice|avocats?|ingenierie|etudes techniques",
                r"staffing|recruiting|recrutement|interim|travail temporaire|human resources",
                r"outsourcing|services aux entreprises|soutien aux entreprises|nettoyage",
                r"securite privee|business consulting|professional services|research",
            ],
        ),
        (
            "manufacturing",
            [
                r"industrie|industries|industriel|industrielle|industrial|manufacturing",
                r"fabrication|mecanique|metallurgie|chimie|chemicals|chimiques?|plastiques?",
                r"textiles?|electronique|electronics|semiconductors|machinery|machines",
                r"aeronautique|aerospace|robotique|robotics|automobile|automotive",
                r"imprimerie|printing|usinage|chaudronnerie|emballages?|packaging",
            ],
        ),
        (
            "other",
            [
                r"associations?|associatives?|non profit|nonprofit|organisations? associatives?",
                r"services personnels|personal services|religious|religieuses?",
            ],
        ),
    )
)


def _from_code(match: re.Match[str]) -> str:
    division = match.group(1)
    digits = division + (match.group(2) or match.group(3))
    for prefix, code in _GROUPS:
        if digits.startswith(prefix):
            return code
    return _BY_DIVISION.get(int(division), "")


@lru_cache(maxsize=4096)
def industry_of(text: str | None) -> str:
    """The industry code of a NAF code, a NAF label or an industry name ('' if unknown)."""
    if not text:
        return ""
    raw = str(text)[:500]
    code = _NAF_CODE.match(raw)
    if code and (found := _from_code(code)):
        return found
    words = fold_words(raw)
    for industry, pattern in _LABEL_RULES:
        if pattern.search(words):
            return industry
    return ""
