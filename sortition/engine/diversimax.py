"""DIVERSIMAX: the most diverse panel that meets the quotas (docs/diversity.md).

The score (``diversity.DiversityMeasure``) is a sum over the cells of every eligible intersection
of |cells · count - k| / cells, each count a sum of type counts. CP-SAT minimises ``scale`` ×
score, an integer (``scale`` is the least common multiple of the intersections' cell counts), over
the type counts within the quotas and households: one integer variable d_r >= |cells · count_r - k|
per cell, weighted by scale / cells. Nothing is rounded: the optimum found is the exact optimum of
the measure, and CP-SAT's bound is a proven lower bound on every panel's score.

Determinism: one worker, a fixed seed, and a budget in CP-SAT's deterministic time (never the
wall clock), so equal inputs give the same counts on every machine. The distribution is that one
panel with weight 1: the draw then takes each type's members uniformly with the seeded stream, so
among the people who are interchangeable for the score (the members of a type) the seed decides.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from ortools.sat.python import cp_model

from sortition.engine.cp_search import search
from sortition.engine.diversity import (
    DIVERSITY_OBJECTIVE,
    CellForm,
    DiversityMeasure,
    unit_measure,
)
from sortition.engine.diversity_rows import cp_sat_deviations, lp_least_scaled
from sortition.engine.errors import NoFeasiblePanel
from sortition.engine.pricing import panel_model
from sortition.engine.relaxation import polytope_lp
from sortition.engine.settings import DEFAULT_SETTINGS, EngineSettings
from sortition.errors import N_, Message
from sortition.progress import DiversimaxStep, Progress
from sortition.units import Certificate, Distribution, UnitInstance, relative_gap

log = logging.getLogger(__name__)

# CP-SAT's deterministic-time budget for the search (about seconds on one core; measured in
# docs/diversity.md). A search that ends within it proves its panel optimal; one that does not
# reports the gap to its proven bound.
DIVERSIMAX_BUDGET = 10.0
# CP-SAT's random seed (one worker: the same inputs give the same panel).
_SEED = 0


@dataclass(frozen=True)
class ScoreTerms:
    """The score's terms added to a CP-SAT model: ``scaled`` is scale × (score - constant) as an
    integer linear expression; the score of a solution is (value(scaled) + scale × constant) /
    scale."""

    scaled: cp_model.LinearExpr
    scale: int
    constant_scaled: int

    def score(self, value: float) -> float:
        """The score of a solution whose ``scaled`` is ``value`` (or of a bound on it)."""
        return (value + self.constant_scaled) / self.scale


def add_score(
    model: cp_model.CpModel,
    counts: list[cp_model.IntVar],
    measure: DiversityMeasure,
    form: CellForm,
) -> ScoreTerms:
    """Add one deviation variable per cell (>= |cells · count - k|) to ``model`` and return the
    scaled score over them."""
    scale = measure.scale
    scaled = cp_sat_deviations(
        model, counts, form.members, form.multiplier, measure.k, scale, secants=False
    )
    constant = form.constant * scale
    assert constant.denominator == 1  # scale is a multiple of every cell count
    return ScoreTerms(scaled, scale, int(constant))


def _solver(budget: float) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = _SEED
    solver.parameters.max_deterministic_time = budget
    return solver


@dataclass(frozen=True)
class MostDiverse:
    """The best panel found (counts over units), its score, CP-SAT's proven lower bound on every
    panel's score, and whether the search ended (the panel is then optimal)."""

    counts: np.ndarray
    score: float
    exact_score: Fraction
    bound: float
    optimal: bool
    intersections: int
    cells: int
    seconds: float

    @property
    def gap(self) -> float:
        return relative_gap(self.bound, self.score, "min")


