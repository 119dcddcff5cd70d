"""Seniority and department from a job title, French or English, as people write them.

Rules are whole words of the folded title (accents, case, dots and "(e)" endings do not
count). Seniority: the first rule in priority order that matches ("Stagiaire" before anything,
"Assistant(e)" before the title assisted, "Co-founder & CTO" is a founder). Department: the
function named first ("Directeur commercial et marketing" is sales); general management only
when no function is named. A title no rule reads stays unknown ("").
"""

from __future__ import annotations

from functools import lru_cache

from .text import fold_words, words_pattern

SENIORITIES = (
    "owner",
    "c_level",
    "vp",
    "director",
    "head",
    "manager",
    "senior",
    "entry",
    "intern",
)

DEPARTMENTS = (
    "executive",
    "sales",
    "marketing",
    "customer_success",
    "product",
    "it",
    "hr",
    "finance",
    "legal",
    "operations",
    "purchasing",
)

# "President" but not "vice-president"; "owner" but not a product or process owner.
_PRESIDENT = r"(?<!vice )presidente?s?"
_OWNER = r"(?<!product )(?<!process )(?<!data )(?<!project )(?<!service )owners?"
_FOUNDER = r"(?:co ?)?fondat(?:eur|rice)s?|(?:co ?)?founders?"
_GENERAL_MANAGEMENT = (
    r"pdg|dg|dga|dgd|dgs|directeur general|directrice generale|directeurs generaux"
    r"|direction generale|president directeur general|presidente directrice generale"
    r"|managing director|chief executive|ceo|" + _PRESIDENT
)

# Priority order: the first rule that matches decides.
_SENIORITY_RULES = tuple(
    (code, words_pattern(alternatives))
    for code, alternatives in (
        (
            "intern",
            [
                r"stagiaires?",
                r"interns?",
                r"internship",
                r"alternante?s?",
                r"alternance",
                r"apprentie?s?",
                r"apprentice",
                r"apprentissage",
                r"trainee",
                r"working student",
            ],
        ),
        ("entry", [r"assistante?s?", r"secretaires?(?! generale?)"]),
        (
            "owner",
            [
                _FOUNDER,
                _OWNER,
                r"(?:co ?)?gerante?s?",
                r"proprietaires?",
                r"associee?s?",
                r"managing partner",
                r"founding partner",
                r"equity partner",
                r"senior partner",
                r"^partner$",
                r"chef d entreprise",
                r"(?:auto )?entrepreneur",
                r"freelance",
                r"independante?",
                r"self employed",
            ],
        ),
        (
            "c_level",
            [
                _GENERAL_MANAGEMENT,
                r"cto|cfo|coo|cmo|cio|cro|cpo|cdo|cso|cco|chro|ciso|cxo",
                r"chief (?:[a-z]+ ){1,3}officer",
                r"dirigeante?s?",
            ],
        ),
        ("vp", [r"vp|svp|evp|avp", r"vice presidente?s?", r"vicepresident"]),
        (
            "director",
            [
                r"directeurs?|directrices?|directors?|dir",
                r"drh|daf|dsi|dircom|dirco",
                r"general manager",
                r"general counsel",
                r"secretaire generale?",
            ],
        ),
        ("head", [r"heads?"]),
        (
            "manager",
            [
                r"managers?|mgr|responsables?|resp|rrh|raf|rssi|kam",
                r"chef|cheffe|chefs",
                r"team lead|team leader|teamleader",
                r"supervisor|superviseure?|encadrante?",
            ],
        ),
        (
            "senior",
            [
                r"senior|sr|confirmee?|experimentee?|principal|expert|experte",
                r"lead(?! generation| gen)",
                r"staff engineer",
            ],
        ),
        (
            "entry",
            [
                r"junior|jr|debutante?",
                r"chargee?s?",
                r"commerciale?|commerciaux",
                r"ingenieure?s?|engineers?",
                r"developpeur|developpeuse|developers?|dev",
                r"consultante?s?",
                r"comptables?",
                r"techniciens?|technicienne|technician",
                r"analyste?s?",
                r"account executive",
                r"business developer",
                r"sdr|bdr",
                r"representative",
                r"conseill(?:er|ere)s?",
                r"gestionnaires?",
                r"employee?",
                r"agent",
                r"operat(?:eur|rice)",
                r"vendeur|vendeuse",
                r"specialiste?",
                r"attachee?",
                r"designer",
                r"juriste",
                r"acheteur|acheteuse|buyer",
                r"recruteur|recruteuse|recruiter",
                r"controleur|controleuse",
                r"audit(?:eur|rice)",
                r"coordinat(?:eur|rice|or)",
                r"associate",
                r"officer",
                r"executive",
                r"redact(?:eur|rice)",
                r"graphiste",
                r"administrat(?:eur|rice)",
                r"avocate?",
                r"negociat(?:eur|rice)",
                r"scientist",
                r"approvisionneur",
            ],
        ),
    )
)

