"""Our fair algorithms beside the peer library, on the same files, in one process run.

    python -m benchmarks.compare [--instances ces11_k60,gss_k150] [--peer-limit 1800]
                                 [--algorithm leximin] [--peer-python EXE] [--out results.json]

For each instance: our LEXIMIN (or the algorithm asked for) and the peer's maximin (its leximin
needs Gurobi and falls back to maximin; the table says what it ran). A peer run stopped at the
limit counts as the limit, so its ratio is a lower bound (shown with '>'). A run that failed (ours
or the peer's) is shown as an error, with no time and no ratio, and the command exits with 1.
Prints: instance, n, k, types, our time, peer time, ratio, our min, peer min. Exit 2 when the
peer cannot run at all (not installed, or a python-mip it fails under).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks.peer import PeerResult, default_python, peer_problem, run_peer
from sortition.engine.objectives import fair_distribution, unit_instance
from sortition.selection.service import load_input
from tests.helpers import RUNNABLE, runnable_instance

HEADER = (
    "instance",
    "n",
    "k",
    "types",
    "ours s",
    "peer s",
    "ratio",
    "our min",
    "peer min",
    "peer ran",
)


def compare(
    name: str, algorithm: str, peer_limit: float, peer_python: str, our_limit: float | None = None
) -> dict[str, Any]:
    case = runnable_instance(name)
    loaded = load_input(case.pool, case.quotas, case.k)
    started = time.perf_counter()
    try:
        ours = fair_distribution(loaded.instance, algorithm, time_limit=our_limit)
        error = None
    except Exception as failure:
        ours, error = None, f"{type(failure).__name__}: {failure}"
    our_seconds = time.perf_counter() - started
    peer = run_peer(case.pool, case.quotas, case.k, "maximin", peer_limit, peer_python)
    return comparison_row(
        name,
        loaded.instance.pool.size,
        case.k,
        unit_instance(loaded.instance)[0].n_units,
        algorithm,
        None if ours is None else our_seconds,
        error,
        None if ours is None else float(ours.person_probability.min()),
        {} if ours is None else dict(ours.distribution.stats),
        peer,
    )


def comparison_row(
    name: str,
    n: int,
    k: int,
    types: int,
    algorithm: str,
    our_seconds: float | None,
    our_error: str | None,
    our_min: float | None,
    our_stats: dict[str, Any],
    peer: PeerResult,
) -> dict[str, Any]:
    """One instance's figures. A failed run has no time (None) and makes no ratio: its message
    is in ``errors``. The ratio is a lower bound when the peer was stopped at its limit."""
    errors = []
    if our_error is not None:
        errors.append(f"ours: {our_error}")
    if peer.status.startswith("error"):
        errors.append(f"peer: {peer.status.removeprefix('error: ')}")
    peer_measured = peer.status in ("ok", "over limit") and peer.seconds is not None
    ratio = None
    if our_error is None and our_seconds and peer_measured:
        assert peer.seconds is not None
        ratio = peer.seconds / our_seconds
    return {
        "instance": name,
        "n": n,
        "k": k,
        "types": types,
        "algorithm": algorithm,
        "our_seconds": None if our_error is not None else our_seconds,
        "our_error": our_error,
        "our_min": our_min,
        "our_stats": our_stats,
        "peer": {key: v for key, v in asdict(peer).items() if key != "probabilities"},
        "ratio": ratio,
        "ratio_is_lower_bound": ratio is not None and peer.status == "over limit",
        "errors": errors,
    }


def format_row(row: dict[str, Any]) -> tuple[str, ...]:
    peer = row["peer"]
    bound = ">" if row["ratio_is_lower_bound"] else ""
    peer_min = "-" if peer["min_probability"] is None else f"{peer['min_probability']:.6f}"
    if peer["status"] == "ok":
        peer_time = f"{peer['seconds']:.1f}"
    elif peer["status"] == "over limit":
        peer_time = f">{peer['seconds']:.1f} (over limit)"
    else:
        peer_time = "error"
    return (
        row["instance"],
        str(row["n"]),
        str(row["k"]),
        str(row["types"]),
        "error" if row["our_seconds"] is None else f"{row['our_seconds']:.2f}",
        peer_time,
        "-" if row["ratio"] is None else f"{bound}{row['ratio']:.0f}x",
        f"error: {row['our_error']}" if row["our_min"] is None else f"{row['our_min']:.6f}",
        peer_min,
        peer["algorithm_run"],
    )


def print_table(rows: list[tuple[str, ...]]) -> None:
    table = [HEADER, *rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(HEADER))]
    for r in table:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)), flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", default=",".join(sorted(RUNNABLE)))
    parser.add_argument("--algorithm", default="leximin")
    parser.add_argument("--peer-limit", type=float, default=1800.0)
    parser.add_argument("--peer-python", default=None)
    parser.add_argument("--our-limit", type=float, default=1800.0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    python = args.peer_python or default_python()
    problem = peer_problem(python)
    if problem is not None:
        print(f"the peer cannot run: {problem}", file=sys.stderr)
        return 2
    results, rows = [], []
    for name in args.instances.split(","):
        row = compare(name, args.algorithm, args.peer_limit, python, args.our_limit)
        results.append(row)
        rows.append(format_row(row))
        print(json.dumps({k: v for k, v in row.items() if k != "our_stats"}), flush=True)
    print()
    print_table(rows)
    errors = [f"{row['instance']}, {error}" for row in results for error in row["errors"]]
    if errors:
        print()
        print("errors (no time, no ratio):")
        for line in errors:
            print(f"  {line}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "machine": platform.node(),
            "python": platform.python_version(),
            "rows": results,
        }
        args.out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
