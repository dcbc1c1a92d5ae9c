"""Fair distributions over panels by column generation: LEXIMIN, MAXIMIN and NASH.

The master problem is a GLOP linear program over a growing set of panels (columns). It is built
once and kept: new panels are appended as columns and fixed units become lower bounds, and GLOP
re-solves from its previous basis. Panels are priced by CP-SAT (``pricing.PanelOracle``) with the
master's duals: a panel enters when its reduced cost  sum_u g_u c_u - theta  is positive, where
g_u collects the duals of the rows of unit u divided by its capacity and theta is the dual of the
convexity row.

All three algorithms share the same preparation: a feasibility check, then a covering loop that
finds panels containing every unit that is in some feasible panel (the rest are
``never_selectable`` and get probability 0 without blocking anyone).

LEXIMIN first computes the LEXIMIN vector of the LP relaxation over the quota polytope (no panels:
a dozen small LPs, under a second) and asks one master LP for a distribution over panels that
gives everyone that vector. The relaxation's vector is at least LEXIMIN in the leximin order, so
a distribution that meets it is LEXIMIN. The vector leaves the polytope by the LP tolerances, so
the target is the polytope's nearest point (within 3e-7 of it, in counts, on gss_k150). Face walks
(face_walk.py) supply the master's panels; pricing adds any still missing. On every real instance
measured the vector is met; where it is not, LEXIMIN runs level by level as before, from the
panels found.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from ortools.linear_solver import pywraplp

from sortition.cancel import solve_lp
from sortition.engine.pricing import PanelOracle, PricingResult, SwapSearch, TimeLimitReached
from sortition.engine.relaxation import (
    RelaxedLevel,
    nearest_polytope_point,
    relaxed_level,
    relaxed_leximin,
)
from sortition.engine.walks import face_walk
from sortition.units import Distribution, UnitInstance

__all__ = [
    "Distribution",
    "TimeLimitReached",
    "UnitInstance",
    "leximin",
    "maximin",
    "nash",
]

ProgressFn = Callable[[dict[str, float | int | str]], None]

# A panel enters the master when its reduced cost exceeds this.
_RC_TOL = 1e-9
# A unit whose (positive-convention) dual exceeds this is tight in every optimal solution.
_DUAL_TOL = 1e-8
# Weights below this are dropped from the final distribution.
_WEIGHT_TOL = 1e-12
# Fixed units become lower bounds this much below their level, so that round-off in one solve
# cannot make the next one infeasible.
_FIX_SLACK = 1e-10
# Scaling and presolve would rebuild the LP on every solve and defeat GLOP's warm start (measured:
# ~10x fewer simplex iterations per round without them).
_GLOP_PARAMS = os.environ.get(
    "SORTITION_GLOP_PARAMS",
    "use_preprocessing: false use_scaling: false",
)
# Pruning columns could in principle cycle: cap it per level so that every level terminates.
_MAX_PRUNES_PER_LEVEL = 20
# A level ends once the master's value is this close to its relaxation's bound.
_RELAX_TOL = 1e-9
# Realising the relaxation's LEXIMIN vector: the target counts as met once every unit has this
# fraction of its target probability.
_TARGET_MET = 1.0 - 1e-7
# Face walks after the first take each unit's preference times a factor in [1 - j, 1 + j].
_WALK_JITTER = 0.5
_DEBUG = bool(os.environ.get("SORTITION_DEBUG"))


@dataclass
class _Options:
    """Tuning knobs (internal; defaults are the measured best)."""

    # Measured on ces11_k60 LEXIMIN (CPU): 30 columns 2x slower than 100, 300 27 % faster than
    # 100, 1000 slower than 300 (the swap heuristic's share grows).
    max_columns_per_round: int = 300
    # CP-SAT deterministic-time budget for a covering panel (0: search each to optimality).
    cover_budget: float = 0.5
    heuristic: bool = True
    neighbours: int = 1
    prune_above: int = 1500
    # Dual smoothing (Neame/Wentges) in LEXIMIN: price first with alpha * centre + (1 - alpha) *
    # current duals; on a mis-price, price with the current duals.
    smooth: float = 0.0
    smooth_exact: bool = False
    pricing_gap: bool = True
    # Within a level, rebuild the master once it has this many columns, keeping only those with
    # positive weight in the last ``prune_age`` rounds (0: never).
    prune_within: int = 0
    prune_age: int = 5
    # Solve each level's LP relaxation first: end the level as soon as the master reaches its
    # bound (and fix the units its duals mark tight), and start smoothed pricing from its duals.
    # On gss_k150 every one of the 12 levels ended at the bound.
    relax: bool = True
    # Ask CP-SAT for its best panels in every round, not only when the swaps find none. The swaps
    # only find neighbours of the panels in use; CP-SAT's are far ones. gss_k150 LEXIMIN: with
    # both levers it finishes in 143 s CPU; without, level 6 alone ran past 15 minutes.
    exact_every_round: bool = True
    # LEXIMIN: compute the relaxation's LEXIMIN vector first (a sequence of small LPs) and realise
    # it with one master LP; the level-by-level column generation runs only if it cannot be met.
    # With pricing alone (no walks): gss_k150 47 s instead of 243 s, ces11_k60 160 s instead of
    # about 300 s.
    decompose: bool = True
    # That master is rebuilt from its recently used columns once it has this many.
    prune_target: int = 3000
    # Before pricing, feed that master the panels of up to this many walks through the quota
    # polytope towards the vector (face_walk.py), one walk a round while the vector is not met.
    # The first walk met it on gss_k150 and ces11_k60: LEXIMIN in 4 s and 19 s.
    walks: int = 4
    seed: int = 0


def _options_from_env() -> _Options:
    """Developer knob for benchmarking: SORTITION_CG_OPTS="name=value,..."."""
    opts = _Options()
    spec = os.environ.get("SORTITION_CG_OPTS", "")
    for item in filter(None, spec.split(",")):
        key, val = item.split("=")
        cur = getattr(opts, key)
        setattr(opts, key, type(cur)(float(val)) if not isinstance(cur, bool) else val == "1")
    return opts


class _Clock:
    def __init__(self, time_limit: float | None) -> None:
        self.start = time.perf_counter()
        self.deadline = None if time_limit is None else self.start + time_limit

    def check(self) -> None:
        if self.deadline is not None and time.perf_counter() >= self.deadline:
            raise TimeLimitReached

    def elapsed(self) -> float:
        return time.perf_counter() - self.start


def _past(clock: _Clock) -> bool:
    return clock.deadline is not None and time.perf_counter() >= clock.deadline


class _Master:
    """A GLOP LP whose columns are panels: lambda_P >= 0 with sum lambda_P = 1.

    Every non-convexity row that panels enter is a "unit row" for one unit u with a multiplier
    alpha: its coefficient for panel P is alpha * c_uP / capacity_u.
    """

    def __init__(self, inst: UnitInstance, units: np.ndarray) -> None:
        self.inst = inst
        self.units = units  # active units (in some feasible panel)
        self.solver = pywraplp.Solver.CreateSolver("GLOP")
        if _GLOP_PARAMS:
            self.solver.SetSolverSpecificParametersAsString(_GLOP_PARAMS)
        self.inf = self.solver.infinity()
        self.conv = self.solver.Add(self.solver.Sum([]) == 1)
        self.unit_rows: dict[int, list[tuple[pywraplp.Constraint, float]]] = {}
        self.columns: list[pywraplp.Variable] = []
        self.panels: list[np.ndarray] = []
        self.keys: set[bytes] = set()
        self.lp_solves = 0
        self.lp_seconds = 0.0
        self.lp_iterations = 0
        self.retries = 0
        self.objective = self.solver.Objective()

    def add_row(self, unit: int, row: pywraplp.Constraint, alpha: float) -> None:
        """Register a row that panels enter; existing columns get their coefficients."""
        self.unit_rows.setdefault(unit, []).append((row, alpha))
        cap = float(self.inst.capacity[unit])
        for var, panel in zip(self.columns, self.panels, strict=True):
            if panel[unit]:
                row.SetCoefficient(var, alpha * panel[unit] / cap)

    def add_column(self, panel: np.ndarray) -> bool:
        """Add a panel unless it is already a column; returns whether it was added."""
        key = panel.astype(np.int64).tobytes()
        if key in self.keys:
            return False
        self.keys.add(key)
        var = self.solver.NumVar(0.0, self.inf, "")
        self.conv.SetCoefficient(var, 1.0)
        cap = self.inst.capacity
        for u in np.flatnonzero(panel):
            rows = self.unit_rows.get(int(u))
            if rows:
                a = float(panel[u]) / float(cap[u])
                for row, alpha in rows:
                    row.SetCoefficient(var, alpha * a)
        self.columns.append(var)
        self.panels.append(panel.astype(np.int64))
        return True

    def solve(self, clock: _Clock) -> None:
        clock.check()
        if clock.deadline is not None:
            remaining = max(clock.deadline - time.perf_counter(), 1e-3)
            self.solver.SetTimeLimit(math.ceil(remaining * 1000))
        t0 = time.perf_counter()
        status = solve_lp(self.solver)
        if status != pywraplp.Solver.OPTIMAL and not _past(clock):
            # Should GLOP give up from a warm start (ABNORMAL), retry once with its default
            # parameters (presolve and scaling), which solve from scratch.
            self.retries += 1
            self.solver.SetSolverSpecificParametersAsString("")
            status = solve_lp(self.solver)
            if _GLOP_PARAMS:
                self.solver.SetSolverSpecificParametersAsString(_GLOP_PARAMS)
        self.lp_seconds += time.perf_counter() - t0
        self.lp_solves += 1
        self.lp_iterations += int(self.solver.iterations())
        if _DEBUG:
            print(
                f"lp solve {time.perf_counter() - t0:.3f}s it={self.solver.iterations()}"
                f" cols={len(self.columns)}"
            )
        if status != pywraplp.Solver.OPTIMAL:
            clock.check()
            raise RuntimeError(f"master LP not solved to optimality (status {status})")

    def pricing_weights(self) -> tuple[np.ndarray, float]:
        """(g, theta): a panel c has reduced cost g @ c - theta."""
        g = np.zeros(self.inst.n_units)
        cap = self.inst.capacity
        for u, rows in self.unit_rows.items():
            g[u] = -sum(row.dual_value() * alpha for row, alpha in rows) / float(cap[u])
        return g, float(self.conv.dual_value())

    def weights(self) -> np.ndarray:
        return np.array([v.solution_value() for v in self.columns])

    def probabilities(self, lam: np.ndarray | None = None) -> np.ndarray:
        if lam is None:
            lam = self.weights()
        mat = np.asarray(self.panels, dtype=np.float64)
        return (lam @ mat) / self.inst.capacity


@dataclass
class _Prepared:
    oracle: PanelOracle
    panels: list[np.ndarray]
    selectable: np.ndarray  # bool (U,)
    seconds: float


def _prepare(inst: UnitInstance, clock: _Clock, opts: _Options) -> _Prepared:
    """Feasibility check and covering panels; finds the never-selectable units."""
    t0 = time.perf_counter()
    oracle = PanelOracle(inst, seed=opts.seed, deadline=clock.deadline)
    first = oracle.maximize(np.zeros(inst.n_units))
    if first is None:
        raise ValueError("no feasible panel satisfies the quotas")
    panels = [first.panel]
    covered = first.panel > 0
    selectable = np.ones(inst.n_units, dtype=bool)
    while True:
        clock.check()
        todo = selectable & ~covered
        if not todo.any():
            break
        # Prefer whole units: weight 1 per uncovered unit spread over its capacity. Any panel
        # with an uncovered unit will do, so CP-SAT first gets a small budget; only when that
        # finds none does it search to the end, to prove the rest are on no panel. (On pools with
        # thousands of types, proving each covering panel optimal took 2.3 s a call and all the
        # time.)
        weights = np.where(todo, 1.0 / inst.capacity, 0.0)
        res = oracle.maximize(weights, budget=opts.cover_budget) if opts.cover_budget else None
        if res is None or res.value <= 0.0:
            res = oracle.maximize(weights)
            assert res is not None
        if res.value <= 0.0:
            selectable &= covered
            break
        panels.append(res.panel)
        covered |= res.panel > 0
    return _Prepared(
        oracle=oracle, panels=panels, selectable=selectable, seconds=time.perf_counter() - t0
    )


class _Pricer:
    """Heuristic pricing by swaps first; CP-SAT when it fails (and to prove optimality)."""

    def __init__(self, inst: UnitInstance, oracle: PanelOracle, opts: _Options) -> None:
        self.oracle = oracle
        self.opts = opts
        self.swaps = SwapSearch(inst)
        self.heuristic_calls = 0
        self.heuristic_columns = 0
        self.heuristic_seconds = 0.0

    def price(
        self,
        g: np.ndarray,
        theta: float,
        master: _Master,
        true_duals: tuple[np.ndarray, float] | None = None,
    ) -> tuple[list[np.ndarray], float]:
        """Improving columns not yet in the master (empty: none exists) and the best reduced cost.

        The tolerance is relative to the size of the duals, since NASH's duals are large. With
        ``true_duals`` (stabilised pricing: g, theta are smoothed duals), only columns improving
        for the true duals are returned; an empty answer then proves nothing.
        """
        scale = max(1.0, abs(theta), float(np.abs(g).max(initial=0.0)) * master.inst.k)
        threshold = theta + _RC_TOL * scale
        opts = self.opts
        if true_duals is not None:
            g_true, theta_true = true_duals
            scale_true = max(
                1.0, abs(theta_true), float(np.abs(g_true).max(initial=0.0)) * master.inst.k
            )
            thr_true = theta_true + _RC_TOL * scale_true

        def fresh(cols: list[np.ndarray]) -> list[np.ndarray]:
            out, seen = [], set()
            for c in cols:
                key = c.astype(np.int64).tobytes()
                if key not in master.keys and key not in seen:
                    if true_duals is not None and not float(g_true @ c) > thr_true:
                        continue
                    seen.add(key)
                    out.append(c)
            return out

        if opts.heuristic:
            t0 = time.perf_counter()
            lam = master.weights()
            seeds = [master.panels[j] for j in np.flatnonzero(lam > _WEIGHT_TOL)]
            found = fresh(
                self.swaps.improve(
                    g, threshold, seeds, opts.max_columns_per_round, neighbours=opts.neighbours
                )
            )
            self.heuristic_calls += 1
            self.heuristic_seconds += time.perf_counter() - t0
            if found and opts.exact_every_round:
                best = self.oracle.maximize(
                    g,
                    threshold=threshold,
                    max_improving=opts.max_columns_per_round // 3,
                    gap=_RC_TOL * scale if opts.pricing_gap else 0.0,
                )
                assert best is not None
                found = fresh(found + _new_columns(best, threshold))
            if found:
                self.heuristic_columns += len(found)
                return found, max(float(g @ c) for c in found) - theta
            if true_duals is not None and not opts.smooth_exact:
                return [], -math.inf
        # Stop CP-SAT once its bound is within the tolerance of its best panel: if that panel
        # does not improve, no panel beats theta by more than twice the tolerance.
        res = self.oracle.maximize(
            g,
            threshold=threshold,
            max_improving=opts.max_columns_per_round,
            gap=_RC_TOL * scale if opts.pricing_gap else 0.0,
        )
        assert res is not None
        new = _new_columns(res, threshold)
        if new and opts.heuristic:
            new.extend(
                self.swaps.improve(
                    g,
                    threshold,
                    [res.panel],
                    opts.max_columns_per_round,
                    neighbours=opts.max_columns_per_round,
                    max_steps=1,
                )
            )
        # CP-SAT's bound (not the value of its best panel, which may fall short of the optimum
        # by the gap) bounds every reduced cost: NASH's upper bound relies on it.
        return fresh(new), max(res.value, res.bound) - theta


def _new_columns(res: PricingResult, threshold: float) -> list[np.ndarray]:
    cols = list(res.improving)
    if res.value > threshold and not any(np.array_equal(res.panel, c) for c in cols):
        cols.append(res.panel)
    return cols


def _finish(
    inst: UnitInstance,
    panels: list[np.ndarray],
    lam: np.ndarray,
    algorithm: str,
    stats: dict[str, float | int | str],
    selectable: np.ndarray,
) -> Distribution:
    """Drop tiny weights, renormalise, order panels deterministically."""
    lam = np.where(lam < _WEIGHT_TOL, 0.0, lam)
    keep = np.flatnonzero(lam > 0)
    mat = np.asarray(panels, dtype=np.int64)[keep]
    w = lam[keep]
    w = w / w.sum()
    # Lexicographic order of the count vectors, largest first.
    order = np.lexsort(mat.T[::-1])[::-1] if len(mat) else np.arange(0)
    mat = mat[order]
    w = w[order]
    prob = (w @ mat.astype(np.float64)) / inst.capacity
    never = tuple(int(u) for u in np.flatnonzero(~selectable))
    prob[~selectable] = 0.0
    stats["panels"] = len(w)
    stats["never_selectable"] = len(never)
    stats["min_probability"] = float(prob[selectable].min()) if selectable.any() else 0.0
    return Distribution(
        panels=mat,
        weights=w,
        unit_probability=prob,
        algorithm=algorithm,
        stats=stats,
        never_selectable=never,
    )


@dataclass
class _LpTotals:
    """LP effort of the masters already discarded (a master is rebuilt to drop columns)."""

    seconds: float = 0.0
    solves: int = 0
    iterations: int = 0
    retries: int = 0
    rebuilds: int = 0

    def retire(self, master: _Master) -> None:
        self.seconds += master.lp_seconds
        self.solves += master.lp_solves
        self.iterations += master.lp_iterations
        self.retries += master.retries
        self.rebuilds += 1


def _effort_stats(
    prep: _Prepared, pricer: _Pricer, lp: _LpTotals, master: _Master, clock: _Clock
) -> dict[str, float | int | str]:
    """Where the time went: the statistics every column generation reports."""
    return {
        "initial_columns": len(prep.panels),
        "pricing_calls": prep.oracle.calls,
        "heuristic_calls": pricer.heuristic_calls,
        "heuristic_columns": pricer.heuristic_columns,
        "heuristic_seconds": pricer.heuristic_seconds,
        "pricing_seconds": prep.oracle.seconds,
        "lp_solves": master.lp_solves + lp.solves,
        "lp_seconds": master.lp_seconds + lp.seconds,
        "lp_iterations": master.lp_iterations + lp.iterations,
        "lp_retries": master.retries + lp.retries,
        "master_rebuilds": lp.rebuilds,
        "prepare_seconds": prep.seconds,
        "seconds": clock.elapsed(),
    }


def _used_since(
    panels: list[np.ndarray], last_used: dict[bytes, int], since: int
) -> list[np.ndarray]:
    """The panels with positive weight in some round from ``since`` on."""
    return [c for c in panels if last_used.get(c.tobytes(), -1) >= since]


@dataclass
class _Realised:
    """The outcome of realising a target vector by panels.

    reached: the largest z found (every unit has at least z times its target); met: z is 1 up to
    the LP tolerances. recent: the columns with positive weight in the last rounds.
    """

    reached: float
    met: bool
    master: _Master
    recent: list[np.ndarray]
    rounds: int
    columns_added: int


class _Walks:
    """Panels from face walks towards a target point, one walk per call, up to opts.walks."""

    def __init__(
        self,
        inst: UnitInstance,
        counts: np.ndarray,
        clock: _Clock,
        opts: _Options,
        progress: ProgressFn | None,
    ) -> None:
        self.inst = inst
        self.counts = counts
        self.clock = clock
        self.opts = opts
        self.progress = progress
        self.done = 0
        self.panels = 0
        self.seconds = 0.0

    def next(self) -> list[np.ndarray]:
        """The next walk's panels; empty once every walk has been taken."""
        if self.done >= self.opts.walks:
            return []
        started = time.perf_counter()
        progress = self.progress
        walk = self.done + 1

        def on_step(taken: int) -> None:
            if progress is not None:
                progress({"event": "walk", "walk": walk, "panels": taken})

        panels = face_walk(
            self.inst,
            self.counts,
            deadline=self.clock.deadline,
            seed=self.opts.seed + self.done,
            jitter=_WALK_JITTER if self.done else 0.0,
            on_step=on_step,
        )
        self.done += 1
        self.panels += len(panels)
        self.seconds += time.perf_counter() - started
        self.clock.check()
        return panels


