"""Defaults that do not mislead: LEXIMIN unless asked otherwise, row-number ids announced and
written out, an example and a help text for everything in --help, every --out a folder."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import click
import pyarrow.parquet as pq
import pytest
from sortition_cli.main import cli

from tests.helpers import run_cli, select_args

POOL_WITHOUT_IDS = "gender,age\nf,young\nm,old\nf,old\nm,young\nf,young\nm,old\n"
QUOTAS = "feature,value,min,max\ngender,f,1,1\ngender,m,1,1\nage,young,0,2\nage,old,0,2\n"


def _commands() -> list[tuple[str, click.Command]]:
    return sorted(cli.commands.items())  # type: ignore[attr-defined]


def test_select_and_commit_default_to_leximin(tmp_path: Path, example_dir: Path) -> None:
    pool, quotas = example_dir / "pool.csv", example_dir / "quotas.csv"
    result = run_cli(select_args(pool, quotas, 20, seed="s", out=tmp_path))
    assert result.exit_code == 0, result.stderr
    record = json.loads((tmp_path / "record.json").read_text(encoding="utf-8"))
    assert record["algorithm"] == "leximin"
    for name in ("select", "commit"):
        option = next(p for p in cli.commands[name].params if p.name == "algorithm")  # type: ignore[attr-defined]
        assert option.default == "leximin"


def test_row_number_ids_are_announced_and_written(tmp_path: Path) -> None:
    pool, quotas = tmp_path / "pool.csv", tmp_path / "quotas.csv"
    pool.write_text(POOL_WITHOUT_IDS, encoding="utf-8")
    quotas.write_text(QUOTAS, encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli(select_args(pool, quotas, 2, seed="s", out=out))
    assert result.exit_code == 0, result.stderr
    assert "no id column" in result.stderr and "0 for the first person" in result.stderr
    record = json.loads((out / "record.json").read_text(encoding="utf-8"))
    for name in ("selected.csv", "remaining.csv"):
        with (out / name).open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert list(rows[0]) == ["id", "gender", "age"]
        if name == "selected.csv":
            assert sorted(row["id"] for row in rows) == sorted(record["panel"])
    with (out / "remaining.csv").open(encoding="utf-8", newline="") as handle:
        remaining = list(csv.DictReader(handle))
    original = POOL_WITHOUT_IDS.splitlines()[1:]
    for row in remaining:  # the id is the 0-based row number of the person in the pool file
        assert original[int(row["id"])] == f"{row['gender']},{row['age']}"


@pytest.mark.parametrize("name", sorted(cli.commands))  # type: ignore[attr-defined]
def test_every_help_has_an_example_and_every_option_a_help_text(name: str) -> None:
    result = run_cli([name, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.stdout and f"sortition {name}" in result.stdout
    command = cli.commands[name]  # type: ignore[attr-defined]
    missing = [
        param.name for param in command.params if isinstance(param, click.Option) and not param.help
    ]
    assert missing == [], f"{name}: options without help text: {missing}"


def test_generate_registry_writes_into_a_folder(tmp_path: Path) -> None:
    base = ["generate-registry", "--rows", 300, "--strata", 3, "--seed", "g"]
    result = run_cli([*base, "--out", tmp_path / "csv"])
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "csv" / "registry.csv").exists()
    result = run_cli([*base, "--format", "parquet", "--out", tmp_path / "pq"])
    assert result.exit_code == 0, result.stderr
    assert pq.read_table(tmp_path / "pq" / "registry.parquet").num_rows == 300
    busy = run_cli([*base, "--out", tmp_path / "csv"])
    assert busy.exit_code == 2 and "not empty" in busy.stderr
