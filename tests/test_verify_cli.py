"""`sortition verify` as an auditor runs it: a checklist and the exit code."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import run_cli, select_args


def _select(tmp_path: Path, example_dir: Path) -> tuple[Path, Path, Path]:
    out = tmp_path / "out"
    pool, quotas = example_dir / "pool.csv", example_dir / "quotas.csv"
    result = run_cli(
        select_args(
            pool, quotas, 20, "--household-columns", "address,postcode", seed="audit", out=out
        )
    )
    assert result.exit_code == 0, result.stderr
    return out / "record.json", pool, quotas


def test_verify_passes_on_an_untouched_record(tmp_path: Path, example_dir: Path) -> None:
    record, pool, quotas = _select(tmp_path, example_dir)
    result = run_cli(["verify", record, "--pool", pool, "--quotas", quotas])
    assert result.exit_code == 0, result.stdout
    lines = result.stdout.splitlines()
    assert any(line.startswith("[ok] draw") for line in lines)
    assert any(line.startswith("[ok] pool file") for line in lines)
    assert "items match" in result.stdout


def test_verify_fails_on_a_changed_seed(tmp_path: Path, example_dir: Path) -> None:
    record, _, _ = _select(tmp_path, example_dir)
    data = json.loads(record.read_text(encoding="utf-8"))
    data["seed"]["value"] = "another seed"
    record.write_text(json.dumps(data), encoding="utf-8")
    result = run_cli(["verify", record])
    assert result.exit_code == 1
    mismatches = [line for line in result.stdout.splitlines() if line.startswith("[MISMATCH]")]
    assert len(mismatches) == 1 and mismatches[0].startswith("[MISMATCH] draw")


def test_verify_of_an_unreadable_record_exits_2(tmp_path: Path) -> None:
    record = tmp_path / "record.json"
    record.write_text("{not json", encoding="utf-8")
    result = run_cli(["verify", record])
    assert result.exit_code == 2
    assert "record.json" in result.stderr
