"""Verify a groups record (kind ``groups``): the seating re-derived from the record alone.

Items: ``record version``; ``options`` (the options' SHA-256); ``seating`` (every person once a
round, every rule kept: table sizes, apart, together, fixed); ``search`` (the seating found again
from the embedded panel, the options, the seed and the budget, table by table); ``measures`` (the
repeat pairs, deviations and bounds recomputed); with ``--panel FILE``: ``panel file`` (its raw
SHA-256). A record naming people by keyed pseudonyms (``panel.pseudonyms``) is re-derived from
the pseudonyms alone; with ``--pseudonym-key KEY``: ``pseudonym key`` (its fingerprint is the
record's) and, with ``--panel FILE`` too, ``panel ids`` (the file's ids made pseudonyms with the
key, and its balance values, are the record's). A malformed record is bad input (exit 2) naming
what is wrong.

A re-seated record (``groups --reseat``) has no ``search`` item: its original record, embedded,
is checked in full (items named ``original ...``), and ``reseat`` mends the original's seating
again from the dropouts (``groups.reseat``): the same moves, the same seating.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sortition.errors import N_, InputError, Message, Problem, require_file
from sortition.errors import problem as make_problem
from sortition.groups.evaluate import Seating, breaches, deviation_bound_k, measure, repeat_bound
from sortition.groups.inputs import read_panel
from sortition.groups.problem import GroupsProblem
from sortition.groups.record import (
    Bounds,
    measures_part,
    problem_from_record,
    seating_from_record,
    seating_part,
)
from sortition.groups.reseat import carry, mend
from sortition.groups.search import search
from sortition.privacy.keys import PseudonymKey
from sortition.privacy.pseudonyms import pseudonym
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
            raise TypeError(Message(N_("'result' and 'panel' must be objects")))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(
            [
                make_problem(
                    N_("is not a complete groups record ({error}: {reason})"),
                    file=request.name,
                    error=type(exc).__name__,
                    reason=_said(exc),
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
                []
                if digest == want
                else [
                    Message(
                        N_("SHA-256 {digest}, the record says {stated}"), digest=digest, stated=want
                    )
                ],
                Message(N_("{file} has the recorded SHA-256"), file=request.panel_path.name),
            )
        )
    items += _key_items(request, problem)
    digest = sha256_hex(canonical_json(record["options"]))
    items.append(
        item_from(
            "options",
            []
            if digest == record.get("options_sha256")
            else [Message(N_("the options' SHA-256 differs"))],
            Message(N_("SHA-256 {digest}"), digest=digest),
        )
    )
    seating, problems = _seating(problem, recorded)
    if seating is not None:
        problems += breaches(problem, seating)
    items.append(
        item_from(
            "seating",
            problems,
            Message(N_("{people} people, every rule kept in every round"), people=problem.people),
        )
    )
    if "reseat" in record:
        items += _reseat_items(request, record, problem)
    else:
        again = search(problem, seed, effort).seating
        same = seating_part(problem, again) == recorded
        items.append(
            item_from(
                "search",
                []
                if same
                else [
                    Message(N_("the seating found again from the seed differs from the record's"))
                ],
                Message(
                    N_("re-derived from the seed in {moves} moves: the same seating"), moves=effort
                ),
            )
        )
    if seating is not None:
        bounds = Bounds(repeat_bound(problem), deviation_bound_k(problem))
        computed = measures_part(problem, measure(problem, seating), bounds)
        wrong: list[str] = [
            Message(
                N_("{name} is {computed}, the record says {stated}"),
                name=name,
                computed=computed[name],
                stated=recorded_result.get(name),
            )
            for name in computed
            if computed[name] != recorded_result.get(name)
        ]
        items.append(item_from("measures", wrong, _measures_detail(computed)))
    return items


def _reseat_items(
    request: VerifyRequest, record: dict[str, Any], problem: GroupsProblem
) -> list[CheckItem]:
    """The original record checked in full (its items named ``original ...``), then the moves
    and the new seating found again from it and the dropouts."""
    reseat = record["reseat"]
    try:
        original, dropouts = reseat["original"], [str(p) for p in reseat["dropouts"]]
        if not isinstance(original, dict) or original.get("kind") != "groups":
            raise TypeError(Message(N_("'reseat.original' must be a groups record")))
    except (KeyError, TypeError) as exc:
        raise InputError(
            [
                make_problem(
                    N_("is not a complete reseat record ({reason})"),
                    file=request.name,
                    reason=_said(exc),
                )
            ]
        ) from None
    inner = VerifyRequest(original, request.name, None, None, False, None)
    items = [
        CheckItem(f"original {item.name}", item.ok, item.detail)
        for item in verify_groups(inner)
        if item.name != "record version"
    ]
    try:
        first = problem_from_record(original)
        left, taken = carry(first, seating_from_record(first, original["seating"]), problem)
        mended, moves = mend(problem, left)
    except (KeyError, TypeError, ValueError, InputError) as exc:
        why = Message(N_("cannot re-seat the original: {reason}"), reason=_reason(exc))
        return [*items, CheckItem("reseat", False, why)]
    problems: list[str] = []
    if [list(pair) for pair in taken] != reseat.get("replacements", []):
        problems.append(Message(N_("the newcomers' seats differ from the record's")))
    if sorted(dropouts) != sorted(set(first.ids) - set(problem.ids)):
        problems.append(
            Message(N_("the dropouts are not the people of the original missing from the panel"))
        )
    if seating_part(problem, mended) != record["seating"]:
        problems.append(
            Message(N_("the seating mended again from the original differs from the record's"))
        )
    if [m.as_record() for m in moves] != reseat.get("moves"):
        problems.append(Message(N_("the moves differ from the record's")))
    detail = Message(
        N_("{dropouts} dropped out, {new} new, {moves} moves: the same seating"),
        dropouts=len(dropouts),
        new=len(taken),
        moves=len(moves),
    )
    return [*items, item_from("reseat", problems, detail)]


def _said(error: Exception) -> object:
    """What a reading error says: the ``Message`` it was raised with (translatable), else
    Python's own words (a missing key's name, a wrong type)."""
    said = error.args[0] if len(error.args) == 1 else None
    return said if isinstance(said, Message) else error


def _reason(error: Exception) -> str | Problem:
    """What an exception says: an InputError's one problem (translatable), else as it is."""
    if isinstance(error, InputError) and len(error.problems) == 1:
        return error.problems[0]
    return str(error)