def _realise_target(
    inst: UnitInstance,
    active: np.ndarray,
    target: np.ndarray,
    initial: list[np.ndarray],
    walks: _Walks | None,
    pricer: _Pricer,
    lp_totals: _LpTotals,
    clock: _Clock,
    progress: ProgressFn | None,
    opts: _Options,
) -> _Realised:
    """Column generation for one LP: maximise z subject to p_u >= z * target_u for every active
    unit, where p is the distribution's probability vector.

    When the target is the relaxation's LEXIMIN vector, it sums to k like every p, so z = 1
    means p = target: the distribution is LEXIMIN, certified by the relaxation. z < 1 with no
    improving panel means the relaxation is not tight on this instance.
    """

    def build(panels: list[np.ndarray]) -> tuple[_Master, pywraplp.Variable]:
        master = _Master(inst, active)
        solver = master.solver
        z = solver.NumVar(0.0, 1.0, "z")
        for u in active:
            row = solver.Add(solver.Sum([]) - float(target[u]) * z >= 0.0)
            master.add_row(int(u), row, 1.0)
        master.objective.SetCoefficient(z, 1.0)
        master.objective.SetMaximization()
        for panel in panels:
            master.add_column(panel)
        return master, z

    master, z = build(initial)
    last_used: dict[bytes, int] = {}
    rounds = 0
    columns_added = 0
    zval = 0.0
    while True:
        rounds += 1
        master.solve(clock)
        zval = z.solution_value()
        for j in np.flatnonzero(master.weights() > _WEIGHT_TOL):
            last_used[master.panels[int(j)].tobytes()] = rounds
        if zval >= _TARGET_MET:
            break
        if opts.prune_target and len(master.panels) > opts.prune_target:
            # The LP's cost per round grows with its columns: keep those used lately. The current
            # solution stays feasible, so z cannot drop.
            keep = _used_since(master.panels, last_used, rounds - opts.prune_age)
            lp_totals.retire(master)
            master, z = build(keep)
            master.solve(clock)
            zval = z.solution_value()
        new = walks.next() if walks is not None else []
        best_rc = math.nan
        if not new:
            g, theta = master.pricing_weights()
            new, best_rc = pricer.price(g, theta, master)
        if progress is not None:
            progress(
                {
                    "event": "round",
                    "stage": "target",
                    "round": rounds,
                    "target": zval,
                    "columns": len(master.panels),
                    "reduced_cost": best_rc,
                }
            )
        if not new:
            break
        for c in new:
            columns_added += int(master.add_column(c))
    recent = _used_since(master.panels, last_used, rounds - opts.prune_age)
    return _Realised(
        reached=zval,
        met=zval >= _TARGET_MET,
        master=master,
        recent=recent,
        rounds=rounds,
        columns_added=columns_added,
    )


