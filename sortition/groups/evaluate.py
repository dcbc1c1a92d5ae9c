"""A seating's measures, computed directly from its definition (the search keeps the same numbers
incrementally; tests and ``verify`` use these):

* **deviation** of a table on a balance value: ``|count - size * n_v / k|``, ``n_v`` the panel's
  count of the value; kept exactly as the integer ``|count * k - size * n_v|`` (``k`` times it);
* **repeat pairs**: pairs of people at the same table in more than one round, not counting pairs
  a together rule keeps at one table;
* **rule breaches**: tables of the wrong size, apart pairs at one table, together pairs apart,
  pins not kept.

The lower bounds say what no seating can beat: ``repeat_bound`` from counting seats against
pairs and from the pigeonhole between two rounds, ``deviation_bound`` as the largest distance
from a table's share to a whole number.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from math import comb

from sortition.errors import N_, Message
from sortition.groups.problem import GroupsProblem

Seating = tuple[tuple[int, ...], ...]  # seating[r][x]: person x's table (0-based) in round r


@dataclass(frozen=True)
class Measures:
    """What a seating achieves, in the order of the goals."""

    breaches: int
    repeat_pairs: int
    max_deviation_k: int  # the largest deviation, times k
    total_deviation_k: int  # the sum of deviations, times k

    def key(self) -> tuple[int, int, int, int]:
        return (self.breaches, self.repeat_pairs, self.max_deviation_k, self.total_deviation_k)


def tables_of(seating: Seating, r: int, tables: int) -> list[list[int]]:
    """The members of each table in round ``r``, in panel order."""
    out: list[list[int]] = [[] for _ in range(tables)]
    for x, t in enumerate(seating[r]):
        out[t].append(x)
    return out


def value_counts(problem: GroupsProblem) -> list[list[int]]:
    """``n_v``: the panel's count of each value of each balance feature."""
    out = []
    for f, names in enumerate(problem.value_names):
        counts = [0] * len(names)
        for v in problem.values[f]:
            counts[v] += 1
        out.append(counts)
    return out


def deviations_k(problem: GroupsProblem, seating: Seating) -> list[list[list[list[int]]]]:
    """``out[r][t][f][v]``: ``k`` times the deviation of table ``t`` in round ``r``."""
    k, totals = problem.people, value_counts(problem)
    out = []
    for r in range(problem.rounds):
        rows = []
        for members in tables_of(seating, r, problem.tables):
            size = len(members)
            row = []
            for f, n in enumerate(totals):
                counts = Counter(problem.values[f][x] for x in members)
                row.append([abs(counts[v] * k - size * n[v]) for v in range(len(n))])
            rows.append(row)
        out.append(rows)
    return out


def together_pairs(problem: GroupsProblem) -> set[tuple[int, int]]:
    """Pairs a together rule keeps at one table (every pair within a together group)."""
    return {(a, b) for unit in problem.units() for i, a in enumerate(unit) for b in unit[i + 1 :]}


def pair_counts(problem: GroupsProblem, seating: Seating) -> Counter[tuple[int, int]]:
    """How many rounds each pair shares a table."""
    met: Counter[tuple[int, int]] = Counter()
    for r in range(problem.rounds):
        for members in tables_of(seating, r, problem.tables):
            for i, a in enumerate(members):
                for b in members[i + 1 :]:
                    met[(a, b)] += 1
    return met


def repeat_pairs(problem: GroupsProblem, seating: Seating) -> list[tuple[int, int]]:
    """The pairs who share a table in more than one round (together pairs left out), sorted."""
    kept = together_pairs(problem)
    met = pair_counts(problem, seating)
    return sorted(pair for pair, n in met.items() if n > 1 and pair not in kept)


def breaches(problem: GroupsProblem, seating: Seating) -> list[str]:
    """Every rule the seating breaks, as an organiser reads it (empty when all hold)."""
    out: list[str] = []
    ids, groups, pins = problem.ids, problem.apart_groups(), problem.pins()
    for r in range(problem.rounds):
        members_of = tables_of(seating, r, problem.tables)
        sizes = [len(m) for m in members_of]
        if max(sizes) - min(sizes) > 1:
            out.append(
                Message(
                    N_("round {round}: table sizes {low} to {high} differ by more"),
                    round=r + 1,
                    low=min(sizes),
                    high=max(sizes),
                )
            )
        for t, members in enumerate(members_of):
            keys = [groups[x] for x in members if groups[x] >= 0]
            if len(set(keys)) < len(keys):
                out.append(
                    Message(
                        N_("round {round}, table {table}: people to keep apart share it"),
                        round=r + 1,
                        table=t + 1,
                    )
                )
        for a, b in problem.together:
            if seating[r][a] != seating[r][b]:
                out.append(
                    Message(
                        N_("round {round}: {a} and {b} must share a table"),
                        round=r + 1,
                        a=ids[a],
                        b=ids[b],
                    )
                )
        for x, table in enumerate(pins[r]):
            if table is not None and seating[r][x] != table:
                out.append(
                    Message(
                        N_("round {round}: {id} is pinned to table {table}"),
                        round=r + 1,
                        id=ids[x],
                        table=table + 1,
                    )
                )
    return out


def measure(problem: GroupsProblem, seating: Seating) -> Measures:
    devs = [d for rnd in deviations_k(problem, seating) for t in rnd for f in t for d in f]
    return Measures(
        len(breaches(problem, seating)),
        len(repeat_pairs(problem, seating)),
        max(devs, default=0),
        sum(devs),
    )


def repeat_bound(problem: GroupsProblem) -> int:
    """Repeat pairs no seating avoids (together pairs left out).

    Counting: the rounds seat ``M = R * sum C(size, 2)`` pairs among ``C(k, 2)``; a pair seated
    ``m`` times uses ``m - 1 <= R - 1`` seats beyond its first, so at least
    ``(M - C(k, 2)) / (R - 1)`` pairs repeat. Pigeonhole: a table of round 2 holding ``s``
    people drawn from round 1's ``T`` tables holds at least the pairs of ``s`` spread evenly
    over ``T``, each a pair that met in round 1.
    """
    rounds, tables, k = problem.rounds, problem.tables, problem.people
    if rounds < 2:
        return 0
    sizes = problem.table_sizes()
    seated = rounds * sum(comb(s, 2) for s in sizes)
    counting = max(0, -(-(seated - comb(k, 2)) // (rounds - 1)))
    pigeon = 0
    for s in sizes:
        q, rest = divmod(s, tables)
        pigeon += rest * comb(q + 1, 2) + (tables - rest) * comb(q, 2)
    return max(0, max(counting, pigeon) - len(together_pairs(problem)))


def deviation_bound_k(problem: GroupsProblem) -> int:
    """``k`` times the largest deviation no seating avoids: for every table size that occurs and
    every value, the distance from ``size * n_v / k`` to the nearest whole number."""
    k, out = problem.people, 0
    for s in set(problem.table_sizes()):
        for counts in value_counts(problem):
            for n in counts:
                rest = (s * n) % k
                out = max(out, min(rest, k - rest))
    return out
