"""Reading what ``sortition groups`` seats: the panel file (ids, balance columns, apart columns),
the together file (pairs of ids) and the fixed file (``id,table[,round]``), with problems that
name the file, row and column (exit 2)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sortition.errors import N_, InputError, Problem, problem
from sortition.groups.problem import Fixed
from sortition.households import household_key
from sortition.io.pool import ID_COLUMN_GUESSES
from sortition.io.tables import PathLike, Table, find_column, read_table


@dataclass(frozen=True)
class Panel:
    """The panel's ids (file order), the id column used, each balance column's cells and each
    person's apart key (None when empty)."""

    ids: tuple[str, ...]
    id_column: str | None
    balance: tuple[tuple[str, ...], ...]
    apart: tuple[str | None, ...]
    names: tuple[str, ...] | None = None  # for the seating plan only


def read_panel(
    path: PathLike,
    id_column: str | None,
    balance: Sequence[str],
    apart: Sequence[str],
    name_column: str | None = None,
) -> Panel:
    table = read_table(path)
    position = _id_position(table, id_column)
    problems: list[Problem] = []
    wanted = [*balance, *apart, *([name_column] if name_column is not None else [])]
    positions = {}
    for name in wanted:
        found = find_column(table.header, name)
        if found is None:
            problems.append(
                problem(
                    N_("column not found ({hint})"),
                    file=table.name,
                    row=1,
                    column=name,
                    hint=table.missing_columns_message([name]),
                )
            )
        positions[name] = found
    if problems:
        raise InputError(problems)
    frame, n = table.frame, len(table.frame)
    if n == 0:
        raise InputError([problem(N_("the panel has no people"), file=table.name)])
    ids = _ids(table, position, problems)
    if problems:
        raise InputError(problems)
    cells = {name: [str(c).strip() for c in frame[positions[name]]] for name in wanted}
    keys = tuple(
        household_key([cells[name][i] for name in apart]) if apart else None for i in range(n)
    )
    return Panel(
        ids,
        None if position is None else table.header[position],
        tuple(tuple(cells[name]) for name in balance),
        keys,
        tuple(cells[name_column]) if name_column is not None else None,
    )


def _id_position(table: Table, id_column: str | None) -> int | None:
    names = [id_column] if id_column is not None else list(ID_COLUMN_GUESSES)
    for name in names:
        found = find_column(table.header, name)
        if found is not None:
            return found
    if id_column is not None:
        raise InputError(
            [problem(N_("id column not found"), file=table.name, row=1, column=id_column)]
        )
    return None


def _ids(table: Table, position: int | None, problems: list[Problem]) -> tuple[str, ...]:
    n = len(table.frame)
    if position is None:
        return tuple(str(i) for i in range(n))
    column = table.header[position]
    ids = [str(c).strip() for c in table.frame[position]]
    seen: dict[str, int] = {}
    for i, person in enumerate(ids):
        row = table.row_number(i)
        if person == "":
            problems.append(problem(N_("the id is empty"), file=table.name, row=row, column=column))
        elif person in seen:
            problems.append(
                problem(
                    N_("id '{id}' repeats row {first}"),
                    file=table.name,
                    row=row,
                    column=column,
                    id=person,
                    first=seen[person],
                )
            )
        else:
            seen[person] = row
    return tuple(ids)


def _person(
    table: Table, i: int, position: int, index: dict[str, int], problems: list[Problem]
) -> int:
    person = str(table.frame[position][i]).strip()
    if person not in index:
        problems.append(
            problem(
                N_("id '{id}' is not on the panel"),
                file=table.name,
                row=table.row_number(i),
                column=table.header[position],
                id=person,
            )
        )
        return -1
    return index[person]


def read_together(path: PathLike, ids: Sequence[str]) -> list[tuple[int, int]]:
    """The pairs of a together file: its first two columns, one pair a row."""
    table = read_table(path)
    if len(table.header) < 2:
        raise InputError(
            [problem(N_("expected two columns of ids (id,id)"), file=table.name, row=1)]
        )
    index = {person: x for x, person in enumerate(ids)}
    _no_header(table, index, "a,b")
    problems: list[Problem] = []
    pairs = []
    for i in range(len(table.frame)):
        a = _person(table, i, 0, index, problems)
        b = _person(table, i, 1, index, problems)
        if a >= 0 and a == b:
            problems.append(
                problem(
                    N_("a person cannot be paired with themselves"),
                    file=table.name,
                    row=table.row_number(i),
                )
            )
        elif a >= 0 and b >= 0:
            pairs.append((min(a, b), max(a, b)))
    if problems:
        raise InputError(problems)
    return sorted(set(pairs))


def read_fixed(path: PathLike, ids: Sequence[str], tables: int, rounds: int) -> list[Fixed]:
    """The pins of a fixed file: ``id,table[,round]`` (1-based; no round: every round)."""
    table = read_table(path)
    if len(table.header) < 2:
        raise InputError([problem(N_("expected columns id,table[,round]"), file=table.name, row=1)])
    index = {person: x for x, person in enumerate(ids)}
    _no_header(table, index, "id,table,round")
    problems: list[Problem] = []
    pins: dict[tuple[int, int | None], tuple[int, int]] = {}
    for i in range(len(table.frame)):
        row = table.row_number(i)
        x = _person(table, i, 0, index, problems)
        t = _number(table, i, 1, tables, "table", problems)
        r = None
        if len(table.header) > 2 and str(table.frame[2][i]).strip():
            r = _number(table, i, 2, rounds, "round", problems)
        if (
            x < 0
            or t is None
            or (len(table.header) > 2 and r is None and str(table.frame[2][i]).strip())
        ):
            continue
        for key in [(x, r)] + ([(x, None)] if r is not None else [(x, q) for q in range(rounds)]):
            if key in pins and pins[key][0] != t:
                problems.append(
                    problem(
                        N_(
                            "{id} is pinned to table {table} here and to table {other} "
                            "on row {first}"
                        ),
                        file=table.name,
                        row=row,
                        id=ids[x],
                        table=t + 1,
                        other=pins[key][0] + 1,
                        first=pins[key][1],
                    )
                )
                break
        pins[(x, r)] = (t, row)
    if problems:
        raise InputError(problems)
    return sorted(
        (Fixed(x, t, r) for (x, r), (t, _) in pins.items()),
        key=lambda p: (p.person, -1 if p.round is None else p.round),
    )


def _number(
    table: Table, i: int, position: int, most: int, what: str, problems: list[Problem]
) -> int | None:
    text = str(table.frame[position][i]).strip()
    if not text.isdigit() or not 1 <= int(text) <= most:
        problems.append(
            problem(
                N_("the table must be a whole number from 1 to {most}, got '{value}'")
                if what == "table"
                else N_("the round must be a whole number from 1 to {most}, got '{value}'"),
                file=table.name,
                row=table.row_number(i),
                column=table.header[position],
                most=most,
                value=text,
            )
        )
        return None
    return int(text) - 1


def _no_header(table: Table, index: dict[str, int], header: str) -> None:
    """Refuse a file whose first row is an id of the panel: it is data, not a header, and
    reading it as a header would drop a rule without a word."""
    if table.header and table.header[0].strip() in index:
        raise InputError(
            [
                problem(
                    N_(
                        "row 1 starts with the id '{id}': the first row is read as a header, so "
                        "add one (such as {header})"
                    ),
                    file=table.name,
                    row=1,
                    id=table.header[0].strip(),
                    header=header,
                )
            ]
        )
