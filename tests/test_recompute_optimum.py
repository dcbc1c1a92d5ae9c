"""`verify --recompute` of a record written by other versions, for an objective whose optimum
does not fix every probability (MAXIMIN, GOLDILOCKS; NASH to its certified gap): a re-run that
reaches another optimal distribution passes when the record's own probabilities reach the
re-run's bound; LEXIMIN, whose optimum fixes every probability, never does, and a record of
these versions must give the same numbers (sortition.verify.distribution.same_optimum)."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

from sortition.verify.distribution import same_optimum
from tests.helpers import EXAMPLE, run_cli, select_args


def _certificate(objective: str, bound: float, value: float, sense: str = "max") -> dict[str, Any]:
    gap = (bound - value if sense == "max" else value - bound) / (
        1.0 if objective == "mean log probability" else abs(bound)
    )
    return {"objective": objective, "sense": sense, "bound": bound, "value": value, "gap": gap}


MAXIMIN = _certificate("smallest probability", 0.25, 0.25)
OTHER = "sortition 0.0.9, ortools 9.10"  # the versions that wrote the record, not these


def test_maximin_with_other_probabilities_above_the_minimum_passes() -> None:
    stated = [0.25, 0.25, 0.5, 0.75, 0.25, 0.0]  # sums to k = 2
    again = [0.25, 0.5, 0.25, 0.5, 0.5, 0.0]
    detail = same_optimum("maximin", stated, again, 2, 1.0, MAXIMIN, MAXIMIN, OTHER)
    assert detail is not None
    assert "reaches the same optimum: smallest probability 0.25" in detail
    assert "differ by up to 2.5e-01" in detail
    assert f"the record was written by {OTHER}" in detail
    # written by these versions: the re-run must give the record's numbers, optimum or not
    assert same_optimum("maximin", stated, again, 2, 1.0, MAXIMIN, MAXIMIN, None) is None


def test_a_smaller_minimum_or_another_bound_fails() -> None:
    again = [0.25, 0.5, 0.25, 0.5, 0.5, 0.0]
    lower = [0.2, 0.3, 0.5, 0.75, 0.25, 0.0]
    assert same_optimum("maximin", lower, again, 2, 1.0, MAXIMIN, MAXIMIN, OTHER) is None
    other = _certificate("smallest probability", 0.3, 0.3)
    stated = [0.25, 0.25, 0.5, 0.75, 0.25, 0.0]
    assert same_optimum("maximin", stated, again, 2, 1.0, other, MAXIMIN, OTHER) is None


def test_someone_on_no_panel_in_one_and_on_a_panel_in_the_other_fails() -> None:
    stated = [0.25, 0.25, 0.5, 0.5, 0.25, 0.25]
    again = [0.25, 0.5, 0.25, 0.5, 0.5, 0.0]
    assert same_optimum("maximin", stated, again, 2, 1.0, MAXIMIN, MAXIMIN, OTHER) is None


def test_leximin_never_passes_on_other_probabilities() -> None:
    leximin = _certificate("smallest probability", 0.25, 0.25)
    stated = [0.25, 0.25, 0.5, 0.75, 0.25, 0.0]
    again = [0.25, 0.5, 0.25, 0.5, 0.5, 0.0]
    assert same_optimum("leximin", stated, again, 2, 1.0, leximin, leximin, OTHER) is None


def test_nash_within_its_gap_passes_and_beyond_it_fails() -> None:
    again = [0.5, 0.5, 0.5, 0.5]
    bound = math.log(0.5)
    nash = _certificate("mean log probability", bound, bound - 1e-8)
    near = [0.5 + 1e-4, 0.5 - 1e-4, 0.5, 0.5]  # mean log 2e-8 below the bound
    detail = same_optimum("nash", near, again, 2, 1.0, nash, nash, OTHER)
    assert detail is not None and "NASH run again (the record was written by" in detail
    far = [0.6, 0.4, 0.5, 0.5]  # mean log 0.0051 below
    assert same_optimum("nash", far, again, 2, 1.0, nash, nash, OTHER) is None


def test_goldilocks_with_the_same_extremes_passes() -> None:
    # n = 4, k = 2: mean 0.5; objective max/mean + mean/min, minimised
    stated = [0.4, 0.6, 0.5, 0.5]
    again = [0.6, 0.4, 0.55, 0.45]
    value = 0.6 / 0.5 + 0.5 / 0.4
    goldilocks = _certificate("goldilocks", value, value, sense="min")
    assert (
        same_optimum("goldilocks", stated, again, 2, 1.0, goldilocks, goldilocks, OTHER) is not None
    )
    worse = [0.35, 0.6, 0.55, 0.5]
    assert same_optimum("goldilocks", worse, again, 2, 1.0, goldilocks, goldilocks, OTHER) is None


def test_no_certificate_no_pass() -> None:
    stated = [0.25, 0.25, 0.5, 0.75, 0.25, 0.0]
    again = [0.25, 0.5, 0.25, 0.5, 0.5, 0.0]
    assert same_optimum("maximin", stated, again, 2, 1.0, None, MAXIMIN, OTHER) is None
    assert same_optimum("maximin", stated, again, 2, 1.0, MAXIMIN, None, OTHER) is None


def test_a_maximin_record_carrying_another_optimal_lottery_passes_the_recompute(
    tmp_path: Path,
) -> None:
    """End to end: a MAXIMIN record, written by other versions, whose lottery is replaced by
    LEXIMIN's (also MAXIMIN-optimal: the same smallest probability, other probabilities above it,
    up to 0.84 apart here) passes `recompute` with the line saying so (its commitment digest is
    another: `--expect` with the published one would tell). The other way round, a LEXIMIN
    record carrying MAXIMIN's lottery fails `recompute`."""
    records = {}
    for algorithm in ("maximin", "leximin"):
        out = tmp_path / algorithm
        result = run_cli(
            select_args(EXAMPLE / "pool.csv", EXAMPLE / "quotas.csv", 20,
                        algorithm=algorithm, seed="s", out=out)
        )  # fmt: skip
        assert result.exit_code == 0, result.stderr
        records[algorithm] = json.loads((out / "record.json").read_text(encoding="utf-8"))
    for kept, carried in (("maximin", "leximin"), ("leximin", "maximin")):
        record, other = copy.deepcopy(records[kept]), records[carried]
        record["tool"] = {"sortition": "0.0.9", "ortools": "9.10.4067"}  # made elsewhere
        assert record["distribution"]["units"] == other["distribution"]["units"]
        record["probabilities"] = other["probabilities"]
        record["distribution"]["panels"] = other["distribution"]["panels"]
        certificate = record["distribution"]["certificate"]
        value = other["distribution"]["certificate"]["value"]
        certificate["value"] = value
        certificate["gap"] = max(0.0, certificate["bound"] - value) / certificate["bound"]
        path = tmp_path / f"{kept}-carrying-{carried}.json"
        path.write_text(json.dumps(record), encoding="utf-8")
        result = run_cli(["verify", path, "--pool", EXAMPLE / "pool.csv",
                          "--quotas", EXAMPLE / "quotas.csv", "--recompute"])  # fmt: skip
        assert "[ok] certificate" in result.stdout, result.stdout
        assert "(this is sortition" in result.stdout  # the record version line says so
        line = next(
            x
            for x in result.stdout.splitlines()
            if x.startswith(("[ok] recompute", "[MISMATCH] recompute"))
        )
        if kept == "maximin":
            assert line.startswith("[ok] recompute"), line
            assert "MAXIMIN run again (the record was written by sortition 0.0.9, ortools " in line
            assert "reaches the same optimum: smallest probability" in line
        else:
            assert line.startswith("[MISMATCH] recompute"), line
            assert "probabilities differ by more than 1e-06" in line
