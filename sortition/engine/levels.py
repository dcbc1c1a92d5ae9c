"""LEXIMIN level by level (and MAXIMIN, its first level), by column generation.

Each level maximises z, the smallest probability of the units not yet fixed, over distributions
on the master's panels (Flanigan et al. 2021, the LEXIMIN algorithm of the Nature paper):

1. **Relaxation** (with ``settings.relax``): the level's LP over the quota polytope bounds z from
   above and its duals mark the units that are tight (``relaxation.relaxed_level``).
2. **Column generation**: solve the master, price panels with its duals, add the improving
   ones; stop when none improves or the master reaches the relaxation's bound. Under a diversity
   bound the swaps first search at duals smoothed towards the relaxation's (Wentges), keeping
   only panels that improve at the master's own duals; when none does, the round prices at
   those as without smoothing, so only that exact pricing ever ends a level.
3. **Fixing**: the units at z in every optimal solution get their probability fixed at z (the
   relaxation's tight units when the bound was reached, else those with a positive dual).
4. **Restart** when the master has grown large: the next level starts from the panels that
   carried weight in this one.

When every unit is fixed, a last solve finds weights that meet all the fixed values.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from ortools.linear_solver import pywraplp

from sortition.engine.columns import ColumnGeneration, Walks
from sortition.engine.master import FIX_SLACK, MASTER_TOLERANCES, TIGHT_MASTER_UP_TO, MasterLP
from sortition.engine.realise import WALK_MET, walk_mixture
from sortition.engine.relaxation import RelaxedLevel, relaxed_level
from sortition.progress import LevelDone, LevelRound, LevelState
from sortition.units import Distribution

logger = logging.getLogger(__name__)

# A unit whose (positive-convention) dual exceeds this is tight in every optimal solution.
_DUAL_TOL = 1e-8
# A level ends once the master's value is this close to its relaxation's bound.
_RELAX_TOL = 1e-9
# While walks supply the panels, the level also ends once the master's value is this share of the
# bound (as LEXIMIN's relaxed vector counts as met): the walks realise a point of the polytope
# nearest to the relaxation's, which the LP tolerances leave a little below the bound.
_WALK_MET = 1.0 - 1e-7
# Past this many columns, the next level starts from the columns used in this one: the LP's
# simplex iterations cost grows with its columns (benchmarks/README.md).
_RESTART_ABOVE = 1500
# Above this many units the level masters solve by GLOP's dual simplex (its primal simplex is the
# default), with the rows held to MASTER_TOLERANCES as on small pools. realistic7 n = 10,000
# k = 150 (6,031 units), MAXIMIN's level over the walk's 651 panels: by the primal simplex at
# GLOP's default tolerance its two solves took 56 s of CPU (45,495 iterations), the run 83-88 s;
# by the dual simplex at 1e-10 the run took 31 s (4,619 iterations), the same bound, the gap
# 6.1e-8 instead of 7.8e-7 (1.1e-6 by the dual simplex at 1e-8). Not in ``realise``'s master,
# where the dual simplex doubled the LP's time (benchmarks/README.md, "The engine's levers").
# Up to the threshold the solves and their outputs stay as they were (the shared instances).
DUAL_SIMPLEX_ABOVE = TIGHT_MASTER_UP_TO
LARGE_LEVEL_GLOP = f"use_dual_simplex: true {MASTER_TOLERANCES}"
# MAXIMIN on a pool of more than this many active units takes a walk's own weights as the
# distribution when their smallest probability is ``realise.WALK_MET`` of the relaxation's bound,
# with no LP over the walk's panels, as ``realise`` does for LEXIMIN's vector: realistic7
# n = 100,000 (20,144 units), the level's master over the walk's 6,185 panels ran over 770 s of
# CPU without finishing (after a 529 s walk); with the walk's weights the whole run took 480 s, gap
# 7.5e-7. At n = 10,000 (6,031 units) it saves 2 s of 20.7 and the gap is 6.5e-7 instead of
# 6.1e-8: one threshold with ``realise`` all the same.
ADOPT_ABOVE = TIGHT_MASTER_UP_TO
# Under a diversity bound a level's master restarts from its useful columns past this many.
_SHRINK_ABOVE = 3000
# Under a diversity bound the swaps first search at this convex combination of the level's
# relaxation duals (the centre) and the master's (Wentges' smoothing; ``Pricer.price_smoothed``).
# gss_k150 at 0.1, MAXIMIN (the first level), covering cached, both runs at once (load 8 to 10):
# 85 rounds and 48.9 s of CPU at 0 (no smoothing), 81 rounds and 45.3 s at 0.5, 91 rounds at
# 0.9; the second level 108 -> 101 rounds. The same value and gap (0) each way.
_SMOOTHING = 0.5


@dataclass(frozen=True)
class LevelStart:
    """Where the levels start: the master's first panels, and the rounds and columns already
    spent (by LEXIMIN's attempt at the relaxation's vector, whose ``target_reached`` the
    statistics then report)."""

    panels: list[np.ndarray]
    rounds: int = 0
    columns_added: int = 0
    target_reached: float | None = None


class _LevelMaster:
    """The master LP of the levels over ``panels``, with the current fixed values.

    p_u is defined by an equality row that panels enter; a separate link row p_u >= z holds
    while u is unfixed. Fixing u only changes bounds (p_u >= value, link row dropped), never the
    matrix, so GLOP re-solves starting from its last basis.
    """

    def __init__(
        self, run: ColumnGeneration, panels: list[np.ndarray], fixed_value: dict[int, float]
    ) -> None:
        active = run.active
        large = run.inst.n_units > DUAL_SIMPLEX_ABOVE
        self.lp = lp = MasterLP(run.inst, glop_params=LARGE_LEVEL_GLOP if large else "")
        solver = lp.solver
        self.z = solver.NumVar(0.0, 1.0, "z")
        self.link: dict[int, pywraplp.Constraint] = {}
        self.p: dict[int, pywraplp.Variable] = {}
        for u in active:
            p = solver.NumVar(0.0, 1.0, "")
            self.p[int(u)] = p
            lp.add_row(int(u), solver.Add(solver.Sum([]) - p == 0.0), 1.0)
        for u in active:
            self.link[int(u)] = solver.Add(self.p[int(u)] - self.z >= 0.0)
        for unit, value in fixed_value.items():
            self.fix(unit, value)
        lp.objective.SetCoefficient(self.z, 1.0)
        lp.objective.SetMaximization()
        for panel in panels:
            lp.add_column(panel)

    def fix(self, unit: int, value: float) -> None:
        self.link[unit].SetLb(-self.lp.inf)
        self.p[unit].SetLb(value - FIX_SLACK)

    def link_dual(self, unit: int) -> float:
        """The dual of unit's link row p_u >= z, positive when the unit holds z down."""
        return float(-self.link[unit].dual_value())


