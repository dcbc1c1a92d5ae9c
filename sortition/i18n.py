"""Message catalogues: the user-facing strings of the entry layers in English and Hebrew.

English is the source language: every message is written in English in the code and the
templates (``_("...")``), and ``sortition/locale/<language>/LC_MESSAGES/<domain>.po`` holds its
translation. The ``.po`` files are the only committed form: they are compiled with Babel in memory
the first time a language is used (no ``.mo`` file is built or written, so a fresh clone and an
installed package work alike). A message without a translation falls back to its English text;
tests/test_web_i18n.py fails when a message of the page lacks its Hebrew translation.

Domains: ``web`` (the page, ``sortition.web``), ``cli`` (the command line, ``sortition_cli``: its
entry layer picks the language from ``--lang`` or else from ``language_from_environment(
os.environ)``, gettext's own lookup order; this module never reads the environment itself),
``library`` (the library's messages that an entry layer shows: error headings and the problems
of the input readers, marked with ``sortition.errors.N_`` and kept in English in the library)
and ``click`` (click's own messages: "Usage:", "Missing option", as the CLI shows them).

``scripts/messages`` extracts the messages from the code and templates and updates the ``.po``
files (Babel's extract and update).
"""

from __future__ import annotations

import functools
import gettext
import io
from collections.abc import Mapping
from importlib import resources

LANGUAGES = ("en", "he")  # English first: the source language and the fallback
DEFAULT_LANGUAGE = "en"
RIGHT_TO_LEFT = frozenset({"he"})
DOMAINS = ("web", "cli", "library", "click")


def text_direction(language: str) -> str:
    """``rtl`` for Hebrew, ``ltr`` otherwise (the page's ``dir``)."""
    return "rtl" if language in RIGHT_TO_LEFT else "ltr"


def po_path(domain: str, language: str) -> resources.abc.Traversable:
    """Where the ``.po`` file of ``domain`` in ``language`` lives in the package."""
    return resources.files("sortition") / "locale" / language / "LC_MESSAGES" / f"{domain}.po"


@functools.cache
def translations(domain: str, language: str) -> gettext.NullTranslations:
    """The catalogue of ``domain`` in ``language`` (English, or an unknown language: the messages
    as written). Compiled once per process from the ``.po`` file; thread-safe to use."""
    if domain not in DOMAINS:
        raise ValueError(f"unknown message domain {domain!r}")
    if language == DEFAULT_LANGUAGE or language not in LANGUAGES:
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po_path(domain, language).open("rb") as source:
        catalog = read_po(source, locale=language, domain=domain)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def negotiate(accept_language: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """The language of ``LANGUAGES`` a browser's Accept-Language header prefers (``he-IL,he;q=0.9,
    en;q=0.8`` -> ``he``), or ``default`` when it names none of them. ``iw`` is Hebrew too."""
    if not accept_language:
        return default
    choices: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        primary = "he" if primary == "iw" else primary
        if primary in LANGUAGES and quality > 0:
            choices.append((-quality, position, primary))
    return min(choices)[2] if choices else default


def language_from_environment(environ: Mapping[str, str], default: str = DEFAULT_LANGUAGE) -> str:
    """The language gettext's lookup would choose from ``environ`` (which the caller reads):
    the first of LANGUAGE (a colon-separated list), LC_ALL, LC_MESSAGES and LANG that is set,
    and in it the first language of ``LANGUAGES`` (``he_IL.UTF-8`` -> ``he``); ``C`` and
    ``POSIX`` mean English. Without ``setlocale``, so the locale need not be installed."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "")
        if not value:
            continue
        for entry in value.split(":") if name == "LANGUAGE" else [value]:
            code = entry.split(".")[0].split("@")[0].split("_")[0].lower()
            code = "he" if code == "iw" else code
            if code in ("c", "posix"):
                return DEFAULT_LANGUAGE
            if code in LANGUAGES:
                return code
        if name != "LANGUAGE":  # gettext stops at the first category that is set
            return default
    return default
