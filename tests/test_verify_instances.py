"""select → verify and commit → draw → verify on the four runnable instances."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import RUNNABLE, run_cli, runnable_instance, select_args

# ces11_k60 runs LEXIMIN twice (select, then verify re-runs it): about 40 s; gss_k150 about 10 s
# with two workers (its LEXIMIN is verified by default in tests/test_lottery_instances.py).
FAST_FAIR = {"example_small_20", "example_large_200"}


def _cases() -> list[object]:
    cases: list[object] = []
    for name in sorted(RUNNABLE):
        cases.append(pytest.param(name, "legacy", id=f"{name}-legacy"))
        marks = () if name in FAST_FAIR else (pytest.mark.slow,)
        cases.append(pytest.param(name, "leximin", id=f"{name}-leximin", marks=marks))
    return cases


@pytest.mark.parametrize(("name", "algorithm"), _cases())
def test_select_verify_and_commit_draw_verify(tmp_path: Path, name: str, algorithm: str) -> None:
    case = runnable_instance(name)
    files = ["--pool", case.pool, "--quotas", case.quotas]
    selected = run_cli(
        select_args(
            case.pool, case.quotas, case.k, algorithm=algorithm, seed="audit", out=tmp_path / "s"
        )
    )
    assert selected.exit_code == 0, selected.stderr
    verified = run_cli(["verify", tmp_path / "s" / "record.json", *files])
    assert verified.exit_code == 0, verified.stdout

    committed = run_cli(
        ["commit", *files, "-k", case.k, "--algorithm", algorithm, "--out", tmp_path / "c"]
    )
    assert committed.exit_code == 0, committed.stderr
    drawn = run_cli(
        [
            "draw",
            "--commitment",
            tmp_path / "c" / "commitment.json",
            "--seed",
            "audit",
            "--pool",
            case.pool,
            "--out",
            tmp_path / "d",
        ]
    )
    assert drawn.exit_code == 0, drawn.stderr
    verified = run_cli(["verify", tmp_path / "d" / "record.json", *files])
    assert verified.exit_code == 0, verified.stdout
    assert (tmp_path / "d" / "record.json").read_bytes() == (
        tmp_path / "s" / "record.json"
    ).read_bytes()
