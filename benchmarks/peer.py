"""Run the peer library `sortition-algorithms` on one instance, side by side with ours.

The peer runs in a subprocess (``benchmarks/peer_worker.py``) under any Python that has it: the
current one (``pip install -e '.[bench]'``), ``$SORTITION_PEER_PYTHON``, or an explicit
executable. The subprocess is killed when the selection call passes the time limit.

The versions that work are pinned in pyproject.toml's ``bench`` extra (``PINNED``): under
python-mip 2 the peer fails on its first model (``'NoneType' object has no attribute 'encode'`` in
CBC's ``add_var``), so ``peer_problem`` refuses an interpreter with mip 2 or later before any run.
A run that fails is a ``PeerResult`` whose ``status`` starts with ``error:`` and whose
``seconds`` is None: never a time.

The inputs are read with our own readers (so the peer sees exactly the instance we see: the same
ids, the row numbers 0..n-1 when the pool has no id column, the same households) and written as
temporary files in the peer's layout: quotas as ``feature,value,min,max``, the pool with an id
column and, for a household rule, one household-label column the peer's same-address check uses.

CLI: ``python -m benchmarks.peer --pool P --quotas Q -k K [--algorithm maximin]
[--time-limit S] [--python EXE] [--household-column C ...] [--id-column C]``
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks.child import run_child
from sortition.errors import SortitionError
from sortition.io.pool import read_pool
from sortition.io.quotas import read_quotas

PEER = "sortition-algorithms"
WORKER = Path(__file__).resolve().with_name("peer_worker.py")
SEED = 42
BACKEND = "mip"
# The versions the benchmarks were run with (pyproject.toml's bench extra pins the same).
PINNED = {"sortition-algorithms": "0.12.15", "mip": "1.17.6"}
# Under python-mip 2.0 the peer fails on its first model (CBC's add_var).
FIRST_BROKEN_MIP = 2


@dataclass(frozen=True)
class PeerResult:
    """One run of the peer; ``note`` says what else is worth knowing (e.g. a fallback)."""

    tool: str
    algorithm_requested: str
    algorithm_run: str
    backend: str
    seconds: float | None  # None when the run failed (status "error: ...")
    status: str
    min_probability: float | None
    probabilities: dict[str, float] | None
    note: str = ""
    peak_memory_bytes: int | None = None  # the worker's ru_maxrss (reading the files included)
    panel: tuple[str, ...] | None = None  # DIVERSIMAX: the one panel's ids


def default_python() -> str:
    """The interpreter that runs the peer: ``$SORTITION_PEER_PYTHON`` or the current one."""
    return os.environ.get("SORTITION_PEER_PYTHON") or sys.executable


_VERSIONS = (
    "import sortition_algorithms, mip\n"
    "from importlib.metadata import version\n"
    "print(version('sortition-algorithms'), version('mip'))"
)


def peer_problem(python: str | None = None) -> str | None:
    """Why ``python`` (default: ``default_python()``) cannot run the peer, or None if it can: the
    peer or mip cannot be imported, or mip is a version under which the peer fails."""
    python = python or default_python()
    fix = f"pip install 'sortition-algorithms[mip]=={PINNED['sortition-algorithms']}' "
    fix += f"'mip=={PINNED['mip']}' (or pip install -e '.[bench]')"
    try:
        done = subprocess.run(
            [python, "-c", _VERSIONS], capture_output=True, text=True, timeout=120
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{python} cannot be run: {exc}"
    if done.returncode != 0:
        return f"{python} cannot import sortition_algorithms and mip: {fix}"
    peer, _, mip = done.stdout.strip().partition(" ")
    major = mip.split(".")[0]
    if major.isdigit() and int(major) >= FIRST_BROKEN_MIP:
        return (
            f"{python} has mip {mip}, under which sortition-algorithms {peer} fails on its first "
            f"model ('NoneType' object has no attribute 'encode'): {fix}"
        )
    return None


def peer_available(python: str | None = None) -> bool:
    """Whether ``python`` can run the peer (``peer_problem`` finds nothing wrong)."""
    return peer_problem(python) is None


def run_peer(
    pool_csv: Path,
    quotas_csv: Path,
    k: int,
    algorithm: str = "maximin",
    time_limit: float = 1800.0,
    python: str | None = None,
    household_columns: Sequence[str] = (),
    id_column: str | None = None,
    *,
    backend: str = BACKEND,
    seed: int = SEED,
) -> PeerResult:
    """Run the peer's selection once and return its time and selection probabilities.

    ``seconds`` is the wall time of the peer's selection call alone (``run_stratification``),
    ``time_limit`` when it was stopped (status "over limit"), None when it failed (status
    "error: ...").
    """

    def failed(message: str, tool: str = PEER) -> PeerResult:
        return PeerResult(
            tool=tool,
            algorithm_requested=algorithm,
            algorithm_run="none",
            backend=backend,
            seconds=None,
            status="error: " + message,
            min_probability=None,
            probabilities=None,
        )

    with tempfile.TemporaryDirectory(prefix="peer-run-") as scratch:
        try:
            spec = write_peer_inputs(
                Path(pool_csv), Path(quotas_csv), Path(scratch), household_columns, id_column
            )
        except SortitionError as exc:
            return failed(" ".join(str(exc).split()))
        spec.update(k=k, algorithm=algorithm, backend=backend, seed=seed)
        spec_path = Path(scratch) / "spec.json"
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        outcome = run_child(
            [python or default_python(), str(WORKER), str(spec_path)],
            time_limit,
            progress_line=_progress_line,
        )
    tool = outcome.tool or PEER
    if outcome.error is not None:
        return failed(outcome.error, tool)
    if outcome.result is None:
        note = f"stopped after {time_limit:g} s"
        if outcome.running and outcome.running != algorithm:
            note += f"; the peer had switched from {algorithm} to {outcome.running}"
        if outcome.progress:
            note += f"; its last progress line: {outcome.progress}"
        return PeerResult(
            tool=tool,
            algorithm_requested=algorithm,
            algorithm_run=outcome.running or "none",
            backend=backend,
            seconds=time_limit,
            status="over limit",
            min_probability=None,
            probabilities=None,
            note=note,
            peak_memory_bytes=outcome.peak_memory_bytes,
        )
    found = outcome.result
    probabilities = found.get("probabilities")
    min_probability = found.get("min_probability")
    status = str(found.get("status", "error: the peer reported no status"))
    seconds = found.get("seconds")
    panel = found.get("panel")
    if status == "ok" and not isinstance(seconds, int | float):
        status = "error: the peer reported no time"
    return PeerResult(
        tool=str(found.get("tool", tool)),
        algorithm_requested=algorithm,
        algorithm_run=str(found.get("algorithm_run", outcome.running or "none")),
        backend=backend,
        # a failed run has no time: the table must not show one, nor a ratio
        seconds=float(str(seconds)) if status == "ok" else None,
        status=status,
        min_probability=None if min_probability is None else float(str(min_probability)),
        probabilities=None
        if not isinstance(probabilities, dict)
        else {str(key): float(value) for key, value in probabilities.items()},
        note=str(found.get("note", "")),
        peak_memory_bytes=outcome.peak_memory_bytes,
        panel=tuple(str(p) for p in panel) if isinstance(panel, list) else None,
    )


def _progress_line(line: str) -> bool:
    """The peer's progress: a round of its initial phase, or a bound on maximin."""
    return " is at most " in line or "Multiplicative weights phase, round" in line


