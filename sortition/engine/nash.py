"""NASH: maximise the sum over people of log(selection probability), i.e. their geometric mean
(the Nash welfare of the lottery; Flanigan et al., Nature 596, 2021, compare it with LEXIMIN).

**Over the quota polytope first** (``polytope_nash.relaxed_nash``): the concave program over
count vectors, by tangent cuts on a small LP, gives an upper bound on the optimum over panels and
a point within ``settings.nash_gap / 2`` of the polytope's optimum; face walks and a master LP
realise the point (``realise.realise_target``, as LEXIMIN's vector). Realised, its objective is
within the gap of the bound: certified. Otherwise (the relaxation is not tight, or the walks fall
short), column generation over panels goes on from the panels used so far (below). On pools of
more than 2,000 types the covering waits, as LEXIMIN's: every unit counts as selectable until
the realisation's panels show which units no panel reached (a unit on no panel after all: the
relaxation is redone without it).

The concave objective sum_u capacity_u * log(p_u) is replaced by an outer approximation with
tangent cuts t_u <= log(x) + (p_u - x) / x, solved by column generation over the same master and
pricing as LEXIMIN. The LP value plus the best reduced cost is an upper bound on the optimum; the
true objective of the current distribution is a lower bound. When no panel improves, new cuts
are added at the current probabilities, until the two bounds are within ``settings.nash_gap``
per person. Never-selectable people are left out.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from ortools.linear_solver import pywraplp

from sortition.engine.columns import ColumnGeneration, Walks
from sortition.engine.master import MasterLP
from sortition.engine.polytope_nash import RelaxedNash, relaxed_nash
from sortition.engine.realise import realise_target
from sortition.engine.relaxation import nearest_polytope_point
from sortition.engine.settings import DEFAULT_SETTINGS, EngineSettings
from sortition.progress import NashGap, NashRound, Progress
from sortition.units import Certificate, Distribution, UnitInstance


def nash(
    inst: UnitInstance,
    *,
    settings: EngineSettings = DEFAULT_SETTINGS,
    progress: Progress | None = None,
    time_limit: float | None = None,
) -> Distribution:
    """The NASH distribution: maximise the sum over people of log(probability).

    ``settings.nash_gap`` bounds the difference of the bounds divided by the number of
    (selectable) people, i.e. the log of the ratio between the optimal and the achieved
    geometric mean probability; it is reported in ``stats["gap"]``. Raises NoFeasiblePanel when
    no panel meets the quotas and TimeLimitReached past ``time_limit`` seconds.
    """
    # on a large pool the covering waits: the walks' panels cover what they reach
    run = ColumnGeneration.start(
        inst, settings, "nash", progress, time_limit, lazy=settings.decompose
    )
    recent: list[np.ndarray] = []
    while settings.decompose:
        relaxed = relaxed_nash(inst, run.covering.selectable, settings.nash_gap / 2, run.clock)
        if relaxed is None:
            break
        done, recent, redo = _realise(run, relaxed)
        if done is not None:
            return done
        if not redo:
            break
    run.complete_covering([])
    master = _NashMaster(run, run.covering.panels + recent)
    lp = master.lp
    rounds = 0
    cut_rounds = 0
    bounds = _Bounds()
    while True:
        rounds += 1
        lp.solve(run.clock)
        g, theta = lp.pricing_weights()
        new, best_rc = run.pricer.price(g, theta, lp)
        lp_value = float(lp.objective.Value())
        if new:
            for c in new:
                lp.add_column(c)
            run.emit(NashRound(run.algorithm, rounds, lp_value, len(lp.panels), master.cuts))
            continue
        # No column improves: the LP value (plus the best reduced cost) bounds the optimum.
        bounds = master.bounds(lp_value, best_rc)
        run.emit(
            NashGap(
                run.algorithm,
                rounds,
                bounds.upper,
                bounds.lower,
                bounds.gap,
                len(lp.panels),
                master.cuts,
            )
        )
        if bounds.gap <= settings.nash_gap:
            break
        cut_rounds += 1
        if master.cut_at_solution() == 0:
            break
    stats: dict[str, float | int | str] = {
        "rounds": rounds,
        "cut_rounds": cut_rounds,
        "cuts": master.cuts,
        "columns": len(lp.panels),
        **run.effort_stats(lp),
        "gap": bounds.gap,
        "upper_bound": bounds.upper,
        "lower_bound": bounds.lower,
    }
    return run.finish(lp, stats, _certify(inst, run.active, bounds.upper))


def _realise(
    run: ColumnGeneration, relaxed: RelaxedNash
) -> tuple[Distribution | None, list[np.ndarray], bool]:
    """The relaxation's point realised by panels: the distribution when its certificate's gap is
    within ``settings.nash_gap``, else None and the recent panels to go on from; and whether the
    relaxation must be redone (after a lazy covering, some unit it took as selectable proved on
    no panel: exact, rare)."""
    inst = run.inst
    counts = nearest_polytope_point(inst, relaxed.counts, run.clock.deadline)
    point = relaxed.counts if counts is None else counts
    walks = Walks(run, point)
    realised = realise_target(run, point / inst.capacity, walks)
    # after a lazy covering, the units the panels did not reach
    if run.complete_covering(realised.master.panels):
        run.lp_totals.retire(realised.master)
        return None, [], True
    if realised.met:
        stats: dict[str, float | int | str] = {
            "relaxation_rounds": relaxed.rounds,
            "cuts": relaxed.cuts,
            "rounds": realised.rounds,
            "columns": len(realised.master.panels),
            **run.effort_stats(realised.master),
            **walks.stats(),
            "upper_bound": relaxed.upper,
        }
        dist = run.finish(realised.master, stats, _certify(inst, run.active, relaxed.upper))
        assert dist.certificate is not None
        if dist.certificate.gap <= run.settings.nash_gap:
            dist.stats["gap"] = dist.certificate.gap
            dist.stats["lower_bound"] = dist.certificate.value * relaxed.people
            return dist, [], False
    run.lp_totals.retire(realised.master)
    return None, realised.recent, False


def _certify(
    inst: UnitInstance, active: np.ndarray, upper: float
) -> Callable[[np.ndarray], Certificate]:
    """NASH's certificate: ``upper`` (a bound on the optimal sum of capacity-weighted
    log-probabilities) per person against the final distribution's mean log-probability; the
    gap is their difference (the log of the ratio of the geometric means)."""
    cap = inst.capacity.astype(np.float64)
    people = float(cap[active].sum())

    def certificate(probability: np.ndarray) -> Certificate:
        p = np.maximum(probability[active], 1e-300)
        value = float(cap[active] @ np.log(p)) / people
        bound = upper / people
        return Certificate(MEAN_LOG_PROBABILITY, "max", bound, value, max(0.0, bound - value))

    return certificate


MEAN_LOG_PROBABILITY = "mean log probability"


@dataclass(frozen=True)
class _Bounds:
    """Bounds on the optimal sum of capacity-weighted log-probabilities, and their difference
    per selectable person."""

    upper: float = math.inf
    lower: float = -math.inf
    gap: float = math.inf


class _NashMaster:
    """The master LP with p_u (each unit's probability) and t_u <= log(p_u) by tangent cuts,
    maximising sum_u capacity_u * t_u; it starts from ``panels`` and cuts around the uniform mix
    of them and the mean probability k / n."""

    def __init__(self, run: ColumnGeneration, panels: list[np.ndarray]) -> None:
        inst = run.inst
        self.active = [int(u) for u in run.active]
        self.lp = lp = MasterLP(inst)
        solver = lp.solver
        self.cap = cap = inst.capacity.astype(np.float64)
        self.p: dict[int, pywraplp.Variable] = {}
        self.t: dict[int, pywraplp.Variable] = {}
        for u in self.active:
            self.p[u] = solver.NumVar(0.0, 1.0, "")
            self.t[u] = solver.NumVar(-lp.inf, 0.0, "")
            lp.add_row(u, solver.Add(solver.Sum([]) - self.p[u] == 0.0), 1.0)
            lp.objective.SetCoefficient(self.t[u], float(cap[u]))
        lp.objective.SetMaximization()
        self.people = float(cap[self.active].sum())
        self.cuts = 0
        for panel in panels:
            lp.add_column(panel)
        start = np.mean(np.asarray(panels, dtype=np.float64), axis=0) / cap
        mean = inst.k / max(self.people, 1.0)
        for u in self.active:
            for x in sorted({float(start[u]), mean, min(1.0, 4 * mean), 1.0}):
                self.add_cut(u, x)

    def add_cut(self, u: int, x: float) -> None:
        """The tangent of log at x (clamped to [1e-6, 1]): t_u <= log(x) + (p_u - x) / x."""
        x = min(max(x, 1e-6), 1.0)
        self.lp.solver.Add(self.t[u] - self.p[u] * (1.0 / x) <= math.log(x) - 1.0)
        self.cuts += 1

    def bounds(self, lp_value: float, best_rc: float) -> _Bounds:
        """The bounds after a solve in which no panel improved by more than ``best_rc``."""
        upper = lp_value + max(0.0, best_rc)
        p = self.lp.probabilities()[self.active]
        lower = float(self.cap[self.active] @ np.log(np.maximum(p, 1e-300)))
        return _Bounds(upper, lower, (upper - lower) / self.people)

    def cut_at_solution(self) -> int:
        """A cut at p_u for every unit whose t_u lies above log(p_u); returns how many."""
        added = 0
        p = self.lp.probabilities()[self.active]
        # read the whole solution before a cut changes the model
        t = [self.t[u].solution_value() for u in self.active]
        for u, pu, tu in zip(self.active, p, t, strict=True):
            if tu > math.log(max(pu, 1e-300)) + 1e-12:
                self.add_cut(u, float(pu))
                added += 1
        return added
