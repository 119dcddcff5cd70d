"""Many people found together: their candidates asked in rounds, many domains side by side.

On each domain, the first people are asked about one person at a time, until the domain's
pattern is known (or its host turns out to defer everyone): what they confirm puts the right
candidate first for the others. Each of them is asked in rounds too (one candidate, then
two, then four), so a person costs a few writes rather than a few per candidate. The others
are then asked in rounds together: each round asks every waiting person's next candidates at
once: one candidate, then twice as many each round, since a person whose likely address was
refused has most likely left and then every candidate gets asked anyway. A person leaves the
rounds at their first candidate that is not refused, as `find_best` stops. So the RCPTs are
those `find_best` would send (a few more only for someone whose address is none of the
likely ones but is found further down a round), in far fewer round trips and writes.

Each domain's search is a generator that yields the round it wants asked and is sent the
answers; `find_across` runs the searches of many domains side by side, in waves: a wave
asks every domain's round at once (`probe_routes`: one INSERT of probe rows before anything
is sent, the domains sharing mail hosts asked in one pipelined transaction, one UPDATE of the
answers). So a file of a thousand people over a hundred domains costs about as many writes
as its busiest domain has rounds, not one per round of every domain.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import objections
from .dns import MailRoute
from .patterns import KnownAddress, PatternEvidence
from .scoring import check_syntax
from .services import SILENT
from .verdicts import InTurn, Verdict

if TYPE_CHECKING:
    from ..models import EmailProbe
    from .services import Discovery

# At most this many people asked one at a time while the domain's pattern is unknown.
ONE_AT_A_TIME = 3

Waiting = tuple[int, InTurn, PatternEvidence]


@dataclass(frozen=True)
class Round:
    """What one domain's search wants asked next: addresses (-> pattern) on its route."""

    route: MailRoute
    asked: dict[str, str]


Search = Generator[Round, "dict[str, EmailProbe]", list[Verdict]]


def find_colleagues(
    discovery: Discovery, people: list[tuple[str, str]], domain: str, known: list[KnownAddress]
) -> list[Verdict]:
    """`Discovery.find_best` for each (first name, last name) of `domain`, in order."""
    return find_across(discovery, {domain: people}, {domain: known})[domain]


def find_across(
    discovery: Discovery,
    batch: dict[str, list[tuple[str, str]]],
    known: dict[str, list[KnownAddress]] | None = None,
    on_wave: Callable[[], object] | None = None,
) -> dict[str, list[Verdict]]:
    """`find_colleagues` for many domains (domain -> people, domains normalized), their
    rounds asked side by side: each domain's verdicts, in its people's order. `on_wave` is
    called after each wave (a job's heartbeat: a batch against a slow host takes long)."""
    known = known or {}
    # An objection list without addresses (read once for the batch) needs no look-up each.
    discovery._none_objected = objections.none_listed(discovery.workspace_id)
    try:
        # Only domains that can take mail are read (the others get their verdict at once).
        domains = [d for d in batch if d and not check_syntax(f"postmaster@{d}")[1]]
        discovery.preload(domains)
        discovery.read_probes_of(domains)
        if discovery.prober is not None:
            # Every domain's catch-all check in one wave, before anyone is asked about.
            routes = [discovery.route(domain) for domain in domains]
            discovery.check_catch_alls([(r, row) for r, row in routes if r.deliverable])
        searches = {
            domain: _search(discovery, people, domain, known.get(domain, []))
            for domain, people in batch.items()
        }
        return _in_waves(discovery, searches, on_wave)
    finally:
        discovery._none_objected = False
        discovery._prefetched = {}
        discovery.forget_probes()


def _in_waves(
    discovery: Discovery, searches: dict[str, Search], on_wave: Callable[[], object] | None
) -> dict[str, list[Verdict]]:
    """Run the searches together: each wave asks every search's round at once."""
    found: dict[str, list[Verdict]] = {}
    rounds: dict[str, Round] = {}

    def step(domain: str, answers: dict | None) -> None:
        try:
            search = searches[domain]
            rounds[domain] = search.send(answers) if answers is not None else next(search)
        except StopIteration as done:
            found[domain] = done.value
            rounds.pop(domain, None)

    for domain in searches:
        step(domain, None)
    while rounds:
        probes = discovery.probe_routes([(r.route, r.asked) for r in rounds.values()])
        for domain, wanted in list(rounds.items()):
            step(domain, {address: probes[address] for address in wanted.asked})
        if on_wave is not None:
            on_wave()
    return found


def _search(
    discovery: Discovery, people: list[tuple[str, str]], domain: str, known: list[KnownAddress]
) -> Search:
    verdicts: list[Verdict | None] = [None] * len(people)
    waiting: list[Waiting] = []
    alone = 0
    for index, (first_name, last_name) in enumerate(people):
        learning = alone < ONE_AT_A_TIME and not discovery.evidence(domain, known).known
        prepared = discovery.prepare(first_name, last_name, domain, known=known)
        if isinstance(prepared, Verdict):
            verdicts[index] = prepared
        elif learning:
            # One person asked alone: what they confirm teaches the next one the pattern.
            ranked, evidence = prepared
            asking = InTurn(ranked, domain)
            yield from _rounds(discovery, domain, [(index, asking, evidence)])
            verdicts[index] = asking.verdict
        else:
            ranked, evidence = prepared
            waiting.append((index, InTurn(ranked, domain), evidence))
            continue
        if learning:
            # A host that defers everyone tells nothing one person at a time.
            greylisted = verdicts[index].reason == "greylisted"  # type: ignore[union-attr]
            alone = ONE_AT_A_TIME if greylisted else alone + 1
    if waiting:
        yield from _rounds(discovery, domain, waiting)
    for index, asking, _evidence in waiting:
        verdicts[index] = asking.verdict
    return verdicts  # type: ignore[return-value]


def _rounds(discovery: Discovery, domain: str, waiting: list[Waiting]) -> Search:
    """Ask the waiting people's candidates in rounds until each has a verdict."""
    route, row = discovery.route(domain)
    # Each wave reads the last probes of the addresses it asks, every domain's in one query.
    while True:
        asks = []
        for _index, asking, evidence in waiting:
            asks.extend((asking, candidate, evidence) for candidate in asking.next_window())
        if not asks:
            return
        catch_all, silent = discovery.catch_all(route, row)
        if catch_all or silent in SILENT:
            # The domain's state changed meanwhile (a block, a pause): each is told as alone.
            for asking, candidate, evidence in asks:
                address = candidate.address(domain)
                verdict = discovery.verify(address, pattern=candidate.pattern, evidence=evidence)
                asking.answered(address, verdict)
            continue
        asked: dict[str, str] = {}
        for _asking, candidate, _evidence in asks:
            asked.setdefault(candidate.address(domain), candidate.pattern)
        probes = yield Round(route, asked)
        for asking, candidate, evidence in asks:
            address = candidate.address(domain)
            verdict = discovery._verdict(
                address, route, catch_all, probes[address], candidate.pattern, evidence,
                smtp=silent,
            )
            asking.answered(address, verdict)