def most_diverse(
    inst: UnitInstance,
    *,
    budget: float = DIVERSIMAX_BUDGET,
    time_limit: float | None = None,
    progress: Progress | None = None,
    algorithm: str = "diversimax",
) -> MostDiverse:
    """The panel of the quota polytope with the lowest diversity score, in CP-SAT's budget.

    One search with CP-SAT's strongest linear relaxation (``linearization_level`` 2) takes
    ``_BOUND_SHARE`` of the budget: its panel and its proven bound. Unless it proved its panel
    optimal, the rest of the budget goes to a large-neighbourhood search (``_improve``). Raises
    NoFeasiblePanel when no panel meets the quotas and TimeLimitReached when ``time_limit``
    seconds (wall clock) pass before a search ends (``cp_search.search``). ``progress`` hears a
    ``DiversimaxStep`` (for ``algorithm``) before the first search, after it and after each
    neighbourhood step.
    """
    nan = float("nan")
    if progress is not None:
        progress(DiversimaxStep(algorithm, nan, nan, 0.0, budget))
    started = time.perf_counter()
    deadline = None if time_limit is None else started + time_limit
    measure = unit_measure(inst)
    form = measure.cells(inst)
    built = panel_model(inst)
    terms = add_score(built.model, built.vars, measure, form)
    built.model.minimize(terms.scaled)
    solver = _solver(budget * _BOUND_SHARE)
    solver.parameters.linearization_level = 2
    steps = None if progress is None else _Steps(progress, algorithm, terms, budget)
    # (a search the deadline cut raises TimeLimitReached: what follows spent its whole budget)
    status = search(solver, built.model, deadline, None if steps is None else _Found(steps))
    if status == cp_model.INFEASIBLE:
        raise NoFeasiblePanel(Message(N_("no feasible panel satisfies the quotas")))
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise NoFeasiblePanel(
            Message(
                N_(
                    "CP-SAT found no panel that meets the quotas within its budget "
                    "({seconds} deterministic seconds)"
                ),
                seconds=f"{budget:g}",
            )
        )
    counts = np.array([solver.value(x) for x in built.vars], dtype=np.int64)
    lowest = int(np.ceil(solver.best_objective_bound - 1e-6))
    optimal = status == cp_model.OPTIMAL
    if not optimal:  # the LP with the cells' secant rows often proves more than CP-SAT did
        lp = polytope_lp(inst)
        relaxed = lp_least_scaled(
            lp.solver, lp.x, form.members, form.multiplier, measure.k, terms.scale
        )
        lowest = max(lowest, relaxed if relaxed is not None else lowest)
    if optimal:
        if steps is not None:
            steps.report(solver.objective_value, solver.objective_value, solver.deterministic_time)
    else:
        first = np.asarray(solver.response_proto.solution, dtype=np.int64)
        report: Callable[[int, float], None] | None = None
        if steps is not None:
            report = steps.after(lowest, solver.deterministic_time)
            report(round(solver.objective_value), 0.0)
        counts, optimal = _improve(
            built.model,
            inst.n_units,
            (first, round(solver.objective_value)),
            lowest,
            budget * (1 - _BOUND_SHARE),
            deadline,
            report,
        )
    score = measure.exact_score_of_counts(form, counts)
    bound = min(float(score), terms.score(lowest))
    log.info(
        "DIVERSIMAX: %d intersections, %d cells, score %.6g, bound %.6g (%s)",
        len(measure.intersections),
        len(form.multiplier),
        float(score),
        bound,
        "optimal" if optimal else "budget reached",
    )
    return MostDiverse(
        counts=counts,
        score=float(score),
        exact_score=score,
        bound=float(score) if optimal else bound,
        optimal=optimal,
        intersections=len(measure.intersections),
        cells=len(form.multiplier),
        seconds=time.perf_counter() - started,
    )


@dataclass(frozen=True)
class _Steps:
    """The search's ``DiversimaxStep`` events for ``algorithm``, from CP-SAT's scaled values."""

    progress: Progress
    algorithm: str
    terms: ScoreTerms
    budget: float

    def report(self, value: float, proven: float, spent: float) -> None:
        """A panel whose scaled score is ``value``, the scaled bound ``proven``, ``spent``
        deterministic seconds of the budget."""
        score = self.terms.score(value)
        bound = min(score, self.terms.score(proven))
        self.progress(DiversimaxStep(self.algorithm, score, bound, spent, self.budget))

    def after(self, proven: float, spent_before: float) -> Callable[[int, float], None]:
        """``_improve``'s report: its best value and budget spent, after ``spent_before``."""
        return lambda value, spent: self.report(value, proven, spent_before + spent)


