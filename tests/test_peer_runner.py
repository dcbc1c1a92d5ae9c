"""The side-by-side runner for the peer library `sortition-algorithms` (benchmarks/peer.py).

The runs need the peer: installed here (``pip install -e '.[bench]'``) or in the interpreter named
by $SORTITION_PEER_PYTHON; they are skipped otherwise. The failure path needs no peer: a stand-in
fails the way the real peer does under python-mip 2.0. The shared data is found as tests/helpers.py
says.
"""

from __future__ import annotations

import csv
import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.peer import default_python, peer_available, run_peer, write_peer_inputs
from tests.helpers import REPO, runnable_instance


def instance(name: str) -> tuple[Path, Path]:
    case = runnable_instance(name)
    return case.pool, case.quotas


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
    pool, quotas = instance("example_small_20")
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
    pool, quotas = instance("example_small_20")
    result = run_peer(pool, quotas, 20, algorithm="leximin", time_limit=120, python=python)
    assert result.status == "ok", result.status
    assert (result.algorithm_requested, result.algorithm_run) == ("leximin", "maximin")
    assert "Gurobi" in result.note


def test_a_tiny_time_limit_stops_the_peer() -> None:
    pool, quotas = instance("ces11_k60")
    result = run_peer(pool, quotas, 60, time_limit=0.5, python=peer_python())
    assert result.status == "over limit"
    assert result.seconds == 0.5
    assert result.min_probability is None


def test_a_missing_household_column_is_an_error() -> None:
    pool, quotas = instance("example_small_20")
    result = run_peer(pool, quotas, 20, python="python-not-needed", household_columns=["nope"])
    assert result.status.startswith("error: ")
    assert "household column not found" in result.status


# --------------------------------------------------------------------------- a peer that fails
# No peer needed: a stand-in `sortition_algorithms` (and `mip`) on the interpreter's path fails
# the way the real one does under python-mip 2.0, inside the timed selection call.

FAKE_PEER = """
class Settings:
    def __init__(self, **kwargs): pass

class CSVFileDataSource:
    def __init__(self, **kwargs): pass

class SelectionData:
    def __init__(self, source): pass
    def load_features(self, number_to_select): return {}, None
    def load_people(self, settings, features): return {}, None
"""
FAKE_CORE = """
def find_distribution_maximin(*args, **kwargs):
    raise AttributeError("'NoneType' object has no attribute 'encode'")

def run_stratification(features, people, k, settings):
    find_distribution_maximin()
"""
FAKE_COMMITTEE_GENERATION = "GUROBI_AVAILABLE = False\ndef standardize_distribution(c, p): pass\n"


def fake_peer_python(tmp_path: Path, mip_version: str = "1.17.6") -> str:
    """An interpreter whose `sortition_algorithms` 0.12.15 fails in its first model, as the real
    one does under mip 2.0 (`mip_version` is what importlib.metadata reports)."""
    site = tmp_path / "fake-site"
    package = site / "sortition_algorithms"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(FAKE_PEER + "from . import core\n")
    (package / "core.py").write_text(FAKE_CORE)
    (package / "committee_generation.py").write_text(FAKE_COMMITTEE_GENERATION)
    (site / "mip.py").write_text("")
    for name, version in (("sortition_algorithms", "0.12.15"), ("mip", mip_version)):
        info = site / f"{name}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name.replace('_', '-')}\nVersion: {version}\n"
        )
    python = tmp_path / "fake-python"
    python.write_text(f'#!/bin/sh\nPYTHONPATH="{site}" exec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    return str(python)


def test_a_failed_peer_run_is_an_error_without_a_time(tmp_path: Path) -> None:
    """Issue 13, defect 10: the peer failing in CBC's add_var is an error, not 0.0 s."""
    example = REPO / "data" / "example"
    python = fake_peer_python(tmp_path)
    result = run_peer(example / "pool.csv", example / "quotas.csv", 20, python=python)
    assert result.status.startswith("error: AttributeError"), result.status
    assert "'NoneType' object has no attribute 'encode'" in result.status
    assert result.seconds is None and result.min_probability is None


def test_the_comparison_shows_a_failed_peer_as_an_error_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from benchmarks.compare import main as compare_main

    instance("example_small_20")
    out = tmp_path / "compare.json"
    python = fake_peer_python(tmp_path)
    args = ["--instances", "example_small_20", "--peer-python", python, "--out", str(out)]
    code = compare_main(args)
    printed = capsys.readouterr().out
    assert code == 1
    table = printed.split("\n\n")[1]
    row = next(line for line in table.splitlines() if line.startswith("example_small_20"))
    cells = row.split()
    assert cells[5] == "error" and cells[6] == "-"  # no peer time, no ratio
    assert "errors (no time, no ratio):" in printed and "'NoneType' object" in printed
    document = json.loads(out.read_text())
    (record,) = document["rows"]
    assert record["peer"]["seconds"] is None and record["ratio"] is None
    assert record["peer"]["status"].startswith("error: AttributeError")
    assert record["errors"] and record["errors"][0].startswith("peer: AttributeError")
    assert record["our_seconds"] > 0 and record["our_error"] is None


def test_a_failed_peer_run_is_an_error_in_the_sweeps_table(tmp_path: Path) -> None:
    from benchmarks.report import table_rows
    from benchmarks.suite import Inputs, describe, run_peer_case, synthetic

    example = REPO / "data" / "example"
    inputs = Inputs(example / "pool.csv", example / "quotas.csv", (), 200, 4, 100, None)
    record = run_peer_case("maximin", inputs, 20, 60.0, fake_peer_python(tmp_path))
    assert record["status"].startswith("error: AttributeError") and record["seconds"] is None
    ours = {"tool": "sortition", "algorithm": "maximin", "status": "ok", "seconds": 0.5}
    case = synthetic("realistic4", 200, 20)
    document = {"cases": [describe(case, inputs, 60.0) | r for r in (ours, record)]}
    (row,) = table_rows(document)
    assert row[7:10] == ("0.5 s", "error", "–")  # ours, the peer's, the ratio


def test_a_python_mip_the_peer_fails_under_is_refused_before_any_run(tmp_path: Path) -> None:
    from benchmarks.compare import main as compare_main
    from benchmarks.peer import PINNED, peer_problem

    broken = fake_peer_python(tmp_path, mip_version="2.0.0")
    problem = peer_problem(broken)
    assert problem is not None and "mip 2.0.0" in problem and PINNED["mip"] in problem
    assert peer_problem(fake_peer_python(tmp_path / "ok")) is None
    assert compare_main(["--instances", "example_small_20", "--peer-python", broken]) == 2
    sweep = ["--quick", "--peer-python", broken, "--out", str(tmp_path)]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", *sweep],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2 and "mip 2.0.0" in done.stderr


def test_the_bench_extra_pins_the_versions_that_work() -> None:
    import tomllib

    from benchmarks.peer import PINNED

    bench = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]["bench"]
    assert f"sortition-algorithms[mip]=={PINNED['sortition-algorithms']}" in bench
    assert f"mip=={PINNED['mip']}" in bench
