"""A domain's email pattern, learned from the addresses already known there.

Pure: known addresses (verified by a probe, or published on the company's site) with the
names of their owners in, a ranking of patterns with its evidence out. Fewer than
`MIN_EVIDENCE` known addresses still reorder the candidates, but the evidence says it is thin.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .permutations import PATTERNS, Candidate, pattern_of

MIN_EVIDENCE = 3

# How a pattern reads to a French user: prenom.nom, pnom, p.nom...
_FRENCH_TOKENS = (("first", "prenom"), ("last", "nom"))


def french_label(pattern: str) -> str:
    """'first.last' -> 'prenom.nom', 'flast' -> 'pnom', 'f.last' -> 'p.nom'."""
    label = pattern
    for english, french in _FRENCH_TOKENS:
        label = label.replace(english, "\0" + french + "\0")
    out = []
    for chunk in label.split("\0"):
        if chunk in ("prenom", "nom"):
            out.append(chunk)
        else:
            out.append(chunk.replace("f", "p").replace("l", "n"))
    return "".join(out)


@dataclass(frozen=True)
class KnownAddress:
    """An address known to work on the domain, and whose it is."""

    email: str
    first_name: str
    last_name: str


@dataclass(frozen=True)
class PatternEvidence:
    """Patterns seen on a domain, most frequent first, and how many addresses back them."""

    counts: tuple[tuple[str, int], ...] = ()
    known: int = 0
    unmatched: int = 0
    ranking: tuple[str, ...] = field(default=())

    @property
    def best(self) -> str | None:
        return self.counts[0][0] if self.counts else None

    @property
    def sufficient(self) -> bool:
        return self.known >= MIN_EVIDENCE and self.best is not None

    @property
    def share(self) -> float:
        """The best pattern's share of the known addresses (0 when none are known)."""
        return self.counts[0][1] / self.known if self.counts and self.known else 0.0

    def text(self) -> str:
        """'3 adresses connues, toutes prenom.nom' or 'preuves insuffisantes (...)'."""
        if not self.sufficient:
            return ngettext(
                "insufficient evidence (%(n)s known address)",
                "insufficient evidence (%(n)s known addresses)",
                self.known,
            ) % {"n": self.known}
        best, count = self.counts[0]
        known = ngettext(
            "%(n)s known address", "%(n)s known addresses", self.known
        ) % {"n": self.known}
        if count == self.known:
            return _("%(known)s, all %(pattern)s") % {
                "known": known, "pattern": french_label(best)
            }
        return _("%(known)s, %(count)s as %(pattern)s") % {
            "known": known, "count": count, "pattern": french_label(best)
        }


def learn_from_patterns(patterns: Iterable[str | None]) -> PatternEvidence:
    """Evidence from the pattern names of known addresses (None: matched no pattern)."""
    seen = list(patterns)
    counter = Counter(p for p in seen if p)
    order = {pattern: index for index, pattern in enumerate(PATTERNS)}
    # Ties go to the pattern companies use most, so the ranking is deterministic.
    counts = tuple(sorted(counter.items(), key=lambda kv: (-kv[1], order.get(kv[0], 99), kv[0])))
    return PatternEvidence(
        counts=counts,
        known=len(seen),
        unmatched=sum(1 for p in seen if not p),
        ranking=tuple(p for p, _count in counts),
    )


def learn(known: Iterable[KnownAddress]) -> PatternEvidence:
    """Rank the patterns that the known addresses of one domain follow."""
    return learn_from_patterns(
        pattern_of(k.email, k.first_name, k.last_name) for k in known
    )


def rank_candidates(
    candidates: Sequence[Candidate], evidence: PatternEvidence
) -> list[Candidate]:
    """The candidates with the domain's learned patterns first, in evidence order.

    Within a pattern the spelling order is kept; candidates of patterns never seen on the
    domain keep their default order after them.
    """
    position = {pattern: index for index, pattern in enumerate(evidence.ranking)}
    if not position:
        return list(candidates)  # nothing learned: the default order
    learned = len(position)
    indexed = list(enumerate(candidates))
    indexed.sort(
        key=lambda pair: (
            (position[pair[1].pattern], pair[1].variant == "homonym", pair[0])
            if pair[1].pattern in position
            else (learned, False, pair[0])
        )
    )
    return [candidate for _index, candidate in indexed]
