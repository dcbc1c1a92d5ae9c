"""sortition groups on synthetic panels: the issue's two targets and a random seating to compare.

Run: pytest benchmarks/test_bench_groups.py --benchmark-only (one round each; minutes). Each
case records in extra_info the repeat pairs, the largest and total balance deviation and their
lower bounds, for the search and for a seeded random seating of the same panel. The figures
measured are in benchmarks/README.md ("Table groups").
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from sortition.groups.evaluate import Seating, deviation_bound_k, measure, repeat_bound
from sortition.groups.inputs import read_panel
from sortition.groups.problem import GroupsProblem, make_problem
from sortition.groups.search import default_effort, search
from sortition.randomness import SeededStream
from sortition.synthetic.pools import generate_instance, value_counts_for, write_instance

FEATURES = ["gender", "age", "region", "education"]
# (people, table size, rounds): the targets
CASES = [(150, 6, 5), (1000, 8, 3)]


def random_seating(problem: GroupsProblem, seed: str) -> Seating:
    """Each round a seeded shuffle cut into tables whose sizes differ by at most one."""
    stream = SeededStream(f"random-seating:{seed}")
    sizes = problem.table_sizes()
    rounds = []
    for _ in range(problem.rounds):
        order = list(range(problem.people))
        stream.shuffle(order)
        where = [0] * problem.people
        start = 0
        for t, size in enumerate(sizes):
            for x in order[start : start + size]:
                where[x] = t
            start += size
        rounds.append(tuple(where))
    return tuple(rounds)


def panel_problem(folder: Path, people: int, size: int, rounds: int) -> GroupsProblem:
    """A realistic7 pool of ``people`` seated as the panel (its first four features balanced)."""
    counts = value_counts_for(None, "realistic7")
    write_instance(generate_instance(people, min(people, 150), counts, "groups-bench"), folder)
    panel = read_panel(folder / "pool.csv", None, FEATURES, [])
    balance = {name: list(cells) for name, cells in zip(FEATURES, panel.balance, strict=True)}
    return make_problem(panel.ids, -(-people // size), rounds, balance)


def summary(problem: GroupsProblem, seating: Seating) -> dict[str, float]:
    m, k = measure(problem, seating), problem.people
    return {
        "repeat_pairs": m.repeat_pairs,
        "max_deviation": m.max_deviation_k / k,
        "total_deviation": m.total_deviation_k / k,
    }


@pytest.mark.parametrize(("people", "size", "rounds"), CASES)
def test_groups(
    benchmark: BenchmarkFixture, tmp_path: Path, people: int, size: int, rounds: int
) -> None:
    problem = panel_problem(tmp_path, people, size, rounds)
    effort = default_effort(problem)
    found = benchmark.pedantic(search, args=(problem, "bench", effort), rounds=1, iterations=1)
    ours = summary(problem, found.seating)
    lottery = summary(problem, random_seating(problem, "bench"))
    benchmark.extra_info.update(
        {
            "effort": effort,
            "method": found.method,
            "search": ours,
            "random": lottery,
            "repeat_pairs_bound": repeat_bound(problem),
            "max_deviation_bound": deviation_bound_k(problem) / people,
        }
    )
    assert ours["repeat_pairs"] == 0 and ours["max_deviation"] < lottery["max_deviation"]
