"""Run the peer library `sortition-algorithms` once; run as a script by ``benchmarks.peer``.

Usage: ``python peer_worker.py SPEC.json``. It imports only the standard library and the peer, so
it runs in any interpreter that has the peer (another venv included). SPEC names the peer-layout
files written by ``benchmarks.peer``: ``features_csv`` (feature,value,min,max), ``people_csv``
(an id column and one column per feature, plus a household column when asked), ``k``,
``algorithm``, ``backend``, ``seed``, ``id_column`` and ``household_columns``.

Everything the peer or its solver prints goes to stderr. Stdout carries only our lines:
``#started <tool>`` just before the timed selection call, ``#running <algorithm>`` when
the peer enters an algorithm, and last the result as one JSON object (``tool``,
``algorithm_run``, ``seconds``, ``status``, ``min_probability``, ``probabilities``, ``note``).

The selection call is the peer's own entry point ``core.run_stratification``. Its
``find_distribution_*`` functions are wrapped (not changed) to learn which one it really ran and
to keep the distribution over panels it computed; the per-person probabilities are those of the
distribution after the peer's ``standardize_distribution``, the one it draws the panel from.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import Any

from child import one_line, serve  # benchmarks/child.py, beside this script (stdlib only)

STARTED_MARKER = "#started"  # followed by the tool name and version (as in child.py)
RUNNING_MARKER = "#running"  # followed by the algorithm the peer entered
DISTRIBUTION_FUNCTIONS = {
    "find_distribution_maximin": "maximin",
    "find_distribution_leximin": "leximin",
    "find_distribution_nash": "nash",
    "find_distribution_diversimax": "diversimax",
    "find_random_sample_legacy": "legacy",
}


def _message_codes(report: Any) -> list[str]:
    """The message codes in a peer RunReport (empty if its layout differs)."""
    codes = []
    for element in getattr(report, "_data", []):
        code = getattr(element, "message_code", None)
        if code:
            codes.append(str(code))
    return codes


def run(spec: dict[str, Any], out: Any) -> dict[str, Any]:
    """Load the instance with the peer's reader, run its selection once, return the result."""
    from importlib.metadata import version
    from pathlib import Path

    from sortition_algorithms import CSVFileDataSource, SelectionData, Settings, core
    from sortition_algorithms.committee_generation import (
        GUROBI_AVAILABLE,
        standardize_distribution,
    )

    tool = f"sortition-algorithms {version('sortition-algorithms')}"
    # its per-round progress (multiplicative-weights rounds, then "Maximin is at most ..., can
    # do ...") is logged at DEBUG: show it, so a stopped run can say how far it got
    for name in ("sortition_algorithms", "sortition_algorithms_user"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    algorithm = str(spec["algorithm"])
    household_columns = [str(c) for c in spec.get("household_columns", [])]
    settings = Settings(
        id_column=str(spec["id_column"]),
        columns_to_keep=[],
        check_same_address=bool(household_columns),
        check_same_address_columns=household_columns,
        selection_algorithm=algorithm,
        solver_backend=str(spec["backend"]),
        random_number_seed=int(spec["seed"]),
    )
    k = int(spec["k"])
    scratch = Path(spec["features_csv"]).parent
    data = SelectionData(
        CSVFileDataSource(
            features_file=Path(spec["features_csv"]),
            people_file=Path(spec["people_csv"]),
            already_selected_file=None,
            selected_file=scratch / "peer_selected.csv",
            remaining_file=scratch / "peer_remaining.csv",
        )
    )
    features, _ = data.load_features(number_to_select=k)
    people, _ = data.load_people(settings, features)

    ran: list[str] = []
    captured: dict[str, Any] = {}

    def wrap(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            ran.append(DISTRIBUTION_FUNCTIONS[name])
            out.write(f"{RUNNING_MARKER} {ran[-1]}\n")
            out.flush()
            result = function(*args, **kwargs)
            if name.startswith("find_distribution_") and name != "find_distribution_diversimax":
                captured["committees"], captured["probabilities"] = result[0], result[1]
            return result

        return wrapper

    for name in DISTRIBUTION_FUNCTIONS:
        if hasattr(core, name):
            setattr(core, name, wrap(name, getattr(core, name)))

    out.write(f"{STARTED_MARKER} {tool}\n")
    out.flush()
    start = time.perf_counter()
    success, panels, report = core.run_stratification(features, people, k, settings)
    seconds = time.perf_counter() - start

    notes = []
    if "gurobi_unavailable_switching" in _message_codes(report) or (
        algorithm == "leximin" and ran and ran[0] != "leximin"
    ):
        notes.append(
            "leximin needs Gurobi (gurobipy importable: "
            f"{GUROBI_AVAILABLE}); the peer switched to {ran[0] if ran else 'maximin'}"
        )
    result: dict[str, Any] = {
        "tool": tool,
        "algorithm_run": ran[0] if ran else algorithm,
        "seconds": seconds,
        "min_probability": None,
        "probabilities": None,
        "note": "; ".join(notes),
    }
    if not success:
        error = report.last_error()
        message = f"{type(error).__name__}: {error}" if error else "selection failed"
        result["status"] = "error: " + one_line(message)
        return result
    if "committees" not in captured and result["algorithm_run"] in ("maximin", "leximin", "nash"):
        # success without the distribution it computed: nothing to measure, so not a time
        result["status"] = "error: the peer reported success but returned no distribution"
        return result
    result["status"] = "ok"
    if result["algorithm_run"] == "diversimax" and panels:
        # one panel, no distribution: its ids, so that our measure can score it
        result["panel"] = sorted(str(person) for person in panels[0])
    if "committees" in captured:
        committees, probabilities = standardize_distribution(
            list(captured["committees"]), list(captured["probabilities"])
        )
        per_person = dict.fromkeys(people, 0.0)
        for committee, probability in zip(committees, probabilities, strict=True):
            for person in committee:
                per_person[person] += probability
        result["probabilities"] = per_person
        result["min_probability"] = min(per_person.values())
    return result


def main(argv: list[str]) -> int:
    """Run the spec in argv[0] (the peer logs to stdout and CBC may print: all go to stderr)."""
    return serve(argv, run, import_error="the peer is not importable here: ")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
