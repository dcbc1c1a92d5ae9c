"""DIVERSIMAX (docs/diversity.md): the most diverse panel against brute force on small pools."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np

from sortition.engine.diversimax import diversimax, most_diverse
from sortition.engine.diversity import measure_of
from sortition.units import from_people
from tests.brute_force import brute_panels, feasible_cases, random_people
from tests.helpers import assert_panel_meets_quotas, run_cli, runnable_instance, select_args


def _brute_best(values: np.ndarray, vmin, vmax, fov, households, k) -> Fraction | None:  # type: ignore[no-untyped-def]
    panels = brute_panels(values, vmin, vmax, households, k)
    if not len(panels):
        return None
    measure = measure_of(values, fov, k)
    return min(measure.exact_score(values[np.flatnonzero(row)]) for row in panels)


def test_diversimax_finds_the_minimum_score_by_brute_force() -> None:
    """On small random pools (up to 14 people, with and without households), DIVERSIMAX's
    panel is feasible, its score is the brute-force minimum, and its bound proves it."""

    def make(seed: int) -> tuple | None:  # type: ignore[type-arg]
        rng = np.random.default_rng(seed)
        n = int(rng.integers(6, 15))
        people = random_people(rng, n, with_households=seed % 2 == 1)
        best = _brute_best(*people)
        return None if best is None else (people, best)

    checked = 0
    for _, (people, best) in feasible_cases(range(60), make, floor=30):
        values, vmin, vmax, fov, households, k = people
        for by_type in (True, False):
            inst, _ = from_people(values, vmin, vmax, fov, households, k, by_type)
            found = most_diverse(inst)
            assert inst.is_feasible_panel(found.counts)
            assert found.optimal
            assert abs(found.score - float(best)) < 1e-9
            assert found.bound <= found.score + 1e-12
            assert found.gap < 1e-9
            dist = diversimax(inst)
            assert dist.certificate is not None and dist.certificate.value == found.score
            assert np.allclose(dist.unit_probability * inst.capacity, found.counts)
        checked += 1
    assert checked >= 30


def test_select_diversimax_then_verify_as_a_user_types(tmp_path: Path) -> None:
    """`select --algorithm diversimax` writes the one panel with its certificate; `verify`
    re-computes the score from the record (and --recompute the panel); a record whose stated
    score was changed fails (exit 1); the same seed gives byte-identical files."""
    case = runnable_instance("example_small_20")
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        args = select_args(
            case.pool, case.quotas, case.k, algorithm="diversimax", seed="diverse", out=out
        )
        result = run_cli(args)
        assert result.exit_code == 0, result.stderr
        assert "diversity score" in result.stdout
        outs.append(out)
    for file in ("record.json", "selected.csv", "distribution.json"):
        assert (outs[0] / file).read_bytes() == (outs[1] / file).read_bytes()
    assert_panel_meets_quotas(outs[0] / "selected.csv", case.quotas, case.k)
    record = json.loads((outs[0] / "record.json").read_text(encoding="utf-8"))
    certificate = record["distribution"]["certificate"]
    assert certificate["objective"] == "diversity score" and certificate["sense"] == "min"
    assert len(record["distribution"]["panels"]) == 1
    verified = run_cli(["verify", outs[0] / "record.json", "--recompute"])
    assert verified.exit_code == 0, verified.stdout
    assert "[ok] diversity: the drawn panel scores" in verified.stdout
    certificate["value"] += 1
    certificate["bound"] += 1
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(record), encoding="utf-8")
    failed = run_cli(["verify", tampered])
    assert failed.exit_code == 1
    assert "[MISMATCH] diversity: the drawn panel scores" in failed.stdout
    assert "[MISMATCH] certificate" in failed.stdout
