"""Shared fixtures: where the shared reference data lives, and a CLI runner."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from sortition_cli.main import cli

REPO = Path(__file__).resolve().parents[1]


def shared_data() -> Path:
    """../shared/data beside the checkout (CI lays it there), or $SORTITION_SHARED_DATA."""
    override = os.environ.get("SORTITION_SHARED_DATA")
    return Path(override) if override else REPO.parent / "shared" / "data"


@dataclass(frozen=True)
class RunnableInstance:
    name: str
    pool: Path
    quotas: Path
    k: int


RUNNABLE = {
    "example_small_20": ("real/example_small_20", 20),
    "example_large_200": ("real/example_large_200", 200),
    "ces11_k60": ("instances/ces11_k60", 60),
    "gss_k150": ("instances/gss_k150", 150),
}


def runnable_instance(name: str) -> RunnableInstance:
    folder, k = RUNNABLE[name]
    base = shared_data() / folder
    if not (base / "respondents.csv").exists():
        pytest.skip(f"shared instance {name} not found under {shared_data()}")
    return RunnableInstance(name, base / "respondents.csv", base / "categories.csv", k)


@dataclass(frozen=True)
class Result:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(args: Sequence[str], cwd: Path | None = None) -> Result:
    """Run the command as a user would (in-process, output captured separately)."""
    runner = CliRunner()
    old = Path.cwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        result = runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)
    finally:
        os.chdir(old)
    return Result(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def example_dir() -> Path:
    return REPO / "data" / "example"
