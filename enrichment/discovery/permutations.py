"""Candidate mailbox names for a person: every local part real companies build from a name.

Pure: names in, candidates out. Names are folded to ASCII (anyascii) from their letters only
(an emoji or a digit is dropped, never spelled out), apostrophes dropped ("N'Diaye" ->
"ndiaye"), and the spellings companies actually use are tried in turn:

- the whole name as written, particles glued and hyphens kept ("de La Fontaine" ->
  "delafontaine", "Jean-Pierre" -> "jean-pierre"), which is what most mail systems do;
- then the other spellings: hyphens dropped ("jeanpierre"), the name without its particles
  ("fontaine"), the first part of a double name ("dupont");
- compound first names give both initials styles ("jp" and "j-p");
- homonym digits last ("jean.dupont2").

Every candidate carries the name of its pattern (`first.last`, `flast`, ...): `pattern_of`
reads it back from an address, which is how a domain's pattern is learned.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator
from typing import NamedTuple

from anyascii import anyascii

# Patterns by how often companies use them (first.last dominates in France); the order is the
# order in which candidates are tried when nothing is known about a domain.
PATTERNS: tuple[str, ...] = (
    "first.last",
    "flast",
    "first",
    "firstlast",
    "f.last",
    "first_last",
    "last.first",
    "firstl",
    "last",
    "first.l",
    "first-last",
    "lastfirst",
    "last_first",
    "f_last",
    "lastf",
    "l.first",
    "last-first",
    "f-last",
    "last.f",
    "fl",
)

# The first COMMON patterns cover nearly every company; the rest are tried after them.
COMMON = 9
# Patterns worth a homonym digit ("jean.dupont2"): the ones a second Jean Dupont gets.
DIGIT_PATTERNS: tuple[str, ...] = ("first.last", "flast", "firstlast", "f.last")
HOMONYM_DIGITS: tuple[str, ...] = ("2", "1", "3")

# Lower-case particles of French, Dutch, German, Spanish, Portuguese and Arabic names.
PARTICLES = frozenset(
    {"de", "du", "des", "la", "le", "les", "d", "l", "van", "von", "der", "den", "ter", "ten",
     "da", "do", "dos", "das", "del", "della", "di", "el", "al", "ben", "bin", "mac", "st"}
)
MAX_LOCAL_LENGTH = 64  # RFC 5321 §4.5.3.1.1
# What a name holds besides letters: kept as they are written, as separators or glue.
NAME_MARKS = frozenset(" -'`´’")


class Candidate(NamedTuple):
    """One local part to try, the pattern it follows and the spelling of the name it uses
    (a tuple: a person has some forty, made for every person of a file)."""

    local: str
    pattern: str
    variant: str = "as_written"

    def address(self, domain: str) -> str:
        return f"{self.local}@{domain}"


# What a person's name holds besides letters and their accents, as a person types it:
# spaces, hyphens, apostrophes, the dot of an initial.
PERSON_NAME_MARKS = NAME_MARKS | {"."}


def foreign_characters(name: str) -> list[str]:
    """The characters of `name` no person's name holds as a person types it (digits,
    symbols, emoji, punctuation but its marks), sorted; none for a name. The manual entry
    refuses them."""
    return sorted(
        {c for c in name if c not in PERSON_NAME_MARKS and unicodedata.category(c)[0] not in "LM"}
    )


def is_junk_name(name: str) -> bool:
    """A "name" that holds digits, symbols or control characters ("=HYPERLINK(…)", "+1",
    "\tx"): only junk addresses would come of it. Punctuation and other spaces are kept (a
    file's or a vendor's "Dupont, PhD", "Jean\u00a0Pierre", "Marie–Anne"): the candidates
    read letters only."""
    return any(unicodedata.category(c)[0] in "NS" or unicodedata.category(c) == "Cc" for c in name)


# ASCII's characters that are neither letters nor NAME_MARKS, each to a space (`_letters`).
_ASCII_NOT_LETTERS = {
    code: " " for code in range(128) if not chr(code).isalpha() and chr(code) not in NAME_MARKS
}


def _letters(text: str) -> str:
    """Letters (and their accents), hyphens, apostrophes and spaces; anything else (digits,
    punctuation, emoji) becomes a space before folding: anyascii would spell an emoji as a
    word ("😀" -> ":grinning:")."""
    if text and text.isascii():  # most names: one table look-up per character
        return text.translate(_ASCII_NOT_LETTERS)
    return "".join(
        char if char in NAME_MARKS or unicodedata.category(char)[0] in "LM" else " "
        for char in text or ""
    )


def _words(text: str) -> list[str]:
    """ASCII lower-case words; apostrophes glue ("N'Diaye" -> ["ndiaye"]), hyphens are kept."""
    ascii_text = anyascii(_letters(text)).lower()
    ascii_text = re.sub(r"['`´’]", "", ascii_text)
    words = []
    for raw in re.split(r"[^a-z-]+", ascii_text):
        word = re.sub(r"-{2,}", "-", raw).strip("-")
        if word:
            words.append(word)
    return words


def _unique(values: list[str]) -> list[str]:
    return [v for i, v in enumerate(values) if v and v not in values[:i]]


def first_spellings(first_name: str) -> list[str]:
    """'Jean-Pierre' -> ['jean-pierre', 'jeanpierre', 'jean']; 'Éloïse' -> ['eloise']."""
    words = _words(first_name)
    if not words:
        return []
    whole = "".join(words)
    return _unique([whole, whole.replace("-", ""), re.split(r"-", words[0])[0]])


def last_spellings(last_name: str) -> list[str]:
    """'de La Fontaine' -> ['delafontaine', 'fontaine', 'de-la-fontaine'], first as written."""
    words = _words(last_name)
    if not words:
        return []
    whole = "".join(words)
    core = [w for w in words if w.replace("-", "") not in PARTICLES] or words
    bare = "".join(core)
    return _unique([
        whole,
        whole.replace("-", ""),
        bare,
        bare.replace("-", ""),
        bare.split("-")[0],
        "-".join(w for w in words),
    ])


def first_initials(first: str) -> list[str]:
    """'jean-pierre' -> ['j', 'jp', 'j-p']; 'eloise' -> ['e']."""
    parts = [p for p in first.split("-") if p]
    if len(parts) < 2:
        return [first[:1]]
    return _unique([first[:1], "".join(p[0] for p in parts), "-".join(p[0] for p in parts)])


# Each pattern's local part from (first, last, first's initial, last's initial).
_FORMS = {
    "first.last": lambda first, last, f, l_: f"{first}.{last}",
    "flast": lambda first, last, f, l_: f"{f}{last}",
    "first": lambda first, last, f, l_: first,
    "firstlast": lambda first, last, f, l_: f"{first}{last}",
    "f.last": lambda first, last, f, l_: f"{f}.{last}",
    "first_last": lambda first, last, f, l_: f"{first}_{last}",
    "last.first": lambda first, last, f, l_: f"{last}.{first}",
    "firstl": lambda first, last, f, l_: f"{first}{l_}",
    "last": lambda first, last, f, l_: last,
    "first.l": lambda first, last, f, l_: f"{first}.{l_}",
    "first-last": lambda first, last, f, l_: f"{first}-{last}",
    "lastfirst": lambda first, last, f, l_: f"{last}{first}",
    "last_first": lambda first, last, f, l_: f"{last}_{first}",
    "f_last": lambda first, last, f, l_: f"{f}_{last}",
    "lastf": lambda first, last, f, l_: f"{last}{f}",
    "l.first": lambda first, last, f, l_: f"{l_}.{first}",
    "last-first": lambda first, last, f, l_: f"{last}-{first}",
    "f-last": lambda first, last, f, l_: f"{f}-{last}",
    "last.f": lambda first, last, f, l_: f"{last}.{f}",
    "fl": lambda first, last, f, l_: f"{f}{l_}",
}


def _apply(pattern: str, first: str, last: str, f: str) -> str:
    return _FORMS[pattern](first, last, f, last[:1])




def _raw(first_name: str, last_name: str) -> Iterator[tuple[str, str, str]]:
    """(local part, pattern, variant) in the order of likelihood, repeats and invalid ones
    included (a Candidate is made only of those kept)."""
    firsts, lasts = first_spellings(first_name), last_spellings(last_name)
    if not firsts and not lasts:
        return
    if not lasts:  # only a first name: the patterns that need no last name
        for first in firsts:
            yield first, "first", "as_written" if first == firsts[0] else "spelling"
        return
    if not firsts:
        for last in lasts:
            yield last, "last", "as_written" if last == lasts[0] else "spelling"
        return
    # The common patterns with the name as written, then with the other spellings; then the
    # rarer patterns in the same order; homonym digits last.
    as_written = (firsts[0], firsts[0][:1], lasts[0])
    spellings = [
        (first, f, last)
        for first in firsts
        for f in first_initials(first)
        for last in lasts
        if (first, f, last) != as_written  # its local parts were given just before
    ]
    for patterns in (PATTERNS[:COMMON], PATTERNS[COMMON:]):
        first, f, last = as_written
        for pattern in patterns:
            yield _apply(pattern, first, last, f), pattern, "as_written"
        for first, f, last in spellings:
            for pattern in patterns:
                yield _apply(pattern, first, last, f), pattern, "spelling"
    first, last = firsts[0], lasts[0]
    for digit in HOMONYM_DIGITS:
        for pattern in DIGIT_PATTERNS:
            yield _apply(pattern, first, last, first[:1]) + digit, pattern, "homonym"


def candidates(first_name: str, last_name: str) -> list[Candidate]:
    """Every distinct candidate local part for a person, most likely first (deterministic)."""
    return list(_candidates(first_name, last_name))


@functools.lru_cache(maxsize=4096)
def _candidates(first_name: str, last_name: str) -> tuple[Candidate, ...]:
    # Cached: a person's candidates are read for the objection list, the ranking and every
    # known address's pattern, and a batch asks about each person several times.
    seen: set[str] = set()
    result = []
    for local, pattern, variant in _raw(first_name, last_name):
        if local in seen:
            continue
        seen.add(local)  # kept or not, the same local part is judged the same again
        # Dot-atom text by construction: the spellings are words of a-z and inner hyphens
        # (`_words`), joined by . _ - or nothing, digits only at the end; only the length
        # is left to check.
        if len(local) <= MAX_LOCAL_LENGTH:
            result.append(Candidate(local, pattern, variant))
    return tuple(result)


def pattern_of(local: str, first_name: str, last_name: str) -> str | None:
    """The pattern an address's local part follows for this person ('first.last'), or None."""
    wanted = (local or "").split("@", 1)[0].strip().lower()
    for candidate in candidates(first_name, last_name):
        if candidate.local == wanted:
            return candidate.pattern
    return None
