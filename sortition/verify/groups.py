"""Verify a groups record (kind ``groups``): the seating re-derived from the record alone.

Items: ``record version``; ``options`` (the options' SHA-256); ``seating`` (every person once a
round, every rule kept: table sizes, apart, together, fixed); ``search`` (the seating found again
from the embedded panel, the options, the seed and the budget, table by table); ``measures`` (the
repeat pairs, deviations and bounds recomputed); with ``--panel FILE``: ``panel file`` (its raw
SHA-256). A malformed record is bad input (exit 2) naming what is wrong.
"""

from __future__ import annotations

from typing import Any

from sortition.errors import InputError, Problem, require_file
from sortition.groups.evaluate import Seating, breaches, deviation_bound_k, measure, repeat_bound
from sortition.groups.problem import GroupsProblem
from sortition.groups.record import Bounds, measures_part, problem_from_record, seating_part
from sortition.groups.search import search
from sortition.record.canonical import canonical_json, file_sha256, sha256_hex
from sortition.verify.items import CheckItem, VerifyRequest, item_from, version_item


def verify_groups(request: VerifyRequest) -> list[CheckItem]:
    record = request.record
    try:
        problem = problem_from_record(record)
        effort = int(record["options"]["effort"])
        seed = str(record["seed"]["value"])
        recorded = record["seating"]
        recorded_result = record["result"]
        if not isinstance(recorded_result, dict) or not isinstance(record["panel"], dict):
            raise TypeError("'result' and 'panel' must be objects")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(
            [
                Problem(
                    f"is not a complete groups record ({type(exc).__name__}: {exc})", request.name
                )
            ]
        ) from None
    items = [version_item(record)]
    if request.panel_path is not None:
        require_file(request.panel_path)
        digest = file_sha256(request.panel_path)
        want = record["panel"].get("sha256")
        items.append(
            item_from(
                "panel file",
                [] if digest == want else [f"SHA-256 {digest}, the record says {want}"],
                f"{request.panel_path.name} has the recorded SHA-256",
            )
        )
    digest = sha256_hex(canonical_json(record["options"]))
    items.append(
        item_from(
            "options",
            [] if digest == record.get("options_sha256") else ["the options' SHA-256 differs"],
            f"SHA-256 {digest}",
        )
    )
    seating, problems = _seating(problem, recorded)
    if seating is not None:
        problems += breaches(problem, seating)
    items.append(
        item_from("seating", problems, f"{problem.people} people, every rule kept in every round")
    )
    again = search(problem, seed, effort).seating
    same = seating_part(problem, again) == recorded
    items.append(
        item_from(
            "search",
            [] if same else ["the seating found again from the seed differs from the record's"],
            f"re-derived from the seed in {effort} moves: the same seating",
        )
    )
    if seating is not None:
        bounds = Bounds(repeat_bound(problem), deviation_bound_k(problem))
        computed = measures_part(problem, measure(problem, seating), bounds)
        wrong = [
            f"{name} is {computed[name]}, the record says {recorded_result.get(name)}"
            for name in computed
            if computed[name] != recorded_result.get(name)
        ]
        items.append(item_from("measures", wrong, _measures_detail(computed)))
    return items


def _measures_detail(computed: dict[str, Any]) -> str:
    return (
        f"repeat pairs {computed['repeat_pairs']} (bound {computed['repeat_pairs_bound']}), "
        f"largest deviation {computed['max_deviation']} (bound "
        f"{computed['max_deviation_bound']})"
    )


def _seating(problem: GroupsProblem, recorded: Any) -> tuple[Seating | None, list[str]]:
    """The recorded seating as tables by person, or the problems that stop reading it."""
    index = {person: x for x, person in enumerate(problem.ids)}
    if not isinstance(recorded, list) or len(recorded) != problem.rounds:
        return None, [f"the seating must list {problem.rounds} rounds"]
    out = []
    for r, tables in enumerate(recorded):
        if not isinstance(tables, list) or len(tables) != problem.tables:
            return None, [f"round {r + 1} must list {problem.tables} tables"]
        where = [-1] * problem.people
        for t, members in enumerate(tables):
            for person in members if isinstance(members, list) else []:
                x = index.get(person, -1) if isinstance(person, str) else -1
                if x < 0:
                    return None, [f"round {r + 1}, table {t + 1}: {person!r} is not on the panel"]
                if where[x] >= 0:
                    return None, [f"round {r + 1}: {person} is seated twice"]
                where[x] = t
        missing = [problem.ids[x] for x in range(problem.people) if where[x] < 0]
        if missing:
            return None, [f"round {r + 1}: {missing[0]} has no seat"]
        out.append(tuple(where))
    return tuple(out), []
