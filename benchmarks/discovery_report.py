"""The discovery benchmark's report: accuracy per class against the ground truth, the slowest
host's own time under the politeness rules, and the held-out check of pattern learning."""

from __future__ import annotations

from collections import Counter, defaultdict

DNS_DELAY, SMTP_DELAY = 0.5, 0.2  # --delays: on some domains' DNS, on every slow host reply


def print_pattern_accuracy(world) -> None:
    """Held-out check of pattern learning: each address guessed from its colleagues' (≥ 3)."""
    from enrichment.discovery.patterns import KnownAddress, learn, rank_candidates
    from enrichment.discovery.permutations import candidates

    by_domain: dict[str, list] = defaultdict(list)
    for person in world.people:
        if person.pattern_email:
            by_domain[person.company.domain].append(person)
    tested = first = top3 = 0
    for staff in by_domain.values():
        if len(staff) < 4:
            continue
        for held_out in staff:
            known = [KnownAddress(p.pattern_email, p.first_name, p.last_name)
                     for p in staff if p is not held_out]
            ranked = rank_candidates(candidates(held_out.first_name, held_out.last_name),
                                     learn(known))
            guesses = [c.address(held_out.company.domain) for c in ranked[:3]]
            tested += 1
            first += guesses[:1] == [held_out.pattern_email]
            top3 += held_out.pattern_email in guesses
    if tested:
        print(f"  pattern learning  first guess {100 * first / tested:.1f} %, top 3 "
              f"{100 * top3 / tested:.1f} % ({tested} held-out addresses, ≥ 3 known each)")


def correct(person, verdict, expected: str) -> bool:
    if verdict.status != expected:
        return False
    if expected == "verified":
        return verdict.email == person.true_email
    if expected == "invalid":
        return verdict.email == ""
    return True


def slowest_host_bound(args, plan, records) -> tuple[float, str]:
    """The least time the politeness rules allow for the busiest host: each reply of a slow
    host waits its delay, at most SOURCIER_SMTP_HOST_CONCURRENCY sessions at once, and RCPTs
    go at SOURCIER_SMTP_HOST_RATE per second; a slow domain's DNS answer comes first."""
    from django.conf import settings

    delay = SMTP_DELAY if args.delays else 0.0
    replies: Counter[str] = Counter()
    rcpts: Counter[str] = Counter()
    slow: set[str] = set()
    for session in records.sessions:
        # Politeness is per mail host (its MX name): many domains may share one, as they share
        # Google's or Microsoft's; the sandbox serves several names on each address.
        if not session.rcpts:
            continue
        domain = session.rcpts[0][0].rpartition("@")[2]
        host = next((name for _pref, name in sorted(plan.mx(domain) or ())), domain)
        replies[host] += 1 + len(session.commands)  # the greeting, then one a command
        rcpts[host] += len(session.rcpts)
        if session.kind == "slow":
            slow.add(host)
    best, name = 0.0, ""
    for host in replies:
        needed = max(
            replies[host] * (delay if host in slow else 0.0)
            / settings.SOURCIER_SMTP_HOST_CONCURRENCY,
            rcpts[host] / settings.SOURCIER_SMTP_HOST_RATE,
        ) + (DNS_DELAY if args.delays else 0.0)
        if needed > best:
            best, name = needed, host
    return best, name


def report(args, people, verdicts, plan, records, elapsed, first_pass, rechecked,
           known_pattern_rcpts) -> None:
    rcpts = sum(len(s.rcpts) for s in records.sessions)
    addresses = sum(max(1, len(v.tried)) for v in verdicts.values())
    totals: Counter[str] = Counter()
    right: Counter[str] = Counter()
    for person in people:
        expected = plan.expected_status(person)
        totals[expected] += 1
        ok = correct(person, verdicts[id(person)], expected)
        right[expected] += ok
        if args.misses and not ok:
            verdict = verdicts[id(person)]
            print(f"  miss: {person.full_name} <{person.true_email}> "
                  f"{plan.kinds[person.company.domain]}: expected {expected}, got "
                  f"{verdict.status} {verdict.email} {verdict.reason} tried {len(verdict.tried)}")
    domains = len({p.company.domain for p in people})
    print(f"discovery: {len(people)} people over {domains} domains, "
          f"{args.processes} process{'es' if args.processes > 1 else ''}, "
          f"{args.threads} threads, "
          f"delays {'on' if args.delays else 'off'}, "
          f"{'PostgreSQL and Redis' if args.postgres else 'SQLite'}")
    print(f"  elapsed           {elapsed:.2f} s (first pass {first_pass:.2f} s, "
          f"{rechecked} greylisted rechecked)")
    print(f"  people/s          {len(people) / elapsed:.1f}")
    print(f"  addresses/s       {addresses / elapsed:.1f}")
    print(f"  RCPTs per person  {rcpts / len(people):.2f} "
          f"(catch-all checks included; {rcpts} RCPTs)")
    if known_pattern_rcpts:
        mean = sum(known_pattern_rcpts) / len(known_pattern_rcpts)
        print(f"  RCPTs per person once the domain's pattern is known  {mean:.2f}")
    print(f"  DNS queries       {records.total_queries}")
    print(f"  SMTP sessions     {len(records.sessions)}")
    print(f"  never DATA/VRFY   {not any(s.saw_data or s.saw_vrfy for s in records.sessions)}")
    from enrichment.sandbox.mail_world import OUTLOOK_ADDRESS

    marks = records.high_water
    own = max((mark for ip, mark in marks.items() if ip != OUTLOOK_ADDRESS), default=0)
    print(f"  per-host high-water mark  {own} ({marks.get(OUTLOOK_ADDRESS, 0)} on the address "
          f"every Microsoft-style host shares: different mail hosts, each held to its own)")
    bound, host = slowest_host_bound(args, plan, records)
    if bound and args.delays:  # without delays, the bound is only the host rate's
        print(f"  slowest host's own time   {bound:.2f} s ({host}: its replies' delay over the "
              f"per-host concurrency, or its RCPTs at the host rate, plus its DNS delay)")
        print(f"  first pass / that time    {first_pass / bound:.2f} (target ≤ 1.1)")
    for status in ("verified", "risky", "unknown", "invalid"):
        if totals[status]:
            share = 100 * right[status] / totals[status]
            print(f"  accuracy {status:<9} {share:5.1f} % ({right[status]}/{totals[status]})")