def _measures_detail(computed: dict[str, Any]) -> str:
    return Message(
        N_(
            "repeat pairs {pairs} (bound {pairs_bound}), largest deviation {deviation} (bound "
            "{deviation_bound})"
        ),
        pairs=computed["repeat_pairs"],
        pairs_bound=computed["repeat_pairs_bound"],
        deviation=computed["max_deviation"],
        deviation_bound=computed["max_deviation_bound"],
    )


def _seating(problem: GroupsProblem, recorded: Any) -> tuple[Seating | None, list[str]]:
    """The recorded seating as tables by person, or the problem that stops reading it."""
    try:
        return seating_from_record(problem, recorded), []
    except ValueError as exc:
        return None, [str(exc)]


def _key_items(request: VerifyRequest, problem: GroupsProblem) -> list[CheckItem]:
    """With the organiser's key: ``pseudonym key`` (the record's fingerprint), and with the
    panel file too, ``panel ids``: the file read with the record's columns, its ids made
    pseudonyms with the key, gives the record's people and balance values. A key for a record
    without pseudonyms is bad input."""
    key, record = request.pseudonym_key, request.record
    method = record["panel"].get("pseudonyms")
    if key is None:
        return []
    if not isinstance(method, dict):
        raise InputError(
            [
                make_problem(
                    N_(
                        "names people by the panel file's own ids, not by keyed pseudonyms: "
                        "--pseudonym-key does not apply to it"
                    ),
                    file=request.name,
                )
            ]
        )
    stated = method.get("key_fingerprint")
    if key.fingerprint == stated:
        detail = Message(N_("{key}: fingerprint matches {stated}"), key=key.name, stated=stated)
        items = [CheckItem("pseudonym key", True, detail)]
    else:
        detail = Message(
            N_("{key} has fingerprint {fingerprint}, the record's key {stated}: another key"),
            key=key.name,
            fingerprint=key.fingerprint,
            stated=stated,
        )
        items = [CheckItem("pseudonym key", False, detail)]
    if request.panel_path is not None:
        items.append(_panel_ids_item(request.panel_path, key, record, problem))
    return items


def _panel_ids_item(
    path: Path, key: PseudonymKey, record: dict[str, Any], problem: GroupsProblem
) -> CheckItem:
    try:
        length = int(record["panel"]["pseudonyms"]["length"])
        panel = read_panel(path, record["panel"].get("id_column"), list(problem.features), ())
    except (KeyError, TypeError, ValueError) as exc:
        why = Message(N_("cannot read the panel as the record did: {reason}"), reason=_reason(exc))
        return CheckItem("panel ids", False, why)
    recorded = {
        person: tuple(
            problem.value_names[f][problem.values[f][x]] for f in range(len(problem.features))
        )
        for x, person in enumerate(problem.ids)
    }
    found = {
        pseudonym(key, person, length): tuple(cells[i] for cells in panel.balance)
        for i, person in enumerate(panel.ids)
    }
    problems: list[str] = []
    missing = len(set(recorded) - set(found))
    extra = len(set(found) - set(recorded))
    if missing or extra:
        problems.append(
            Message(
                N_(
                    "{missing} of the record's pseudonyms are not the pseudonym of an id of the "
                    "file, {extra} of the file's ids have no pseudonym in the record"
                ),
                missing=missing,
                extra=extra,
            )
        )
    differ = sum(1 for p, values in found.items() if p in recorded and recorded[p] != values)
    if differ:
        problems.append(
            Message(N_("{people} people's balance values differ from the record's"), people=differ)
        )
    return item_from(
        "panel ids",
        problems,
        Message(
            N_("{file}: every id's pseudonym under the key and balance values are the record's"),
            file=path.name,
        ),
    )
