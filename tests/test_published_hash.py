"""The published hash is checked by the tool: `draw --expect`, `verify --expect`, full digests,
a seed source required for a draw from a commitment, and a commitment that does not hold together
refused even when saved canonically."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from sortition.record.draw import commitment_text
from tests.helpers import run_cli, runnable_instance


@pytest.fixture
def committed(tmp_path: Path) -> tuple[Path, str, Path]:
    case = runnable_instance("example_small_20")
    result = run_cli(
        ["commit", "--pool", case.pool, "--quotas", case.quotas, "-k", 20, "--out", tmp_path / "c"]
    )
    assert result.exit_code == 0, result.stderr
    published = result.stdout.strip().splitlines()[-1]
    return tmp_path / "c" / "commitment.json", published, case.pool


def _draw(commitment: Path, out: Path, *extra: object) -> object:
    return run_cli(["draw", "--commitment", commitment, "--out", out, *extra])


def test_draw_requires_a_seed_source(committed: tuple[Path, str, Path], tmp_path: Path) -> None:
    commitment, _, _ = committed
    result = _draw(commitment, tmp_path / "d")
    assert result.exit_code == 2
    assert "no seed source" in result.stderr and "--dice" in result.stderr
    assert not (tmp_path / "d").exists()


def test_draw_expect_accepts_the_published_hash(
    committed: tuple[Path, str, Path], tmp_path: Path
) -> None:
    commitment, published, _pool = committed
    result = _draw(commitment, tmp_path / "d", "--dice", "1,2", "--expect", published.upper())
    assert result.exit_code == 0, result.stderr
    assert "as published" in result.stdout
    checked = run_cli(["verify", tmp_path / "d" / "record.json", "--expect", published])
    assert checked.exit_code == 0, checked.stdout
    assert f"[ok] published commitment: matches the published {published}" in checked.stdout


def test_draw_expect_refuses_another_hash(
    committed: tuple[Path, str, Path], tmp_path: Path
) -> None:
    commitment, _published, _ = committed
    other = hashlib.sha256(b"another").hexdigest()
    result = _draw(commitment, tmp_path / "d", "--dice", "1,2", "--expect", other)
    assert result.exit_code == 2
    assert "not the commitment that was published" in result.stderr
    assert not (tmp_path / "d").exists()
    bad = _draw(commitment, tmp_path / "d", "--dice", "1,2", "--expect", "abc")
    assert bad.exit_code == 2 and "64 hex digits" in bad.stderr


def _tamper(commitment: Path, change: str) -> None:
    document = json.loads(commitment.read_text(encoding="utf-8"))
    if change == "k":
        document["k"] = 19
    else:
        panels = document["distribution"]["panels"]
        panels[0]["weight"], panels[1]["weight"] = panels[1]["weight"], panels[0]["weight"]
    commitment.write_text(commitment_text(document), encoding="utf-8")  # saved canonically


@pytest.mark.parametrize("change", ["k", "weights"])
def test_draw_refuses_a_canonically_saved_edit(
    committed: tuple[Path, str, Path], tmp_path: Path, change: str
) -> None:
    commitment, published, _ = committed
    _tamper(commitment, change)
    result = _draw(commitment, tmp_path / "d", "--dice", "1,2")
    assert result.exit_code == 2, result.stdout
    assert "does not hold together" in result.stderr
    assert not (tmp_path / "d").exists()
    with_expect = _draw(commitment, tmp_path / "d", "--dice", "1,2", "--expect", published)
    assert with_expect.exit_code == 2 and "not the commitment that was published" in (
        with_expect.stderr
    )


def test_verify_expect_names_a_record_of_another_commitment(
    committed: tuple[Path, str, Path], tmp_path: Path
) -> None:
    commitment, _published, _ = committed
    assert _draw(commitment, tmp_path / "d", "--seed", "x").exit_code == 0
    other = hashlib.sha256(b"another").hexdigest()
    result = run_cli(["verify", tmp_path / "d" / "record.json", "--expect", other])
    assert result.exit_code == 1
    assert f"not to the published {other}" in result.stdout


def test_verify_prints_full_digests(committed: tuple[Path, str, Path], tmp_path: Path) -> None:
    commitment, published, pool = committed
    assert _draw(commitment, tmp_path / "d", "--seed", "x").exit_code == 0
    result = run_cli(["verify", tmp_path / "d" / "record.json", "--pool", pool])
    assert result.exit_code == 0, result.stdout
    record = json.loads((tmp_path / "d" / "record.json").read_text(encoding="utf-8"))
    assert published in result.stdout
    assert record["inputs"]["pool"]["digest"] in result.stdout
    assert "…" not in result.stdout
