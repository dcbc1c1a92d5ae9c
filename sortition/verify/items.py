"""What every checker of ``sortition verify`` shares: the check items and the report, the request a
checker gets, and small helpers for its detail lines.

An item's name and detail are English (``str(item.detail)`` is the line the record's checker has
always printed); the details are ``sortition.errors.Message`` texts that keep their template
(marked ``N_``) and values, and the names are marked in ``ITEM_NAMES``, so that an entry layer
can show the checklist in its language (``CheckItem.text``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sortition.errors import (
    N_,
    InputError,
    Message,
    Problem,
    SortitionError,
    problem,
    translated,
)
from sortition.privacy.keys import PseudonymKey
from sortition.record.build import tool_versions
from sortition.record.reader import kind_name

MAX_LISTED = 3  # examples named in one detail line

# The names of the check items, marked for the ``library`` catalogue (an entry layer shows
# ``gettext(item.name)``); tests/test_cli_i18n.py checks that every name a checker gives is here.
ITEM_NAMES = (
    N_("record version"),
    N_("published commitment"),
    N_("commitment"),
    N_("pool digest"),
    N_("quotas digest"),
    N_("pool file"),
    N_("quotas file"),
    N_("pseudonym key"),
    N_("panel size"),
    N_("quotas met"),
    N_("household rule"),
    N_("draw"),
    N_("recompute"),
    N_("lottery"),
    N_("distribution weights"),
    N_("distribution panels"),
    N_("probabilities"),
    N_("certificate"),
    N_("allocation"),
    N_("alternates"),
    N_("baselines"),
    N_("best subset"),
    N_("builds on"),
    N_("candidates"),
    N_("derived quotas"),
    N_("diversity"),
    N_("diversity bound"),
    N_("figures"),
    N_("invitations"),
    N_("measures"),
    N_("options"),
    N_("panel file"),
    N_("panel ids"),
    N_("registry counts"),
    N_("registry file"),
    N_("reseat"),
    N_("search"),
    N_("seating"),
    N_("types"),
    # a re-seated groups record checks its original in full
    N_("original options"),
    N_("original seating"),
    N_("original search"),
    N_("original measures"),
    N_("original reseat"),
    # a replacement record's rounds (sortition/verify/replacement.py), named "round n: ..."
    N_("dropouts"),
    N_("unavailable"),
    N_("panel"),
    N_("candidates digest"),
    N_("derived quotas digest"),
    N_("replacements"),
    N_("derived quotas met"),
    N_("replacements' households"),
)


def _english(message: str) -> str:
    return message


@dataclass(frozen=True)
class CheckItem:
    """One check: a short stable name, whether it passed, and one line of what was compared.

    A name built at run time (``round 2: quotas met``) is a ``Message`` whose parts are
    ``Message``s too: it compares equal to its English text, and ``text`` translates it."""

    name: str
    ok: bool
    detail: str

    def text(self, gettext: Callable[[str], str] = _english) -> tuple[str, str]:
        """The name and the detail in the language of ``gettext`` (the ``library`` domain's
        catalogue of the entry layer); values (digests, ids, file names) as they are."""
        if gettext is _english:
            return str(self.name), str(self.detail)
        return item_name(self.name, gettext), translated(self.detail, gettext)


def item_name(name: str, gettext: Callable[[str], str]) -> str:
    """An item's name in the language of ``gettext``: a built one (a ``Message``) part by part,
    a plain one (in ``ITEM_NAMES``) as a whole."""
    if isinstance(name, Message):
        return name.text(gettext)
    return gettext(name)


@dataclass(frozen=True)
class VerifyReport:
    """The checks, and warnings about the files given (such as quota columns ignored)."""

    items: tuple[CheckItem, ...]
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return all(item.ok for item in self.items)

    def failed(self) -> tuple[CheckItem, ...]:
        return tuple(item for item in self.items if not item.ok)

    def item(self, name: str) -> CheckItem:
        """The item called ``name`` (KeyError when the report has none)."""
        for item in self.items:
            if item.name == name:
                return item
        raise KeyError(name)


@dataclass(frozen=True)
class VerifyRequest:
    """What a checker gets: the parsed record and the optional files and options."""

    record: dict[str, Any]
    name: str  # the record file's name, for messages
    pool_path: Path | None
    quotas_path: Path | None
    recompute: bool
    id_column: str | None
    registry_path: Path | None = None
    expect: str | None = None  # the commitment SHA-256 the organiser published
    pseudonym_key: PseudonymKey | None = None  # the organiser's key, to read the pool file again
    panel_path: Path | None = None  # a groups record's panel file
    warnings: list[str] = field(default_factory=list)  # checkers add what the user should see


Checker = Callable[[VerifyRequest], list[CheckItem]]


def parse_sha256(text: str, flag: str) -> str:
    """A published SHA-256 as typed: 64 hex digits, any case, spaces around ignored; lower case."""
    digest = text.strip().lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise InputError(
            [
                problem(
                    N_("{flag}: a SHA-256 is 64 hex digits (0-9, a-f), got {value}"),
                    flag=flag,
                    value=repr(text.strip()),
                )
            ]
        )
    return digest


def joined(parts: Sequence[str], separator: str = ", ") -> str:
    """``separator.join(parts)``, kept translatable when a part is a ``Message`` (the
    separator is not a word: its template has no translation and passes as it is)."""
    if not any(isinstance(part, Message) for part in parts):
        return separator.join(parts)
    template = separator.join(f"{{p{number}}}" for number in range(len(parts)))
    return Message(template, **{f"p{number}": part for number, part in enumerate(parts)})


def shortlist(things: Sequence[str], limit: int = MAX_LISTED) -> str:
    shown = joined(things[:limit])
    if len(things) > limit:
        return Message(N_("{shown} and {more} more"), shown=shown, more=len(things) - limit)
    return shown


def error_text(error: BaseException) -> str | Problem | Message:
    """What an exception caught by a checker says, translatable where the library made it so:
    a ``SortitionError``'s one problem, an exception raised with a ``Message``; else its text."""
    if isinstance(error, SortitionError) and len(error.problems) == 1:
        return error.problems[0]
    if len(error.args) == 1 and isinstance(error.args[0], Message):
        return error.args[0]
    return str(error)


def item_from(name: str, problems: Sequence[str], detail: str) -> CheckItem:
    """The check ``name``: failed with the first problems (``shortlist``) when there are any,
    else passed with ``detail``."""
    if problems:
        return CheckItem(name, False, shortlist(problems))
    return CheckItem(name, True, detail)


def version_item(record: dict[str, Any]) -> CheckItem:
    tool = record.get("tool")
    if not isinstance(tool, dict):
        tool = {}
    here = tool_versions()
    written = ", ".join(f"{k} {v}" for k, v in tool.items()) or Message(N_("unknown versions"))
    detail = Message(
        N_("{kind} record version {version}, written by {written}"),
        kind=kind_name(record["kind"]),
        version=record["version"],
        written=written,
    )
    if tool and {k: str(v) for k, v in tool.items()} != here:
        detail = Message(
            N_("{detail} (this is {here})"),
            detail=detail,
            here=", ".join(f"{k} {v}" for k, v in here.items()),
        )
    return CheckItem("record version", True, detail)
