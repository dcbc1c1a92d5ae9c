"""DIVERSIMAX and --diversity-within (docs/diversity.md) against brute force on small pools, and
as a user types them."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from ortools.linear_solver import pywraplp
from sortition_cli.progress import ProgressRenderer

from sortition.engine import diversity_rows
from sortition.engine.diversimax import diversimax, most_diverse
from sortition.engine.diversity import diversity_limit, measure_of, unit_measure
from sortition.engine.diversity_rows import _secant
from sortition.engine.errors import TimeLimitReached
from sortition.engine.objectives import within_diversity
from sortition.engine.relaxation import polytope_lp
from sortition.engine.settings import DEFAULT_SETTINGS
from sortition.progress import CoverStep, DiversimaxStep
from sortition.selection.service import load_input
from sortition.units import from_people, unit_instance
from sortition.web.describe import describe_event
from tests.brute_force import (
    People,
    brute_leximin,
    brute_within_diversity,
    feasible_cases,
    random_people,
)
from tests.helpers import (
    EXAMPLE,
    assert_panel_meets_quotas,
    run_cli,
    runnable_instance,
    select_args,
)


def _brute_best(people: People) -> Fraction | None:
    """The least diversity score of any feasible panel of ``people`` (None: no panel)."""
    found = brute_within_diversity(people, Fraction(0))
    return None if found is None else found[2]


def test_diversimax_finds_the_minimum_score_by_brute_force() -> None:
    """On small random pools (up to 14 people, with and without households), DIVERSIMAX's
    panel is feasible, its score is the brute-force minimum, and its bound proves it."""

    def make(seed: int) -> tuple | None:  # type: ignore[type-arg]
        rng = np.random.default_rng(seed)
        n = int(rng.integers(6, 15))
        people = random_people(rng, n, with_households=seed % 2 == 1)
        best = _brute_best(people)
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
        # the search's progress on stderr (the first line at once, then at most every 5 s)
        assert "DIVERSIMAX: seeking the most diverse panel, search 0.0 of 10 deterministic s" in (
            result.stderr
        )
        outs.append(out)
    for file in ("record.json", "selected.csv", "distribution.json"):
        assert (outs[0] / file).read_bytes() == (outs[1] / file).read_bytes()
    assert_panel_meets_quotas(outs[0] / "selected.csv", case.quotas, case.k)
    record = json.loads((outs[0] / "record.json").read_text(encoding="utf-8"))
    certificate = record["distribution"]["certificate"]
    assert certificate["objective"] == "diversity score" and certificate["sense"] == "min"
    assert len(record["distribution"]["panels"]) == 1
    _assert_schema(record)
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


# With the slow tests (17 s with two workers): LEXIMIN within the bound against brute force runs
# by default in tests/test_diversity_pricing.py (over types), and from the command in
# test_select_within_a_diversity_bound_as_a_user_types
@pytest.mark.slow
def test_leximin_within_the_diversity_bound_matches_brute_force() -> None:
    """With --diversity-within: every panel of the distribution (types and people) scores at
    most (1 + FRACTION) × the best score, and the LEXIMIN among the panels within that bound
    equals brute force's (up to 14 people, with and without households)."""
    within = 0.25

    def make(seed: int) -> tuple | None:  # type: ignore[type-arg]
        rng = np.random.default_rng(500 + seed)
        people = random_people(rng, int(rng.integers(7, 13)), with_households=seed % 2 == 1)
        found = brute_within_diversity(people, Fraction(1, 4))
        if found is None:
            return None
        panels, within_panels, limit = found
        if len(within_panels) == len(panels):
            return None  # the bound must exclude some panel for the case to test anything
        return people, limit, brute_leximin(within_panels)

    checked = 0
    for _, (people, limit, expected) in feasible_cases(range(80), make, floor=15):
        values, vmin, vmax, fov, households, k = people
        measure = measure_of(values, fov, k)
        for by_type in (False, True):
            inst, unit_of_person = from_people(values, vmin, vmax, fov, households, k, by_type)
            dist, price = within_diversity(inst, "leximin", within, DEFAULT_SETTINGS, None, None)
            assert price.limit == float(limit)
            for panel, weight in zip(dist.panels, dist.weights, strict=True):
                assert weight > 0 and inst.is_feasible_panel(panel)
                people_on = np.repeat(np.arange(inst.n_units), panel)
                first = [int(np.flatnonzero(unit_of_person == u)[0]) for u in people_on]
                assert measure.exact_score(values[first]) <= limit
            got = dist.unit_probability[unit_of_person]
            assert np.allclose(got, expected, atol=1e-6), (got, expected)
            assert price.smallest_with <= price.smallest_without + 1e-9
        checked += 1
    assert checked >= 15


