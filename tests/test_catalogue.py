"""Every UI string has its French translation: an English word on a French screen is a bug."""

from pathlib import Path

from babel.messages.pofile import read_po

CATALOGUE = Path(__file__).resolve().parents[1] / "locale" / "fr" / "LC_MESSAGES" / "django.po"


def test_french_catalogue_is_complete():
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle, locale="fr")
    untranslated = [
        message.id
        for message in catalogue
        if message.id
        and (
            message.fuzzy
            or not (all(message.string) if isinstance(message.string, tuple) else message.string)
        )
    ]
    assert untranslated == []


def test_placeholders_survive_translation():
    import re

    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle, locale="fr")
    pattern = re.compile(r"%\(\w+\)[sd]|\{\w*\}")
    broken = []
    for message in catalogue:
        if not message.id or isinstance(message.id, tuple):
            continue
        if sorted(pattern.findall(message.id)) != sorted(pattern.findall(message.string)):
            broken.append(message.id)
    assert broken == []
