"""GOLDILOCKS (Baharav and Flanigan): neither too small nor too large a selection probability.

Minimise max_i p_i / m + gamma * m / min_i p_i, where m = k / n is the mean probability, the
maximum runs over the pool and the minimum over the people on some feasible panel
(``settings.gamma``, default 1; larger gamma weighs the smallest probability more).

**Over the quota polytope.** For a fixed minimum l, the smallest maximum H(l) is one LP: min h
over counts x of the polytope with l <= x_u / capacity_u <= h for every selectable unit. Raising l
only shrinks the LP's feasible set, so H is nondecreasing, and as the value of an LP in a
right-hand side it is convex; hence g(l) = H(l) / m + gamma * m / l is convex on (0, l*], l* being
MAXIMIN's bound. A golden-section search over l (one warm-started LP per step, only the lower
bounds of x change) brackets g's minimum in [a, b]; since H is nondecreasing, every l in [a, b]
has g(l) >= H(a) / m + gamma * m / b, which is the certificate's bound (a lower bound on the
optimum over the polytope, hence over panels).

**Realised** like LEXIMIN's vector: face walks to the best point found and a master LP that gives
every unit its target (``realise.realise_target``). On pools of more than 2,000 types the
covering waits, as LEXIMIN's: every unit counts as selectable until the realisation's panels
show which units no panel reached, and only those are searched for (a unit on no panel after
all: the relaxation is redone without it). Where the relaxation is not tight, the same
golden-section search runs over distributions on panels, each step a column generation to
optimality, started from MAXIMIN's panels (which keep every step's master feasible).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from ortools.linear_solver import pywraplp

from sortition.engine.columns import ColumnGeneration, Walks
from sortition.engine.levels import DUAL_SIMPLEX_ABOVE, solve_levels
from sortition.engine.master import FIX_SLACK, MasterLP
from sortition.engine.realise import realise_target
from sortition.engine.relaxation import (
    nearest_polytope_point,
    polytope_model,
    relaxed_maximin,
    solve_within,
)
from sortition.engine.settings import DEFAULT_SETTINGS, EngineSettings
from sortition.progress import GoldilocksStep, Progress
from sortition.units import Certificate, Distribution, UnitInstance, relative_gap

GOLDILOCKS_OBJECTIVE = "goldilocks"
# The golden-section search stops once its bracket is this share of MAXIMIN's bound wide.
_BRACKET = 1e-10
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0
# Above ``levels.DUAL_SIMPLEX_ABOVE`` units H(l) is solved by GLOP's dual simplex without presolve:
# a step only moves lower bounds, so the last basis stays dual feasible and warm-starts it.
# realistic7 n = 10,000 k = 150 (6,031 units), the golden-section search's 48 solves: 18.9 s of
# CPU at GLOP's defaults, 22.7 s without presolve, 7.8 s by the dual simplex with presolve, 5.4 s
# by the dual simplex without; the same values to 1e-12. Up to the threshold GLOP's defaults (the
# shared instances' outputs).
_LARGE_H_PARAMS = "use_preprocessing: false use_dual_simplex: true"


def goldilocks(
    inst: UnitInstance,
    *,
    settings: EngineSettings = DEFAULT_SETTINGS,
    progress: Progress | None = None,
    time_limit: float | None = None,
) -> Distribution:
    """The GOLDILOCKS distribution with ``settings.gamma``.

    Raises NoFeasiblePanel when no panel meets the quotas and TimeLimitReached past
    ``time_limit`` seconds.
    """
    # on a large pool the covering waits: the walks' panels cover what they reach
    run = ColumnGeneration.start(
        inst, settings, "goldilocks", progress, time_limit, lazy=settings.decompose
    )
    objective = _Objective(inst, settings.gamma)
    while settings.decompose:
        deadline = run.clock.deadline
        top = relaxed_maximin(inst, run.active, FIX_SLACK, deadline)
        if top is None:
            break
        if top.level.bound <= 0.0 and run.complete_covering([]):
            continue  # a unit taken as selectable is on no point of the polytope (rare)
        relaxation = _PolytopeH(inst, run.covering.selectable, deadline)
        search = golden_section(relaxation.h, objective, top.level.bound, run, relaxation.point)
        if search is None:
            break
        counts = nearest_polytope_point(inst, search.point, deadline)
        target = (search.point if counts is None else counts) / inst.capacity
        walks = Walks(run, search.point if counts is None else counts)
        realised = realise_target(run, target, walks)
        # The relaxation assumed every unit selectable until the covering is complete: if some
        # unit the panels did not reach is on no panel, it is redone without it (exact, rare).
        if run.complete_covering(realised.master.panels):
            run.lp_totals.retire(realised.master)
            continue
        if realised.met:
            stats = {"relaxation_bound": search.bound, **_stats(run, realised.master)}
            stats.update(walks.stats())
            return run.finish(
                realised.master, stats, objective.certify(search.bound, run.covering.selectable)
            )
        run.lp_totals.retire(realised.master)
        break
    run.complete_covering([])
    return _over_panels(run, objective)


class _Objective:
    """g(l, h) = h / m + gamma * m / l, with m = k / n."""

    def __init__(self, inst: UnitInstance, gamma: float) -> None:
        self.mean = inst.k / float(inst.capacity.sum())
        self.gamma = gamma

    def value(self, smallest: float, largest: float) -> float:
        if smallest <= 0.0:
            return math.inf
        return largest / self.mean + self.gamma * self.mean / smallest

    def certify(self, bound: float, selectable: np.ndarray) -> Callable[[np.ndarray], Certificate]:
        """The certificate: ``bound`` (a lower bound on the optimum) against the objective of
        the final probabilities (the smallest over the ``selectable`` units)."""

        def certificate(probability: np.ndarray) -> Certificate:
            value = self.value(float(probability[selectable].min()), float(probability.max()))
            return Certificate(
                GOLDILOCKS_OBJECTIVE, "min", bound, value, relative_gap(bound, value, "min")
            )

        return certificate


@dataclass(frozen=True)
class Search:
    """The golden-section search's outcome: the best minimum l found, its maximum H(l), the
    objective there, the certified lower bound, and the point (counts) that reaches it."""

    smallest: float
    largest: float
    value: float
    bound: float
    point: np.ndarray
    steps: int


def golden_section(
    h: Callable[[float], float | None],
    objective: _Objective,
    top: float,
    run: ColumnGeneration,
    point: Callable[[], np.ndarray],
) -> Search | None:
    """Minimise g(l) = h(l) / m + gamma * m / l over (0, top] by golden sections; ``h`` returns
    None where the LP is infeasible (taken as +inf) and leaves its solution for ``point``."""
    best: tuple[float, float, float, np.ndarray] | None = None  # (g, l, h, point)
    cache: dict[float, float] = {}

    def g(smallest: float) -> float:
        nonlocal best
        if smallest in cache:
            return cache[smallest]
        run.clock.check()
        largest = h(smallest)
        value = math.inf if largest is None else objective.value(smallest, largest)
        cache[smallest] = value
        if largest is not None and (best is None or value < best[0]):
            best = (value, smallest, largest, point())
        return value

    a, b = 0.0, top
    c, d = b - _GOLDEN * (b - a), a + _GOLDEN * (b - a)
    gc, gd = g(c), g(d)
    g(top)
    steps = 0
    while b - a > _BRACKET * top:
        steps += 1
        if gc <= gd:
            b, d, gd = d, c, gc
            c = b - _GOLDEN * (b - a)
            gc = g(c)
        else:
            a, c, gc = c, d, gd
            d = a + _GOLDEN * (b - a)
            gd = g(d)
        run.emit(GoldilocksStep(run.algorithm, steps, a, b, best[0] if best else math.inf))
    if best is None:
        return None
    at_a = h(a) if a > 0.0 else h(0.0)
    if at_a is None:
        return None
    bound = min(at_a / objective.mean + objective.gamma * objective.mean / b, best[0])
    return Search(best[1], best[2], best[0], bound, best[3], steps)


class _PolytopeH:
    """H(l) over the quota polytope: one GLOP model, re-solved with new lower bounds on x;
    TimeLimitReached past ``deadline`` (a ``time.perf_counter()`` instant)."""

    def __init__(
        self, inst: UnitInstance, selectable: np.ndarray, deadline: float | None = None
    ) -> None:
        self.inst = inst
        self.deadline = deadline
        large = inst.n_units > DUAL_SIMPLEX_ABOVE
        self.solver, self.x = polytope_model(inst, _LARGE_H_PARAMS if large else "")
        solver = self.solver
        self.cap = inst.capacity.astype(np.float64)
        self.height = solver.NumVar(0.0, 1.0, "h")
        self.selectable = [int(u) for u in np.flatnonzero(selectable)]
        for u in range(inst.n_units):
            if not selectable[u]:
                self.x[u].SetUb(0.0)  # on no panel: never on one of the polytope's either
        for u in self.selectable:
            solver.Add(self.x[u] * (1.0 / self.cap[u]) - self.height <= 0.0)
        solver.Minimize(self.height)

    def h(self, smallest: float) -> float | None:
        for u in self.selectable:
            self.x[u].SetLb(min(smallest * self.cap[u], self.cap[u]))
        if not solve_within(self.solver, self.deadline):
            return None
        return float(self.height.solution_value())

    def point(self) -> np.ndarray:
        return np.array([var.solution_value() for var in self.x], dtype=np.float64)


class _PanelsH:
    """H(l) over distributions on panels: a master LP (maximise -h, p_u >= l, p_u <= h) solved
    by column generation to optimality for each l (CP-SAT proves that no panel improves)."""

    def __init__(self, run: ColumnGeneration, panels: list[np.ndarray]) -> None:
        self.run = run
        self.lp = lp = MasterLP(run.inst)
        solver = lp.solver
        self.height = solver.NumVar(0.0, 1.0, "h")
        self.p: dict[int, pywraplp.Variable] = {}
        for u in (int(u) for u in run.active):
            self.p[u] = solver.NumVar(0.0, 1.0, "")
            lp.add_row(u, solver.Add(solver.Sum([]) - self.p[u] == 0.0), 1.0)
            solver.Add(self.p[u] - self.height <= 0.0)
        lp.objective.SetCoefficient(self.height, -1.0)
        lp.objective.SetMaximization()
        for panel in panels:
            lp.add_column(panel)
        self.rounds = 0

    def h(self, smallest: float) -> float | None:
        run, lp = self.run, self.lp
        for var in self.p.values():
            var.SetLb(smallest)
        while True:
            self.rounds += 1
            try:
                lp.solve(run.clock)
            except RuntimeError:
                return None  # infeasible: above the panels' MAXIMIN
            g, theta = lp.pricing_weights()
            new, _ = run.pricer.price(g, theta, lp)
            if not new:  # no panel improves: H(l) over panels, to the pricing tolerance
                return float(self.height.solution_value())
            for c in new:
                lp.add_column(c)

    def point(self) -> np.ndarray:
        return self.lp.weights()


def _over_panels(run: ColumnGeneration, objective: _Objective) -> Distribution:
    """The golden-section search over distributions on panels, from MAXIMIN's panels."""
    floor = solve_levels(run, first_level_only=True)
    top = float(floor.stats["min_probability"])
    panels = [np.asarray(p, dtype=np.int64) for p in floor.panels]
    over = _PanelsH(run, run.covering.panels + panels)
    search = golden_section(over.h, objective, top, run, over.point)
    assert search is not None  # MAXIMIN's distribution is feasible at every l <= top
    over.h(search.smallest)  # the master of the best step again, for its weights
    stats = {"golden_steps": search.steps, "panel_rounds": over.rounds, **_stats(run, over.lp)}
    return run.finish(over.lp, stats, objective.certify(search.bound, run.covering.selectable))


def _stats(run: ColumnGeneration, master: MasterLP) -> dict[str, float | int | str]:
    return {"columns": len(master.panels), **run.effort_stats(master)}
