"""--panels M: a uniform lottery over M published panels, drawn by dice anyone can read."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from sortition.selection import service as selection
from sortition.selection import transparent
from tests.helpers import assert_panel_meets_quotas, run_cli, runnable_instance, select_args


def test_dice_pick_the_lottery_panel_by_hand(tmp_path: Path) -> None:
    case = runnable_instance("example_small_20")
    out = tmp_path / "out"
    result = run_cli(
        select_args(
            case.pool,
            case.quotas,
            case.k,
            "--panels",
            1000,
            "--dice",
            "0,4,2",
            algorithm="leximin",
            out=out,
        )
    )
    assert result.exit_code == 0, result.stderr
    assert "largest change of a person's probability 0.000000 (lower bound 0.000000)" in (
        result.stdout
    )
    record = json.loads((out / "record.json").read_text(encoding="utf-8"))
    assert record["draw"] == {"method": "lottery-dice", "panel_number": 43, "of": 1000}
    with (out / "lottery.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["panel", "ids"] and len(rows) == 1001
    assert rows[43][0] == "43"
    assert sorted(rows[43][1].split(" ")) == record["panel"]
    assert_panel_meets_quotas(out / "selected.csv", case.quotas, case.k)
    assert record["lottery"]["lower_bound"] <= record["lottery"]["max_change"] < 1e-12
    assert record["lottery"]["method"] == "exact"
    assert run_cli(["verify", out / "record.json", "--pool", case.pool]).exit_code == 0

    # Dice that do not read as a panel number (M is not 10^d) fall back to the seeded stream.
    other = tmp_path / "other"
    result = run_cli(
        select_args(
            case.pool,
            case.quotas,
            case.k,
            "--panels",
            500,
            "--dice",
            "0,4,2",
            algorithm="leximin",
            out=other,
        )
    )
    assert result.exit_code == 0
    assert json.loads((other / "record.json").read_text())["draw"]["method"] == "lottery"


def test_a_tampered_lottery_panel_fails_verify(tmp_path: Path) -> None:
    case = runnable_instance("example_small_20")
    out = tmp_path / "out"
    assert (
        run_cli(
            select_args(
                case.pool,
                case.quotas,
                case.k,
                "--panels",
                100,
                algorithm="maximin",
                seed="t",
                out=out,
            )
        ).exit_code
        == 0
    )
    record_path = out / "record.json"
    record = json.loads(record_path.read_text(encoding="utf-8"))
    drawn = record["draw"]["panel_number"]
    victim = 1 if drawn != 1 else 2
    panel = record["lottery"]["panels"][victim - 1]
    outsider = next(p["id"] for p in record["pool"] if p["id"] not in panel)
    panel[0] = outsider
    record_path.write_text(json.dumps(record), encoding="utf-8")
    result = run_cli(["verify", record_path])
    assert result.exit_code == 1
    failed = {
        line.split("]")[1].split(":")[0].strip()
        for line in result.stdout.splitlines()
        if line.startswith("[MISMATCH]")
    }
    assert failed == {"commitment", "lottery"}


def test_panels_needs_a_distribution(tmp_path: Path, example_dir: Path) -> None:
    result = run_cli(
        select_args(
            example_dir / "pool.csv",
            example_dir / "quotas.csv",
            20,
            "--panels",
            10,
            algorithm="legacy",
            seed="x",
            out=tmp_path / "o",
        )
    )
    assert result.exit_code == 2
    assert "--panels needs a distribution" in result.stderr


def _select_lottery(case, m: int, out: Path, algorithm: str = "leximin") -> dict:
    args = select_args(case.pool, case.quotas, case.k, "--panels", m, algorithm=algorithm, seed="x")
    result = run_cli([*args, "--out", out])
    assert result.exit_code == 0, result.stderr
    return json.loads((out / "record.json").read_text(encoding="utf-8"))


def test_every_volunteer_with_a_chance_of_one_in_m_is_on_a_panel(tmp_path: Path) -> None:
    """Issue 13, defect 2: with --panels 10 on example_small_20, volunteer 99 (probability 0.1)
    was on none of the 10 panels and 100 on two, while the record stated a change of 0.00101."""
    case = runnable_instance("example_small_20")
    record = _select_lottery(case, 10, tmp_path / "out")
    appearances = {p["id"]: 0 for p in record["pool"]}
    for panel in record["lottery"]["panels"]:
        for person in panel:
            appearances[person] += 1
    assert appearances["99"] == 1 and appearances["100"] == 1
    # every probability here is exactly 0.1: every volunteer is on exactly one of the 10 panels
    assert set(appearances.values()) == {1}
    assert record["lottery"]["max_change"] < 1e-12
    result = run_cli(["verify", tmp_path / "out" / "record.json"])
    assert result.exit_code == 0, result.stdout


def test_verify_names_a_volunteer_left_out_of_every_panel(tmp_path: Path) -> None:
    """Panel contents changed by hand, each panel still feasible: one volunteer of probability
    0.1 is on none of the 10 panels. verify names them and recomputes the change per person."""
    case = runnable_instance("example_small_20")
    record = _select_lottery(case, 10, tmp_path / "out")
    panels = record["lottery"]["panels"]
    values = {row["id"]: row["values"] for row in record["pool"]}
    drawn = record["draw"]["panel_number"] - 1
    first, second = [i for i in range(10) if i != drawn][:2]
    # someone of panel `first` replaced by someone of the same type from panel `second`
    victim, twin = next(
        (a, b) for a in panels[first] for b in panels[second] if values[a] == values[b]
    )
    panels[first] = sorted(twin if p == victim else p for p in panels[first])
    record_path = tmp_path / "out" / "record.json"
    record_path.write_text(json.dumps(record), encoding="utf-8")
    result = run_cli(["verify", record_path])
    assert result.exit_code == 1
    lottery_line = next(line for line in result.stdout.splitlines() if "] lottery:" in line)
    assert lottery_line.startswith("[MISMATCH]")
    left_out = "1 volunteer whose probability is at least 1/10 is on none of the 10 panels: "
    assert lottery_line.endswith(left_out + victim)
    assert "by at most 0.100000, the record states 0.000000" in lottery_line


def test_a_lottery_that_leaves_someone_out_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When no lottery of M panels is found that puts everyone with probability >= 1/M on a
    panel, select stops (exit 3), names them, suggests a larger M and writes nothing. Forced here
    by the per-type rounding alone, which leaves one volunteer of example_small_20 out at M = 10."""
    real = transparent.round_to_uniform

    def rounding_only(*args: Any, **options: Any) -> transparent.UniformLottery:
        return real(*args, **{**options, "method": transparent.BECK_FIALA})

    monkeypatch.setattr(selection, "round_to_uniform", rounding_only)
    case = runnable_instance("example_small_20")
    out = tmp_path / "out"
    args = select_args(
        case.pool, case.quotas, case.k, "--panels", 10, algorithm="leximin", seed="x"
    )
    result = run_cli([*args, "--out", out])
    assert result.exit_code == 3
    assert "--panels 10: the search found no lottery of 10 panels" in result.stderr
    assert "everyone whose selection probability is at least 1/10 on one of them: 1 volunteer" in (
        result.stderr
    )
    assert "Use a larger --panels, e.g. 100." in result.stderr
    assert not out.exists()
