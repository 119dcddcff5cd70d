"""What "untranslated" means on a rendered page: the project's msgids, extracted from its
sources as makemessages would (Babel for Python, Django's own templatize for templates), and
Django admin's English phrases; either appearing as is on a French page is a defect."""

from __future__ import annotations

import contextlib
import html
import io
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import django
from babel.messages.extract import DEFAULT_KEYWORDS, extract
from babel.messages.pofile import read_po
from django.utils import translation
from django.utils.translation.template import templatize

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("config", "prospects", "enrichment", "campaigns", "templates")
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "gettext_lazy": None,
    "ngettext_lazy": (1, 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext_lazy": ((1, "c"), 2, 3),
}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")
# Fewer letters than this outside placeholders match too much to mean anything.
MIN_LETTERS = 4
# Django admin words too short for that rule, but never French: whole words, as written.
ENGLISH_WORDS = ("Add", "Go", "Yes", "No", "All", "Any", "View", "Log out", "Save")


@dataclass(frozen=True)
class Msgid:
    text: str
    context: str | None
    origin: str
    pattern: re.Pattern
    # The catalogue's key: a plural form is translated under its singular.
    singular: str


def _words(part: str) -> str:
    """A static part of a msgid, any run of spaces matching any, its edges kept: "Change "
    must not match "Changer"."""
    words = r"\s+".join(map(re.escape, part.split()))
    if part[:1].isspace():
        words = r"\s+" + words if words else r"\s+"
    if part[-1:].isspace() and words != r"\s+":
        words += r"\s+"
    return words


def _pattern(text: str) -> re.Pattern | None:
    parts = PLACEHOLDER.split(text.replace("%%", "%"))
    if sum(ch.isalpha() for part in parts for ch in part) < MIN_LETTERS:
        return None
    body = r".{1,80}?".join(_words(part) for part in parts)
    start = r"\b" if re.match(r"\w", text) else ""
    end = r"\b" if re.search(r"\w$", text) else ""
    return re.compile(start + body + end)


def _messages(fileobj: io.BytesIO, origin: str):
    for _line, message, _comments, context in extract("python", fileobj, keywords=KEYWORDS):
        forms = message if isinstance(message, tuple) else (message,)
        for text in forms:
            if text and (pattern := _pattern(text)):
                yield Msgid(text, context, origin, pattern, forms[0])


@cache
def source_msgids() -> tuple[Msgid, ...]:
    """Every msgid in the project's code and templates (tests and migrations aside)."""
    found: dict[tuple, Msgid] = {}
    for directory in SOURCE_DIRS:
        for path in sorted((ROOT / directory).rglob("*")):
            if "migrations" in path.parts or path.suffix not in (".py", ".html", ".txt"):
                continue
            source = path.read_text(encoding="utf-8")
            if path.suffix != ".py":
                # Only the gettext calls matter; their lines' indentation would trip tokenize.
                source = "\n".join(
                    line.lstrip() for line in templatize(source, origin=str(path)).splitlines()
                )
            origin = str(path.relative_to(ROOT))
            for msgid in _messages(io.BytesIO(source.encode()), origin):
                found.setdefault((msgid.context, msgid.text), msgid)
    return tuple(found.values())


def has_french(msgid: Msgid) -> bool:
    """Whether the catalogues in use (ours, then Django's) translate this msgid."""
    with translation.override("fr"):
        catalog = translation.trans_real.translation("fr")._catalog
        key = f"{msgid.context}\x04{msgid.singular}" if msgid.context else msgid.singular
        return key in catalog or (key, 0) in catalog or (key, 1) in catalog


@cache
def django_admin_phrases() -> tuple[Msgid, ...]:
    """Django admin's msgids whose French differs: their English on a page means the admin
    is not speaking French there."""
    po = Path(django.__file__).parent / "contrib/admin/locale/fr/LC_MESSAGES/django.po"
    # Babel prints a warning for each of Django's three French plural forms (it expects two).
    with po.open("rb") as handle, contextlib.redirect_stdout(io.StringIO()):
        catalogue = read_po(handle, locale="fr")
    phrases = []
    for message in catalogue:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text, french in zip(ids, strings, strict=False):
            if not text or not french or text == french or text.lower() == french.lower():
                continue
            if not text[0].isupper():
                continue  # "user", "object id": words data may contain, not admin labels
            if (pattern := _pattern(text)) is not None:
                phrases.append(
                    Msgid(text, message.context, "django/contrib/admin", pattern, ids[0])
                )
    return tuple(phrases)


def visible_text(content: str) -> str:
    """What a person reads: the text, and the attributes a browser shows or speaks."""
    content = re.sub(r"<(script|style)\b.*?</\1>", " ", content, flags=re.S | re.I)
    shown = re.findall(
        r'\b(?:title|placeholder|aria-label|alt|value)="([^"]*)"', content, flags=re.I
    )
    text = re.sub(r"<[^>]+>", " ", content)
    return " ".join(html.unescape(" ".join([text, *shown])).split())


def untranslated(content: str) -> list[str]:
    """The English a French page shows: project msgids with no French, and Django's phrases."""
    text = visible_text(content)
    missing = [
        f"{m.text!r} ({m.origin})"
        for m in source_msgids()
        if m.pattern.search(text) and not has_french(m)
    ]
    english = [
        f"{m.text!r} (Django admin)" for m in django_admin_phrases() if m.pattern.search(text)
    ]
    english += [f"{word!r} (English)" for word in ENGLISH_WORDS if re.search(rf"\b{word}\b", text)]
    return missing + english