class _Found(cp_model.CpSolverSolutionCallback):  # type: ignore[misc]
    """Reports each panel the first search finds (it only listens: the search and its panel
    are the same without it)."""

    def __init__(self, steps: _Steps):
        super().__init__()
        self.steps = steps

    def on_solution_callback(self) -> None:
        self.steps.report(self.objective_value, self.best_objective_bound, self.deterministic_time)


# The share of the budget of the first search (the bound); the rest improves its panel.
_BOUND_SHARE = 0.4
# Each step of the neighbourhood search frees this share of the units at first (the rest keep
# their counts), with this deterministic budget; the share grows after a step that proved its
# neighbourhood has nothing better, and shrinks after one that ran out of budget.
_FREE_SHARE = 0.2
_STEP_BUDGET = 0.5


def _improve(
    model: cp_model.CpModel,
    n_units: int,
    start: tuple[np.ndarray, int],
    lowest: int,
    budget: float,
    deadline: float | None,
    report: Callable[[int, float], None] | None = None,
) -> tuple[np.ndarray, bool]:
    """A large-neighbourhood search from ``start`` (a solution of ``model``, every variable, the
    unit counts first, and its objective value): again and again, hold a random part of the units
    at their counts (the seeded generator ``_SEED``: the same steps on every run) and let CP-SAT
    improve the rest within a small deterministic budget, from the best solution as its hint;
    keep any better panel. Returns the best counts and whether their objective met the proven
    bound ``lowest`` (then they are optimal). ``report`` hears the best objective value and the
    budget spent after each step."""
    rng = np.random.default_rng(_SEED)
    proto = model.proto
    variables = proto.variables
    domains = [(int(variables[u].domain[0]), int(variables[u].domain[1])) for u in range(n_units)]
    best, best_value = start
    share = _FREE_SHARE
    spent = 0.0
    everything = list(range(len(variables)))
    while spent < budget and best_value > lowest:
        free = rng.random(n_units) < share
        for u in range(n_units):
            lo, hi = domains[u] if free[u] else (int(best[u]), int(best[u]))
            variables[u].domain[0] = lo
            variables[u].domain[1] = hi
        proto.clear_solution_hint()
        proto.solution_hint.vars.extend(everything)
        proto.solution_hint.values.extend(best.tolist())
        solver = _solver(min(_STEP_BUDGET, budget - spent))
        status = search(solver, model, deadline)
        spent += solver.deterministic_time
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            value = round(solver.objective_value)
            log.debug("neighbourhood %.3f: %s %d (best %d)", share, status, value, best_value)
            if value < best_value:
                best = np.asarray(solver.response_proto.solution, dtype=np.int64)
                best_value = value
        share = min(1.0, share * 1.2) if status == cp_model.OPTIMAL else max(0.02, share / 1.2)
        if report is not None:
            report(best_value, spent)
    for u in range(n_units):
        variables[u].domain[0], variables[u].domain[1] = domains[u]
    proto.clear_solution_hint()
    return best[:n_units], best_value <= lowest


def diversimax(
    inst: UnitInstance,
    *,
    settings: EngineSettings = DEFAULT_SETTINGS,
    progress: Progress | None = None,
    time_limit: float | None = None,
) -> Distribution:
    """The most diverse panel as a distribution: that one panel, weight 1. Its certificate is
    the score (value), CP-SAT's proven lower bound (bound) and their relative gap.

    Raises NoFeasiblePanel when no panel meets the quotas and TimeLimitReached past
    ``time_limit`` seconds.
    """
    best = most_diverse(inst, time_limit=time_limit, progress=progress)
    certificate = Certificate(
        objective=DIVERSITY_OBJECTIVE,
        sense="min",
        bound=best.bound,
        value=best.score,
        gap=best.gap,
    )
    stats: dict[str, float | int | str] = {
        "intersections": best.intersections,
        "cells": best.cells,
        "optimal": int(best.optimal),
        "diversimax_seconds": best.seconds,
    }
    return Distribution(
        panels=best.counts[None, :],
        weights=np.ones(1),
        unit_probability=best.counts / inst.capacity,
        algorithm="diversimax",
        stats=stats,
        certificate=certificate,
    )
