"""The first seating the search starts from: people shuffled onto the affine plane's positions,
or round by round pinned people first, then the together groups, then everyone else."""

from __future__ import annotations

from sortition.errors import N_
from sortition.errors import problem as problem_of
from sortition.groups.design import design_tables
from sortition.groups.problem import GroupsProblem, SeatingRulesError
from sortition.randomness import SeededStream


def design_start(problem: GroupsProblem, stream: SeededStream) -> list[list[int]]:
    """People shuffled onto the affine plane's positions."""
    order = list(range(problem.people))
    stream.shuffle(order)
    tables = design_tables(problem.people, problem.tables, problem.rounds)
    where = [[0] * problem.people for _ in range(problem.rounds)]
    for position, x in enumerate(order):
        for r in range(problem.rounds):
            where[r][x] = tables[r][position]
    return where


def free_start(problem: GroupsProblem, stream: SeededStream) -> list[list[int]]:
    """Each round: pinned units at their tables, then the other units, largest first (ties in a
    seeded order), each at the table with the most free seats (the lowest number on a tie);
    the extra seats (``k mod T`` of them) go to the tables with the most pins."""
    units, pins = problem.units(), problem.pins()
    base, extra = divmod(problem.people, problem.tables)
    where = [[0] * problem.people for _ in range(problem.rounds)]
    for r in range(problem.rounds):
        pinned_at = [0] * problem.tables
        for t in pins[r]:
            if t is not None:
                pinned_at[t] += 1
        by_pins = sorted(range(problem.tables), key=lambda t: (-pinned_at[t], t))
        free = [base] * problem.tables
        for t in by_pins[:extra]:
            free[t] += 1
        order = list(range(len(units)))
        stream.shuffle(order)
        order.sort(key=lambda u: (_unit_pin(units[u], pins[r]) is None, -len(units[u])))
        for u in order:
            unit = units[u]
            table = _unit_pin(unit, pins[r])
            if table is None:
                table = max(range(problem.tables), key=lambda t: (free[t], -t))
            if free[table] < len(unit):
                raise SeatingRulesError(
                    [
                        problem_of(
                            N_(
                                "round {round}: the together groups and pins cannot be fitted "
                                "into {tables} tables of {size} or {larger}"
                            ),
                            round=r + 1,
                            tables=problem.tables,
                            size=base,
                            larger=base + 1,
                        )
                    ]
                )
            free[table] -= len(unit)
            for x in unit:
                where[r][x] = table
    return where


def _unit_pin(unit: list[int], round_pins: list[int | None]) -> int | None:
    return next((round_pins[x] for x in unit if round_pins[x] is not None), None)
