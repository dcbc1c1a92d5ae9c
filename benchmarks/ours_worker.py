"""Run one of our algorithms once on one instance; run as a script by ``benchmarks.suite``.

Usage: ``python ours_worker.py SPEC.json``. SPEC holds ``pool``, ``quotas``, ``k``,
``algorithm`` (legacy, leximin, maximin, nash, goldilocks), ``household_columns``, ``time_limit``
(seconds, for the fair algorithms' own limit) and ``seed`` (for LEGACY's draw).

Stdout carries only ``#started <tool>`` just before the timed call and last the result as one
JSON object (``seconds``, ``load_seconds``, ``status``, ``min_probability``, ``units``, ``stats``,
``note``). The engine's progress events go to stderr as ``#progress <json>`` lines (the event's
class name as ``event``, then its fields), so the parent can say how far a stopped run got.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

from child import serve  # benchmarks/child.py, beside this script (stdlib only)

STARTED_MARKER = "#started"  # as in child.py
PROGRESS_MARKER = "#progress"


def run(spec: dict[str, Any], out: Any) -> dict[str, Any]:
    """Load the instance with our reader, run the algorithm once, return the result."""
    import sortition
    from sortition.engine.legacy import LegacySampler
    from sortition.engine.objectives import fair_distribution
    from sortition.errors import TimeLimitError
    from sortition.randomness import SeededStream
    from sortition.selection.service import load_input

    algorithm = str(spec["algorithm"])
    started = time.perf_counter()
    loaded = load_input(
        Path(spec["pool"]),
        Path(spec["quotas"]),
        int(spec["k"]),
        household_columns=[str(c) for c in spec.get("household_columns", [])],
    )
    load_seconds = time.perf_counter() - started

    def progress(event: Any) -> None:  # a sortition.progress event (a frozen dataclass)
        fields = dataclasses.asdict(event)
        shown = {"event": type(event).__name__, **fields}
        print(PROGRESS_MARKER, json.dumps(shown), file=sys.stderr, flush=True)

    out.write(f"{STARTED_MARKER} sortition {sortition.__version__}\n")
    out.flush()
    result: dict[str, Any] = {"load_seconds": load_seconds, "note": ""}
    start = time.perf_counter()
    if algorithm == "legacy":
        draw = LegacySampler(loaded.instance).draw(SeededStream(str(spec["seed"])))
        result["seconds"] = time.perf_counter() - start
        result["status"] = "ok"
        result["min_probability"] = None
        result["stats"] = {"attempts": draw.attempts}
        result["note"] = "one draw; LEGACY gives no exact probabilities"
        return result
    limit = spec.get("time_limit")
    try:
        fair = fair_distribution(
            loaded.instance,
            algorithm,
            progress=progress,
            time_limit=None if limit is None else float(limit),
        )
    except TimeLimitError:
        result["seconds"] = time.perf_counter() - start
        result["status"] = "over limit"
        result["note"] = "stopped by the engine's time limit"
        return result
    result["seconds"] = time.perf_counter() - start
    result["status"] = "ok"
    result["min_probability"] = float(fair.person_probability.min())
    result["units"] = fair.units.n_units
    result["stats"] = {
        key: value
        for key, value in fair.distribution.stats.items()
        if isinstance(value, int | float | str)
    }
    return result


def main(argv: list[str]) -> int:
    """Run the spec in argv[0]; print the markers and the JSON result on the real stdout."""
    return serve(argv, run)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
