"""The benchmark suite (``python -m benchmarks``): its quick sweep, the time limit, the skip rule.

These check results, never times: the machine is shared.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks.child import run_child
from benchmarks.report import ratio_text, seconds_text, table_rows
from benchmarks.suite import (
    OURS,
    PEER,
    Case,
    Inputs,
    Options,
    all_cases,
    prepare_inputs,
    run_ours,
    run_suite,
    select_cases,
    synthetic,
)
from tests.helpers import REPO, RUNNABLE, shared_data, shared_data_required

FAIR = ("maximin", "leximin", "nash")


ALGORITHMS = ("legacy", "maximin", "leximin", "nash")


@pytest.mark.parametrize(
    ("large", "algorithms"),
    [
        # The default run leaves out the quick sweep's largest case and NASH (over 15 s with
        # them); the cases --quick keeps are checked in test_the_cases_of_the_issue_are_all_there.
        pytest.param(False, ALGORITHMS[:3], id="reduced"),
        pytest.param(True, ALGORITHMS, id="whole", marks=pytest.mark.slow),
    ],
)
def test_quick_sweep_writes_json_table_and_plot(
    tmp_path: Path, large: bool, algorithms: tuple[str, ...]
) -> None:
    out = tmp_path / "results"
    quick = ["--quick", "--no-peer", "--algorithms", ",".join(algorithms)]
    if not large:
        quick += ["--only", "example_small_20,realistic4-*"]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", *quick, "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "[1/" in done.stderr  # progress lines on stderr
    [json_path] = out.glob("*.json")
    assert json_path.with_suffix(".md").is_file()
    assert json_path.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    document = json.loads(json_path.read_text(encoding="utf-8"))
    assert document["limits"] == {"ours": 600.0, "peer": None}
    expected = ["realistic4-n1000-k20"]
    if shared_data_required() or (shared_data() / RUNNABLE["example_small_20"][0]).is_dir():
        expected = ["example_small_20", *(["example_large_200"] if large else []), *expected]
    records = document["cases"]
    assert [(r["case"], r["algorithm"]) for r in records] == [
        (c, a) for c in expected for a in algorithms
    ]
    assert {(r["tool"], r["status"]) for r in records} == {(OURS, "ok")}
    for record in records:
        assert record["peak_memory_bytes"] > 10 * 2**20
        assert record["seconds"] >= 0
        if record["algorithm"] == "legacy":
            assert record["min_probability"] is None
        else:
            # no one above k/n on the bottom, and nobody left out
            assert 0 < record["min_probability"] <= record["k"] / record["n"] + 1e-9
    by_case = {(r["case"], r["algorithm"]): r["min_probability"] for r in records}
    for case in expected:
        assert by_case[(case, "leximin")] == pytest.approx(by_case[(case, "maximin")], abs=1e-6)
        if "nash" in algorithms:
            assert by_case[(case, "nash")] <= by_case[(case, "maximin")] + 1e-6
    synthetic_record = records[-1]
    assert (synthetic_record["n"], synthetic_record["k"], synthetic_record["features"]) == (
        1000,
        20,
        4,
    )
    table = json_path.with_suffix(".md").read_text(encoding="utf-8")
    assert "| realistic4-n1000-k20 | 1,000 | 20 | 4 |" in table
    assert f"![time against pool size]({json_path.with_suffix('.png').name})" in table


def test_the_cases_of_the_issue_are_all_there() -> None:
    cases = {c.name: c for c in all_cases()}
    pool_sizes = [c.n for c in cases.values() if "pool size" in c.sweeps]
    assert pool_sizes == [1000, 10_000, 100_000, 1_000_000]
    assert [c.k for c in cases.values() if "panel size" in c.sweeps] == [50, 150, 500]
    assert [c.preset for c in cases.values() if "features" in c.sweeps] == [
        "realistic4",
        "realistic7",
        "realistic10",
    ]
    assert [c.n for c in cases.values() if c.households] == [1000, 10_000, 100_000]
    shared = cases["realistic7-n10000-k150"]
    assert shared.sweeps == ("pool size", "panel size", "features")
    assert {"example_small_20", "example_large_200", "ces11_k60", "gss_k150"} <= set(cases)
    quick = select_cases(all_cases(), None, quick=True)
    assert [c.name for c in quick] == [
        "example_small_20",
        "example_large_200",
        "realistic4-n1000-k20",
    ]
    only = select_cases(all_cases(), "realistic7-n1000-*,gss*", quick=False)
    assert [c.name for c in only] == [
        "gss_k150",
        "realistic7-n1000-k150",
        "realistic7-n1000-k150-households",
    ]


def test_a_sweep_skips_the_larger_cases_after_one_over_the_limit(tmp_path: Path) -> None:
    over = ("realistic4-n1000-k20", "realistic7-n10000-k50")

    def runner(
        tool: str, algorithm: str, case: Case, inputs: Inputs, limit: float
    ) -> dict[str, Any]:
        status = "over limit" if algorithm == "leximin" and case.name in over else "ok"
        return {"tool": tool, "algorithm": algorithm, "status": status, "seconds": 1.0}

    options = Options(
        out=tmp_path / "out",
        limit=5.0,
        algorithms=("maximin", "leximin"),
        only="realistic4-n1000-k20,realistic7-n10000-k50,realistic7-n10000-k150",
        inputs=tmp_path / "inputs",
        stem="test",
    )
    document = run_suite(options, log=lambda line: None, runner=runner)
    status = {(r["case"], r["algorithm"]): r["status"] for r in document["cases"]}
    assert status == {
        ("realistic4-n1000-k20", "maximin"): "ok",
        ("realistic4-n1000-k20", "leximin"): "over limit",  # in no sweep: skips nothing
        ("realistic7-n10000-k50", "maximin"): "ok",
        ("realistic7-n10000-k50", "leximin"): "over limit",
        ("realistic7-n10000-k150", "maximin"): "ok",
        ("realistic7-n10000-k150", "leximin"): "skipped",  # k = 50 went over in the k sweep
    }
    skipped = document["cases"][-1]
    assert "realistic7-n10000-k50 went over the limit in the panel size sweep" in skipped["note"]
    assert skipped["n"] == 10_000 and skipped["types"] > 0
    assert json.loads((tmp_path / "out" / "test.json").read_text()) == document
    rows = table_rows(document)
    assert rows[-1][6:9] == ("leximin", "skipped", "–")
    # the generated pools were kept and are reused
    assert (tmp_path / "inputs" / "realistic7-n10000-k50" / "pool.csv").is_file()


def test_our_engine_stops_at_the_limit_and_memory_is_measured(tmp_path: Path) -> None:
    inputs = prepare_inputs(synthetic("realistic7", 1000, 150), tmp_path)
    assert inputs is not None and inputs.types > 500  # hundreds of types: not done in 0.5 s
    record = run_ours("leximin", inputs, 150, 0.5)
    assert record["status"] == "over limit", record
    assert record["seconds"] == 0.5
    assert record["min_probability"] is None
    assert record["peak_memory_bytes"] > 10 * 2**20
    assert record["tool_version"].startswith("sortition ")


def test_a_child_is_killed_at_the_limit() -> None:
    script = "import time; print('#started test', flush=True); time.sleep(60)"
    outcome = run_child([sys.executable, "-c", script], 0.3)
    assert outcome.killed and outcome.result is None and outcome.error is None
    assert outcome.tool == "test"
    assert outcome.peak_memory_bytes is not None and outcome.peak_memory_bytes > 0


def test_a_child_that_fails_is_an_error() -> None:
    outcome = run_child([sys.executable, "-c", "import sys; sys.exit('boom')"], 5)
    assert outcome.error is not None and "boom" in outcome.error
    assert not outcome.killed


def test_ratios_against_a_stopped_run_are_bounds() -> None:
    def run(status: str, seconds: float | None, limit: float = 600.0) -> dict[str, Any]:
        return {"status": status, "seconds": seconds, "limit": limit}

    assert ratio_text(run("ok", 2.0), run("ok", 50.0)) == "25x"
    assert ratio_text(run("ok", 2.0), run("over limit", 600.0)) == "> 300x"
    assert ratio_text(run("over limit", 600.0), run("ok", 60.0)) == "< 0.1x"
    assert ratio_text(run("over limit", 600.0), run("over limit", 600.0)) == "–"
    assert ratio_text(run("ok", 2.0), None) == "–"
    assert seconds_text(run("over limit", 600.0)) == "> 600 s (over limit)"
    assert seconds_text(run("ok", 1234.5)) == "1,230 s"
    assert seconds_text(run("skipped", None)) == "skipped"


def test_runs_made_apart_merge_into_one_table(tmp_path: Path) -> None:
    """Ours and the peer's run apart (``--no-peer`` / ``--no-ours``), then ``--merge``."""

    def record(case: str, tool: str, algorithm: str, seconds: float) -> dict[str, Any]:
        return {
            "case": case,
            "tool": tool,
            "algorithm": algorithm,
            "algorithm_run": algorithm,
            "status": "ok",
            "seconds": seconds,
            "n": 1000,
            "k": 150,
            "features": 7,
            "types": 900,
            "households": None,
            "min_probability": 0.1,
            "peak_memory_bytes": 2**27,
            "limit": 300.0,
        }

    def document(tool: str, limits: dict[str, float | None], cases: list[str]) -> dict[str, Any]:
        return {
            "title": "sortition benchmarks",
            "date": "2026-11-27",
            "command": f"python -m benchmarks --only {tool}",
            "note": "",
            "machine": {"processor": "cpu", "cores": 2, "system": "linux", "python": "3.11"},
            "versions": {"sortition": "0.1.0", PEER: "0.12" if tool == PEER else None},
            "limits": limits,
            "cases": [record(case, tool, "maximin", 1.0) for case in cases],
        }

    cases = ["realistic7-n10000-k150", "ces11_k60", "realistic7-n1000-k150"]
    ours = tmp_path / "ours.json"
    peer = tmp_path / "peer.json"
    ours.write_text(json.dumps(document(OURS, {"ours": 300.0, "peer": None}, cases)))
    peer.write_text(json.dumps(document(PEER, {"ours": 300.0, "peer": 300.0}, cases[::-1])))
    out = tmp_path / "results"
    merge = ["--merge", str(ours), str(peer), "--out", str(out), "--stem", "both"]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", *merge, "--note", "two processes"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    merged = json.loads((out / "both.json").read_text(encoding="utf-8"))
    # the suite's order (shared instances first, then by pool size), ours before the peer's
    assert [(r["case"], r["tool"]) for r in merged["cases"]] == [
        (case, tool)
        for case in ("ces11_k60", "realistic7-n1000-k150", "realistic7-n10000-k150")
        for tool in (OURS, PEER)
    ]
    assert merged["limits"] == {"ours": 300.0, "peer": 300.0}
    assert merged["versions"][PEER] == "0.12"
    assert merged["note"] == "two processes"
    table = (out / "both.md").read_text(encoding="utf-8")
    assert "| ces11_k60 | 1,000 | 150 | 7 | 900 | – | maximin | 1 s | 1 s | 1x |" in table
    assert (out / "both.png").is_file()
