from hypothesis import given
from hypothesis import strategies as st

from enrichment.discovery.patterns import KnownAddress, learn, rank_candidates
from enrichment.discovery.permutations import candidates
from enrichment.discovery.scoring import (
    INVALID,
    RISKY,
    ROUTE_A,
    ROUTE_DNS_ERROR,
    ROUTE_MX,
    ROUTE_NULL_MX,
    ROUTE_NXDOMAIN,
    SMTP_ACCEPTED,
    SMTP_BLOCKED,
    SMTP_DEFERRED,
    SMTP_NOT_PROBED,
    SMTP_PAUSED,
    SMTP_REJECTED,
    SMTP_UNREACHABLE,
    UNKNOWN,
    VERIFIED,
    Observation,
    check_syntax,
    score,
)


def known(*rows):
    return [KnownAddress(email, first, last) for email, first, last in rows]


def test_three_known_addresses_give_the_pattern_and_its_evidence():
    evidence = learn(known(
        ("eloise.lefevre@boreal.example", "Éloïse", "Lefèvre"),
        ("jean-pierre.delafontaine@boreal.example", "Jean-Pierre", "de La Fontaine"),
        ("anais.ndiaye@boreal.example", "Anaïs", "N'Diaye"),
    ))
    assert evidence.best == "first.last"
    assert evidence.sufficient
    assert evidence.text() == "3 adresses connues, toutes prenom.nom"
    ranked = rank_candidates(candidates("Hélène", "Ménard"), evidence)
    assert ranked[0].local == "helene.menard"


def test_learned_pattern_goes_first_and_thin_evidence_says_so():
    evidence = learn(known(("jdupont@x.example", "Jean", "Dupont"),
                           ("mlo@x.example", "Marie", "Lo")))
    assert evidence.best == "flast"
    assert not evidence.sufficient
    assert evidence.text().startswith("preuves insuffisantes")
    ranked = rank_candidates(candidates("Hélène", "Ménard"), evidence)
    assert ranked[0].local == "hmenard"


def test_mixed_evidence_counts_the_majority():
    evidence = learn(known(
        ("j.dupont@x.example", "Jean", "Dupont"), ("m.lo@x.example", "Marie", "Lo"),
        ("paul.roux@x.example", "Paul", "Roux"), ("contact@x.example", "Jean", "Dupont"),
    ))
    assert evidence.best == "f.last"
    assert evidence.text() == "4 adresses connues, 2 en p.nom"


@given(
    route=st.sampled_from([ROUTE_MX, ROUTE_A, ROUTE_NULL_MX, ROUTE_NXDOMAIN, ROUTE_DNS_ERROR]),
    smtp=st.sampled_from([SMTP_ACCEPTED, SMTP_REJECTED, SMTP_DEFERRED, SMTP_BLOCKED,
                          SMTP_UNREACHABLE, SMTP_NOT_PROBED, SMTP_PAUSED]),
    catch_all=st.sampled_from([True, False, None]),
    provider=st.sampled_from(["", "microsoft", "yahoo"]),
    matches=st.booleans(),
    known_count=st.integers(0, 50),
    share=st.floats(0, 1),
)
def test_score_bands_hold_for_every_observation(
    route, smtp, catch_all, provider, matches, known_count, share
):
    result = score(Observation(route=route, smtp=smtp, catch_all=catch_all,
                               accepts_all_provider=provider, pattern_matches=matches,
                               pattern_known=known_count, pattern_share=share))
    assert 0 <= result.score <= 100
    if result.status == VERIFIED:
        assert result.score >= 80
        assert smtp == SMTP_ACCEPTED and catch_all is False and not provider
    elif result.status == UNKNOWN:
        assert 50 <= result.score < 80
    elif result.status == RISKY:
        assert result.score < 50
    else:
        assert result.status == INVALID
        assert route in (ROUTE_NULL_MX, ROUTE_NXDOMAIN) or smtp == SMTP_REJECTED
    if catch_all:
        assert result.status != VERIFIED
    if smtp in (SMTP_UNREACHABLE, SMTP_PAUSED, SMTP_DEFERRED) and route in (ROUTE_MX, ROUTE_A):
        assert result.status != INVALID
    if route == ROUTE_DNS_ERROR and smtp != SMTP_REJECTED:
        # Nothing was learnt: neither risky (the domain accepts all) nor verified.
        assert (result.status, result.reason) == (UNKNOWN, "dns_error")


def test_accept_all_providers_are_risky_with_their_reason():
    result = score(Observation(smtp=SMTP_ACCEPTED, catch_all=False,
                               accepts_all_provider="microsoft"))
    assert (result.status, result.reason) == (RISKY, "accept_all_provider:microsoft")


def test_syntax_is_checked_without_dns():
    assert check_syntax("Jean.Dupont@Exemple.FR") == ("jean.dupont@exemple.fr", "")
    address, why = check_syntax("jean..dupont@exemple.fr")
    assert address is None and why
