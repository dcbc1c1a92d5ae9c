"""``sortition groups``: read the panel and the rules, check the rules can hold, seat the panel
(``search``), measure the seating and write groups.csv, summary.json, groups.json and
seating.html into one folder, atomically."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sortition.cancel import checkpoint
from sortition.errors import N_, InputError, TimeLimitError, require_file
from sortition.errors import problem as problem_of
from sortition.groups.evaluate import (
    Measures,
    Seating,
    deviation_bound_k,
    deviations_k,
    measure,
    repeat_bound,
    tables_of,
    value_counts,
)
from sortition.groups.html import seating_html
from sortition.groups.inputs import read_fixed, read_panel, read_together
from sortition.groups.privacy import PrivatePanel, keyed_dropouts, private_panel, record_key
from sortition.groups.problem import (
    Fixed,
    GroupsProblem,
    SeatingRulesError,
    check_rules,
    make_problem,
    number_groups,
)
from sortition.groups.record import (
    Bounds,
    groups_record,
    options_part,
    problem_from_record,
    seating_from_record,
)
from sortition.groups.reseat import carry, mend, without
from sortition.groups.search import default_effort, search
from sortition.io.outputs import (
    PRIVATE_FOLDER,
    atomic_output_dir,
    json_text,
    private_folder,
    write_csv,
    write_text,
)
from sortition.io.pool import PSEUDONYM_TABLE
from sortition.io.tables import PathLike
from sortition.privacy.keys import PseudonymKey
from sortition.record.build import SeedLike, as_seed
from sortition.record.canonical import file_sha256
from sortition.seeds import Seed

FILES = ("groups.csv", "groups.json", "seating.html", "summary.json")
# For the organiser only: they name people by the panel file's own ids (and names).
PRIVATE_FILES = ("groups.csv", "seating.html")


@dataclass(frozen=True)
class GroupsResult:
    problem: GroupsProblem
    seating: Seating
    measures: Measures
    bounds: Bounds
    method: str
    record: dict[str, Any]
    seconds: float
    names: tuple[str, ...] | None = None  # shown in seating.html beside the ids
    # With a pseudonym key: the organiser's ids in the problem's order (groups.csv and
    # seating.html show them), and the table from each id to its pseudonym (file row order).
    source_ids: tuple[str, ...] | None = None
    pseudonym_table: tuple[tuple[str, str], ...] = ()


def table_count(people: int, size: int | None, tables: int | None) -> int:
    """The number of tables: ``tables``, or the fewest of at most ``size`` people."""
    if (size is None) == (tables is None):
        raise InputError(
            [problem_of(N_("give one of --size (people a table) and --tables (how many tables)"))]
        )
    count = tables if tables is not None else -(-people // size)  # type: ignore[operator]
    if count > people:
        raise InputError(
            [
                problem_of(
                    N_("--tables {count} is more tables than the panel's {people} people"),
                    count=count,
                    people=people,
                )
            ]
        )
    return count


def check_seating(
    panel_path: PathLike,
    *,
    rounds: int,
    size: int | None = None,
    tables: int | None = None,
    balance: Sequence[str] = (),
    apart: Sequence[str] = (),
    together_path: PathLike | None = None,
    fixed_path: PathLike | None = None,
    id_column: str | None = None,
    name_column: str | None = None,
    pseudonym_key: PseudonymKey | None = None,
    ids_are_public: bool = False,
) -> GroupsProblem:
    """The checks of ``seat_panel`` that come before the search: the panel file and its
    columns, the number of tables and rounds, the together and fixed files, the key and the ids,
    and the conflicts no seating can get round; the problem to seat, or the error
    ``seat_panel`` would raise (InputError, SeatingRulesError). An entry layer calls it to
    refuse a bad request before it starts the work."""
    return _checked(
        panel_path,
        (rounds, size, tables),
        (balance, apart, together_path, fixed_path),
        (id_column, name_column, pseudonym_key, ids_are_public),
    )[0]


def _checked(
    panel_path: PathLike,
    layout: tuple[int, int | None, int | None],
    rules: tuple[Sequence[str], Sequence[str], PathLike | None, PathLike | None],
    reading: tuple[str | None, str | None, PseudonymKey | None, bool],
) -> tuple[GroupsProblem, PrivatePanel, Path]:
    """``check_seating``'s work, with the panel as the record names it and its file's path:
    ``layout`` (rounds, size, tables), ``rules`` (balance, apart, together and fixed files) and
    ``reading`` (id column, name column, key, ids are public) as ``seat_panel`` takes them."""
    rounds, size, tables = layout
    balance, apart, together_path, fixed_path = rules
    id_column, name_column, pseudonym_key, ids_are_public = reading
    if rounds < 1:
        raise InputError([problem_of(N_("--rounds must be at least 1"))])
    panel_path = Path(panel_path)
    panel = read_panel(panel_path, id_column, balance, apart, name_column)
    private = private_panel(panel, panel_path.name, pseudonym_key, ids_are_public)
    count = table_count(len(private.panel.ids), size, tables)
    problem = _problem(private, count, rounds, balance, apart, together_path, fixed_path)
    check_rules(problem, f"--apart {','.join(apart)}")
    return problem, private, panel_path


def seat_panel(
    panel_path: PathLike,
    *,
    rounds: int,
    seed: SeedLike | str,
    size: int | None = None,
    tables: int | None = None,
    balance: Sequence[str] = (),
    apart: Sequence[str] = (),
    together_path: PathLike | None = None,
    fixed_path: PathLike | None = None,
    id_column: str | None = None,
    name_column: str | None = None,
    effort: int | None = None,
    time_limit: float | None = None,
    pseudonym_key: PseudonymKey | None = None,
    ids_are_public: bool = False,
) -> GroupsResult:
    """Seat the panel in ``rounds`` rounds (the public API of ``sortition groups``).

    With ``pseudonym_key`` every id of the record is its keyed pseudonym (docs/privacy.md; the
    same as select's) and the panel's order is the pseudonyms'; the together and fixed files
    name the panel file's own ids. Without a key, ids that look personal are refused unless
    ``ids_are_public`` says they are not.

    Raises InputError (exit 2) for bad files or options, SeatingRulesError (exit 3) when the
    rules cannot all hold, TimeLimitError (exit 4) past ``time_limit`` seconds.
    """
    seed = as_seed(seed)
    problem, private, panel_path = _checked(
        panel_path,
        (rounds, size, tables),
        (balance, apart, together_path, fixed_path),
        (id_column, name_column, pseudonym_key, ids_are_public),
    )
    panel = private.panel
    apart_name = f"--apart {','.join(apart)}"
    budget = default_effort(problem) if effort is None else effort
    started = time.monotonic()
    found = search(problem, seed.value, budget, _clock(started, time_limit, budget))
    measures = measure(problem, found.seating)
    if measures.breaches:
        raise SeatingRulesError(
            [
                problem_of(
                    N_("{apart}: no seating keeping them apart was found in {budget} moves"),
                    apart=apart_name,
                    budget=budget,
                )
            ]
            # a breach is a Message: the template "{breach}" has no words of its own
            + [
                problem_of("{breach}", breach=line)
                for line in _breach_lines(problem, found.seating)
            ]
        )
    bounds = Bounds(repeat_bound(problem), deviation_bound_k(problem))
    options = options_part(problem, size, list(apart), budget)
    record = groups_record(
        problem,
        found.seating,
        panel_name=panel_path.name,
        panel_sha256=file_sha256(panel_path),
        id_column=panel.id_column,
        options=options,
        seed=seed,
        method=found.method,
        measures=measures,
        bounds=bounds,
        pseudonyms=private.pseudonyms,
    )
    seconds = time.monotonic() - started
    return GroupsResult(
        problem,
        found.seating,
        measures,
        bounds,
        found.method,
        record,
        seconds,
        panel.names,
        private.source_ids,
        private.table,
    )


def _problem(
    private: PrivatePanel,
    count: int,
    rounds: int,
    balance: Sequence[str],
    apart: Sequence[str],
    together_path: PathLike | None,
    fixed_path: PathLike | None,
) -> GroupsProblem:
    """The problem of the panel as the record names it; the together and fixed files name the
    organiser's own ids (``private.own_ids``, in the panel's order)."""
    panel, own_ids = private.panel, private.own_ids
    return make_problem(
        panel.ids,
        count,
        rounds,
        {name: list(cells) for name, cells in zip(balance, panel.balance, strict=True)},
        number_groups(panel.apart) if apart else (),
        tuple(read_together(together_path, own_ids)) if together_path is not None else (),
        tuple(read_fixed(fixed_path, own_ids, count, rounds)) if fixed_path else (),
    )


def _clock(started: float, time_limit: float | None, budget: int) -> Callable[[int], None]:
    """The search's check: ``Interrupted`` once the job is asked to stop (Ctrl-C, a page's
    cancel button), TimeLimitError (exit 4) once ``time_limit`` seconds have passed."""

    def check(done: int) -> None:
        checkpoint()
        if time_limit is not None and time.monotonic() - started > time_limit:
            raise TimeLimitError(
                [
                    problem_of(
                        N_(
                            "the seating took more than {seconds} s ({done} of {budget} moves): "
                            "nothing was written; allow more time or a smaller --effort"
                        ),
                        seconds=f"{time_limit:g}",
                        done=done,
                        budget=budget,
                    )
                ]
            )

    return check


def _breach_lines(problem: GroupsProblem, seating: Seating) -> list[str]:
    from sortition.groups.evaluate import breaches

    return breaches(problem, seating)[:5]


def groups_rows(
    problem: GroupsProblem, seating: Seating, ids: Sequence[str] | None = None
) -> list[list[str]]:
    """groups.csv: round, table, id (1-based; by round, table, then panel order); ``ids`` are
    the organiser's ids in the problem's order (default: the problem's)."""
    shown = problem.ids if ids is None else ids
    return [
        [str(r + 1), str(t + 1), shown[x]]
        for r in range(problem.rounds)
        for t, members in enumerate(tables_of(seating, r, problem.tables))
        for x in members
    ]


def summary(result: GroupsResult) -> dict[str, Any]:
    """summary.json: the measures and bounds, and per round, table and feature the counts and
    deviations (the time taken is the only part that varies between runs: it is not here,
    so the file is byte-identical on a re-run; the command prints it)."""
    problem, k = result.problem, result.problem.people
    devs = deviations_k(problem, result.seating)
    totals = value_counts(problem)
    rounds = []
    for r in range(problem.rounds):
        tables = []
        for t, members in enumerate(tables_of(result.seating, r, problem.tables)):
            features = {}
            for f, feature in enumerate(problem.features):
                names = problem.value_names[f]
                counts = [0] * len(names)
                for x in members:
                    counts[problem.values[f][x]] += 1
                features[feature] = {
                    names[v]: {
                        "count": counts[v],
                        "share": round(len(members) * totals[f][v] / k, 6),
                        "deviation": round(devs[r][t][f][v] / k, 6),
                    }
                    for v in range(len(names))
                }
            tables.append({"table": t + 1, "size": len(members), "features": features})
        rounds.append({"round": r + 1, "tables": tables})
    return {
        "people": k,
        "tables": problem.tables,
        "rounds": problem.rounds,
        "method": result.method,
        "effort": result.record["options"]["effort"],
        **result.record["result"],
        "seating": rounds,
    }


def write_groups(
    result: GroupsResult, out: PathLike, force: bool = False, inputs: Sequence[Path] = ()
) -> list[Path]:
    """Write the four files into ``out`` atomically (never a folder holding ``inputs``), and
    with a pseudonym key ``private/pseudonyms.csv`` (``id,pseudonym``, the panel file's row
    order). groups.csv and seating.html name people by the organiser's ids."""
    out = Path(out)
    with atomic_output_dir(out, force, inputs) as staging:
        write_csv(
            staging / "groups.csv",
            ["round", "table", "id"],
            groups_rows(result.problem, result.seating, result.source_ids),
        )
        write_text(staging / "groups.json", json_text(result.record))
        write_text(staging / "summary.json", json_text(summary(result)))
        write_text(
            staging / "seating.html",
            seating_html(result.problem, result.seating, result.names, result.source_ids),
        )
        if result.pseudonym_table:
            write_csv(
                private_folder(staging) / PSEUDONYM_TABLE,
                ["id", "pseudonym"],
                [list(row) for row in result.pseudonym_table],
            )
    private = [Path(PRIVATE_FOLDER) / PSEUDONYM_TABLE] if result.pseudonym_table else []
    return [out / name for name in FILES] + [out / path for path in private]


def reseat_panel(
    record_path: PathLike,
    dropouts: Sequence[str] = (),
    panel_path: PathLike | None = None,
    name_column: str | None = None,
    pseudonym_key: PseudonymKey | None = None,
    ids_are_public: bool = False,
) -> GroupsResult:
    """Re-seat after ``dropouts`` left, or for ``panel_path``, the panel after dropouts and
    replacements (the people of the record missing from it left; those new to it take their
    seats): the new record embeds the original, the newcomers' seats and the moves, so that
    ``verify`` finds the new seating again from it (``reseat``).

    A record whose ids are keyed pseudonyms needs the key it was made with (its fingerprint is
    checked): the dropouts and the panel file name the organiser's ids, made pseudonyms with it.
    Without a key, a new panel whose ids look personal is refused unless ``ids_are_public``."""
    record_path = Path(record_path)
    original = read_record(record_path)
    if bool(dropouts) == (panel_path is not None):
        raise InputError(
            [
                problem_of(
                    N_(
                        "--reseat needs --dropout ID (repeat for each), or --panel FILE: the "
                        "panel after dropouts and replacements"
                    )
                )
            ]
        )
    keyed = record_key(original, pseudonym_key, record_path.name)
    started = time.monotonic()
    try:
        problem = problem_from_record(original)
        seating = seating_from_record(problem, original["seating"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(
            [
                problem_of(
                    N_("is not a complete groups record ({reason})"),
                    file=record_path.name,
                    reason=exc,
                )
            ]
        ) from None
    names, own_ids = None, None
    table: tuple[tuple[str, str], ...] = ()
    if panel_path is not None:
        reduced, names, own_ids, table = _new_panel(
            problem, original, Path(panel_path), name_column, keyed, ids_are_public
        )
        left, taken = carry(problem, seating, reduced)
        dropouts = [person for person in problem.ids if person not in set(reduced.ids)]
    else:
        if keyed is not None:
            dropouts = keyed_dropouts(problem.ids, dropouts, keyed, record_path.name)
        reduced, left = without(problem, seating, list(dropouts), record_path.name)
        taken = []
    mended, moves = mend(reduced, left)
    measures = measure(reduced, mended)
    bounds = Bounds(repeat_bound(reduced), deviation_bound_k(reduced))
    options = original["options"]
    size = options.get("size")
    panel = original["panel"]
    record = groups_record(
        reduced,
        mended,
        panel_name=panel["file"],
        panel_sha256=panel["sha256"],
        id_column=panel["id_column"],
        options=options_part(reduced, size, list(options["apart"]), int(options["effort"])),
        seed=Seed(str(original["seed"]["value"]), "reseat"),
        method="reseat",
        measures=measures,
        bounds=bounds,
        pseudonyms=panel.get("pseudonyms"),
    )
    record["seed"] = original["seed"]
    record["reseat"] = {
        "dropouts": list(dropouts),
        "replacements": [[newcomer, seats] for newcomer, seats in taken],
        "moves": [move.as_record() for move in moves],
        "original": original,
    }
    seconds = time.monotonic() - started
    return GroupsResult(
        reduced, mended, measures, bounds, "reseat", record, seconds, names, own_ids, table
    )


def _new_panel(
    first: GroupsProblem,
    original: dict[str, Any],
    path: Path,
    name_column: str | None,
    keyed: tuple[PseudonymKey, int] | None,
    ids_are_public: bool,
) -> tuple[
    GroupsProblem, tuple[str, ...] | None, tuple[str, ...] | None, tuple[tuple[str, str], ...]
]:
    """The problem of the panel after dropouts and replacements: its people and values read from
    ``path`` with the original's columns, the original's rules for whoever is still there; with
    the record's key, the people named and ordered by pseudonym, and the organiser's ids in that
    order and the pseudonym table."""
    options, id_column = original["options"], original["panel"]["id_column"]
    apart = [str(c) for c in options["apart"]]
    panel = read_panel(path, id_column, list(first.features), apart, name_column)
    key, length = (None, None) if keyed is None else keyed
    private = private_panel(panel, path.name, key, ids_are_public, length)
    panel = private.panel
    own_ids = private.source_ids
    index = {person: x for x, person in enumerate(panel.ids)}
    problem = make_problem(
        panel.ids,
        first.tables,
        first.rounds,
        {name: list(cells) for name, cells in zip(first.features, panel.balance, strict=True)},
        number_groups(panel.apart) if apart else (),
        tuple(
            (index[first.ids[a]], index[first.ids[b]])
            for a, b in first.together
            if first.ids[a] in index and first.ids[b] in index
        ),
        tuple(
            Fixed(index[first.ids[p.person]], p.table, p.round)
            for p in first.fixed
            if first.ids[p.person] in index
        ),
    )
    if problem.people < problem.tables:
        raise InputError(
            [
                problem_of(
                    N_("{people} people left for {tables} tables"),
                    people=problem.people,
                    tables=problem.tables,
                )
            ]
        )
    check_rules(problem, f"--apart {','.join(apart)}")
    return problem, panel.names, own_ids, private.table


def read_record(path: Path) -> dict[str, Any]:
    """A record file as a dict (InputError naming the file when it is not JSON or no record)."""
    require_file(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(
            [problem_of(N_("is not a JSON record ({reason})"), file=path.name, reason=exc)]
        ) from None
    if not isinstance(record, dict) or record.get("kind") != "groups" or record.get("version") != 1:
        raise InputError([problem_of(N_("is not a groups record, version 1"), file=path.name)])
    return record
