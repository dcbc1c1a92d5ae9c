"""The public API (sortition/__init__.py, sortition/api.py, docs/api.md): the worked example runs,
``import sortition`` stays cheap, every public name resolves, and the API writes what the
command writes."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import sortition
from sortition import api
from tests.helpers import REPO, run_cli

EXAMPLE = REPO / "data" / "example"


def _python_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", markdown, flags=re.DOTALL | re.MULTILINE)


def test_the_worked_example_in_docs_api_runs(capsys: pytest.CaptureFixture[str]) -> None:
    blocks = _python_blocks((REPO / "docs" / "api.md").read_text(encoding="utf-8"))
    assert blocks, "docs/api.md has no python block"
    for block in blocks:
        exec(compile(block, "docs/api.md", "exec"), {"__name__": "docs_api"})
    printed = capsys.readouterr().out
    assert "publish: " in printed
    assert "20 selected" in printed
    assert "MISMATCH" not in printed
    assert "leximin smallest probability" in printed


def test_import_sortition_does_not_load_the_heavy_libraries() -> None:
    """The console script imports sortition.cancel (and so the package) before anything else,
    to handle Ctrl-C during start-up: it must not wait for pandas, NumPy or OR-Tools."""
    heavy = ("pandas", "numpy", "ortools", "pyarrow", "scipy", "sortition.api")
    code = (
        "import sys, sortition, sortition.cancel\n"
        f"print(' '.join(m for m in {heavy!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert result.stdout.strip() == ""


def test_every_public_name_resolves() -> None:
    for name in sortition.__all__:
        assert getattr(sortition, name) is getattr(api, name, sortition.__version__)
    assert set(sortition.__all__) <= set(dir(sortition))
    with pytest.raises(AttributeError):
        _ = sortition.no_such_name  # type: ignore[attr-defined]


def test_the_type_checking_imports_list_the_public_names() -> None:
    """What editors and mypy see (the TYPE_CHECKING block) is what __getattr__ loads."""
    tree = ast.parse(Path(sortition.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.If)
        for statement in node.body
        if isinstance(statement, ast.ImportFrom) and statement.module == "sortition.api"
        for alias in statement.names
    }
    assert imported == set(sortition.__all__) - {"__version__"}


def test_select_through_the_api_writes_what_the_command_writes(tmp_path: Path) -> None:
    pool, quotas = EXAMPLE / "pool.csv", EXAMPLE / "quotas.csv"
    result = run_cli(
        [
            "select",
            "--pool",
            str(pool),
            "--quotas",
            str(quotas),
            "-k",
            "20",
            "--household-columns",
            "address,postcode",
            "--seed",
            "api",
            "--out",
            str(tmp_path / "cli"),
        ]
    )
    assert result.exit_code == 0, result.stderr
    loaded = sortition.load(str(pool), str(quotas), 20, household_columns=("address", "postcode"))
    selection = sortition.select(loaded, "leximin", "api")
    written = sortition.write_selection(selection, tmp_path / "api")
    assert {path.name for path in written} == {
        path.name for path in (tmp_path / "cli").iterdir() if not path.name.startswith(".")
    }
    for path in written:
        assert path.read_bytes() == (tmp_path / "cli" / path.name).read_bytes(), path.name


def test_check_raises_infeasible_error_with_advice() -> None:
    loaded = sortition.load(EXAMPLE / "pool.csv", EXAMPLE / "quotas.csv", 30)
    with pytest.raises(sortition.InfeasibleError) as raised:
        sortition.check(loaded, time_limit=30)
    assert raised.value.exit_code == 3
    assert raised.value.advice


def test_bad_input_is_an_input_error_with_a_place(tmp_path: Path) -> None:
    quotas = tmp_path / "quotas.csv"
    quotas.write_text("feature,value,min,max\ngender,female,x,3\n", encoding="utf-8")
    with pytest.raises(sortition.InputError) as raised:
        sortition.read_quotas(quotas)
    problem = raised.value.problems[0]
    assert problem.file == "quotas.csv" and problem.row == 2
