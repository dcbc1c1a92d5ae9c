"""GOLDILOCKS: max p / m + gamma * m / min p over the quota polytope, realised by panels; checked
against brute force over every panel of small pools, and on the examples."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sortition.engine.goldilocks import goldilocks
from sortition.engine.settings import EngineSettings
from sortition.selection.service import load_input
from sortition.units import Distribution, UnitInstance, from_people, unit_instance
from tests.brute_force import (
    People,
    brute_goldilocks,
    brute_panels,
    feasible_cases,
    person_probability,
    random_people,
)
from tests.helpers import run_cli, runnable_instance, select_args


def _objective(dist: Distribution, unit: np.ndarray, selectable: np.ndarray, gamma: float) -> float:
    p = person_probability(dist, unit)
    m = float(p.sum()) / len(p)
    return float(p.max()) / m + gamma * m / float(p[selectable].min())


def _check(inst: UnitInstance, dist: Distribution) -> None:
    assert abs(dist.weights.sum() - 1) < 1e-9
    for row in dist.panels:
        assert inst.is_feasible_panel(row)


def _case(seed: int) -> tuple[People, np.ndarray] | None:
    """A random pool of 6-14 people (households in every other), and its feasible panels."""
    rng = np.random.default_rng(8000 + seed)
    people = random_people(rng, int(rng.integers(6, 15)), seed % 2 == 0)
    values, vmin, vmax, _, hh, k = people
    panels = brute_panels(values, vmin, vmax, hh, k)
    return (people, panels) if len(panels) else None


@pytest.mark.parametrize("gamma", [1.0, 0.3, 4.0])
def test_goldilocks_matches_brute_force(gamma: float) -> None:
    for _, (people, panels) in feasible_cases(range(14), _case, floor=10):
        values, vmin, vmax, fov, hh, k = people
        expected = brute_goldilocks(panels, gamma)
        selectable = np.asarray(panels.any(axis=0), dtype=bool)
        for by_type in (False, True):
            inst, unit = from_people(values, vmin, vmax, fov, hh, k, by_type=by_type)
            dist = goldilocks(inst, settings=EngineSettings(gamma=gamma))
            _check(inst, dist)
            got = _objective(dist, unit, selectable, gamma)
            assert got == pytest.approx(expected, rel=1e-6), (got, expected)
            certificate = dist.certificate
            assert certificate is not None and certificate.sense == "min"
            assert certificate.value == pytest.approx(got, rel=1e-9)
            assert certificate.bound <= expected * (1 + 1e-7)  # a lower bound on the optimum
            assert certificate.certified, certificate


@pytest.mark.parametrize(("seed", "with_households"), [(749, False), (858, True)])
def test_goldilocks_where_the_relaxation_is_not_tight(seed: int, with_households: bool) -> None:
    """The pools whose quota polytope has a better MAXIMIN than their panels (tests/
    test_maximin.py): the search over panels still finds the optimum."""
    rng = np.random.default_rng(seed)
    values, vmin, vmax, fov, hh, k = random_people(rng, int(rng.integers(6, 13)), with_households)
    panels = brute_panels(values, vmin, vmax, hh, k)
    selectable = np.asarray(panels.any(axis=0), dtype=bool)
    inst, unit = from_people(values, vmin, vmax, fov, hh, k, by_type=True)
    for gamma in (1.0, 10.0):
        expected = brute_goldilocks(panels, gamma)
        dist = goldilocks(inst, settings=EngineSettings(gamma=gamma))
        _check(inst, dist)
        assert _objective(dist, unit, selectable, gamma) == pytest.approx(expected, rel=1e-6)
        assert dist.certificate is not None and dist.certificate.certified
        assert "golden_steps" in dist.stats  # the search over panels gave it


def test_gamma_one_gives_everyone_k_over_n_on_example_small_20() -> None:
    case = runnable_instance("example_small_20")
    loaded = load_input(case.pool, case.quotas, case.k)
    inst, unit = unit_instance(loaded.instance, True)
    dist = goldilocks(inst)
    p = person_probability(dist, unit)
    mean = 20 / len(p)
    assert np.allclose(p, mean, atol=1e-9)
    assert dist.certificate is not None
    assert dist.certificate.value == pytest.approx(2.0, abs=1e-9)
    assert dist.certificate.certified


def test_select_goldilocks_with_gamma_and_verify_recompute(
    tmp_path: Path, example_dir: Path
) -> None:
    out = tmp_path / "out"
    args = select_args(
        example_dir / "pool.csv", example_dir / "quotas.csv", 20, "--gamma", "2.5",
        algorithm="goldilocks", seed="gold", out=out,
    )  # fmt: skip
    result = run_cli(args)
    assert result.exit_code == 0, result.stderr
    record = json.loads((out / "record.json").read_text(encoding="utf-8"))
    assert record["algorithm"] == "goldilocks" and record["parameters"]["gamma"] == 2.5
    certificate = record["distribution"]["certificate"]
    assert certificate["objective"] == "goldilocks" and certificate["sense"] == "min"
    verified = run_cli(["verify", out / "record.json", "--recompute"])
    assert verified.exit_code == 0, verified.stdout
    assert "optimal (certified)" in verified.stdout
    # Another gamma is another optimum: the recorded bound and value no longer hold.
    record["parameters"]["gamma"] = 1.0
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(record), encoding="utf-8")
    assert run_cli(["verify", tampered, "--recompute"]).exit_code == 1


def test_gamma_is_refused_below_zero(tmp_path: Path, example_dir: Path) -> None:
    args = select_args(
        example_dir / "pool.csv", example_dir / "quotas.csv", 20, "--gamma", "-1",
        algorithm="goldilocks", seed="gold", out=tmp_path / "out",
    )  # fmt: skip
    result = run_cli(args)
    assert result.exit_code == 2
    assert "--gamma" in result.stderr
    assert not (tmp_path / "out").exists()
