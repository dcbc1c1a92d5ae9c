"""``alternates``: choose A alternates right after the draw, and measure them against the
practitioners' two baselines on fresh simulated scenarios (docs/dropouts.md, "Alternates").

Every random choice comes from the seed: the training scenarios from the stream of
``alternates-training:SEED``, the fresh scenarios of the comparison from
``alternates-evaluation:SEED``, and the nearest-neighbour ties and who of interchangeable people
is named from ``alternates:SEED`` (docs/randomness.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sortition.dropouts.service import read_original_pool
from sortition.engine import alternates as al
from sortition.engine.dropout_model import DropoutModel, panel_stay
from sortition.errors import N_, InputError, problem
from sortition.io.outputs import atomic_output_dir, write_csv, write_json
from sortition.io.pool import PoolFile, write_pool_split, write_pseudonym_table
from sortition.io.tables import PathLike
from sortition.model import Instance, Quotas
from sortition.privacy.keys import PseudonymKey
from sortition.record.build import SeedLike, as_seed, tool_versions
from sortition.record.reader import RecordReader, kind_name
from sortition.record.replacement import chain_state, record_sha256
from sortition.verify.service import read_record

ALTERNATES_VERSION = 1


@dataclass(frozen=True)
class AlternatesResult:
    record: dict[str, Any]
    pool_file: PoolFile
    alternates: np.ndarray  # canonical person indices of the chosen set
    figures: dict[str, al.Figures]
    seconds: dict[str, float] = field(default_factory=dict)  # what the console shows
    sources: tuple[Path, ...] = ()


def panel_quotas(record_path: PathLike) -> Quotas:
    """The original quotas of a panel's record (the selection record at the root of its chain),
    to read a dropout model's values against."""
    path = Path(record_path)
    return chain_state(read_record(path), path.name).instance.quotas


def choose_alternates(
    record_path: PathLike,
    pool_path: PathLike,
    budget: int,
    model: DropoutModel,
    seed: SeedLike | str,
    *,
    scenarios: int = al.DEFAULT_SCENARIOS,
    evaluation: int = 1000,
    effort: float = 0.0,
    shortlist: int = al.SHORTLIST,
    pseudonym_key: PseudonymKey | None = None,
    ids_are_public: bool = False,
) -> AlternatesResult:
    """Choose ``budget`` alternates for the panel of the record (a selection or replacement
    record) under the dropout ``model``, and compare them with the two baselines on
    ``evaluation`` fresh scenarios. ``effort`` > 0 lets CP-SAT improve the local search's set on
    the training scenarios for that much deterministic time (and prove a lower bound).

    When the chain's selection record names people by keyed pseudonyms, ``pseudonym_key`` (the
    key it was made with) is required to read the pool file; the record names the alternates by
    pseudonym. Without pseudonyms, ids that look personal are refused unless ``ids_are_public``."""
    seed = as_seed(seed)
    record_path, pool_path = Path(record_path), Path(pool_path)
    start = _start(record_path, pool_path, budget, pseudonym_key, ids_are_public)
    instance, panel = start.instance, start.panel
    stay = panel_stay(instance, panel, model)
    choice = al.derive_alternates(
        instance,
        panel,
        start.gone,
        budget,
        stay,
        seed.value,
        scenarios,
        evaluation,
        effort,
        shortlist,
    )
    record = alternates_record(
        start.previous,
        seed,
        budget,
        model,
        scenarios,
        evaluation,
        effort,
        shortlist,
        choice,
        instance,
    )
    return AlternatesResult(
        record,
        start.pool_file,
        choice.people["optimal"],
        choice.figures,
        choice.seconds,
        (record_path, pool_path),
    )


@dataclass(frozen=True)
class _Start:
    """What ``choose_alternates`` starts from: the panel's record, its chain's instance, the
    pool file, the panel and the people gone (canonical indices), and how many candidates."""

    previous: dict[str, Any]
    instance: Instance
    pool_file: PoolFile
    panel: np.ndarray
    gone: np.ndarray
    candidates: int


def check_alternates(
    record_path: PathLike,
    pool_path: PathLike,
    budget: int,
    *,
    pseudonym_key: PseudonymKey | None = None,
    ids_are_public: bool = False,
) -> int:
    """The checks ``choose_alternates`` makes before it chooses anything, for an entry layer to
    make before it starts the work: the record is a panel's (a selection or replacement record
    with its seed), the pool file is the one the panel was drawn from (read with
    ``pseudonym_key`` where the chain names people by keyed pseudonyms), and ``budget`` is from
    1 to the number of alternates the panel can have: its candidates, the pool minus the panel
    and everyone who dropped out or declined in the chain's rounds; with a household rule,
    minus the members' households, and counted by household (at most one alternate a
    household). InputError naming the file otherwise; returns that number."""
    return _start(
        Path(record_path), Path(pool_path), budget, pseudonym_key, ids_are_public
    ).candidates


