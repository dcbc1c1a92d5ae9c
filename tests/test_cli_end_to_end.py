"""The installed `sortition` command, run in a subprocess exactly as a user types it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.helpers import select_args, sortition_command


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        sortition_command() + args, cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_demo_writes_into_a_new_folder_and_says_where(tmp_path: Path) -> None:
    result = run(["demo"], tmp_path)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "sortition-demo"
    assert sorted(p.name for p in out.iterdir()) == [
        ".sortition-output",
        "distribution.json",
        "probabilities.csv",
        "record.json",
        "remaining.csv",
        "selected.csv",
    ]
    assert str(out.resolve()) in result.stdout
    first = (out / "record.json").read_bytes()
    record = json.loads(first)
    assert len(record["panel"]) == 20
    households = {row["id"]: row["household"] for row in record["pool"]}
    assert len({households[i] for i in record["panel"]}) == 20
    again = run(["demo"], tmp_path)  # the demo replaces its own earlier output
    assert again.returncode == 0, again.stderr
    assert (out / "record.json").read_bytes() == first


def test_version_and_help(tmp_path: Path) -> None:
    version = run(["--version"], tmp_path)
    assert version.returncode == 0 and "sortition" in version.stdout
    helptext = run(["--help"], tmp_path)
    for command in ("check", "select", "demo", "generate"):
        assert command in helptext.stdout


def test_generate_then_check_and_select(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    result = run(
        [
            "generate",
            "--preset",
            "realistic7",
            "--n",
            "3000",
            "-k",
            "60",
            "--seed",
            "bench",
            "--households",
            "--out",
            str(out),
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    pool, quotas = out / "pool.csv", out / "quotas.csv"
    checked = run(
        [
            "check",
            "--pool",
            str(pool),
            "--quotas",
            str(quotas),
            "-k",
            "60",
            "--household-columns",
            "household",
        ],
        tmp_path,
    )
    assert checked.returncode == 0, checked.stderr
    selected = run(
        select_args(
            pool,
            quotas,
            60,
            "--household-columns",
            "household",
            algorithm="legacy",
            seed="x",
            out=tmp_path / "sel",
        ),
        tmp_path,
    )
    assert selected.returncode == 0, selected.stderr


def test_generate_bad_arguments_exit_2(tmp_path: Path) -> None:
    result = run(
        [
            "generate",
            "--n",
            "10",
            "-k",
            "50",
            "--seed",
            "s",
            "--features",
            "3",
            "--out",
            str(tmp_path / "g"),
        ],
        tmp_path,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "g").exists()


def test_bad_input_in_a_subprocess_has_no_traceback(tmp_path: Path) -> None:
    (tmp_path / "quotas.csv").write_text("feature,value,min,max\ng,a,3,1\n", encoding="utf-8")
    (tmp_path / "pool.csv").write_text("id,g\n1,a\n", encoding="utf-8")
    result = run(["check", "--pool", "pool.csv", "--quotas", "quotas.csv", "-k", "1"], tmp_path)
    assert result.returncode == 2
    assert "quotas.csv, row 2, column 'min': min 3 is above max 1" in result.stderr
    assert "Traceback" not in result.stderr
