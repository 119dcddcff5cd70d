"""The search key folds each address without keeping it: an import of many people must not
fill the folding cache with addresses that never come back."""

from prospects import normalize


def test_addresses_do_not_fill_the_folding_cache():
    normalize.fold.cache_clear()
    keys = [
        normalize.search_key("Éloïse", "Ménard", f"eloise.menard{n}@acme.fr") for n in range(500)
    ]
    assert keys[7] == "eloise menard eloise menard7 acme fr"
    # The two names are cached once; none of the 500 addresses is.
    assert normalize.fold.cache_info().currsize == 2