def test_the_search_for_the_most_diverse_panel_reports_its_progress() -> None:
    """most_diverse reports a DiversimaxStep before its first search and after each step: the
    score never rises, the proven bound never exceeds it, the budget spent only grows, and the
    last event is the panel's score; listening changes nothing (the same panel without it).
    data/example (82 types) with a small budget, so that the neighbourhood steps run."""
    loaded = load_input(EXAMPLE / "pool.csv", EXAMPLE / "quotas.csv", 20)
    inst, _ = unit_instance(loaded.instance, True)
    events: list[DiversimaxStep] = []
    heard = most_diverse(inst, budget=0.3, progress=events.append, algorithm="leximin")
    quiet = most_diverse(inst, budget=0.3)
    assert np.array_equal(heard.counts, quiet.counts) and heard.score == quiet.score
    assert all(isinstance(e, DiversimaxStep) and e.algorithm == "leximin" for e in events)
    assert np.isnan(events[0].score) and events[0].spent == 0.0 and events[0].budget == 0.3
    found = events[1:]
    assert len(found) >= 3, "the first search and at least two neighbourhood steps"
    assert not heard.optimal
    for before, after in itertools.pairwise(found):
        assert after.score <= before.score and after.spent >= before.spent
    assert all(e.bound <= e.score for e in found)
    assert found[-1].score == pytest.approx(heard.score)
    assert found[-1].bound == pytest.approx(heard.bound)


def test_the_bound_s_first_stages_report_their_progress(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Under --diversity-within the search for the most diverse panel reports as it goes
    (before, a run on gss_k150 was silent for its first minute and more), under the objective's
    name, before the covering (whose panels near the most diverse one report too:
    tests/test_diversity_cover.py); the command line and the page show the search's steps."""
    case = runnable_instance("example_small_20")
    loaded = load_input(case.pool, case.quotas, case.k)
    inst, _ = unit_instance(loaded.instance, True)
    events: list[object] = []
    within_diversity(inst, "maximin", 0.1, DEFAULT_SETTINGS, events.append, None)
    searching = [e for e in events if isinstance(e, DiversimaxStep)]
    assert searching and events[: len(searching)] == searching
    assert all(e.algorithm == "maximin" for e in searching)
    covering = [e for e in events if isinstance(e, CoverStep)]
    assert covering and events.index(covering[0]) == len(searching)
    assert covering[-1].uncovered == 0
    printer = ProgressRenderer(interval=0.0)
    printer(DiversimaxStep("leximin", float("nan"), float("nan"), 0.0, 10.0))
    printer(DiversimaxStep("leximin", 1390.5, 1368.25, 4.25, 10.0))
    printer.close()
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith(
        "LEXIMIN: seeking the most diverse panel, search 0.0 of 10 deterministic s ("
    )
    assert lines[1].startswith(
        "LEXIMIN: most diverse panel so far: score 1390.50, proven bound 1368.25, "
        "search 4.2 of 10 deterministic s ("
    )

    def gettext(message: str, **values: object) -> str:
        return message % values

    assert describe_event(DiversimaxStep("leximin", 1390.5, 1368.25, 4.25, 10.0), gettext) == (
        "Most diverse panel so far: score 1390.50, none can score below 1368.25 "
        "(4.2 of 10 seconds of search)"
    )


def test_select_within_a_diversity_bound_as_a_user_types(tmp_path: Path) -> None:
    """`select --algorithm leximin --diversity-within 0.1`: the output states the price, the
    record (version 6) holds the bound, verify checks every panel against it (and a lowered
    limit fails); LEGACY, DIVERSIMAX and --panels refuse the option (exit 2, nothing written)."""
    case = runnable_instance("example_small_20")
    out = tmp_path / "within"
    args = select_args(case.pool, case.quotas, case.k, algorithm="leximin", seed="s", out=out)
    result = run_cli([*args, "--diversity-within", "0.1"])
    assert result.exit_code == 0, result.stderr
    assert "diversity within 0.1: every panel scores at most" in result.stdout
    record = json.loads((out / "record.json").read_text(encoding="utf-8"))
    assert record["version"] == 6 and record["parameters"]["diversity_within"] == 0.1
    _assert_schema(record)
    stated = record["distribution"]["diversity"]
    assert abs(stated["limit"] - 1.1 * stated["best"]) < 1e-9
    verified = run_cli(["verify", out / "record.json", "--recompute"])
    assert verified.exit_code == 0, verified.stdout
    assert "[ok] diversity bound: all" in verified.stdout
    stated["limit"] = stated["best"] * 0.5
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(record), encoding="utf-8")
    failed = run_cli(["verify", tampered])
    assert failed.exit_code == 1 and "[MISMATCH] diversity bound" in failed.stdout
    for algorithm, extra in (("legacy", []), ("diversimax", []), ("leximin", ["--panels", "10"])):
        refused_out = tmp_path / f"refused-{algorithm}"
        refused = run_cli(
            [
                *select_args(
                    case.pool, case.quotas, case.k, algorithm=algorithm, seed="s", out=refused_out
                ),
                "--diversity-within",
                "0.1",
                *extra,
            ]
        )
        assert refused.exit_code == 2, refused.stdout
        assert "--diversity-within" in refused.stderr
        assert not refused_out.exists()


