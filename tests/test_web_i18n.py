"""The page's message catalogues: every message of sortition/web (its Python and its templates)
has its Hebrew translation, with the same placeholders; the catalogue compiles; the browser's
language is negotiated as documented (sortition/i18n.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

babel = pytest.importorskip("babel")
pytest.importorskip("jinja2")

from babel.messages.extract import extract_from_dir  # noqa: E402
from babel.messages.pofile import read_po  # noqa: E402

from sortition.i18n import LANGUAGES, negotiate, po_path, text_direction, translations  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
METHODS = [
    ("sortition/web/**.py", "python"),
    ("sortition/web/templates/**.html", "jinja2"),
]
OPTIONS = {"sortition/web/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
PLACEHOLDER = re.compile(r"%(?:\([a-z_]+\))?[sd%]")


def source_messages() -> set[str]:
    """The messages the page's code and templates pass to the catalogue (as scripts/messages
    extracts them, with sortition/locale/babel.cfg's map)."""
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        REPO, METHODS, options_map=OPTIONS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def catalogue(language: str):
    with po_path("web", language).open("rb") as source:
        return read_po(source, locale=language)


def test_the_extraction_finds_the_page_messages() -> None:
    messages = source_messages()
    assert len(messages) > 60
    assert "Verify a record" in messages  # a template's
    assert "choose one of the algorithms" in messages  # the Python's
    assert any(m.startswith("The fairest lottery") for m in messages)  # marked with N_


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_every_message_has_its_translation(language: str) -> None:
    translated = {forms(m.id)[0]: m for m in catalogue(language) if m.id}
    missing = sorted(
        m
        for m in source_messages()
        if m not in translated or not all(forms(translated[m].string)) or translated[m].fuzzy
    )
    assert not missing, f"{language} lacks a translation of: {missing} (run scripts/messages)"
    stale = sorted(set(translated) - source_messages())
    assert not stale, f"{language} translates messages the page no longer has: {stale}"
    for message in translated.values():  # a plural's first form has the singular's, the rest
        ids = forms(message.id)  # the plural's
        for index, text in enumerate(forms(message.string)):
            assert sorted(PLACEHOLDER.findall(ids[min(index, len(ids) - 1)])) == sorted(
                PLACEHOLDER.findall(text)
            ), message.id


def forms(text: str | tuple[str, ...]) -> tuple[str, ...]:
    """A message's id or translation as its forms: one, or a plural's several (ngettext)."""
    return text if isinstance(text, tuple) else (text,)


def test_the_catalogue_compiles_in_memory() -> None:
    hebrew = translations("web", "he")
    assert hebrew.gettext("Verify a record") == "אימות תיעוד"
    assert translations("web", "en").gettext("Verify a record") == "Verify a record"
    assert translations("web", "xx").gettext("Verify a record") == "Verify a record"
    with pytest.raises(ValueError):
        translations("nope", "he")


def test_negotiate() -> None:
    assert negotiate(None) == "en"
    assert negotiate("he-IL,he;q=0.9,en-US;q=0.8,en;q=0.7") == "he"
    assert negotiate("en-GB,he;q=0.5") == "en"
    assert negotiate("fr,he;q=0.4") == "he"
    assert negotiate("iw") == "he"
    assert negotiate("fr-FR,de") == "en"
    assert negotiate("he;q=0,en;q=0.1") == "en"
    assert negotiate("he;q=bad") == "en"
    assert negotiate("fr", default="he") == "he"
    assert text_direction("he") == "rtl" and text_direction("en") == "ltr"


def test_language_from_environment() -> None:
    from sortition.i18n import language_from_environment as pick

    assert pick({}) == "en"
    assert pick({"LANG": "he_IL.UTF-8"}) == "he"
    assert pick({"LANG": "he_IL.UTF-8", "LC_ALL": "C"}) == "en"
    assert pick({"LANGUAGE": "fr:he", "LANG": "en_US.UTF-8"}) == "he"
    assert pick({"LANGUAGE": "fr:de", "LANG": "he_IL.UTF-8"}) == "he"  # on to LC_ALL, LANG
    assert pick({"LC_MESSAGES": "iw_IL", "LANG": "en_GB"}) == "he"
    assert pick({"LANG": "fr_FR.UTF-8"}) == "en"
    assert pick({"LANG": "fr_FR"}, default="he") == "he"
    assert pick({"LANG": "he_IL.UTF-8@euro"}) == "he"
