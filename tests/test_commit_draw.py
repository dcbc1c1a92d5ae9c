"""Two-phase draw: `commit` publishes a digest before the seed exists, `draw` uses the seed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.helpers import run_cli, runnable_instance, select_args


@pytest.mark.parametrize("algorithm", ["legacy", "leximin"])
def test_commit_then_draw_equals_select(tmp_path: Path, example_dir: Path, algorithm: str) -> None:
    if algorithm == "legacy":
        pool, quotas, k = example_dir / "pool.csv", example_dir / "quotas.csv", 20
        extra = ["--household-columns", "address,postcode"]
    else:
        case = runnable_instance("example_small_20")
        pool, quotas, k, extra = case.pool, case.quotas, case.k, []
    committed = run_cli(
        [
            "commit",
            "--pool",
            pool,
            "--quotas",
            quotas,
            "-k",
            k,
            "--algorithm",
            algorithm,
            *extra,
            "--out",
            tmp_path / "c",
        ]
    )
    assert committed.exit_code == 0, committed.stderr
    commitment = tmp_path / "c" / "commitment.json"
    published = committed.stdout.strip().splitlines()[-1]
    assert published == hashlib.sha256(commitment.read_bytes()).hexdigest()
    assert "seed" not in json.loads(commitment.read_text(encoding="utf-8"))

    drawn = run_cli(
        [
            "draw",
            "--commitment",
            commitment,
            "--dice",
            "4,1,6",
            "--pool",
            pool,
            "--out",
            tmp_path / "d",
        ]
    )
    assert drawn.exit_code == 0, drawn.stderr
    record = json.loads((tmp_path / "d" / "record.json").read_text(encoding="utf-8"))
    assert record["commitment"]["sha256"] == published
    assert record["seed"]["value"] == "dice:4,1,6"

    selected = run_cli(
        select_args(
            pool, quotas, k, *extra, "--dice", "4,1,6", algorithm=algorithm, out=tmp_path / "s"
        )
    )
    assert selected.exit_code == 0, selected.stderr
    one_step = json.loads((tmp_path / "s" / "record.json").read_text(encoding="utf-8"))
    assert one_step == record
    for name in ("selected.csv", "remaining.csv", "record.json"):
        assert (tmp_path / "d" / name).read_bytes() == (tmp_path / "s" / name).read_bytes()
    verified = run_cli(
        ["verify", tmp_path / "d" / "record.json", "--pool", pool, "--quotas", quotas]
    )
    assert verified.exit_code == 0, verified.stdout


def test_draw_refuses_an_edited_commitment(tmp_path: Path, example_dir: Path) -> None:
    pool, quotas = example_dir / "pool.csv", example_dir / "quotas.csv"
    assert (
        run_cli(
            ["commit", "--pool", pool, "--quotas", quotas, "-k", 20, "--out", tmp_path / "c"]
        ).exit_code
        == 0
    )
    commitment = tmp_path / "c" / "commitment.json"
    data = json.loads(commitment.read_text(encoding="utf-8"))
    data["k"] = 21
    commitment.write_text(json.dumps(data), encoding="utf-8")
    result = run_cli(["draw", "--commitment", commitment, "--seed", "x", "--out", tmp_path / "d"])
    assert result.exit_code == 2
    assert "changed since" in result.stderr
    assert not (tmp_path / "d").exists()


def test_draw_refuses_another_pool(tmp_path: Path, example_dir: Path) -> None:
    pool, quotas = example_dir / "pool.csv", example_dir / "quotas.csv"
    assert (
        run_cli(
            ["commit", "--pool", pool, "--quotas", quotas, "-k", 20, "--out", tmp_path / "c"]
        ).exit_code
        == 0
    )
    other = tmp_path / "pool.csv"
    lines = pool.read_text(encoding="utf-8").splitlines()
    other.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")  # one volunteer fewer
    result = run_cli(
        [
            "draw",
            "--commitment",
            tmp_path / "c" / "commitment.json",
            "--seed",
            "x",
            "--pool",
            other,
            "--out",
            tmp_path / "d",
        ]
    )
    assert result.exit_code == 2
    assert "not the pool the commitment was made from" in result.stderr


def test_records_match_the_json_schema(tmp_path: Path, example_dir: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema_path = Path(__file__).resolve().parents[1] / "docs" / "record.schema.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    case = runnable_instance("example_small_20")
    runs = [
        [
            example_dir / "pool.csv",
            example_dir / "quotas.csv",
            20,
            "legacy",
            "--household-columns",
            "address,postcode",
        ],
        [case.pool, case.quotas, case.k, "leximin"],
        [case.pool, case.quotas, case.k, "maximin", "--per-person"],
        [case.pool, case.quotas, case.k, "leximin", "--panels", 10],
        [case.pool, case.quotas, case.k, "maximin", "--per-person", "--panels", 100],
    ]
    for number, (pool, quotas, k, algorithm, *extra) in enumerate(runs):
        out = tmp_path / str(number)
        result = run_cli(
            select_args(pool, quotas, k, *extra, algorithm=algorithm, seed="schema", out=out)
        )
        assert result.exit_code == 0, result.stderr
        record = json.loads((out / "record.json").read_text(encoding="utf-8"))
        errors = sorted(validator.iter_errors(record), key=str)
        assert not errors, errors[0].message
        record["draw"]["panel_number"] = 0
        assert list(validator.iter_errors(record))  # the schema can fail
