"""Many people of one domain found together: their candidates asked in rounds.

The first people are asked about one person at a time, until the domain's pattern is known
(or its host turns out to defer everyone): what they confirm puts the right candidate first
for the others. Each of them is asked in rounds too (one candidate, then two, then four), so
a person costs a few writes rather than a few per candidate. The others are then asked in
rounds together: each round asks every waiting person's next candidates at once
(`probe_many`: one INSERT of probe rows before anything is sent, one transaction on one
session, one UPDATE of the answers): one candidate, then twice as many each round, since a
person whose likely address was refused has most likely left and then every candidate gets
asked anyway. A person leaves the rounds at their first candidate that is not refused, as
`find_best` stops. So the RCPTs are those `find_best` would send (a few more only for
someone whose address is none of the likely ones but is found further down a round), in
far fewer round trips and writes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import objections, records
from .patterns import KnownAddress, PatternEvidence
from .services import SILENT
from .verdicts import InTurn, Verdict

if TYPE_CHECKING:
    from .services import Discovery

# At most this many people asked one at a time while the domain's pattern is unknown.
ONE_AT_A_TIME = 3

Waiting = tuple[int, InTurn, PatternEvidence]


def find_colleagues(
    discovery: Discovery, people: list[tuple[str, str]], domain: str, known: list[KnownAddress]
) -> list[Verdict]:
    """`Discovery.find_best` for each (first name, last name) of `domain`, in order."""
    # An objection list without addresses (read once for the batch) needs no look-up each.
    discovery._none_objected = objections.none_listed(discovery.workspace_id)
    try:
        return _find_colleagues(discovery, people, domain, known)
    finally:
        discovery._none_objected = False


def _find_colleagues(
    discovery: Discovery, people: list[tuple[str, str]], domain: str, known: list[KnownAddress]
) -> list[Verdict]:
    verdicts: list[Verdict | None] = [None] * len(people)
    waiting: list[Waiting] = []
    alone = 0
    for index, (first_name, last_name) in enumerate(people):
        if alone < ONE_AT_A_TIME and not discovery.evidence(domain, known).known:
            verdict = _alone(discovery, first_name, last_name, domain, known)
            verdicts[index] = verdict
            # A host that defers everyone tells nothing one person at a time.
            alone = ONE_AT_A_TIME if verdict.reason == "greylisted" else alone + 1
            continue
        prepared = discovery.prepare(first_name, last_name, domain, known=known)
        if isinstance(prepared, Verdict):
            verdicts[index] = prepared
        else:
            ranked, evidence = prepared
            waiting.append((index, InTurn(ranked, domain), evidence))
    if waiting:
        _ask_in_rounds(discovery, domain, waiting)
    for index, asking, _evidence in waiting:
        verdicts[index] = asking.verdict
    return verdicts  # type: ignore[return-value]


def _alone(
    discovery: Discovery, first_name: str, last_name: str, domain: str, known: list
) -> Verdict:
    """One person asked alone, in rounds (one candidate, then two, then four...): what
    they confirm teaches the next person the domain's pattern."""
    prepared = discovery.prepare(first_name, last_name, domain, known=known)
    if isinstance(prepared, Verdict):
        return prepared
    ranked, evidence = prepared
    asking = InTurn(ranked, domain)
    _ask_in_rounds(discovery, domain, [(0, asking, evidence)])
    return asking.verdict


def _ask_in_rounds(discovery: Discovery, domain: str, waiting: list[Waiting]) -> None:
    route, row = discovery.route(domain)
    addresses = [c.address(domain) for _i, asking, _e in waiting for c in asking.ranked]
    discovery._prefetched = records.latest_probes(discovery.workspace_id, addresses)
    try:
        while True:
            asks = []
            for _index, asking, evidence in waiting:
                asks.extend((asking, candidate, evidence) for candidate in asking.next_window())
            if not asks:
                return
            _one_round(discovery, route, row, asks)
    finally:
        discovery._prefetched = {}


def _one_round(discovery: Discovery, route, row, asks: list) -> None:
    domain = route.domain
    catch_all, silent = discovery.catch_all(route, row)
    if catch_all or silent in SILENT:
        # The domain's state changed meanwhile (a block, a pause): each is told as alone.
        for asking, candidate, evidence in asks:
            address = candidate.address(domain)
            verdict = discovery.verify(address, pattern=candidate.pattern, evidence=evidence)
            asking.answered(address, verdict)
        return
    asked: dict[str, str] = {}
    for _asking, candidate, _evidence in asks:
        asked.setdefault(candidate.address(domain), candidate.pattern)
    probes = discovery.probe_many(asked, route)
    for asking, candidate, evidence in asks:
        address = candidate.address(domain)
        verdict = discovery._verdict(
            address, route, catch_all, probes[address], candidate.pattern, evidence, smtp=silent
        )
        asking.answered(address, verdict)
