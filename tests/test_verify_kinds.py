"""`verify` never passes what it could not check: an invitation record needs its registry, and
options meant for the other kind of record are bad input rather than silently ignored."""

from __future__ import annotations

from pathlib import Path

import pytest

from sortition.synthetic.registries import generate_registry, write_registry
from tests.helpers import run_cli, select_args


@pytest.fixture
def invitation_record(tmp_path: Path) -> tuple[Path, Path]:
    registry = tmp_path / "registry.csv"
    write_registry(generate_registry(500, 3, "kinds"), registry)
    result = run_cli(
        ["invite", "--registry", registry, "--letters", 20, "--seed", "s", "--out", tmp_path / "l"]
    )
    assert result.exit_code == 0, result.stderr
    return tmp_path / "l" / "record.json", registry


def test_an_invitation_record_without_its_registry_is_not_a_pass(
    invitation_record: tuple[Path, Path],
) -> None:
    record, _ = invitation_record
    result = run_cli(["verify", record])
    assert result.exit_code == 2
    assert "--registry" in result.stderr and "match" not in result.stdout


def test_an_invitation_record_with_its_registry_verifies(
    invitation_record: tuple[Path, Path],
) -> None:
    record, registry = invitation_record
    result = run_cli(["verify", record, "--registry", registry])
    assert result.exit_code == 0, result.stdout + result.stderr


@pytest.mark.parametrize("option", [["--pool", "x.csv"], ["--recompute"], ["--expect", "0" * 64]])
def test_selection_options_on_an_invitation_record_are_bad_input(
    invitation_record: tuple[Path, Path], option: list[str]
) -> None:
    record, registry = invitation_record
    result = run_cli(["verify", record, "--registry", registry, *option])
    assert result.exit_code == 2
    assert option[0] in result.stderr and "does not apply" in result.stderr


def test_registry_on_a_selection_record_is_bad_input(tmp_path: Path, example_dir: Path) -> None:
    pool, quotas = example_dir / "pool.csv", example_dir / "quotas.csv"
    assert run_cli(select_args(pool, quotas, 20, seed="s", out=tmp_path / "p")).exit_code == 0
    result = run_cli(["verify", tmp_path / "p" / "record.json", "--registry", pool])
    assert result.exit_code == 2
    assert "--registry" in result.stderr and "does not apply" in result.stderr
