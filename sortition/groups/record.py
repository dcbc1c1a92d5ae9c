"""The ``groups`` record (kind ``groups``, version 1): everything ``verify`` needs to re-derive
the seating from this one file — the panel's ids and balance values, each person's apart group
as a number (never the apart cells themselves: they may be addresses), the together pairs and
pins as ids (with a pseudonym key, every id is its keyed pseudonym and ``panel.pseudonyms`` says
so), the options, the seed, the budget — with the SHA-256 of the panel file and of the
options, the measures reached and their lower bounds, and the seating (docs/record.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sortition.groups.evaluate import Measures, Seating, tables_of
from sortition.groups.problem import Fixed, GroupsProblem, make_problem
from sortition.record.build import SeedLike, tool_versions
from sortition.record.canonical import canonical_json, sha256_hex

KIND = "groups"
VERSION = 1


@dataclass(frozen=True)
class Bounds:
    repeat_pairs: int
    max_deviation_k: int


def options_part(problem: GroupsProblem, size: int | None, apart: list[str], effort: int) -> dict:
    """The options, rules included, as the record keeps them (and digests)."""
    ids = problem.ids
    return {
        "tables": problem.tables,
        "size": size,
        "rounds": problem.rounds,
        "balance": list(problem.features),
        "apart": apart,
        "together": [[ids[a], ids[b]] for a, b in problem.together],
        "fixed": [
            [ids[p.person], p.table + 1, None if p.round is None else p.round + 1]
            for p in problem.fixed
        ],
        "effort": effort,
    }


def measures_part(problem: GroupsProblem, measures: Measures, bounds: Bounds) -> dict:
    k = problem.people
    return {
        "repeat_pairs": measures.repeat_pairs,
        "repeat_pairs_bound": bounds.repeat_pairs,
        "max_deviation": round(measures.max_deviation_k / k, 6),
        "max_deviation_bound": round(bounds.max_deviation_k / k, 6),
        "total_deviation": round(measures.total_deviation_k / k, 6),
    }


def seating_part(problem: GroupsProblem, seating: Seating) -> list[list[list[str]]]:
    """Round by round, table by table, the ids at the table (in panel order)."""
    return [
        [[problem.ids[x] for x in members] for members in tables_of(seating, r, problem.tables)]
        for r in range(problem.rounds)
    ]


def groups_record(
    problem: GroupsProblem,
    seating: Seating,
    *,
    panel_name: str,
    panel_sha256: str,
    id_column: str | None,
    options: dict[str, Any],
    seed: SeedLike,
    method: str,
    measures: Measures,
    bounds: Bounds,
    pseudonyms: dict[str, object] | None = None,
) -> dict[str, Any]:
    """The record; ``pseudonyms`` (method, length, key fingerprint, as the selection record's
    ``inputs.pool.pseudonyms``) says the ids are keyed pseudonyms, stated only when they are."""
    balance = {
        feature: [problem.value_names[f][v] for v in problem.values[f]]
        for f, feature in enumerate(problem.features)
    }
    return {
        "kind": KIND,
        "version": VERSION,
        "tool": tool_versions(),
        "panel": {
            "file": panel_name,
            "sha256": panel_sha256,
            "id_column": id_column,
            "ids": list(problem.ids),
            "balance": balance,
            "apart_groups": list(problem.apart) if problem.apart else None,
            **({} if pseudonyms is None else {"pseudonyms": pseudonyms}),
        },
        "options": options,
        "options_sha256": sha256_hex(canonical_json(options)),
        "seed": seed.as_record(),
        "method": method,
        "result": measures_part(problem, measures, bounds),
        "seating": seating_part(problem, seating),
    }


def problem_from_record(record: dict[str, Any]) -> GroupsProblem:
    """The problem the record's seating was found for, rebuilt from the record alone (KeyError,
    TypeError or ValueError when the record is malformed; the checker reports them)."""
    panel, options = record["panel"], record["options"]
    ids = tuple(str(x) for x in panel["ids"])
    index = {person: x for x, person in enumerate(ids)}
    balance = {}
    for feature in options["balance"]:
        cells = [str(c) for c in panel["balance"][feature]]
        if len(cells) != len(ids):
            raise ValueError(f"balance '{feature}' has {len(cells)} values for {len(ids)} people")
        balance[str(feature)] = cells
    groups = panel.get("apart_groups")
    if groups is not None and len(groups) != len(ids):
        raise ValueError("apart_groups does not have one entry per person")
    return make_problem(
        ids,
        int(options["tables"]),
        int(options["rounds"]),
        balance,
        tuple(int(g) for g in groups) if groups is not None else (),
        tuple((index[a], index[b]) for a, b in options["together"]),
        tuple(
            Fixed(index[p], int(t) - 1, None if r is None else int(r) - 1)
            for p, t, r in options["fixed"]
        ),
    )


def seating_from_record(problem: GroupsProblem, recorded: Any) -> Seating:
    """The recorded seating as tables by person (ValueError when it does not seat everyone of
    the problem once a round at one of its tables)."""
    index = {person: x for x, person in enumerate(problem.ids)}
    if not isinstance(recorded, list) or len(recorded) != problem.rounds:
        raise ValueError(f"the seating must list {problem.rounds} rounds")
    out = []
    for r, tables in enumerate(recorded):
        if not isinstance(tables, list) or len(tables) != problem.tables:
            raise ValueError(f"round {r + 1} must list {problem.tables} tables")
        where = [-1] * problem.people
        for t, members in enumerate(tables):
            for person in members if isinstance(members, list) else []:
                x = index.get(person, -1) if isinstance(person, str) else -1
                if x < 0:
                    raise ValueError(
                        f"round {r + 1}, table {t + 1}: {person!r} is not on the panel"
                    )
                if where[x] >= 0:
                    raise ValueError(f"round {r + 1}: {person} is seated twice")
                where[x] = t
        missing = [problem.ids[x] for x in range(problem.people) if where[x] < 0]
        if missing:
            raise ValueError(f"round {r + 1}: {missing[0]} has no seat")
        out.append(tuple(where))
    return tuple(out)
