"""The side-by-side runner for the peer library `sortition-algorithms` (benchmarks/peer.py).

The runs need the peer: installed here (``pip install -e '.[bench]'``) or in the interpreter named
by $SORTITION_PEER_PYTHON; they are skipped otherwise. The shared data lives in ../shared/data
beside the checkout or in $SORTITION_SHARED_DATA.
"""

from __future__ import annotations

import csv
import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # benchmarks/ is not an installed package
    sys.path.insert(0, str(REPO))

from benchmarks.peer import (  # noqa: E402
    default_python,
    peer_available,
    run_peer,
    write_peer_inputs,
)


def shared_data() -> Path:
    override = os.environ.get("SORTITION_SHARED_DATA")
    return Path(override) if override else Path(__file__).resolve().parents[2] / "shared" / "data"


def instance(folder: str) -> tuple[Path, Path]:
    base = shared_data() / folder
    pool, quotas = base / "respondents.csv", base / "categories.csv"
    if not (pool.is_file() and quotas.is_file()):
        pytest.skip(f"shared data {base} is missing")
    return pool, quotas


@functools.cache
def _peer_python() -> str | None:
    python = default_python()
    return python if peer_available(python) else None


def peer_python() -> str:
    python = _peer_python()
    if python is None:
        pytest.skip("sortition-algorithms[mip] is not importable (set SORTITION_PEER_PYTHON)")
    return python


def test_inputs_are_converted_to_the_peer_layout(tmp_path: Path) -> None:
    pool = tmp_path / "pool.csv"
    pool.write_text("gender,addr\nfemale,A\nmale,A\nmale,\n", encoding="utf-8")
    quotas = tmp_path / "quotas.csv"
    quotas.write_text("category,feature,min,max\ngender,female,1,1\ngender,male,0,1\n")
    spec = write_peer_inputs(
        pool, quotas, tmp_path, household_columns=["addr"], allow_empty_household=True
    )
    with open(str(spec["features_csv"]), newline="", encoding="utf-8") as handle:
        assert list(csv.reader(handle)) == [
            ["feature", "value", "min", "max"],
            ["gender", "female", "1", "1"],
            ["gender", "male", "0", "1"],
        ]
    with open(str(spec["people_csv"]), newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    # ids are row numbers; the two people at A share a household, the blank address lives alone
    # (--allow-empty-household)
    assert rows == [
        ["peer_id", "gender", "peer_household"],
        ["0", "female", "h0"],
        ["1", "male", "h0"],
        ["2", "male", "h1"],
    ]
    assert spec["id_column"] == "peer_id"
    assert spec["household_columns"] == ["peer_household"]


def test_maximin_reaches_the_published_minimum_on_example_small_20() -> None:
    pool, quotas = instance("real/example_small_20")
    result = run_peer(pool, quotas, 20, time_limit=120, python=peer_python())
    assert result.status == "ok", result.status
    assert result.tool.startswith("sortition-algorithms ")
    assert (result.algorithm_requested, result.algorithm_run, result.backend) == (
        "maximin",
        "maximin",
        "mip",
    )
    assert result.min_probability == pytest.approx(0.1, abs=1e-3)
    assert result.probabilities is not None
    assert set(result.probabilities) == {str(i) for i in range(200)}
    assert sum(result.probabilities.values()) == pytest.approx(20, abs=1e-6)
    assert 0 < result.seconds < 120


def test_leximin_without_gurobi_is_reported_as_maximin() -> None:
    python = peer_python()
    has_gurobi = subprocess.run([python, "-c", "import gurobipy"], capture_output=True)
    if has_gurobi.returncode == 0:
        pytest.skip("gurobipy is importable: the peer would run its real leximin")
    pool, quotas = instance("real/example_small_20")
    result = run_peer(pool, quotas, 20, algorithm="leximin", time_limit=120, python=python)
    assert result.status == "ok", result.status
    assert (result.algorithm_requested, result.algorithm_run) == ("leximin", "maximin")
    assert "Gurobi" in result.note


def test_a_tiny_time_limit_stops_the_peer() -> None:
    pool, quotas = instance("instances/ces11_k60")
    result = run_peer(pool, quotas, 60, time_limit=0.5, python=peer_python())
    assert result.status == "over limit"
    assert result.seconds == 0.5
    assert result.min_probability is None


def test_a_missing_household_column_is_an_error() -> None:
    pool, quotas = instance("real/example_small_20")
    result = run_peer(pool, quotas, 20, python="python-not-needed", household_columns=["nope"])
    assert result.status.startswith("error: ")
    assert "household column not found" in result.status
