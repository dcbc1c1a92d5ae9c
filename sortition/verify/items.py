"""What every checker of ``sortition verify`` shares: the check items and the report, the request a
checker gets, and small helpers for its detail lines."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sortition.errors import InputError, Problem
from sortition.privacy.keys import PseudonymKey
from sortition.record.build import tool_versions

MAX_LISTED = 3  # examples named in one detail line


@dataclass(frozen=True)
class CheckItem:
    """One check: a short stable name, whether it passed, and one line of what was compared."""

    name: str
    ok: bool
    detail: str


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
            [Problem(f"{flag}: a SHA-256 is 64 hex digits (0-9, a-f), got {text.strip()!r}")]
        )
    return digest


def shortlist(things: Sequence[str], limit: int = MAX_LISTED) -> str:
    shown = ", ".join(things[:limit])
    return shown + (f" and {len(things) - limit} more" if len(things) > limit else "")


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
    written = ", ".join(f"{k} {v}" for k, v in tool.items()) or "unknown versions"
    detail = f"{record['kind']} record version {record['version']}, written by {written}"
    if tool and {k: str(v) for k, v in tool.items()} != here:
        detail += " (this is " + ", ".join(f"{k} {v}" for k, v in here.items()) + ")"
    return CheckItem("record version", True, detail)
