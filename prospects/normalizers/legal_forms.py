"""The legal form at the end (or, for French forms, the start) of a company name.

"Dupont SAS", "Dupont, S.A.S.", "Dupont (sas)" and "SAS Dupont" are all Dupont, a SAS;
"Acme Inc.", "Acme, Inc" and "Acme Incorporated" are Acme, an Inc. A form is only ever a
whole word set apart by a space, a comma, a dash or brackets, so "Sasha" and "Saint-Gobain"
are left alone, and a name that is nothing but a form keeps it ("SAS" stays "SAS").
Two-letter forms (SA, AG, SE...) count only in capitals: in lower case they are words.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .text import MAX_LENGTH

_ACCENTED = {"A": "[AÀÂÄ]", "E": "[EÉÈÊË]", "I": "[IÎÏ]", "O": "[OÔÖ]", "U": "[UÙÛÜ]"}


def _dotted(letters: str) -> str:
    """'SAS' -> S, A, S with an optional dot (and space) after each letter."""
    parts = [_ACCENTED.get(ch.upper(), re.escape(ch)) for ch in letters]
    return r"(?:\.\s?)?".join(parts) + r"\.?"


def _exact(*spellings: str) -> str:
    """Spellings that count only with this capitalisation."""
    return "(?-i:" + "|".join(spellings) + ")"


# (canonical form, pattern), longer forms first. French forms may also open the name.
_FRENCH = (
    ("SELARL", _dotted("SELARL")),
    ("SELAFA", _dotted("SELAFA")),
    ("SELAS", _dotted("SELAS")),
    ("SASU", _dotted("SASU")),
    ("SARL", _dotted("SARL")),
    ("EURL", _dotted("EURL")),
    ("EIRL", _dotted("EIRL")),
    ("SCOP", _dotted("SCOP")),
    ("SAS", _dotted("SAS")),
    ("SCI", _dotted("SCI")),
    ("SNC", _dotted("SNC")),
    ("SCA", _dotted("SCA")),
    ("SCS", _dotted("SCS")),
    ("SCP", _dotted("SCP")),
    ("SCM", _dotted("SCM")),
    ("GIE", _dotted("GIE")),
    ("SEM", _exact(r"S\.?E\.?M\.?")),
    ("SA", _exact(r"S\.\s?A\.?", r"SA")),
    ("EI", _exact(r"E\.\s?I\.?", r"EI")),
)
_OTHER = (
    ("GmbH & Co. KG", r"GmbH\s?(?:&|und)\s?Co\.?\s?KG"),
    ("Co., Ltd.", r"Co\.?,?\s?Ltd\.?"),
    ("Pty Ltd", r"Pty\.?\s?Ltd\.?"),
    ("Pte Ltd", r"Pte\.?\s?Ltd\.?"),
    ("Inc.", r"Inc\.?|Incorporated"),
    ("Corp.", r"Corp\.?|Corporation"),
    ("Ltd", r"Ltd\.?|Limited"),
    ("GmbH", r"GmbH"),
    ("BVBA", _dotted("BVBA")),
    ("SPRL", _dotted("SPRL")),
    ("SARL", r"S[àa]rl"),
    ("S.L.U.", _exact(r"S\.?L\.?U\.?")),
    ("S.A.U.", _exact(r"S\.?A\.?U\.?")),
    ("SRL", _dotted("SRL")),
    ("SpA", _exact(r"S\.p\.A\.?", r"SpA", r"SPA")),
    ("LLC", _dotted("LLC")),
    ("LLP", _dotted("LLP")),
    ("PLC", _dotted("PLC")),
    ("OHG", _dotted("OHG")),
    ("ApS", _exact(r"ApS", r"APS")),
    ("ASA", _exact(r"ASA")),
    ("A/S", r"A/S"),
    ("Oyj", _exact(r"Oyj", r"OYJ")),
    ("Oy", _exact(r"Oy", r"OY")),
    ("S.L.", _exact(r"S\.\s?L\.?", r"SL")),
    ("AG", _exact(r"AG")),
    ("KG", _exact(r"KG")),
    ("SE", _exact(r"SE")),
    ("AB", _exact(r"AB")),
    ("BV", _exact(r"B\.\s?V\.?", r"BV")),
    ("NV", _exact(r"N\.\s?V\.?", r"NV")),
)
_FORMS = (*_FRENCH, *_OTHER)
# The form of each named group: f0, f1...
_CANONICAL = {f"f{i}": canonical for i, (canonical, _) in enumerate(_FORMS)}
LEGAL_FORMS = tuple(dict.fromkeys(canonical for canonical, _ in _FORMS))

_SEPARATORS = " \t,;:-–—/([)]"
_AT_END = re.compile(
    r"(?:^|(?<=[\s,;\-–—/(\[]))[(\[]?\s*(?:"
    + "|".join(f"(?P<f{i}>{pattern})" for i, (_, pattern) in enumerate(_FORMS))
    + r")\s*[)\]]?\s*$",
    re.IGNORECASE,
)
_AT_START = re.compile(
    r"^[(\[]?(?:"
    + "|".join(f"(?P<f{i}>{pattern})" for i, (_, pattern) in enumerate(_FRENCH))
    + r")[)\]]?(?=[\s,;:\-–—/])",
    re.IGNORECASE,
)


def _has_name(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def _tidy(text: str) -> str:
    return " ".join(text.split()).strip(_SEPARATORS.replace("(", "").replace(")", ""))


@lru_cache(maxsize=8192)
def clean_legal_form(name: str | None) -> tuple[str, str]:
    """(name without its legal form, the form in its usual spelling, '' if none)."""
    text = " ".join(str(name or "").split())
    if len(text) > MAX_LENGTH:
        return text, ""
    found = ""
    while True:
        match = _AT_END.search(text)
        if match and _has_name(rest := _tidy(text[: match.start()])):
            found = found or _CANONICAL[match.lastgroup]
            text = rest
            continue
        match = _AT_START.match(text)
        if match and _has_name(rest := _tidy(text[match.end() :])):
            found = found or _CANONICAL[match.lastgroup]
            text = rest
            continue
        return text, found
