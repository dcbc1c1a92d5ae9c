"""What is seated: the panel's people with their balance values, the tables and rounds, and the
rules (apart, together, fixed), as plain immutable data with people numbered ``0 .. k-1`` in the
panel file's order; and the conflicts among the rules that no seating can get round (exit 3).

Tables and rounds are 0-based here and 1-based in every file an organiser reads or writes.
"""

from __future__ import annotations

from dataclasses import dataclass

from sortition.errors import N_, InfeasibleError, Message, Problem
from sortition.errors import problem as problem_of


class SeatingRulesError(InfeasibleError):
    """The rules (apart, together, fixed) cannot all hold (exit 3)."""

    heading = N_("the seating rules cannot all hold")


@dataclass(frozen=True)
class Fixed:
    """A person pinned to a table, in one round or (``round`` None) in every round."""

    person: int
    table: int
    round: int | None


@dataclass(frozen=True)
class GroupsProblem:
    """The seating to find.

    ``values[f][x]`` is person ``x``'s value index on balance feature ``f`` (``value_names[f]``
    names them); ``apart[x]`` is the index of ``x``'s apart group, -1 when ``x`` shares the apart
    value with nobody (or it is empty); ``together`` holds pairs of people, ``fixed`` the pins.
    """

    ids: tuple[str, ...]
    tables: int
    rounds: int
    features: tuple[str, ...] = ()
    value_names: tuple[tuple[str, ...], ...] = ()
    values: tuple[tuple[int, ...], ...] = ()
    apart: tuple[int, ...] = ()
    together: tuple[tuple[int, int], ...] = ()
    fixed: tuple[Fixed, ...] = ()

    @property
    def people(self) -> int:
        return len(self.ids)

    def apart_groups(self) -> list[int]:
        """Each person's apart group (-1: none), also when no --apart was given."""
        return list(self.apart) if self.apart else [-1] * self.people

    def table_sizes(self) -> list[int]:
        """The sizes of tables ``0 .. T-1`` in the constructed seating: the first ``k mod T``
        hold one more."""
        base, extra = divmod(self.people, self.tables)
        return [base + (1 if t < extra else 0) for t in range(self.tables)]

    def units(self) -> list[list[int]]:
        """The people who move together: the components of the together pairs (each sorted, in
        the order of their first member), and everyone else alone."""
        parent = list(range(self.people))

        def root(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for a, b in self.together:
            ra, rb = root(a), root(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
        members: dict[int, list[int]] = {}
        for x in range(self.people):
            members.setdefault(root(x), []).append(x)
        return [members[r] for r in sorted(members)]

    def pins(self) -> list[list[int | None]]:
        """``pins[r][x]``: the table ``x`` is pinned to in round ``r``, or None."""
        out: list[list[int | None]] = [[None] * self.people for _ in range(self.rounds)]
        for pin in self.fixed:
            for r in range(self.rounds) if pin.round is None else [pin.round]:
                out[r][pin.person] = pin.table
        return out


def check_rules(problem: GroupsProblem, apart_name: str = "--apart") -> None:
    """Raise SeatingRulesError naming each conflict no seating can get round: an apart value
    shared by more people than there are tables, a together group larger than a table or
    holding people to keep apart or pinned to different tables, more people pinned to a table
    than it seats, and people to keep apart pinned to the same table."""
    problems: list[Problem] = []
    ids, tables, largest = problem.ids, problem.tables, max(problem.table_sizes())
    groups = problem.apart_groups()
    shared: dict[int, list[int]] = {}
    for x, g in enumerate(groups):
        if g >= 0:
            shared.setdefault(g, []).append(x)
    for members in shared.values():
        if len(members) > tables:
            problems.append(
                problem_of(
                    N_(
                        "{apart}: {count} people share a value ({names}) but there are only "
                        "{tables} tables, so two of them must share one"
                    ),
                    apart=apart_name,
                    count=len(members),
                    names=_names(ids, members),
                    tables=tables,
                )
            )
    pins = problem.pins()
    for unit in problem.units():
        if len(unit) == 1:
            continue
        who = _names(ids, unit)
        if len(unit) > largest:
            problems.append(
                problem_of(
                    N_("--together: {who} must share a table, but a table seats {largest}"),
                    who=who,
                    largest=largest,
                )
            )
        keys = [groups[x] for x in unit if groups[x] >= 0]
        if len(set(keys)) < len(keys):
            problems.append(
                problem_of(
                    N_("--together and {apart}: {who} must share a table and be apart"),
                    apart=apart_name,
                    who=who,
                )
            )
        for r, round_pins in enumerate(pins):
            pinned = sorted({t for t in (round_pins[x] for x in unit) if t is not None})
            if len(pinned) > 1:
                tables_named: str = str(pinned[0] + 1)
                for t in pinned[1:]:
                    tables_named = Message(
                        N_("{tables} and {table}"), tables=tables_named, table=t + 1
                    )
                problems.append(
                    problem_of(
                        N_(
                            "--together and --fixed: {who} must share a table, but are pinned to "
                            "tables {tables} in round {round}"
                        ),
                        who=who,
                        tables=tables_named,
                        round=r + 1,
                    )
                )
    problems += _pinned_conflicts(problem, groups, pins, apart_name)
    if problems:
        raise SeatingRulesError(problems)


def _pinned_conflicts(
    problem: GroupsProblem, groups: list[int], pins: list[list[int | None]], apart_name: str
) -> list[Problem]:
    """Tables with more people pinned than seats, or two pinned people to keep apart."""
    out: list[Problem] = []
    largest = max(problem.table_sizes())
    for r, round_pins in enumerate(pins):
        at: dict[int, list[int]] = {}
        for x, t in enumerate(round_pins):
            if t is not None:
                at.setdefault(t, []).append(x)
        for t in sorted(at):
            members = at[t]
            if len(members) > largest:
                out.append(
                    problem_of(
                        N_(
                            "--fixed: {count} people ({names}) are pinned to table {table} in "
                            "round {round}, which seats {largest}"
                        ),
                        count=len(members),
                        names=_names(problem.ids, members),
                        table=t + 1,
                        round=r + 1,
                        largest=largest,
                    )
                )
            keys = [groups[x] for x in members if groups[x] >= 0]
            if len(set(keys)) < len(keys):
                out.append(
                    problem_of(
                        N_(
                            "--fixed and {apart}: people to keep apart ({names}) are pinned to "
                            "table {table} in round {round}"
                        ),
                        apart=apart_name,
                        names=_names(problem.ids, members),
                        table=t + 1,
                        round=r + 1,
                    )
                )
    return out


def _names(ids: tuple[str, ...], people: list[int], limit: int = 5) -> str:
    shown = ", ".join(ids[x] for x in people[:limit])
    if len(people) <= limit:
        return shown
    return Message(N_("{names} and {more} more"), names=shown, more=len(people) - limit)


def make_problem(
    ids: tuple[str, ...],
    tables: int,
    rounds: int,
    balance: dict[str, list[str]],
    apart_groups: tuple[int, ...] = (),
    together: tuple[tuple[int, int], ...] = (),
    fixed: tuple[Fixed, ...] = (),
) -> GroupsProblem:
    """The problem from the balance cells (values are numbered in sorted order)."""
    names, values = [], []
    for cells in balance.values():
        found = tuple(sorted(set(cells)))
        lookup = {v: i for i, v in enumerate(found)}
        names.append(found)
        values.append(tuple(lookup[c] for c in cells))
    return GroupsProblem(
        ids,
        tables,
        rounds,
        tuple(balance),
        tuple(names),
        tuple(values),
        apart_groups,
        together,
        fixed,
    )


def number_groups(keys: tuple[str | None, ...]) -> tuple[int, ...]:
    """Apart groups numbered in order of first appearance; -1 for an empty key or a key held by
    one person only (nobody to keep apart from)."""
    held: dict[str, int] = {}
    for key in keys:
        if key is not None:
            held[key] = held.get(key, 0) + 1
    numbers: dict[str, int] = {}
    out = []
    for key in keys:
        if key is None or held[key] < 2:
            out.append(-1)
        else:
            out.append(numbers.setdefault(key, len(numbers)))
    return tuple(out)
