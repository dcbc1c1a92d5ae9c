"""A dropout after seating: ``sortition groups --reseat groups.json --dropout ID``.

The people who dropped out leave their seats; where that leaves a round's table sizes more than
one apart, people move, one at a time, from a largest table to a smallest one (the smallest
table with the lowest number first). Each move is the one that leaves the seating best in the
goals' order (rules, repeat pairs, largest deviation, total deviation; ties: the person first
in the panel, then the lowest table number). Every move is forced (each mends one seat of
difference), so no seating mends the sizes with fewer moves. Nothing is random: the new seating
follows from the original record and the dropouts alone, and the new record embeds both so
that ``verify`` finds it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sortition.errors import N_, InputError
from sortition.errors import problem as problem_of
from sortition.groups.evaluate import Seating, measure
from sortition.groups.problem import Fixed, GroupsProblem


@dataclass(frozen=True)
class Move:
    round: int  # 0-based
    person: str
    table_from: int  # 0-based
    table_to: int

    def as_record(self) -> list[Any]:
        return [self.round + 1, self.person, self.table_from + 1, self.table_to + 1]


def without(
    problem: GroupsProblem, seating: Seating, dropouts: Sequence[str], name: str
) -> tuple[GroupsProblem, Seating]:
    """The problem and seating with the ``dropouts`` gone (InputError for an id not seated)."""
    index = {person: x for x, person in enumerate(problem.ids)}
    unknown = [person for person in dropouts if person not in index]
    if unknown:
        raise InputError(
            [
                problem_of(N_("--dropout {id}: not seated in this record"), file=name, id=p)
                for p in unknown
            ]
        )
    gone = {index[p] for p in dropouts}
    kept = [x for x in range(problem.people) if x not in gone]
    if len(kept) < problem.tables:
        raise InputError(
            [
                problem_of(
                    N_("{people} people left for {tables} tables"),
                    people=len(kept),
                    tables=problem.tables,
                )
            ]
        )
    new = {x: i for i, x in enumerate(kept)}
    reduced = GroupsProblem(
        ids=tuple(problem.ids[x] for x in kept),
        tables=problem.tables,
        rounds=problem.rounds,
        features=problem.features,
        value_names=problem.value_names,
        values=tuple(tuple(column[x] for x in kept) for column in problem.values),
        apart=tuple(problem.apart[x] for x in kept) if problem.apart else (),
        together=tuple(
            (new[a], new[b]) for a, b in problem.together if a not in gone and b not in gone
        ),
        fixed=tuple(
            Fixed(new[p.person], p.table, p.round) for p in problem.fixed if p.person not in gone
        ),
    )
    return reduced, tuple(tuple(row[x] for x in kept) for row in seating)


def mend(problem: GroupsProblem, seating: Seating) -> tuple[Seating, list[Move]]:
    """Move people, one at a time, until every round's table sizes are within one."""
    where = [list(row) for row in seating]
    moves: list[Move] = []
    units = {x: len(unit) for unit in problem.units() for x in unit}
    pins = problem.pins()
    for r in range(problem.rounds):
        while True:
            sizes = [0] * problem.tables
            for t in where[r]:
                sizes[t] += 1
            if max(sizes) - min(sizes) <= 1:
                break
            target = sizes.index(min(sizes))
            best: tuple[tuple[int, int, int, int], int] | None = None
            for x in range(problem.people):
                t = where[r][x]
                if sizes[t] != max(sizes) or units[x] > 1 or pins[r][x] is not None:
                    continue
                where[r][x] = target
                key = measure(problem, tuple(tuple(row) for row in where)).key()
                where[r][x] = t
                if best is None or key < best[0]:
                    best = (key, x)
            if best is None:
                raise InputError(
                    [
                        problem_of(
                            N_(
                                "round {round}: nobody can move to table {table} (everyone at "
                                "the largest tables is pinned or tied to someone): seat the "
                                "panel again"
                            ),
                            round=r + 1,
                            table=target + 1,
                        )
                    ]
                )
            x = best[1]
            moves.append(Move(r, problem.ids[x], where[r][x], target))
            where[r][x] = target
    return tuple(tuple(row) for row in where), moves


def carry(
    first: GroupsProblem, seating: Seating, new: GroupsProblem
) -> tuple[Seating, list[tuple[str, str | None]]]:
    """The original seating carried over to ``new`` (the panel after dropouts and
    replacements): everyone still there keeps their tables; the newcomers take the seats of
    those who left, in panel order (the first newcomer the first leaver's seats), and any
    newcomer left over sits, round by round, at a smallest table (the lowest number).
    Returns the seating and, for each newcomer, whose seats they took (None: none)."""
    before = {person: x for x, person in enumerate(first.ids)}
    kept = set(new.ids)
    leavers = [x for x, person in enumerate(first.ids) if person not in kept]
    newcomers = [x for x, person in enumerate(new.ids) if person not in before]
    where = [[-1] * new.people for _ in range(new.rounds)]
    for x, person in enumerate(new.ids):
        if person in before:
            for r in range(new.rounds):
                where[r][x] = seating[r][before[person]]
    taken: list[tuple[str, str | None]] = []
    for i, x in enumerate(newcomers):
        leaver = leavers[i] if i < len(leavers) else None
        taken.append((new.ids[x], None if leaver is None else first.ids[leaver]))
        for r in range(new.rounds):
            if leaver is not None:
                where[r][x] = seating[r][leaver]
            else:
                sizes = [0] * new.tables
                for t in where[r]:
                    if t >= 0:
                        sizes[t] += 1
                where[r][x] = sizes.index(min(sizes))
    return tuple(tuple(row) for row in where), taken
