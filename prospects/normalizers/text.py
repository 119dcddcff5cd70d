"""Folding free text into lower-case ASCII words, the form every rule is written against."""

from __future__ import annotations

import re
from collections.abc import Iterable

from anyascii import anyascii

# Inclusive and bracketed feminine endings: "Chargé(e)", "Directeur·rice", "Alternant.e".
_FEMININE = re.compile(
    r"\((?:e|ne|le|se|re|euse|trice|rice|ice|ere|ve|es)\)|[·•]\w{1,5}\b|(?<=\w{3})\.e\b",
    re.IGNORECASE,
)
# Dotted acronyms ("P.D.G.", "V.P.") become one word ("pdg", "vp").
_DOTTED = re.compile(r"(?<![a-z0-9])(?:[a-z]\.){1,}[a-z]?(?![a-z0-9])")
_RND = re.compile(r"\br\s*&\s*d\b")
_NON_WORD = re.compile(r"[^a-z0-9]+")
# Longer than any title or label a person writes: the rules read no further.
MAX_LENGTH = 500


def _undot(match: re.Match[str]) -> str:
    letters = match.group().replace(".", "")
    return letters if len(letters) >= 2 else match.group()


def fold_words(text: str | None) -> str:
    """'Directrice Générale (P.D.G.)' -> 'directrice generale pdg'; '' for nothing."""
    if not text:
        return ""
    text = _FEMININE.sub("", str(text)[:MAX_LENGTH])
    ascii_text = anyascii(text).casefold()
    ascii_text = _RND.sub(" rnd ", _DOTTED.sub(_undot, ascii_text))
    return _NON_WORD.sub(" ", ascii_text).strip()


def words_pattern(alternatives: Iterable[str]) -> re.Pattern[str]:
    """One pattern matching any of the alternatives as whole words of folded text."""
    joined = "|".join(alternatives)
    return re.compile(rf"(?<![a-z0-9])(?:{joined})(?![a-z0-9])")
