"""Feasibility and relaxation advice: correct, feasible and minimal (against brute force)."""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model

from sortition.engine import feasibility as engine_feasibility
from sortition.io.pool import read_pool
from sortition.io.quotas import read_quotas
from sortition.model import Instance, Pool, Quotas, ValueQuota
from sortition.selection import feasibility
from sortition.selection.feasibility import diagnose
from tests.helpers import run_cli, runnable_instance


def apply_relaxation(instance: Instance) -> Instance:
    diagnosis = diagnose(instance)
    assert diagnosis.relaxation is not None
    rows = list(instance.quotas.rows)
    for change in diagnosis.relaxation.changes:
        rows[change.value_index] = dataclasses.replace(
            rows[change.value_index], **{change.bound: change.new}
        )
    return Instance(instance.pool, Quotas(tuple(rows)), instance.k)


@st.composite
def small_instances(draw: st.DrawFn) -> Instance:
    n = draw(st.integers(3, 8))
    value_counts = draw(st.lists(st.integers(2, 3), min_size=1, max_size=3))
    rows: list[ValueQuota] = []
    columns = []
    offset = 0
    for j, count in enumerate(value_counts):
        for v in range(count):
            low = draw(st.integers(0, 3))
            high = draw(st.integers(low, 4))
            min_flex = draw(st.one_of(st.none(), st.integers(0, low)))
            max_flex = draw(st.one_of(st.none(), st.integers(high, 5)))
            rows.append(ValueQuota(f"f{j}", f"v{v}", low, high, min_flex, max_flex))
        columns.append(
            offset + np.array(draw(st.lists(st.integers(0, count - 1), min_size=n, max_size=n)))
        )
        offset += count
    households = None
    if draw(st.booleans()):
        households = np.array(draw(st.lists(st.integers(0, n - 1), min_size=n, max_size=n)))
        _, households = np.unique(households, return_inverse=True)  # renumber 0..
    pool = Pool(
        ids=tuple(f"p{i}" for i in range(n)),
        values=np.stack(columns, axis=1),
        households=households,
        source_rows=np.arange(n),
    )
    k = draw(st.integers(1, n))
    return Instance(pool, Quotas(tuple(rows)), k)


def brute_force_relaxation(instance: Instance) -> int | None:
    """Minimal total change over every admissible panel, or None when none is admissible."""
    quotas = instance.quotas
    best: int | None = None
    for panel in itertools.combinations(range(instance.pool.size), instance.k):
        members = np.array(panel)
        households = instance.pool.households
        if households is not None and len(set(households[members].tolist())) < len(members):
            continue
        counts = instance.panel_counts(members)
        change = 0
        admissible = True
        for quota, count in zip(quotas.rows, counts, strict=True):
            floor = 0 if quota.min_flex is None else quota.min_flex
            ceiling = max(quota.max, instance.k) if quota.max_flex is None else quota.max_flex
            if not floor <= count <= ceiling:
                admissible = False
                break
            change += max(0, quota.min - count) + max(0, count - quota.max)
        if admissible and (best is None or change < best):
            best = change
    return best


@settings(max_examples=80, deadline=None)
@given(small_instances())
def test_relaxation_is_feasible_and_minimal(instance: Instance) -> None:
    expected = brute_force_relaxation(instance)
    diagnosis = diagnose(instance)
    assert diagnosis.feasible == (expected == 0)
    if diagnosis.feasible:
        assert diagnosis.example_panel is not None
        counts = instance.panel_counts(diagnosis.example_panel)
        assert (counts >= instance.quotas.mins).all() and (counts <= instance.quotas.maxs).all()
        return
    if expected is None:
        assert diagnosis.relaxation is None
        return
    assert diagnosis.relaxation is not None
    assert diagnosis.relaxation.total_change == expected
    assert diagnose(apply_relaxation(instance)).feasible


def test_tightened_real_instance_gets_feasible_minimal_advice() -> None:
    case = runnable_instance("ces11_k60")
    quotas = read_quotas(case.quotas)
    pool = read_pool(case.pool, quotas).pool
    rows = list(quotas.rows)
    # Ask for more Quebecers and more university graduates than the pool can jointly give.
    for v, quota in enumerate(rows):
        if (quota.feature, quota.value) in {("province", "QC"), ("education", "bachelors")}:
            rows[v] = dataclasses.replace(quota, min=quota.max + 6, max=quota.max + 6)
    tightened = Instance(pool, Quotas(tuple(rows)), case.k)
    diagnosis = diagnose(tightened)
    assert not diagnosis.feasible
    assert diagnosis.relaxation is not None and diagnosis.relaxation.optimal
    assert diagnosis.relaxation.total_change > 0
    assert diagnose(apply_relaxation(tightened)).feasible
    # Minimal: undoing any one unit of the advice is infeasible again.
    for change in diagnosis.relaxation.changes:
        relaxed = apply_relaxation(tightened)
        step = 1 if change.new < change.old else -1
        partial = list(relaxed.quotas.rows)
        partial[change.value_index] = dataclasses.replace(
            partial[change.value_index], **{change.bound: change.new + step}
        )
        assert not diagnose(Instance(pool, Quotas(tuple(partial)), case.k)).feasible