def write_peer_inputs(
    pool_csv: Path,
    quotas_csv: Path,
    folder: Path,
    household_columns: Sequence[str] = (),
    id_column: str | None = None,
    allow_empty_household: bool = False,
) -> dict[str, object]:
    """Read the instance with our readers (households by our key, docs/households.md); write it
    in the peer's layout, households as labels; return the spec."""
    quotas = read_quotas(quotas_csv)
    pool = read_pool(pool_csv, quotas, id_column, household_columns, allow_empty_household).pool
    features = quotas.features
    # The peer compares feature names and values case-insensitively: refuse what it would merge.
    if len({f.lower() for f in features}) < len(features):
        raise SortitionError("feature names differ only in case; the peer would merge them")
    for feature in features:
        values = [quotas.rows[v].value for v in quotas.value_indices(feature)]
        if len({v.lower() for v in values}) < len(values):
            raise SortitionError(
                f"values of '{feature}' differ only in case; the peer would merge them"
            )
    taken = {f.lower() for f in features}
    peer_id = _free_name("peer_id", taken)
    taken.add(peer_id)
    household = _free_name("peer_household", taken) if pool.households is not None else None

    features_csv = folder / "peer_features.csv"
    with features_csv.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["feature", "value", "min", "max"])
        writer.writerows([r.feature, r.value, r.min, r.max] for r in quotas.rows)

    people_csv = folder / "peer_people.csv"
    with people_csv.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([peer_id, *features] + ([household] if household else []))
        for i, person in enumerate(pool.ids):
            row = [person, *(quotas.rows[int(v)].value for v in pool.values[i])]
            if household and pool.households is not None:
                row.append(f"h{int(pool.households[i])}")
            writer.writerow(row)
    return {
        "features_csv": str(features_csv),
        "people_csv": str(people_csv),
        "id_column": peer_id,
        "household_columns": [household] if household else [],
    }


def _free_name(base: str, taken: set[str]) -> str:
    name = base
    while name.lower() in taken:
        name = "_" + name
    return name


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: run the peer once and print the result as JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peer", description=__doc__)
    parser.add_argument("--pool", type=Path, required=True, help="respondents CSV")
    parser.add_argument("--quotas", type=Path, required=True, help="quotas CSV")
    parser.add_argument("-k", type=int, required=True, help="panel size")
    parser.add_argument("--algorithm", default="maximin", help="maximin (default), leximin, ...")
    parser.add_argument("--time-limit", type=float, default=1800.0, help="seconds (default 1800)")
    parser.add_argument("--python", default=None, help="interpreter that has the peer")
    parser.add_argument("--household-column", action="append", default=[], dest="households")
    parser.add_argument("--id-column", default=None)
    parser.add_argument(
        "--no-probabilities", action="store_true", help="leave the per-person list out"
    )
    args = parser.parse_args(argv)
    result = run_peer(
        args.pool,
        args.quotas,
        args.k,
        algorithm=args.algorithm,
        time_limit=args.time_limit,
        python=args.python,
        household_columns=args.households,
        id_column=args.id_column,
    )
    shown = asdict(result)
    if args.no_probabilities:
        shown.pop("probabilities")
    print(json.dumps(shown))
    return 0 if result.status == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