def _start(
    record_path: Path,
    pool_path: Path,
    budget: int,
    pseudonym_key: PseudonymKey | None,
    ids_are_public: bool,
) -> _Start:
    """What the choice starts from, once the record, the pool file and ``budget`` are
    checked."""
    name = record_path.name
    previous = read_record(record_path)
    if previous["kind"] not in ("selection", "replacement"):
        raise InputError(
            [
                problem(
                    N_("is {kind} record, not a panel's record"),
                    file=name,
                    kind=kind_name(previous["kind"]),
                )
            ]
        )
    RecordReader(name).text(previous, "seed.value")
    state = chain_state(previous, name)
    instance = state.instance
    pool_file = read_original_pool(state.root, name, pool_path, pseudonym_key, ids_are_public)
    position = {person: i for i, person in enumerate(instance.pool.ids)}
    panel = np.array([position[p] for p in state.panel], dtype=np.int64)
    gone = np.array([position[p] for p in (*state.dropped, *state.unavailable)], dtype=np.int64)
    candidates = _candidates(instance, panel, gone)
    if budget < 1:
        raise InputError(
            [problem(N_("the number of alternates must be 1 or more, got {budget}"), budget=budget)]
        )
    if budget > candidates:
        template = (
            N_(
                "{budget} alternates asked for, but its panel has only {candidates} candidates "
                "for alternates (the pool minus the panel and those who dropped out or declined)"
            )
            if instance.pool.households is None
            else N_(
                "{budget} alternates asked for, but its panel's candidates for alternates live in "
                "only {candidates} households, and alternates are at most one a household (the "
                "pool minus the panel, its members' households and those who dropped out or "
                "declined)"
            )
        )
        raise InputError([problem(template, file=name, budget=budget, candidates=candidates)])
    return _Start(previous, instance, pool_file, panel, gone, candidates)


def _candidates(instance: Instance, panel: np.ndarray, gone: np.ndarray) -> int:
    """How many alternates ``panel`` can have: the people of the pool minus the panel and the
    people ``gone`` (``al.candidate_units``); with a household rule, minus the panel's members'
    households too, and counted by household (at most one alternate a household)."""
    units = al.candidate_units(instance, panel)
    if gone.size:
        units = al.without_people(units, gone)
    shared = sum(len(group) - 1 for group in units.households)  # units: one person each
    return int(units.capacity.sum()) - shared


def alternates_record(
    previous: dict[str, Any],
    seed: SeedLike,
    budget: int,
    model: DropoutModel,
    scenarios: int,
    evaluation: int,
    effort: float,
    shortlist: int,
    choice: al.AlternatesChoice,
    instance: Instance,
) -> dict[str, Any]:
    """The alternates record, version 1 (docs/record.md): what was asked, what was chosen and
    the figures, then the record of the panel, whole."""
    ids = instance.pool.ids
    search: dict[str, Any] = {"shortlist": shortlist, "effort": effort}
    if choice.bound is not None:
        search["training_bound"] = choice.bound
    return {
        "kind": "alternates",
        "version": ALTERNATES_VERSION,
        "tool": tool_versions(),
        "builds_on": {"kind": previous["kind"], "sha256": record_sha256(previous)},
        "seed": seed.as_record(),
        "budget": budget,
        "model": model.as_record(),
        "scenarios": {"training": scenarios, "evaluation": evaluation},
        "search": search,
        "alternates": [ids[int(p)] for p in choice.people["optimal"]],
        "baselines": {
            method: [ids[int(p)] for p in choice.people[method]] for method in al.METHODS[1:]
        },
        "figures": {method: value.as_record() for method, value in choice.figures.items()},
        "previous": previous,
    }


def write_alternates(result: AlternatesResult, out: PathLike, force: bool = False) -> list[Path]:
    """alternates.json (the record), comparison.csv and alternates.csv (the chosen people's rows
    of the pool file, in its order), and when the ids are pseudonyms the organiser's table
    private/pseudonyms.csv, all at once."""
    out = Path(out)
    with atomic_output_dir(out, force, result.sources) as staging:
        write_pool_split(staging, result.pool_file, result.alternates)
        (staging / "selected.csv").rename(staging / "alternates.csv")
        (staging / "remaining.csv").unlink()
        rows = [
            (method, f"{value.mean:.4f}", f"{value.zero_share:.4f}", str(value.worst))
            for method, value in result.figures.items()
        ]
        write_csv(
            staging / "comparison.csv",
            ["method", "mean_deviation", "restored_share", "worst"],
            rows,
        )
        write_json(staging / "alternates.json", result.record)
        private = write_pseudonym_table(staging, result.pool_file)
    names = ["alternates.csv", "comparison.csv", "alternates.json", *private]
    return [out / name for name in names]