def test_a_search_the_time_limit_cuts_is_a_time_limit() -> None:
    """most_diverse stopped by its time limit raises TimeLimitReached, never "no panel within
    the budget" (CP-SAT's own clock can stop it a millisecond before the deadline: it once
    said the quotas could not be met) nor a panel the clock chose."""
    loaded = load_input(EXAMPLE / "pool.csv", EXAMPLE / "quotas.csv", 20)
    inst, _ = unit_instance(loaded.instance, True)
    for limit in (0.001, 0.01, 0.05, 0.1, 0.2, 0.4):
        with pytest.raises(TimeLimitReached):
            most_diverse(inst, time_limit=limit)


def test_a_time_limit_under_the_bound_says_what_ends_sooner(tmp_path: Path) -> None:
    """LEXIMIN under --diversity-within stopped by --time-limit: exit 4, nothing written, and
    the message names what does end (MAXIMIN, diversimax); MAXIMIN's own time-out does not."""
    for algorithm, advised in (("leximin", True), ("maximin", False)):
        out = tmp_path / algorithm
        args = select_args(
            EXAMPLE / "pool.csv", EXAMPLE / "quotas.csv", 20, algorithm=algorithm, seed="s", out=out
        )
        result = run_cli([*args, "--diversity-within", "0.1", "--time-limit", "0.2"])
        assert result.exit_code == 4, result.stderr
        name = algorithm.upper()
        assert f"{name} did not finish within --time-limit 0.2 s" in result.stderr
        assert ("MAXIMIN stops at the smallest chance" in result.stderr) is advised
        assert not out.exists()


def _assert_schema(record: dict) -> None:  # type: ignore[type-arg]
    """The record matches docs/record.schema.json."""
    jsonschema = pytest.importorskip("jsonschema")
    schema_path = Path(__file__).resolve().parents[1] / "docs" / "record.schema.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(record))
    assert not errors, errors[0].message


def _lp_least_score(inst, secants: bool) -> float:  # type: ignore[no-untyped-def]
    """The least score over the quota polytope (LP) with the diversity rows of diversity_rows."""
    measure = unit_measure(inst)
    form = measure.cells(inst)
    lp = polytope_lp(inst)
    solver = lp.solver
    terms = []
    for cell, c in zip(form.members, form.multiplier.tolist(), strict=True):
        count = solver.Sum([lp.x[int(u)] for u in np.flatnonzero(cell)])
        deviation = solver.NumVar(0.0, solver.infinity(), "")
        solver.Add(deviation >= c * count - measure.k)
        solver.Add(deviation >= measure.k - c * count)
        secant = diversity_rows._secant(c, measure.k) if secants else None
        if secant is not None:
            n0, d0, slope = secant
            solver.Add(deviation >= d0 + slope * (count - n0))
        terms.append(deviation * (1.0 / c))
    solver.Minimize(solver.Sum(terms))
    assert solver.Solve() == pywraplp.Solver.OPTIMAL
    return solver.Objective().Value() + float(form.constant)


def test_secant_rows_cut_off_no_panel_and_tighten_the_lp() -> None:
    """Each cell's secant row (diversity_rows) holds at every whole count, so the LP's least
    score with it stays at most the brute-force minimum over panels; it is never below the LP's
    without it, and on some pools above."""
    for cells in range(1, 13):
        for k in range(1, 40):
            secant = _secant(cells, k)
            if secant is None:
                assert k % cells == 0
                continue
            n0, d0, slope = secant
            for count in range(0, k + 1):
                assert abs(cells * count - k) >= d0 + slope * (count - n0)

    def make(seed: int) -> tuple | None:  # type: ignore[type-arg]
        rng = np.random.default_rng(900 + seed)
        people = random_people(rng, int(rng.integers(6, 15)), with_households=seed % 2 == 1)
        best = _brute_best(people)
        return None if best is None else (people, best)

    tighter = 0
    checked = 0
    for _, (people, best) in feasible_cases(range(60), make, floor=30):
        values, vmin, vmax, fov, households, k = people
        inst, _ = from_people(values, vmin, vmax, fov, households, k, True)
        plain = _lp_least_score(inst, secants=False)
        strong = _lp_least_score(inst, secants=True)
        assert plain <= strong + 1e-7
        assert strong <= float(best) + 1e-7
        # DIVERSIMAX's proven bound from the same LP (diversity_rows.lp_least_scaled): rounded
        # up to the score's grid, still at most the brute-force minimum
        measure = unit_measure(inst)
        form = measure.cells(inst)
        lp = polytope_lp(inst)
        least = diversity_rows.lp_least_scaled(
            lp.solver, lp.x, form.members, form.multiplier, measure.k, measure.scale
        )
        assert least is not None
        proven = Fraction(least, measure.scale) + form.constant
        assert strong - 1e-6 <= proven <= best
        # the engine's own rows (diversity_rows.add_lp_limit) with the bound at the brute-force
        # minimum keep the polytope non-empty: the most diverse panel meets them
        bounded = replace(inst, diversity=diversity_limit(inst, best))
        lp = polytope_lp(bounded)
        assert lp.solver.Solve() == pywraplp.Solver.OPTIMAL
        tighter += int(strong > plain + 1e-6)
        checked += 1
    assert checked >= 30 and tighter >= 5
