"""Lists of ids given to ``replace``: the dropouts and the people known to be unavailable.

A file holds one id per line; blank lines and lines starting with ``#`` are ignored, there is no
header, and spaces around an id are dropped. Each id keeps its line number, so that a problem with
it names the file and the row.

When the panel's record names people by keyed pseudonyms (docs/privacy.md), the lists hold the
organiser's ids as the pool file does, and ``IdList.pseudonymised`` maps them through the key; a
pseudonym copied from the record is accepted as well.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sortition.errors import N_, InputError, Message, Problem, problem, require_file
from sortition.privacy.keys import PseudonymKey
from sortition.privacy.pseudonyms import pseudonym


@dataclass(frozen=True)
class IdList:
    """Ids and where each came from (a file and its line, or the command line)."""

    ids: tuple[str, ...] = ()
    files: tuple[str | None, ...] = ()  # the file each id was read from (None: typed)
    rows: tuple[int | None, ...] = ()  # its line in that file, from 1
    given: tuple[str, ...] = ()  # the ids as given, when ``ids`` are their pseudonyms

    def __add__(self, other: IdList) -> IdList:
        if bool(self.given) != bool(other.given) and self.ids and other.ids:
            raise ValueError("cannot add a list of pseudonyms to a list of ids")
        return IdList(
            self.ids + other.ids,
            self.files + other.files,
            self.rows + other.rows,
            self.given + other.given,
        )

    def problem(self, position: int | None, message: str | Message) -> Problem:
        """A problem with the id at ``position`` (None: with the list as a whole); when the ids
        were mapped to pseudonyms, the message names the id as it was given (a ``Message``'s
        ``id``, else the id quoted in the text)."""
        if not isinstance(message, Message):
            if position is not None and self.given:
                quoted = f"'{self.ids[position]}'"
                message = message.replace(quoted, f"'{self.given[position]}'")
            message = Message(message.replace("{", "{{").replace("}", "}}"))
        params: dict[str, Any] = dict(message.params)
        if position is None:
            return problem(message.template, **params)
        if self.given and "id" in params:
            params["id"] = self.given[position]
        return problem(
            message.template, file=self.files[position], row=self.rows[position], **params
        )

    def pseudonymised(self, key: PseudonymKey, length: int, known: Collection[str]) -> IdList:
        """The ids as a record that names people by keyed pseudonyms names them: each id given
        as the pool file holds it becomes its pseudonym under ``key`` (``length`` hex digits, as
        the record states); an id that is not one but is itself a pseudonym of the record
        (one of ``known``) is taken as given. Anything else becomes its pseudonym too (and is
        then reported as not in the pool, under the id as given)."""
        mapped = []
        for person in self.ids:
            name = pseudonym(key, person, length)
            mapped.append(person if name not in known and person in known else name)
        return IdList(tuple(mapped), self.files, self.rows, self.ids)


def typed_ids(ids: Sequence[str]) -> IdList:
    """Ids typed on the command line (``--dropout ID``)."""
    cleaned = tuple(person.strip() for person in ids)
    empty = [i for i, person in enumerate(cleaned) if not person]
    if empty:
        raise InputError([problem(N_("an id given on the command line is empty"))])
    return IdList(cleaned, (None,) * len(cleaned), (None,) * len(cleaned))


def read_id_file(path: Path) -> IdList:
    """One id per line (blank lines and ``#`` comments ignored, no header); UTF-8."""
    require_file(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(
            [problem(N_("is not UTF-8 text (byte {byte})"), file=path.name, byte=error.start)]
        ) from None
    ids, rows = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        person = line.strip()
        if person and not person.startswith("#"):
            ids.append(person)
            rows.append(number)
    return IdList(tuple(ids), (path.name,) * len(ids), tuple(rows))
