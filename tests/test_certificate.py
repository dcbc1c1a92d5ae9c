"""The certificate of every fair distribution: a valid bound on the optimum (checked against brute
force), the value the distribution reaches, the gap; in the record (version 5), checked by
`verify` and re-derived by `verify --recompute`; in the audit report."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from sortition.engine.leximin import leximin
from sortition.engine.maximin import maximin
from sortition.engine.nash import nash
from sortition.units import CERTIFIED_GAP, Distribution, from_people
from tests.brute_force import (
    People,
    brute_leximin,
    brute_panels,
    feasible_cases,
    person_probability,
    random_people,
)
from tests.helpers import run_cli, select_args


def _case(seed: int) -> tuple[People, np.ndarray] | None:
    rng = np.random.default_rng(7000 + seed)
    people = random_people(rng, int(rng.integers(6, 13)), seed % 2 == 0)
    values, vmin, vmax, _, hh, k = people
    panels = brute_panels(values, vmin, vmax, hh, k)
    return (people, panels) if len(panels) else None


def _smallest(dist: Distribution, unit: np.ndarray, selectable: np.ndarray) -> float:
    return float(person_probability(dist, unit)[selectable].min())


def test_certificates_bound_the_brute_force_optimum() -> None:
    for _, (people, panels) in feasible_cases(range(16), _case, floor=12):
        values, vmin, vmax, fov, hh, k = people
        selectable = np.asarray(panels.any(axis=0), dtype=bool)
        optimum = float(brute_leximin(panels)[selectable].min())
        inst, unit = from_people(values, vmin, vmax, fov, hh, k, by_type=True)
        for solve in (maximin, leximin):
            dist = solve(inst)
            certificate = dist.certificate
            assert certificate is not None
            assert certificate.objective == "smallest probability"
            assert certificate.sense == "max"
            assert certificate.bound >= optimum - 1e-9  # a bound on the optimum over panels
            assert certificate.value == pytest.approx(_smallest(dist, unit, selectable), abs=1e-12)
            assert certificate.certified, certificate
        levels = leximin(inst).certificate
        assert levels is not None and levels.levels and levels.levels[0] == levels.bound
        dist = nash(inst)
        certificate = dist.certificate
        assert certificate is not None and certificate.objective == "mean log probability"
        p = person_probability(dist, unit)[selectable]
        assert certificate.value == pytest.approx(float(np.log(p).mean()), abs=1e-9)
        assert certificate.bound >= certificate.value
        assert certificate.gap == pytest.approx(certificate.bound - certificate.value, abs=1e-12)
        assert certificate.gap <= 1e-6


def test_certificate_where_the_relaxation_is_not_tight() -> None:
    """Pool 749 of tests.brute_force.random_people: the relaxation's bound is above the optimum,
    so the certificate's bound comes from column generation, and still certifies it."""
    rng = np.random.default_rng(749)
    values, vmin, vmax, fov, hh, k = random_people(rng, int(rng.integers(6, 13)), False)
    panels = brute_panels(values, vmin, vmax, hh, k)
    inst, _ = from_people(values, vmin, vmax, fov, hh, k, by_type=True)
    selectable = panels.any(axis=0)
    optimum = float(brute_leximin(panels)[selectable].min())
    for solve in (maximin, leximin):
        certificate = solve(inst).certificate
        assert certificate is not None and certificate.certified
        assert certificate.bound == pytest.approx(optimum, abs=1e-7)


def _select(example_dir: Path, out: Path, algorithm: str) -> dict[str, object]:
    result = run_cli(
        select_args(
            example_dir / "pool.csv",
            example_dir / "quotas.csv",
            20,
            algorithm=algorithm,
            seed="certificate",
            out=out,
        )
    )
    assert result.exit_code == 0, result.stderr
    record: dict[str, object] = json.loads((out / "record.json").read_text(encoding="utf-8"))
    return record


def _line(stdout: str, item: str) -> str:
    return next(line for line in stdout.splitlines() if f"] {item}:" in line)


@pytest.mark.parametrize("algorithm", ["maximin", "leximin", "nash"])
def test_record_carries_the_certificate_and_verify_checks_it(
    tmp_path: Path, example_dir: Path, algorithm: str
) -> None:
    record = _select(example_dir, tmp_path / "out", algorithm)
    assert record["version"] == 6
    distribution = record["distribution"]
    assert isinstance(distribution, dict)
    certificate = distribution["certificate"]
    assert certificate["gap"] <= CERTIFIED_GAP
    stored = json.loads((tmp_path / "out" / "distribution.json").read_text(encoding="utf-8"))
    assert stored["certificate"] == certificate
    result = run_cli(["verify", tmp_path / "out" / "record.json", "--recompute"])
    assert result.exit_code == 0, result.stdout
    assert "optimal (certified)" in _line(result.stdout, "certificate")
    assert "certificate's bound" in _line(result.stdout, "recompute")


def _tampered(tmp_path: Path, example_dir: Path, field: str, change: float) -> str:
    record = _select(example_dir, tmp_path / "out", "maximin")
    distribution = record["distribution"]
    assert isinstance(distribution, dict)
    distribution["certificate"][field] += change
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    result = run_cli(["verify", path, "--recompute"])
    assert result.exit_code == 1
    return result.stdout


def test_verify_finds_a_wrong_value(tmp_path: Path, example_dir: Path) -> None:
    stdout = _tampered(tmp_path, example_dir, "value", 0.01)
    assert _line(stdout, "certificate").startswith("[MISMATCH]")
    assert "the distribution gives" in _line(stdout, "certificate")


def test_recompute_finds_a_wrong_bound(tmp_path: Path, example_dir: Path) -> None:
    stdout = _tampered(tmp_path, example_dir, "bound", 0.01)
    assert "certificate bound" in _line(stdout, "recompute")
    assert _line(stdout, "recompute").startswith("[MISMATCH]")


def test_audit_report_says_optimal(tmp_path: Path, example_dir: Path) -> None:
    result = run_cli(
        [
            "audit",
            "--pool",
            example_dir / "pool.csv",
            "--quotas",
            example_dir / "quotas.csv",
            "-k",
            "20",
            "--algorithms",
            "maximin,leximin",
            "--seed",
            "certificate",
            "--out",
            tmp_path / "audit",
        ]
    )
    assert result.exit_code == 0, result.stderr
    report = (tmp_path / "audit" / "report.html").read_text(encoding="utf-8")
    assert report.count("optimal (certified)") == 2
    metrics = json.loads((tmp_path / "audit" / "metrics.json").read_text(encoding="utf-8"))
    assert not math.isnan(metrics["maximin"]["certificate"]["bound"])