class _Levels:
    """The state of the level-by-level column generation; ``run`` solves it."""

    def __init__(
        self,
        run: ColumnGeneration,
        first_level_only: bool,
        start: LevelStart,
        walks: Walks | None = None,
    ) -> None:
        self.run = run
        self.walks = walks
        self.first_level_only = first_level_only
        self.start = start
        self.unfixed: set[int] = {int(u) for u in run.active}
        self.fixed_value: dict[int, float] = {}
        self.master = _LevelMaster(run, start.panels, self.fixed_value)
        # Columns with positive weight in some solve of the current level (kept on a restart).
        self.useful: dict[bytes, np.ndarray] = {}
        self.rounds = start.rounds
        self.columns_added = start.columns_added
        self.levels = 0
        self.levels_at_bound = 0
        self.z = 0.0
        # each level's upper bound: the relaxation's, or the master's value plus the best
        # reduced cost once no panel improves (column generation's Lagrangian bound)
        self.level_bounds: list[float] = []
        self.bound = math.nan  # the current level's relaxation bound

    def solve(self) -> Distribution:
        while self.unfixed:
            self.levels += 1
            relaxed = self._relaxation()
            self.bound = math.nan if relaxed is None else relaxed.bound
            reached = self._generate_columns(relaxed)
            self._report_level()
            if self.first_level_only:
                self.levels_at_bound += int(reached)
                self.fixed_value = {u: self.z for u in sorted(self.unfixed)}
                break
            self._fix_level(relaxed, reached)
            self._restart_if_large()
            self.useful = {}
        return self._distribution()

    def _relaxation(self) -> RelaxedLevel | None:
        """The level's LP relaxation over the quota polytope (None without ``relax`` or when
        GLOP does not solve it)."""
        if not self.run.settings.relax:
            return None
        run = self.run
        relaxed = relaxed_level(
            run.inst, run.active, self.fixed_value, FIX_SLACK, run.clock.deadline
        )
        if relaxed is None:
            logger.debug("level %d: relaxation not solved", self.levels)
        else:
            logger.debug("level %d: relaxation bound %.7f", self.levels, relaxed.bound)
        return relaxed

    def _generate_columns(self, relaxed: RelaxedLevel | None) -> bool:
        """Column generation for this level, until no panel improves or the master reaches the
        relaxation's bound; returns whether it reached the bound."""
        run, lp = self.run, self.master.lp
        centre = self._centre(relaxed)
        while True:
            self.rounds += 1
            lp.solve(run.clock)
            self.z = self.master.z.solution_value()
            for column in lp.used():
                self.useful.setdefault(column.tobytes(), column)
            if relaxed is not None and relaxed.tight and self._at_bound(relaxed.bound):
                self.level_bounds.append(relaxed.bound)
                return True  # no panel can do better than the relaxation
            new = self.walks.next() if self.walks is not None and relaxed is not None else []
            if new and relaxed is not None and self._adopt_walk(new, relaxed):
                return True
            if new:
                run.emit(LevelRound(**self._state(), reduced_cost=math.nan))
                for c in new:
                    self.columns_added += int(lp.add_column(c))
                continue
            g, theta = lp.pricing_weights()
            new = []
            if centre is not None:
                new = run.pricer.price_smoothed(g, theta, centre, _SMOOTHING, lp)
                best_rc = max((float(g @ c) for c in new), default=theta) - theta
            if not new:
                new, best_rc = run.pricer.price(g, theta, lp)
            run.emit(LevelRound(**self._state(), reduced_cost=best_rc))
            if not new:
                bound = self.z + max(0.0, best_rc)
                if relaxed is not None:
                    bound = min(bound, relaxed.bound)
                self.level_bounds.append(bound)
                return False
            lp = self._shrink_if_large(lp)
            for c in new:
                self.columns_added += int(lp.add_column(c))

    def _centre(self, relaxed: RelaxedLevel | None) -> tuple[np.ndarray, float] | None:
        """Under a diversity bound, the duals the swaps search near (``Pricer.price_smoothed``):
        the level's relaxation's, a dual solution of the whole master, optimal when the master
        reaches the relaxation's bound (as on ces11_k60 and gss_k150). None: no smoothing."""
        if self.run.inst.diversity is None or relaxed is None or _SMOOTHING <= 0.0:
            return None
        return relaxed.g, relaxed.theta

    def _adopt_walk(self, panels: list[np.ndarray], relaxed: RelaxedLevel) -> bool:
        """MAXIMIN on a pool of more than ``ADOPT_ABOVE`` active units: when the walk's own
        weights give every active unit at least ``WALK_MET`` of the relaxation's bound, they are
        the distribution (the level reaches its bound, no LP over the walk's panels). The
        certificate is computed from the panels as always."""
        run = self.run
        if not self.first_level_only or self.walks is None or len(run.active) <= ADOPT_ABOVE:
            return False
        target = np.full(run.inst.n_units, relaxed.bound)
        adopted = walk_mixture(run, target, panels, self.walks.weights)
        if adopted is None or adopted[2] < WALK_MET:
            return False
        merged, weights, share = adopted
        self.master.lp.adopt(merged, weights)
        self.columns_added += len(merged)
        self.z = share * relaxed.bound
        self.level_bounds.append(relaxed.bound)
        run.emit(LevelRound(**self._state(), reduced_cost=math.nan))
        return True

    def _shrink_if_large(self, lp: MasterLP) -> MasterLP:
        """Under a diversity bound, restart the level's master from the columns that carried
        weight in it (before this round's new ones enter) once it holds more than
        ``_SHRINK_ABOVE`` columns (the swaps add up to 300
        a round, and GLOP's re-solves grow with the columns: gss_k150's first level reached
        22,320 columns, its master 193 s of 376 s)."""
        if self.run.inst.diversity is None or len(lp.panels) <= _SHRINK_ABOVE:
            return lp
        if len(self.useful) > _SHRINK_ABOVE // 2:
            self.useful = {c.tobytes(): c for c in lp.used()}  # only the current ones
        self.run.lp_totals.retire(lp)
        self.master = _LevelMaster(self.run, list(self.useful.values()), self.fixed_value)
        return self.master.lp

    def _at_bound(self, bound: float) -> bool:
        if self.z >= bound - _RELAX_TOL:
            return True
        return self.walks is not None and self.walks.done > 0 and self.z >= bound * _WALK_MET

    def _state(self) -> dict[str, Any]:
        """The fields of ``LevelState``, for the level's progress events."""
        state = LevelState(
            self.run.algorithm,
            self.levels,
            self.rounds,
            self.z,
            len(self.master.lp.panels),
            len(self.fixed_value),
            self.bound,
        )
        return vars(state)

    def _report_level(self) -> None:
        run = self.run
        run.emit(
            LevelDone(
                **self._state(),
                seconds=run.clock.elapsed(),
                lp_seconds=self.master.lp.lp_seconds,
                pricing_seconds=run.covering.oracle.seconds,
                heuristic_seconds=run.pricer.heuristic_seconds,
            )
        )

    def _fix_level(self, relaxed: RelaxedLevel | None, reached: bool) -> None:
        """Fix the units that are at the level in every optimal solution.

        Units with a positive dual are; when the master met the relaxation's bound, the
        relaxation's duals are optimal duals of the full master. GLOP's z may overshoot the
        level's optimum by its tolerance; the relaxation bounds it.
        """
        level_value = min(self.z, relaxed.bound) if relaxed is not None else self.z
        to_fix: list[int]
        if reached and relaxed is not None:  # reached only with tight units
            self.levels_at_bound += 1
            to_fix = [u for u in relaxed.tight if u in self.unfixed]
        else:
            duals = {u: self.master.link_dual(u) for u in sorted(self.unfixed)}
            to_fix = [u for u, d in duals.items() if d > _DUAL_TOL]
            if not to_fix:
                to_fix = [int(max(duals, key=lambda u: duals[u]))]
        for unit in to_fix:
            self.master.fix(unit, level_value)
            self.fixed_value[unit] = level_value
            self.unfixed.discard(unit)

    def _restart_if_large(self) -> None:
        """Start the next level from the columns that carried weight in this one (a cold but
        small solve) once the master has more than ``_RESTART_ABOVE`` columns."""
        if len(self.master.lp.panels) > _RESTART_ABOVE and self.unfixed:
            self.run.lp_totals.retire(self.master.lp)
            self.master = _LevelMaster(self.run, list(self.useful.values()), self.fixed_value)

    def _distribution(self) -> Distribution:
        lp = self.master.lp
        if not self.first_level_only:
            # Every unit is now a lower bound: re-solve for a distribution meeting all of them.
            lp.objective.SetCoefficient(self.master.z, 0.0)
            lp.solve(self.run.clock)
        stats: dict[str, float | int | str] = {
            "levels": self.levels,
            "rounds": self.rounds,
            "columns": len(lp.panels),
            "columns_generated": self.columns_added,
            **self.run.effort_stats(lp),
            # Rounds whose smoothed search (under a diversity bound only) found panels of which
            # none improved at the master's own duals, so the round priced at those instead.
            "mispriced": self.run.pricer.mispriced,
            "levels_at_relaxation_bound": self.levels_at_bound,
            "maximin": min(self.fixed_value.values()) if self.fixed_value else self.z,
        }
        if self.run.inst.diversity is not None:
            stats["smoothed_columns"] = self.run.pricer.smoothed_columns
        if self.start.target_reached is not None:
            stats["target_reached"] = self.start.target_reached
        if self.walks is not None:
            stats.update(self.walks.stats())
        levels = () if self.first_level_only else tuple(self.level_bounds)
        return self.run.finish(
            lp, stats, self.run.smallest_probability(self.level_bounds[0], levels)
        )


def solve_levels(
    run: ColumnGeneration,
    *,
    first_level_only: bool,
    start: LevelStart | None = None,
    walks: Walks | None = None,
) -> Distribution:
    """LEXIMIN level by level (MAXIMIN with ``first_level_only``), from ``start`` (default: the
    covering panels). With ``walks``, the first level takes their panels before any pricing, one
    walk a round, until the master reaches the level's relaxation bound or the walks run out."""
    if start is None:
        start = LevelStart(run.covering.panels)
    return _Levels(run, first_level_only, start, walks).solve()
