"""--panels M: a uniform lottery over M published panels, drawn by dice anyone can read."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.conftest import run_cli, runnable_instance
from tests.test_select import assert_panel_meets_quotas


def test_dice_pick_the_lottery_panel_by_hand(tmp_path: Path) -> None:
    case = runnable_instance("example_small_20")
    out = tmp_path / "out"
    result = run_cli(
        [
            "select",
            "--pool",
            case.pool,
            "--quotas",
            case.quotas,
            "-k",
            case.k,
            "--algorithm",
            "leximin",
            "--panels",
            1000,
            "--dice",
            "0,4,2",
            "--out",
            out,
        ]
    )
    assert result.exit_code == 0, result.stderr
    assert "bound k/M 0.020000" in result.stdout
    record = json.loads((out / "record.json").read_text(encoding="utf-8"))
    assert record["draw"] == {"method": "lottery-dice", "panel_number": 43, "of": 1000}
    with (out / "lottery.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["panel", "ids"] and len(rows) == 1001
    assert rows[43][0] == "43"
    assert sorted(rows[43][1].split(" ")) == record["panel"]
    assert_panel_meets_quotas(out / "selected.csv", case.quotas, case.k)
    assert record["lottery"]["max_change"] <= record["lottery"]["bound"]
    assert run_cli(["verify", out / "record.json", "--pool", case.pool]).exit_code == 0

    # Dice that do not read as a panel number (M is not 10^d) fall back to the seeded stream.
    other = tmp_path / "other"
    result = run_cli(
        [
            "select",
            "--pool",
            case.pool,
            "--quotas",
            case.quotas,
            "-k",
            case.k,
            "--algorithm",
            "leximin",
            "--panels",
            500,
            "--dice",
            "0,4,2",
            "--out",
            other,
        ]
    )
    assert result.exit_code == 0
    assert json.loads((other / "record.json").read_text())["draw"]["method"] == "lottery"


def test_a_tampered_lottery_panel_fails_verify(tmp_path: Path) -> None:
    case = runnable_instance("example_small_20")
    out = tmp_path / "out"
    assert (
        run_cli(
            [
                "select",
                "--pool",
                case.pool,
                "--quotas",
                case.quotas,
                "-k",
                case.k,
                "--algorithm",
                "maximin",
                "--panels",
                100,
                "--seed",
                "t",
                "--out",
                out,
            ]
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
        [
            "select",
            "--pool",
            example_dir / "pool.csv",
            "--quotas",
            example_dir / "quotas.csv",
            "-k",
            20,
            "--algorithm",
            "legacy",
            "--panels",
            10,
            "--seed",
            "x",
            "--out",
            tmp_path / "o",
        ]
    )
    assert result.exit_code == 2
    assert "--panels needs a distribution" in result.stderr
