"""LEXIMIN: maximise the smallest selection probability, then the second smallest, and so on
(Flanigan, Gölz, Gupta, Hennig, Procaccia, *Fair algorithms for selecting citizens' assemblies*,
Nature 596, 2021).

The engine first computes the LEXIMIN vector of the LP relaxation over the quota polytope (no
panels: a dozen small LPs, under a second; ``relaxation.relaxed_leximin``) and asks one master
LP for a distribution over panels that gives everyone that vector. The relaxation's vector is at
least LEXIMIN in the leximin order, so a distribution that meets it is LEXIMIN. The vector leaves
the polytope by the LP tolerances, so the target is the polytope's nearest point (within 3e-7 of
it, in counts, on gss_k150). Face walks (``walks.face_walk``) supply the master's panels;
pricing adds any still missing. On every real instance measured the vector is met; where it is
not, LEXIMIN runs level by level (``levels``), from the panels found.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from ortools.linear_solver import pywraplp

from sortition.engine.columns import ColumnGeneration, Walks
from sortition.engine.levels import LevelStart, solve_levels
from sortition.engine.master import FIX_SLACK, MasterLP
from sortition.engine.relaxation import RelaxedLeximin, nearest_polytope_point, relaxed_leximin
from sortition.engine.settings import DEFAULT_SETTINGS, EngineSettings
from sortition.progress import Progress, TargetRound
from sortition.units import Distribution, UnitInstance

# The relaxation's LEXIMIN vector counts as met once every unit has this fraction of it.
TARGET_MET = 1.0 - 1e-7
# The master realising the vector is rebuilt from its recently used columns once it has this
# many (benchmarks/README.md, "The engine's levers").
_PRUNE_ABOVE = 3000
# "Recently used": with positive weight in one of this many last rounds.
_RECENT_ROUNDS = 5


def leximin(
    inst: UnitInstance,
    *,
    settings: EngineSettings = DEFAULT_SETTINGS,
    progress: Progress | None = None,
    time_limit: float | None = None,
) -> Distribution:
    """The LEXIMIN distribution: maximise the smallest probability, then the next, and so on.

    Raises NoFeasiblePanel when no panel meets the quotas and TimeLimitReached past
    ``time_limit`` seconds.
    """
    run = ColumnGeneration.start(inst, settings, "leximin", progress, time_limit)
    vector = relaxed_leximin(inst, run.active, FIX_SLACK) if settings.decompose else None
    if vector is None:
        return solve_levels(run, first_level_only=False)
    counts = _polytope_point(inst, vector)
    target = counts / inst.capacity
    walks = Walks(run, counts)
    realised = _realise_target(run, target, walks)
    if realised.met:
        return _certified(run, vector, target, realised, walks)
    # No distribution meets the relaxation's vector: solve level by level, starting from the
    # panels the attempt used last.
    run.lp_totals.retire(realised.master)
    start = LevelStart(
        run.covering.panels + realised.recent,
        realised.rounds,
        realised.columns_added,
        target_reached=realised.reached,
    )
    return solve_levels(run, first_level_only=False, start=start)


def _polytope_point(inst: UnitInstance, vector: RelaxedLeximin) -> np.ndarray:
    """The quota polytope's point nearest to the vector, in counts (walks need a point inside
    the polytope, and the vector is outside by the LP tolerances)."""
    counts = nearest_polytope_point(inst, vector.probability * inst.capacity)
    if counts is None:
        counts = vector.probability * inst.capacity
    return counts


@dataclass
class _Realised:
    """The outcome of realising a target vector by panels.

    reached: the largest z found (every unit has at least z times its target); met: z is 1 up to
    the LP tolerances. recent: the columns with positive weight in the last rounds.
    """

    reached: float
    met: bool
    master: MasterLP
    recent: list[np.ndarray]
    rounds: int
    columns_added: int


def _target_master(
    run: ColumnGeneration, target: np.ndarray, panels: list[np.ndarray]
) -> tuple[MasterLP, pywraplp.Variable]:
    """A master maximising z subject to p_u >= z * target_u for every active unit."""
    master = MasterLP(run.inst)
    solver = master.solver
    z = solver.NumVar(0.0, 1.0, "z")
    for u in run.active:
        row = solver.Add(solver.Sum([]) - float(target[u]) * z >= 0.0)
        master.add_row(int(u), row, 1.0)
    master.objective.SetCoefficient(z, 1.0)
    master.objective.SetMaximization()
    for panel in panels:
        master.add_column(panel)
    return master, z


def _realise_target(run: ColumnGeneration, target: np.ndarray, walks: Walks) -> _Realised:
    """Column generation for one LP: maximise z subject to p_u >= z * target_u for every active
    unit, where p is the distribution's probability vector; the walks' panels first, then
    pricing.

    When the target is the relaxation's LEXIMIN vector, it sums to k like every p, so z = 1
    means p = target: the distribution is LEXIMIN, certified by the relaxation. z < 1 with no
    improving panel means the relaxation is not tight on this instance.
    """
    master, z = _target_master(run, target, run.covering.panels)
    last_used: dict[bytes, int] = {}
    rounds = 0
    columns_added = 0
    zval = 0.0
    while True:
        rounds += 1
        master.solve(run.clock)
        zval = z.solution_value()
        for column in master.used():
            last_used[column.tobytes()] = rounds
        if zval >= TARGET_MET:
            break
        if len(master.panels) > _PRUNE_ABOVE:
            # The LP's cost per round grows with its columns: keep those used lately. The current
            # solution stays feasible, so z cannot drop.
            keep = _used_since(master.panels, last_used, rounds - _RECENT_ROUNDS)
            run.lp_totals.retire(master)
            master, z = _target_master(run, target, keep)
            master.solve(run.clock)
            zval = z.solution_value()
        new = walks.next()
        best_rc = math.nan
        if not new:
            g, theta = master.pricing_weights()
            new, best_rc = run.pricer.price(g, theta, master)
        run.emit(TargetRound(run.algorithm, rounds, zval, len(master.panels), best_rc))
        if not new:
            break
        for c in new:
            columns_added += int(master.add_column(c))
    return _Realised(
        reached=zval,
        met=zval >= TARGET_MET,
        master=master,
        recent=_used_since(master.panels, last_used, rounds - _RECENT_ROUNDS),
        rounds=rounds,
        columns_added=columns_added,
    )


def _used_since(
    panels: list[np.ndarray], last_used: dict[bytes, int], since: int
) -> list[np.ndarray]:
    """The panels with positive weight in some round from ``since`` on."""
    return [c for c in panels if last_used.get(c.tobytes(), -1) >= since]


def _certified(
    run: ColumnGeneration,
    vector: RelaxedLeximin,
    target: np.ndarray,
    realised: _Realised,
    walks: Walks,
) -> Distribution:
    """The distribution that meets the relaxation's vector, with its statistics."""
    levels = len(vector.levels)
    stats: dict[str, float | int | str] = {
        "levels": levels,
        "rounds": realised.rounds,
        "columns": len(realised.master.panels),
        "columns_generated": realised.columns_added,
        **run.effort_stats(realised.master),
        "mispriced": 0,  # kept because the records' statistics carry it (see levels.py)
        "levels_at_relaxation_bound": levels,
        "maximin": float(target[run.active].min()),
        "target_reached": realised.reached,
        "walks": walks.done,
        "walk_panels": walks.panels,
        "walk_seconds": walks.seconds,
    }
    bounds = tuple(level.bound for level in vector.levels)
    return run.finish(realised.master, stats, run.smallest_probability(bounds[0], bounds))
