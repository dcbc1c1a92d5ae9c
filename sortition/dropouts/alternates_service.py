"""``alternates``: choose A alternates right after the draw, and measure them against the
practitioners' two baselines on fresh simulated scenarios (docs/dropouts.md, "Alternates").

Every random choice comes from the seed: the training scenarios from the stream of
``alternates-training:SEED``, the fresh scenarios of the comparison from
``alternates-evaluation:SEED``, and the nearest-neighbour ties and who of interchangeable people
is named from ``alternates:SEED`` (docs/randomness.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sortition.dropouts import alternates as al
from sortition.dropouts.models import DropoutModel, draw_scenarios, panel_stay
from sortition.dropouts.service import read_original_pool
from sortition.errors import InputError, Problem
from sortition.io.outputs import atomic_output_dir, write_csv, write_json
from sortition.io.pool import PoolFile
from sortition.io.tables import PathLike
from sortition.model import Quotas
from sortition.randomness import SeededStream
from sortition.record.build import SeedLike, as_seed, tool_versions
from sortition.record.reader import RecordReader
from sortition.record.replacement import chain_state, record_sha256
from sortition.selection.service import write_pool_split
from sortition.verify.service import read_record

ALTERNATES_VERSION = 1
METHODS = ("optimal", "scaled quotas", "nearest neighbour")


@dataclass(frozen=True)
class Figures:
    """A set's deviation after the best subset replaces the dropouts, over fresh scenarios."""

    mean: float
    zero_share: float  # scenarios fully restored (deviation 0)
    worst: int

    def as_record(self) -> dict[str, Any]:
        return {"mean_deviation": self.mean, "restored_share": self.zero_share, "worst": self.worst}


@dataclass(frozen=True)
class AlternatesResult:
    record: dict[str, Any]
    pool_file: PoolFile
    alternates: np.ndarray  # canonical person indices of the chosen set
    figures: dict[str, Figures]
    seconds: dict[str, float] = field(default_factory=dict)  # what the console shows
    sources: tuple[Path, ...] = ()


def _figures(values: np.ndarray) -> Figures:
    return Figures(float(values.mean()), float((values == 0).mean()), int(values.max(initial=0)))


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
) -> AlternatesResult:
    """Choose ``budget`` alternates for the panel of the record (a selection or replacement
    record) under the dropout ``model``, and compare them with the two baselines on
    ``evaluation`` fresh scenarios. ``effort`` > 0 lets CP-SAT improve the local search's set on
    the training scenarios for that much deterministic time (and prove a lower bound)."""
    seed = as_seed(seed)
    record_path, pool_path = Path(record_path), Path(pool_path)
    name = record_path.name
    previous = read_record(record_path)
    if previous["kind"] not in ("selection", "replacement"):
        raise InputError(
            [Problem(f"is {previous['kind']} record, not a panel's record", file=name)]
        )
    RecordReader(name).text(previous, "seed.value")
    state = chain_state(previous, name)
    instance = state.instance
    pool_file = read_original_pool(state.root, name, pool_path)
    position = {person: i for i, person in enumerate(instance.pool.ids)}
    panel = np.array([position[p] for p in state.panel], dtype=np.int64)
    units = al.candidate_units(instance, panel)
    gone = [position[p] for p in (*state.dropped, *state.unavailable)]
    if gone:
        units = al.without_people(units, np.array(gone, dtype=np.int64))
    if not 1 <= budget <= int(units.capacity.sum()):
        raise InputError(
            [
                Problem(
                    f"--budget must be between 1 and the {int(units.capacity.sum())} candidates "
                    f"for alternates, got {budget}"
                )
            ]
        )
    low, high = instance.quotas.mins, instance.quotas.maxs
    stay = panel_stay(instance, panel, model)
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    train = al.Scenarios.of(
        instance,
        panel,
        draw_scenarios(stay, scenarios, SeededStream(f"alternates-training:{seed.value}")),
    )
    stream = SeededStream(f"alternates:{seed.value}")
    sets = {
        "scaled quotas": al.scaled_quota_set(instance, units, budget),
        "nearest neighbour": al.nearest_neighbour_set(instance, panel, units, stay, budget, stream),
    }
    seconds["baselines"] = time.perf_counter() - started
    started = time.perf_counter()
    allowed = al.shortlist(instance, panel, units, stay, list(sets.values()), shortlist)
    start = min(
        sets.values(),
        key=lambda s: int(
            al.losses(units, s, train, low, high).sum()
        ),  # the better baseline, exactly
    )
    chosen = al.local_search(units, allowed, train, low, high, start)
    bound = None
    if effort > 0:
        erm = al.optimal_set(units, allowed, train, low, high, budget, chosen, effort)
        chosen, bound = erm.chosen, erm.bound
    sets = {"optimal": chosen, **sets}
    seconds["optimal"] = time.perf_counter() - started
    started = time.perf_counter()
    fresh = al.Scenarios.of(
        instance,
        panel,
        draw_scenarios(stay, evaluation, SeededStream(f"alternates-evaluation:{seed.value}")),
    )
    figures = {"no alternates": _figures(al.losses(units, np.zeros_like(chosen), fresh, low, high))}
    for method, counts in sets.items():
        figures[method] = _figures(al.losses(units, counts, fresh, low, high))
    seconds["comparison"] = time.perf_counter() - started
    people = {method: al.people_of(units, counts, stream) for method, counts in sets.items()}
    ids = instance.pool.ids
    record: dict[str, Any] = {
        "kind": "alternates",
        "version": ALTERNATES_VERSION,
        "tool": tool_versions(),
        "builds_on": {"kind": previous["kind"], "sha256": record_sha256(previous)},
        "seed": seed.as_record(),
        "budget": budget,
        "model": model.as_record(),
        "scenarios": {"training": scenarios, "evaluation": evaluation},
        "search": {
            "shortlist": shortlist,
            "effort": effort,
            **({} if bound is None else {"training_bound": bound}),
        },
        "alternates": [ids[int(p)] for p in people["optimal"]],
        "baselines": {method: [ids[int(p)] for p in people[method]] for method in METHODS[1:]},
        "figures": {method: value.as_record() for method, value in figures.items()},
        "panel": list(state.panel),
    }
    return AlternatesResult(
        record, pool_file, people["optimal"], figures, seconds, (record_path, pool_path)
    )


def write_alternates(result: AlternatesResult, out: PathLike, force: bool = False) -> list[Path]:
    """alternates.json (the record) and alternates.csv (the chosen people's rows of the pool
    file, in its order), all at once."""
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
    return [out / "alternates.csv", out / "comparison.csv", out / "alternates.json"]