def _files(tmp_path: Path, quotas: str) -> tuple[Path, Path]:
    pool = tmp_path / "pool.csv"
    pool.write_text(
        "id,gender,age\n1,female,young\n2,male,old\n3,female,old\n4,male,young\n5,female,old\n",
        encoding="utf-8",
    )
    quota_path = tmp_path / "quotas.csv"
    quota_path.write_text("feature,value,min,max\n" + quotas, encoding="utf-8")
    return pool, quota_path


INFEASIBLE = {
    "mins above k": (
        "gender,female,2,3\ngender,male,2,3\nage,young,0,3\nage,old,0,3\n",
        3,
        ["gender: the mins add up to 4, more than k = 3"],
    ),
    "maxes below k": (
        "gender,female,1,1\ngender,male,0,1\nage,young,0,3\nage,old,0,3\n",
        3,
        ["gender: the maxes add up to 2, less than k = 3"],
    ),
    "value nobody has": (
        "gender,female,0,3\ngender,male,0,3\ngender,other,1,1\nage,young,0,3\nage,old,0,3\n",
        3,
        [
            "gender other: min is 1 but nobody in the pool has this value",
            "gender other: lower min from 1 to 0",
        ],
    ),
    "joint conflict": (
        "gender,female,0,0\ngender,male,2,2\nage,young,0,0\nage,old,2,2\n",
        2,
        ["conflict involves", "total change: 2"],
    ),
    "k above pool": (
        "gender,female,0,9\ngender,male,0,9\nage,young,0,9\nage,old,0,9\n",
        6,
        ["k = 6 is larger than the pool (5 people)"],
    ),
}


def test_each_infeasible_case_exits_3_with_advice(tmp_path: Path) -> None:
    for name, (quotas, k, fragments) in INFEASIBLE.items():
        folder = tmp_path / name.replace(" ", "_")
        folder.mkdir()
        pool, quota_path = _files(folder, quotas)
        for command in ("check", "select"):
            out = folder / "out"
            args = [command, "--pool", pool, "--quotas", quota_path, "-k", k]
            if command == "select":
                args += ["--seed", "x", "--out", out]
            result = run_cli(args)
            assert result.exit_code == 3, (name, result.stderr)
            assert "the quotas cannot be met" in result.stderr
            for fragment in fragments:
                assert fragment in result.stderr, (name, fragment, result.stderr)
            assert not out.exists()


def test_check_reports_feasible_with_household_rule(tmp_path: Path) -> None:
    pool, quotas = _files(
        tmp_path, "gender,female,1,2\ngender,male,1,2\nage,young,1,2\nage,old,1,2\n"
    )
    result = run_cli(["check", "--pool", pool, "--quotas", quotas, "-k", 3])
    assert result.exit_code == 0, result.stderr
    assert "feasible" in result.stdout
    assert "female" in result.stdout  # the quota/pool table


def test_household_rule_can_make_quotas_infeasible(tmp_path: Path) -> None:
    pool = tmp_path / "pool.csv"
    pool.write_text(
        "id,gender,home\n1,female,A\n2,female,A\n3,male,B\n4,male,C\n", encoding="utf-8"
    )
    quotas = tmp_path / "quotas.csv"
    quotas.write_text("feature,value,min,max\ngender,female,2,2\ngender,male,1,1\n", "utf-8")
    base = ["check", "--pool", pool, "--quotas", quotas, "-k", 3]
    assert run_cli(base).exit_code == 0
    result = run_cli([*base, "--household-columns", "home"])
    assert result.exit_code == 3
    assert "gender female: lower min from 2 to 1" in result.stderr


# Issue 13: advice that only names what the file has, and check --time-limit for the whole run.


