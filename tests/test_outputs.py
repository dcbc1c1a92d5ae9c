"""--out and --force never lose anything: a folder is replaced only when sortition wrote all of it
and it holds no input; an --out that cannot be written is bad input before any work is done."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sortition.errors import InputError
from sortition.io.outputs import MARKER, atomic_output_dir, check_output_dir, is_output_dir
from tests.helpers import run_cli, select_args

POOL = "id,gender\n1,f\n2,m\n3,f\n4,m\n"
QUOTAS = "feature,value,min,max\ngender,f,1,1\ngender,m,1,1\n"


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _select(pool: Path, quotas: Path, out: Path | str, *extra: str, cwd: Path | None = None):
    return run_cli(select_args(pool, quotas, 2, *extra, seed="s", out=out), cwd=cwd)


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path, Path]:
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "pool.csv").write_text(POOL, encoding="utf-8")
    (folder / "quotas.csv").write_text(QUOTAS, encoding="utf-8")
    (folder / "notes.txt").write_text("the organiser's notes", encoding="utf-8")
    return folder, folder / "pool.csv", folder / "quotas.csv"


def test_force_never_replaces_a_folder_holding_the_inputs(inputs: tuple[Path, Path, Path]) -> None:
    folder, pool, quotas = inputs
    before = _files(folder)
    result = _select(pool, quotas, folder, "--force")
    assert result.exit_code == 2, result.stdout
    assert "holds the input file" in result.stderr and "Traceback" not in result.stderr
    assert _files(folder) == before


def test_force_with_out_dot_is_refused_cleanly(inputs: tuple[Path, Path, Path]) -> None:
    folder, _pool, _quotas = inputs
    before = _files(folder)
    result = _select(Path("pool.csv"), Path("quotas.csv"), ".", "--force", cwd=folder)
    assert result.exit_code == 2, result.stderr
    assert "internal error" not in result.stderr
    assert _files(folder) == before
    assert [p.name for p in folder.parent.iterdir() if p.name.startswith(".")] == []


def test_force_refuses_a_folder_sortition_did_not_write(inputs: tuple[Path, Path, Path]) -> None:
    folder, pool, quotas = inputs
    out = folder.parent / "mine"
    out.mkdir()
    (out / "keep.txt").write_text("mine", encoding="utf-8")
    result = _select(pool, quotas, out, "--force")
    assert result.exit_code == 2
    assert "was not written by sortition" in result.stderr
    assert _files(out) == {"keep.txt": b"mine"}


def test_force_replaces_its_own_output_but_not_files_added_to_it(
    inputs: tuple[Path, Path, Path],
) -> None:
    folder, pool, quotas = inputs
    out = folder.parent / "panel"
    assert _select(pool, quotas, out).exit_code == 0
    marker = json.loads((out / MARKER).read_text(encoding="utf-8"))
    assert marker["files"] == sorted(p.name for p in out.iterdir() if p.name != MARKER)
    assert "record.json" in marker["files"]
    assert is_output_dir(out)
    again = _select(pool, quotas, out)
    assert again.exit_code == 2 and "pass --force" in again.stderr
    assert _select(pool, quotas, out, "--force").exit_code == 0
    (out / "minutes.docx").write_text("notes", encoding="utf-8")
    assert not is_output_dir(out)
    refused = _select(pool, quotas, out, "--force")
    assert refused.exit_code == 2 and "minutes.docx" in refused.stderr
    assert (out / "minutes.docx").exists()


def test_an_earlier_output_used_as_input_is_never_replaced(
    inputs: tuple[Path, Path, Path],
) -> None:
    folder, pool, quotas = inputs
    out = folder.parent / "panel"
    assert _select(pool, quotas, out).exit_code == 0
    before = _files(out)
    result = _select(out / "remaining.csv", quotas, out, "--force")
    assert result.exit_code == 2 and "holds the input file" in result.stderr
    assert _files(out) == before


@pytest.mark.parametrize("out", ["/proc/sortition-out", "/proc/self/x/y"])
def test_an_unwritable_out_is_bad_input_before_any_work(
    inputs: tuple[Path, Path, Path], out: str
) -> None:
    _, pool, quotas = inputs
    result = _select(pool, quotas, out, "--algorithm", "leximin")
    assert result.exit_code == 2, result.stderr
    assert "cannot be" in result.stderr and "internal error" not in result.stderr
    assert "LEXIMIN" not in result.stderr + result.stdout  # refused before the computation


def test_an_out_below_a_file_is_bad_input(inputs: tuple[Path, Path, Path]) -> None:
    folder, pool, quotas = inputs
    result = _select(pool, quotas, folder / "notes.txt" / "out")
    assert result.exit_code == 2 and "not a folder" in result.stderr


def test_an_interrupted_write_leaves_the_old_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with atomic_output_dir(out, False) as staging:
        (staging / "a.txt").write_text("first", encoding="utf-8")
    with pytest.raises(KeyboardInterrupt), atomic_output_dir(out, True) as staging:
        (staging / "a.txt").write_text("second", encoding="utf-8")
        raise KeyboardInterrupt
    assert (out / "a.txt").read_text(encoding="utf-8") == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_check_output_dir_library_call(tmp_path: Path) -> None:
    (tmp_path / "pool.csv").write_text(POOL, encoding="utf-8")
    with pytest.raises(InputError, match="holds the input file"):
        check_output_dir(tmp_path, True, [tmp_path / "pool.csv"])
    check_output_dir(tmp_path / "new", False, [tmp_path / "pool.csv"])
    assert not (tmp_path / "new").exists()


def test_the_demo_replaces_its_own_earlier_output(tmp_path: Path) -> None:
    first = run_cli(["demo", "--out", tmp_path / "demo"])
    assert first.exit_code == 0, first.stderr
    second = run_cli(["demo", "--out", tmp_path / "demo"])
    assert second.exit_code == 0, second.stderr
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x.txt").write_text("x", encoding="utf-8")
    refused = run_cli(["demo", "--out", tmp_path / "other"])
    assert refused.exit_code == 2 and (tmp_path / "other" / "x.txt").exists()
