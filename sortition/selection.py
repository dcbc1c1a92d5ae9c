"""Stage 2 as a service: load the inputs, check them, draw a panel, build the record, write it all.

The CLI calls these functions and prints; tests call them directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sortition.algorithms.legacy import DEFAULT_MAX_ATTEMPTS, legacy_draw
from sortition.canonical import file_sha256
from sortition.errors import InputError, Problem
from sortition.feasibility import require_feasible
from sortition.io.outputs import atomic_output_dir, write_csv, write_json
from sortition.io.pool import PoolFile, read_pool
from sortition.io.quotas import read_quotas
from sortition.model import Instance, Quotas
from sortition.randomness import SeededStream
from sortition.record import InputFiles, SeedSource, selection_record

ALGORITHMS = ("legacy",)


@dataclass(frozen=True)
class LoadedInput:
    """The validated inputs of one selection."""

    pool_file: PoolFile
    quotas: Quotas
    instance: Instance
    files: InputFiles

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.pool_file.warnings


def load_input(
    pool_path: Path,
    quotas_path: Path,
    k: int,
    id_column: str | None = None,
    household_columns: Sequence[str] = (),
) -> LoadedInput:
    """Read and validate both files (exit 2 on any structural problem, all reported at once)."""
    if k < 1:
        raise InputError([Problem(f"k must be at least 1, got {k}")])
    quotas = read_quotas(quotas_path)
    pool_file = read_pool(pool_path, quotas, id_column, household_columns)
    instance = Instance(pool_file.pool, quotas, k)
    files = InputFiles(
        pool_name=pool_path.name,
        pool_sha256=file_sha256(pool_path),
        quotas_name=quotas_path.name,
        quotas_sha256=file_sha256(quotas_path),
        id_column=pool_file.id_column,
        household_columns=pool_file.household_columns,
    )
    return LoadedInput(pool_file, quotas, instance, files)


@dataclass(frozen=True)
class Selection:
    loaded: LoadedInput
    algorithm: str
    seed: SeedSource
    panel: np.ndarray  # canonical person indices, sorted
    record: dict[str, Any]
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def panel_ids(self) -> list[str]:
        ids = self.loaded.instance.pool.ids
        return [ids[i] for i in self.panel]


def select_panel(
    loaded: LoadedInput,
    algorithm: str,
    seed: SeedSource,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> Selection:
    """Check feasibility (exit 3 with advice), then draw one panel with the seeded stream."""
    if algorithm not in ALGORITHMS:
        raise InputError(
            [Problem(f"unknown algorithm '{algorithm}' (known: {', '.join(ALGORITHMS)})")]
        )
    instance = loaded.instance
    require_feasible(instance)
    stream = SeededStream(seed.value)
    draw = legacy_draw(instance, stream, max_attempts)
    parameters: dict[str, Any] = {"max_attempts": max_attempts}
    details = {"attempts": draw.attempts}
    ids = instance.pool.ids
    record = selection_record(
        instance,
        loaded.files,
        algorithm,
        parameters,
        seed,
        [ids[i] for i in draw.panel],
        details,
    )
    return Selection(loaded, algorithm, seed, draw.panel, record, details)


def write_selection(selection: Selection, out: Path, force: bool = False) -> list[Path]:
    """Write selected.csv, remaining.csv (original rows and columns, original order) and
    record.json, all at once."""
    table = selection.loaded.pool_file.table
    pool = selection.loaded.instance.pool
    chosen = np.zeros(pool.size, dtype=bool)
    chosen[pool.source_rows[selection.panel]] = True
    cells = table.frame.to_numpy(dtype=object)
    names = ["selected.csv", "remaining.csv", "record.json"]
    with atomic_output_dir(out, force) as staging:
        write_csv(staging / names[0], table.header, cells[chosen].tolist())
        write_csv(staging / names[1], table.header, cells[~chosen].tolist())
        write_json(staging / names[2], selection.record)
    return [out / name for name in names]