def test_k_above_the_pool_gets_a_plain_message_without_flex_advice(tmp_path: Path) -> None:
    pool, quotas = _files(
        tmp_path, "gender,female,0,9\ngender,male,0,9\nage,young,0,9\nage,old,0,9\n"
    )
    result = run_cli(["check", "--pool", pool, "--quotas", quotas, "-k", 6])
    assert result.exit_code == 3
    assert "k = 6 is larger than the pool (5 people)" in result.stderr
    assert "lower k to 5 or less, or recruit more volunteers" in result.stderr
    assert "flex" not in result.stderr
    assert "maxes add up" not in result.stderr  # no quota change can help: not about quotas


def test_k_above_the_households_gets_a_plain_message(tmp_path: Path) -> None:
    pool = tmp_path / "pool.csv"
    pool.write_text("id,gender,home\n1,female,A\n2,female,A\n3,male,B\n", encoding="utf-8")
    quotas = tmp_path / "quotas.csv"
    quotas.write_text("feature,value,min,max\ngender,female,0,3\ngender,male,0,3\n", "utf-8")
    args = ["check", "--pool", pool, "--quotas", quotas, "-k", 3, "--household-columns", "home"]
    result = run_cli(args)
    assert result.exit_code == 3
    assert "larger than the number of households (2)" in result.stderr
    assert "lower k to 2 or less" in result.stderr
    assert "flex" not in result.stderr


def test_flex_advice_only_when_the_file_has_flex_bounds(tmp_path: Path) -> None:
    pool, _ = _files(tmp_path, "")
    quotas = tmp_path / "flex.csv"
    quotas.write_text(
        "feature,value,min,max,min_flex,max_flex\ngender,female,4,4,4,4\ngender,male,0,2,0,2\n"
        "age,young,0,3,,\nage,old,0,3,,\n",
        encoding="utf-8",
    )
    result = run_cli(["check", "--pool", pool, "--quotas", quotas, "-k", 3])
    assert result.exit_code == 3
    assert "within their min_flex/max_flex bounds" in result.stderr


def _slow(seconds: float, real: Callable[..., Any]) -> Callable[..., Any]:
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        time.sleep(seconds)
        return real(*args, **kwargs)

    return wrapped


def test_check_time_limit_covers_the_whole_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The greedy attempts, the feasibility model and the relaxation share one budget: when the
    first steps use it up, check stops with exit 4 and decides nothing."""
    pool, quotas = _files(
        tmp_path, "gender,female,1,2\ngender,male,1,2\nage,young,1,2\nage,old,1,2\n"
    )
    monkeypatch.setattr(feasibility, "_greedy_panel", _slow(0.4, lambda *a, **k: None))
    result = run_cli(["check", "--pool", pool, "--quotas", quotas, "-k", 3, "--time-limit", 0.3])
    assert result.exit_code == 4, result.stderr
    assert "error (time limit)" in result.stderr
    assert "could not decide within the time limit of 0.3 s" in result.stderr
    assert "feasible" not in result.stdout


def test_the_relaxation_gets_what_is_left_of_the_time_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool, quotas = _files(
        tmp_path, "gender,female,0,0\ngender,male,2,2\nage,young,0,0\nage,old,2,2\n"
    )
    seen: list[float] = []

    def relax(instance: Instance, time_limit: float) -> Any:
        seen.append(time_limit)
        return engine_feasibility.relax_quotas(instance, time_limit)

    monkeypatch.setattr(feasibility, "find_panel", _slow(0.5, engine_feasibility.find_panel))
    monkeypatch.setattr(feasibility, "relax_quotas", relax)
    quota_rows = read_quotas(quotas)
    instance = Instance(read_pool(pool, quota_rows).pool, quota_rows, 2)
    diagnosis = feasibility.diagnose(instance, time_limit=2.0)
    assert not diagnosis.feasible
    assert seen and seen[0] <= 1.5


def test_a_relaxation_cut_short_by_the_time_limit_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """CP-SAT stopped by the time limit (UNKNOWN) has not shown that no relaxation exists."""

    def out_of_time(model: Any, time_limit: float) -> Any:
        return cp_model.CpSolver(), cp_model.UNKNOWN

    monkeypatch.setattr(engine_feasibility.QuotaRelaxation, "solve", out_of_time)
    pool = Pool(("a", "b"), np.array([[0], [0]]), None, np.arange(2))
    quotas = Quotas((ValueQuota("g", "x", 0, 1), ValueQuota("g", "y", 1, 1)))
    diagnosis = diagnose(Instance(pool, quotas, 2))
    assert not diagnosis.feasible and diagnosis.relaxation is None
    assert any("time limit" in line for line in diagnosis.advice())
    assert not any("no change of the quotas" in line for line in diagnosis.advice())
