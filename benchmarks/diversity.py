"""DIVERSIMAX, ours beside the peer's, and LEXIMIN within a diversity bound: one table.

For each instance (default ces11_k60 and gss_k150) it times whole runs, reading included: our
``sortition select --algorithm diversimax`` as a user types it (a subprocess), and the peer's
DIVERSIMAX (``benchmarks.peer.run_peer``, a subprocess of the peer's interpreter); and it scores
both panels by our measure (``sortition.engine.diversity``, every eligible intersection), beside
the score of our LEGACY and LEXIMIN draws for reference. Our gap is the record's certificate.

    python -m benchmarks.diversity [--instances ces11_k60,gss_k150] [--peer-python EXE]
        [--no-peer] [--leximin] [--out benchmarks/results]

The peer's DIVERSIMAX needs its ``diversimax`` extra (pandas, scikit-learn) in its interpreter.
Writes ``diversity-<date>.json`` and ``.md`` into ``--out`` and prints the table.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.bench_fair import INSTANCES, shared_data
from benchmarks.peer import run_peer
from sortition.engine.diversity import measure_of
from sortition.selection.service import load_input

_ROOT = Path(__file__).resolve().parent.parent


def _instance_files(name: str) -> tuple[Path, Path, int]:
    folder, k = INSTANCES[name]
    base = shared_data() / folder / name
    return base / "respondents.csv", base / "categories.csv", k


def _score(pool: Path, quotas: Path, k: int, panel: list[str]) -> float:
    loaded = load_input(pool, quotas, k, id_column="id", ids_are_public=True)
    instance = loaded.instance
    position = {person: i for i, person in enumerate(instance.pool.ids)}
    members = np.array([position[p] for p in panel], dtype=np.int64)
    measure = measure_of(instance.pool.values, instance.quotas.feature_of_value, k)
    return measure.score(instance.pool.values[members])


def run_ours(name: str, algorithm: str, *extra: str) -> dict[str, Any]:
    """One whole ``sortition select`` run as a subprocess: seconds (wall, reading included), the
    panel's score, and the record's certificate."""
    pool, quotas, k = _instance_files(name)
    with tempfile.TemporaryDirectory(prefix="diversity-bench-") as scratch:
        out = Path(scratch) / "out"
        command = [
            str(Path(sys.executable).parent / "sortition"),
            "select",
            "--pool",
            str(pool),
            "--quotas",
            str(quotas),
            "-k",
            str(k),
            "--id-column",
            "id",
            "--ids-are-public",
            "--algorithm",
            algorithm,
            "--seed",
            "diversity-benchmark",
            "--out",
            str(out),
            *extra,
        ]
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, cwd=_ROOT, check=False)
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            return {"status": f"error: exit {done.returncode}: {done.stderr.strip()[-300:]}"}
        record = json.loads((out / "record.json").read_text(encoding="utf-8"))
    result: dict[str, Any] = {
        "status": "ok",
        "seconds": seconds,
        "score": _score(pool, quotas, k, record["panel"]),
    }
    distribution = record.get("distribution") or {}
    certificate = distribution.get("certificate")
    if algorithm == "diversimax" and certificate:
        result.update(bound=certificate["bound"], gap=certificate["gap"])
    probabilities = record.get("probabilities")
    if probabilities:
        result["min_probability"] = min(probabilities.values())
    for key in ("diversity",):
        if key in record:
            result[key] = record[key]
    return result


def run_theirs(name: str, python: str | None, limit: float) -> dict[str, Any]:
    """The peer's DIVERSIMAX as a subprocess: wall seconds of the whole run (interpreter start,
    reading, the model) and its panel's score by our measure."""
    pool, quotas, k = _instance_files(name)
    started = time.perf_counter()
    found = run_peer(pool, quotas, k, "diversimax", limit, python, id_column="id")
    seconds = time.perf_counter() - started
    if found.status != "ok" or found.panel is None:
        return {"status": found.status, "note": found.note}
    return {
        "status": "ok",
        "seconds": seconds,
        "selection_seconds": found.seconds,
        "score": _score(pool, quotas, k, list(found.panel)),
        "tool": found.tool,
    }


def _table(results: dict[str, dict[str, dict[str, Any]]]) -> str:
    lines = [
        "| instance | run | seconds (whole run) | score (ours, every intersection) | gap | "
        "min probability |",
        "|---|---|---|---|---|---|",
    ]
    for name, runs in results.items():
        for run, r in runs.items():
            if r.get("status") != "ok":
                lines.append(f"| {name} | {run} | {r.get('status')} | | | |")
                continue
            gap = f"{r['gap']:.2%}" if "gap" in r else ""
            low = f"{r['min_probability']:.4f}" if "min_probability" in r else ""
            lines.append(
                f"| {name} | {run} | {r['seconds']:.1f} | {r['score']:.2f} | {gap} | {low} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", default="ces11_k60,gss_k150")
    parser.add_argument("--peer-python", default=os.environ.get("SORTITION_PEER_PYTHON"))
    parser.add_argument("--peer-limit", type=float, default=600.0)
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--reference", action="store_true", help="also LEGACY and LEXIMIN")
    parser.add_argument("--within", default=None, help="also LEXIMIN --diversity-within X")
    parser.add_argument("--out", type=Path, default=_ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for name in args.instances.split(","):
        runs: dict[str, dict[str, Any]] = {}
        print(f"{name}: ours diversimax", file=sys.stderr)
        runs["ours diversimax"] = run_ours(name, "diversimax")
        if not args.no_peer:
            print(f"{name}: peer diversimax", file=sys.stderr)
            runs["peer diversimax"] = run_theirs(name, args.peer_python, args.peer_limit)
        if args.reference:
            for algorithm in ("legacy", "leximin"):
                print(f"{name}: ours {algorithm}", file=sys.stderr)
                runs[f"ours {algorithm}"] = run_ours(name, algorithm)
        if args.within is not None:
            print(f"{name}: ours leximin --diversity-within {args.within}", file=sys.stderr)
            runs[f"ours leximin within {args.within}"] = run_ours(
                name, "leximin", "--diversity-within", args.within
            )
        results[name] = runs
    load = os.getloadavg()
    document = {
        "machine": platform.node(),
        "cores": os.cpu_count(),
        "load_average_after": list(load),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "results": results,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"diversity-{datetime.date.today().isoformat()}"
    (args.out / f"{stem}.json").write_text(json.dumps(document, indent=1), encoding="utf-8")
    table = _table(results)
    (args.out / f"{stem}.md").write_text(table, encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
