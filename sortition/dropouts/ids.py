"""Lists of ids given to ``replace``: the dropouts and the people known to be unavailable.

A file holds one id per line; blank lines and lines starting with ``#`` are ignored, there is no
header, and spaces around an id are dropped. Each id keeps its line number, so that a problem with
it names the file and the row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sortition.errors import InputError, Problem, require_file


@dataclass(frozen=True)
class IdList:
    """Ids and where each came from (a file and its line, or the command line)."""

    ids: tuple[str, ...] = ()
    files: tuple[str | None, ...] = ()  # the file each id was read from (None: typed)
    rows: tuple[int | None, ...] = ()  # its line in that file, from 1

    def __add__(self, other: IdList) -> IdList:
        return IdList(self.ids + other.ids, self.files + other.files, self.rows + other.rows)

    def problem(self, position: int | None, message: str) -> Problem:
        """A problem with the id at ``position`` (None: with the list as a whole)."""
        if position is None:
            return Problem(message)
        return Problem(message, file=self.files[position], row=self.rows[position])


def typed_ids(ids: Sequence[str]) -> IdList:
    """Ids typed on the command line (``--dropout ID``)."""
    cleaned = tuple(person.strip() for person in ids)
    empty = [i for i, person in enumerate(cleaned) if not person]
    if empty:
        raise InputError([Problem("an id given on the command line is empty")])
    return IdList(cleaned, (None,) * len(cleaned), (None,) * len(cleaned))


def read_id_file(path: Path) -> IdList:
    """One id per line (blank lines and ``#`` comments ignored, no header); UTF-8."""
    require_file(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(
            [Problem(f"is not UTF-8 text (byte {error.start})", file=path.name)]
        ) from None
    ids, rows = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        person = line.strip()
        if person and not person.startswith("#"):
            ids.append(person)
            rows.append(number)
    return IdList(tuple(ids), (path.name,) * len(ids), tuple(rows))
