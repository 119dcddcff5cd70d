import string

import pytest
from email_validator import validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from enrichment.discovery.permutations import candidates, is_junk_name, pattern_of
from enrichment.sandbox.world import local_part

NAME_CHARS = st.sampled_from([*"abcdeéèêëàâäîïôöùûüçñAÉÈZ' -ØßœæĳĲ李ー", "Ä", "ı", "\u0301"])
names = st.text(alphabet=NAME_CHARS, min_size=0, max_size=30)


@given(names, names)
@settings(max_examples=300, deadline=None)
def test_every_candidate_is_a_valid_ascii_address_with_its_pattern(first, last):
    found = candidates(first, last)
    locals_ = [c.local for c in found]
    assert len(locals_) == len(set(locals_)), "no duplicates"
    assert found == candidates(first, last), "deterministic"
    for candidate in found:
        assert candidate.local.isascii()
        address = candidate.address("exemple.fr")
        assert validate_email(address, check_deliverability=False).normalized == address
        assert pattern_of(candidate.local, first, last) == candidate.pattern


ascii_names = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=127), max_size=70),
    st.text(alphabet=st.sampled_from(string.ascii_letters + " -.'"), min_size=20, max_size=70),
)


@given(ascii_names, ascii_names)
@settings(max_examples=300, deadline=None)
def test_an_ascii_name_is_read_as_any_other_into_valid_addresses(first, last):
    # ASCII names (most of a file) take a shorter road to their letters: the same words.
    found = candidates(first, last)
    assert found == candidates(f"{first}😀", f"😀{last}")
    for candidate in found:
        address = candidate.address("exemple.fr")
        assert len(candidate.local) <= 64
        assert validate_email(address, check_deliverability=False).normalized == address


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        ("Éloïse", "Lefèvre", ["eloise.lefevre", "elefevre", "e.lefevre", "lefevre.eloise"]),
        ("Jean-Pierre", "de La Fontaine",
         ["jean-pierre.delafontaine", "jeanpierre.delafontaine", "jean-pierre.fontaine",
          "jp.delafontaine", "j-p.delafontaine", "jpdelafontaine", "jfontaine"]),
        ("Anaïs", "N'Diaye", ["anais.ndiaye", "andiaye", "anais_ndiaye", "ndiaye.anais"]),
        ("Zoé", "van der Berg", ["zoe.vanderberg", "zoe.berg", "zberg"]),
        ("Hervé", "Le Goff", ["herve.legoff", "hlegoff", "herve.goff"]),
        ("Marie-Hélène", "Dupont-Aignan",
         ["marie-helene.dupont-aignan", "mariehelene.dupontaignan", "marie-helene.dupont",
          "mh.dupont-aignan"]),
        ("Jean", "Dupont", ["jean.dupont", "jean.dupont2", "jdupont2", "jean.d", "jeand",
                            "jean-dupont", "dupontjean", "dupont_jean", "j_dupont"]),
    ],
)
def test_french_names_give_the_spellings_companies_use(first, last, expected):
    locals_ = [c.local for c in candidates(first, last)]
    for local in expected:
        assert local in locals_


def test_the_usual_spelling_of_each_pattern_comes_first():
    found = candidates("Jean-Pierre", "de La Fontaine")
    assert found[0].local == "jean-pierre.delafontaine"
    assert found[0].pattern == "first.last"
    # The nine common patterns come before any other spelling or any rarer pattern.
    assert [c.pattern for c in found[:9]] == [
        "first.last", "flast", "first", "firstlast", "f.last", "first_last", "last.first",
        "firstl", "last",
    ]


@pytest.mark.parametrize(
    "pattern",
    ["first.last", "flast", "first", "firstlast", "f.last", "first_last", "last.first",
     "firstl", "last"],
)
@pytest.mark.parametrize(
    ("first", "last"),
    [("Éloïse", "Lefèvre"), ("Jean-Pierre", "de La Fontaine"), ("Anaïs", "N'Diaye"),
     ("Gaël", "Nguyễn"), ("Loïc", "d'Arcy")],
)
def test_pattern_of_reads_back_the_sandbox_worlds_addresses(pattern, first, last):
    local = local_part(pattern, first, last)
    found = pattern_of(local, first, last)
    # Two patterns may spell the same local part for some names (first == last...).
    assert local_part(found, first, last) == local


def test_homonym_digits_and_unknown_addresses():
    assert pattern_of("jean.dupont2@x.fr", "Jean", "Dupont") == "first.last"
    assert pattern_of("contact", "Jean", "Dupont") is None
    assert candidates("", "") == []
    assert [c.pattern for c in candidates("Jean", "")] == ["first"]


@given(names, names, st.text(alphabet="😀🎉👍🏽\u200d™①", min_size=1, max_size=4))
@settings(max_examples=200, deadline=None)
def test_emoji_and_symbols_are_dropped_never_spelled_out(first, last, junk):
    assert candidates(f"{junk}{first}{junk}", f"{last} {junk}") == candidates(first, last)


def test_an_emoji_is_no_word_of_an_address():
    assert [c.local for c in candidates("😀", "李")] == ["li"]
    assert candidates("😀", "🎉") == []


@pytest.mark.parametrize(
    ("name", "junk"),
    [
        ('=HYPERLINK("http://evil")', True), ("+1+1", True), ("-2", True), ("\tx", True),
        ("Marie 😀", True),
        # A file's or a vendor's names: punctuation and other spaces are only separators.
        ("Jean\u00a0Pierre", False), ("Marie–Anne", False), ("Dupont, PhD", False),
        ("Jean (JP)", False), ("N’Diaye", False), ("Zoë", False), ("x\u200dy", False),
    ],
)
def test_a_junk_name_is_told_from_a_name_with_punctuation(name, junk):
    assert is_junk_name(name) is junk