# Functions: the one named first in the title wins (the longer phrase at the same place).
_DEPARTMENT_RULES = tuple(
    (code, words_pattern(alternatives))
    for code, alternatives in (
        (
            "sales",
            [
                r"commerciale?|commerciaux|ventes?|sales|vendeur|vendeuse",
                r"business developer|business development|business dev|bizdev|biz dev",
                r"(?:chargee?|ingenieure?|apporteur|responsable|developpeur) d affaires",
                r"account executive|account manager|account director|key accounts?|kam",
                r"grands comptes|sdr|bdr|revenue|cro|adv|administration des ventes",
                r"presales|pre sales|avant ventes?|export|partenariats?|partnerships?",
                r"alliances|channel|negociat(?:eur|rice)|developpement commercial",
            ],
        ),
        (
            "marketing",
            [
                r"marketing|cmo|communication|dircom|brand|marques?|growth|seo|sea|sem",
                r"content|contenus?|evenementiel|events?|relations presse|press relations",
                r"community manager|social media|acquisition|demand generation|lead generation",
                r"product marketing|graphiste|traffic manager",
            ],
        ),
        (
            "customer_success",
            [
                r"customer success|csm|succes client|relations? clients?|service clients?",
                r"customer service|customer care|customer support|customer experience",
                r"support client|experience client|satisfaction client|onboarding",
                r"service clientele|relation clientele",
            ],
        ),
        (
            "product",
            [
                r"product|products|produits?",
                r"product owner|product manager",
                r"ux|ui",
            ],
        ),
        (
            "it",
            [
                r"informatique|it|si|dsi|rssi|cto|cio|ciso|tech|technique|technical",
                r"technologie|technology|engineering|rnd|recherche et developpement",
                r"developpeur|developpeuse|developers?|dev|devops|software|logiciels?",
                r"data|infrastructure|cloud|web|full ?stack|front ?end|back ?end|sysadmin",
                r"systemes? d information|information systems|information technology",
                r"chief information|systemes? et reseaux|cybersecurite|cybersecurity",
                r"securite informatique|etudes et developpement",
            ],
        ),
        (
            "hr",
            [
                r"rh|drh|rrh|hr|hrbp|chro|ressources humaines|human resources",
                r"recrutement|recruteur|recruteuse|recruiter|recruiting|recruitment",
                r"talent|talents|people|paie|payroll|formation|carrieres|relations sociales",
            ],
        ),
        (
            "finance",
            [
                r"finance|finances|financier|financiere|financial|daf|raf|cfo",
                r"comptable|comptables|comptabilite|accounting|accountant",
                r"controleur de gestion|controleuse de gestion|controle de gestion|controller",
                r"tresorerie|tresorier|tresoriere|treasury|fiscal|fiscalite|tax",
                r"credit manager|recouvrement|audit|auditeur|auditrice",
            ],
        ),
        (
            "legal",
            [
                r"juridique|juriste|legal|avocate?|lawyer|counsel|compliance|conformite",
                r"dpo|data protection|affaires juridiques|affaires reglementaires|contract manager",
            ],
        ),
        (
            "operations",
            [
                r"operations|operationnel|operationnelle|operating|coo|logistique|logistics",
                r"supply chain|production|usine|plant|qualite|quality|maintenance|exploitation",
                r"office manager|services generaux|moyens generaux|facility|facilities",
                r"entrepot|warehouse|transport|hse",
            ],
        ),
        (
            "purchasing",
            [
                r"achats?|acheteur|acheteuse|purchasing|procurement|buyer|approvisionnement",
                r"approvisionneur",
            ],
        ),
    )
)

_EXECUTIVE = words_pattern(
    [
        _GENERAL_MANAGEMENT,
        _FOUNDER,
        _OWNER,
        r"(?:co ?)?gerante?s?",
        r"proprietaires?",
        r"associee?s?",
        r"managing partner",
        r"founding partner",
        r"^partner$",
        r"dirigeante?s?",
        r"chef d entreprise",
        r"chief of staff",
        r"general manager",
        r"assistante? de direction",
        r"executive assistant",
        r"secretaire generale?",
    ]
)


@lru_cache(maxsize=16384)
def seniority_of(title: str | None) -> str:
    """The seniority code of a job title ('' when the title does not say)."""
    words = fold_words(title)
    if not words:
        return ""
    for code, pattern in _SENIORITY_RULES:
        if pattern.search(words):
            return code
    return ""


@lru_cache(maxsize=16384)
def department_of(title: str | None) -> str:
    """The department code of a job title ('' when the title does not say)."""
    words = fold_words(title)
    if not words:
        return ""
    best: tuple[int, int, str] | None = None
    for code, pattern in _DEPARTMENT_RULES:
        match = pattern.search(words)
        if match:
            rank = (match.start(), -len(match.group()), code)
            best = rank if best is None or rank < best else best
    if best is not None:
        return best[2]
    return "executive" if _EXECUTIVE.search(words) else ""