def _leximin_core(
    inst: UnitInstance,
    *,
    first_level_only: bool,
    progress: ProgressFn | None,
    time_limit: float | None,
    opts: _Options,
) -> Distribution:
    clock = _Clock(time_limit)
    prep = _prepare(inst, clock, opts)
    oracle = prep.oracle
    active = np.flatnonzero(prep.selectable)
    pricer = _Pricer(inst, oracle, opts)
    unfixed: set[int] = {int(u) for u in active}
    fixed_value: dict[int, float] = {}
    lp_totals = _LpTotals()
    initial = prep.panels
    rounds = 0
    columns_added = 0
    target_tried = False
    target_reached = 0.0
    vector = None
    if opts.decompose and not first_level_only:
        vector = relaxed_leximin(inst, active, _FIX_SLACK)
    if vector is not None:
        target_tried = True
        # Walks need a point inside the polytope: the vector is outside by the LP tolerances.
        counts = nearest_polytope_point(inst, vector.probability * inst.capacity)
        if counts is None:
            counts = vector.probability * inst.capacity
        target = counts / inst.capacity
        walks = _Walks(inst, counts, clock, opts, progress)
        realised = _realise_target(
            inst,
            active,
            target,
            prep.panels,
            walks,
            pricer,
            lp_totals,
            clock,
            progress,
            opts,
        )
        target_reached = realised.reached
        if realised.met:
            stats: dict[str, float | int | str] = {
                "levels": len(vector.levels),
                "rounds": realised.rounds,
                "columns": len(realised.master.panels),
                "columns_generated": realised.columns_added,
                **_effort_stats(prep, pricer, lp_totals, realised.master, clock),
                "mispriced": 0,
                "levels_at_relaxation_bound": len(vector.levels),
                "maximin": float(target[active].min()),
                "target_reached": target_reached,
                "walks": walks.done,
                "walk_panels": walks.panels,
                "walk_seconds": walks.seconds,
            }
            panels, lam = realised.master.panels, realised.master.weights()
            return _finish(inst, panels, lam, "leximin", stats, prep.selectable)
        # No distribution meets the relaxation's vector: solve level by level, starting from the
        # panels the attempt used last.
        lp_totals.retire(realised.master)
        initial = prep.panels + realised.recent
        rounds = realised.rounds
        columns_added = realised.columns_added

    def build(
        panels: list[np.ndarray],
    ) -> tuple[
        _Master, pywraplp.Variable, dict[int, pywraplp.Constraint], dict[int, pywraplp.Variable]
    ]:
        """A master LP over ``panels`` with the current fixed values.

        p_u is defined by an equality row that panels enter; a separate link row p_u >= z holds
        while u is unfixed. Fixing u only changes bounds (p_u >= value, link row dropped), never
        the matrix, so GLOP re-solves starting from its last basis.
        """
        master = _Master(inst, active)
        solver = master.solver
        z = solver.NumVar(0.0, 1.0, "z")
        rows: dict[int, pywraplp.Constraint] = {}
        pvar: dict[int, pywraplp.Variable] = {}
        for u in active:
            p = solver.NumVar(0.0, 1.0, "")
            pvar[int(u)] = p
            master.add_row(int(u), solver.Add(solver.Sum([]) - p == 0.0), 1.0)
        for u in active:
            rows[int(u)] = solver.Add(pvar[int(u)] - z >= 0.0)
        for unit, val in fixed_value.items():
            rows[unit].SetLb(-master.inf)
            pvar[unit].SetLb(val - _FIX_SLACK)
        master.objective.SetCoefficient(z, 1.0)
        master.objective.SetMaximization()
        for p in panels:
            master.add_column(p)
        return master, z, rows, pvar

    master, z, rows, pvar = build(initial)
    # Columns with positive weight in some solve of the current level (kept on a rebuild).
    useful: dict[bytes, np.ndarray] = {}
    # The last round in which each column had positive weight.
    last_used: dict[bytes, int] = {}

    levels = 0
    mispriced = 0
    early_levels = 0
    zval = 0.0
    while unfixed:
        levels += 1
        centre: tuple[np.ndarray, float] | None = None
        relaxed: RelaxedLevel | None = None
        reached = False
        if opts.relax:
            relaxed = relaxed_level(inst, active, fixed_value, _FIX_SLACK)
            if relaxed is not None:
                centre = (relaxed.g, relaxed.theta)
                if _DEBUG:
                    print(f"level {levels} relaxation bound {relaxed.bound:.7f}")
            elif _DEBUG:
                print(f"level {levels} relaxation not solved")
        prunes_this_level = 0
        # Column generation for this level.
        while True:
            rounds += 1
            master.solve(clock)
            zval = z.solution_value()
            lam_now = master.weights()
            for j in np.flatnonzero(lam_now > _WEIGHT_TOL):
                col = master.panels[int(j)]
                useful.setdefault(col.tobytes(), col)
                last_used[col.tobytes()] = rounds
            if (
                opts.prune_within
                and len(master.panels) > opts.prune_within
                and prunes_this_level < _MAX_PRUNES_PER_LEVEL
            ):
                prunes_this_level += 1
                # The LP's cost per round grows with its columns: drop those unused lately. The
                # current solution stays feasible, so z cannot drop.
                keep = _used_since(master.panels, last_used, rounds - opts.prune_age)
                lp_totals.retire(master)
                master, z, rows, pvar = build(keep)
                master.solve(clock)
                zval = z.solution_value()
            if relaxed is not None and relaxed.tight and zval >= relaxed.bound - _RELAX_TOL:
                # The master meets the relaxation's bound: no panel can do better.
                reached = True
                break
            g, theta = master.pricing_weights()
            new: list[np.ndarray] = []
            alpha = opts.smooth
            if alpha > 0.0 and centre is not None:
                g_s = alpha * centre[0] + (1.0 - alpha) * g
                theta_s = alpha * centre[1] + (1.0 - alpha) * theta
                new, best_rc = pricer.price(g_s, theta_s, master, true_duals=(g, theta))
                centre = (g_s, theta_s)
                if not new:
                    mispriced += 1
            if not new:
                new, best_rc = pricer.price(g, theta, master)
                centre = (g, theta)
            if progress is not None:
                progress(
                    {
                        "event": "round",
                        "level": levels,
                        "round": rounds,
                        "z": zval,
                        "columns": len(master.panels),
                        "fixed": len(fixed_value),
                        "reduced_cost": best_rc,
                    }
                )
            if not new:
                break
            for c in new:
                columns_added += int(master.add_column(c))
        if progress is not None:
            progress(
                {
                    "event": "level",
                    "level": levels,
                    "round": rounds,
                    "z": zval,
                    "columns": len(master.panels),
                    "fixed": len(fixed_value),
                    "seconds": clock.elapsed(),
                    "lp_seconds": master.lp_seconds,
                    "pricing_seconds": oracle.seconds,
                    "heuristic_seconds": pricer.heuristic_seconds,
                }
            )
        if first_level_only:
            fixed_value = {u: zval for u in sorted(unfixed)}
            break
        # Units with a positive dual are at z in every optimal solution: fix them. When the master
        # met the relaxation's bound, the relaxation's duals are optimal duals of the full master.
        # GLOP's z may overshoot the level's optimum by its tolerance; the relaxation bounds it.
        level_value = min(zval, relaxed.bound) if relaxed is not None else zval
        to_fix: list[int]
        if reached and relaxed is not None:  # reached only with tight units
            early_levels += 1
            to_fix = [u for u in relaxed.tight if u in unfixed]
        else:
            duals = {u: -rows[u].dual_value() for u in sorted(unfixed)}
            to_fix = [u for u, d in duals.items() if d > _DUAL_TOL]
            if not to_fix:
                to_fix = [int(max(duals, key=lambda u: duals[u]))]
        for unit in to_fix:
            rows[unit].SetLb(-master.inf)
            pvar[unit].SetLb(level_value - _FIX_SLACK)
            fixed_value[unit] = level_value
            unfixed.discard(unit)
        if opts.prune_above and len(master.panels) > opts.prune_above and unfixed:
            # The LP's simplex iterations cost grows with the number of columns: start the next
            # level from the columns that carried weight in this one (a cold but small solve).
            lp_totals.retire(master)
            master, z, rows, pvar = build(list(useful.values()))
        useful = {}
    if not first_level_only:
        # Every unit is now a lower bound: re-solve for a distribution meeting all of them.
        master.objective.SetCoefficient(z, 0.0)
        master.solve(clock)
    lam = master.weights()
    stats = {
        "levels": levels,
        "rounds": rounds,
        "columns": len(master.panels),
        "columns_generated": columns_added,
        **_effort_stats(prep, pricer, lp_totals, master, clock),
        "mispriced": mispriced,
        "levels_at_relaxation_bound": early_levels,
        "maximin": min(fixed_value.values()) if fixed_value else zval,
    }
    if target_tried:
        stats["target_reached"] = target_reached
    name = "maximin" if first_level_only else "leximin"
    return _finish(inst, master.panels, lam, name, stats, prep.selectable)


def leximin(
    inst: UnitInstance,
    *,
    progress: ProgressFn | None = None,
    time_limit: float | None = None,
) -> Distribution:
    """The LEXIMIN distribution: maximise the smallest probability, then the next, and so on."""
    return _leximin_core(
        inst,
        first_level_only=False,
        progress=progress,
        time_limit=time_limit,
        opts=_options_from_env(),
    )


def maximin(
    inst: UnitInstance,
    *,
    progress: ProgressFn | None = None,
    time_limit: float | None = None,
) -> Distribution:
    """A distribution maximising the smallest probability (the first LEXIMIN level)."""
    return _leximin_core(
        inst,
        first_level_only=True,
        progress=progress,
        time_limit=time_limit,
        opts=_options_from_env(),
    )


def nash(
    inst: UnitInstance,
    *,
    progress: ProgressFn | None = None,
    time_limit: float | None = None,
    gap: float = 1e-6,
) -> Distribution:
    """The NASH distribution: maximise the sum over people of log(probability).

    The concave objective sum_u capacity_u * log(p_u) is replaced by an outer approximation with
    tangent cuts t_u <= log(x) + (p_u - x) / x, solved by column generation. The LP value plus the
    best reduced cost is an upper bound on the optimum; the true objective of the current
    distribution is a lower bound. ``gap`` bounds their difference divided by the number of
    (selectable) people, i.e. the log of the ratio between the optimal and the achieved geometric
    mean probability; it is reported in ``stats["gap"]``. Never-selectable people are left out.
    """
    opts = _options_from_env()
    clock = _Clock(time_limit)
    prep = _prepare(inst, clock, opts)
    oracle = prep.oracle
    active = [int(u) for u in np.flatnonzero(prep.selectable)]
    master = _Master(inst, np.asarray(active))
    pricer = _Pricer(inst, oracle, opts)
    solver = master.solver
    cap = inst.capacity.astype(np.float64)
    pvar: dict[int, pywraplp.Variable] = {}
    tvar: dict[int, pywraplp.Variable] = {}
    for u in active:
        pvar[u] = solver.NumVar(0.0, 1.0, "")
        tvar[u] = solver.NumVar(-master.inf, 0.0, "")
        master.add_row(u, solver.Add(solver.Sum([]) - pvar[u] == 0.0), 1.0)
        master.objective.SetCoefficient(tvar[u], float(cap[u]))
    master.objective.SetMaximization()
    n_sel = float(cap[active].sum())
    cuts = 0

    def add_cut(u: int, x: float) -> None:
        nonlocal cuts
        x = min(max(x, 1e-6), 1.0)
        solver.Add(tvar[u] - pvar[u] * (1.0 / x) <= math.log(x) - 1.0)
        cuts += 1

    for panel in prep.panels:
        master.add_column(panel)
    # Initial cuts around the uniform mix of the covering panels and the mean probability.
    start = np.mean(np.asarray(prep.panels, dtype=np.float64), axis=0) / cap
    mean = inst.k / max(n_sel, 1.0)
    for u in active:
        for x in sorted({float(start[u]), mean, min(1.0, 4 * mean), 1.0}):
            add_cut(u, x)

    rounds = 0
    cut_rounds = 0
    lower = -math.inf
    upper = math.inf
    cur_gap = math.inf
    lam = np.zeros(0)
    while True:
        rounds += 1
        master.solve(clock)
        g, theta = master.pricing_weights()
        new, best_rc = pricer.price(g, theta, master)
        lp_value = float(master.objective.Value())
        lam = master.weights()
        if new:
            for c in new:
                master.add_column(c)
            if progress is not None:
                progress(
                    {
                        "event": "round",
                        "round": rounds,
                        "objective": lp_value,
                        "columns": len(master.panels),
                        "cuts": cuts,
                    }
                )
            continue
        # No column improves: the LP value (plus the best reduced cost) bounds the optimum.
        prob = master.probabilities(lam)
        upper = lp_value + max(0.0, best_rc)
        p_act = prob[active]
        lower = float(cap[active] @ np.log(np.maximum(p_act, 1e-300)))
        cur_gap = (upper - lower) / n_sel
        if progress is not None:
            progress(
                {
                    "event": "gap",
                    "round": rounds,
                    "upper": upper,
                    "lower": lower,
                    "gap": cur_gap,
                    "columns": len(master.panels),
                    "cuts": cuts,
                }
            )
        if cur_gap <= gap:
            break
        cut_rounds += 1
        added = 0
        tval = [tvar[u].solution_value() for u in active]
        for u, pu, tu in zip(active, p_act, tval, strict=True):
            if tu > math.log(max(pu, 1e-300)) + 1e-12:
                add_cut(u, float(pu))
                added += 1
        if added == 0:
            break
    stats: dict[str, float | int | str] = {
        "rounds": rounds,
        "cut_rounds": cut_rounds,
        "cuts": cuts,
        "columns": len(master.panels),
        **_effort_stats(prep, pricer, _LpTotals(), master, clock),
        "gap": cur_gap,
        "upper_bound": upper,
        "lower_bound": lower,
    }
    return _finish(inst, master.panels, lam, "nash", stats, prep.selectable)
